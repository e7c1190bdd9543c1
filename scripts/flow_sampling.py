"""Precompute notebook 07's sampling curves for the shipped flow model, too slow to run live.

    python scripts/flow_sampling.py          # ~10 min on 2 threads → genimg_edu/results/flow_sampling.json
    python scripts/flow_sampling.py --n 20 --quick --model-dir /tmp/try --out /tmp/f.json   # a check that it runs

Everything is measured on the *val* split (these are choices: the sampler, its
number of steps, the guidance scale), on `--n` samples (every digit n/10 times)
from one seed, by the course's protocol in "cnn-mnist" (`evaluation.mnist_quality`: FD in its last hidden
layer, precision and recall in its convolutional features) against the val digits:

- **samplers**: Euler, Heun and the stochastic (DDPM-style) sampler at several step counts,
  guided at the recipe's scale when the sweep runs (recorded as ``default_sampling``) — quality against network evaluations (NFE) and seconds — and the
  sampler chosen by `SAMPLER_RULE`;
- **guidance**: the chosen sampler at a range of guidance scales — label accuracy, precision,
  recall, FD — and the scale chosen by `GUIDANCE_RULE`.

The JSON starts with `io.run_record` (command, date, machine, threads, load) and is written atomically.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import pretrained, recipes, set_threads  # noqa: E402
from genimg_edu.diffusion import evaluations  # noqa: E402
from genimg_edu.evaluation import draw_samples, mnist_quality  # noqa: E402
from genimg_edu.io import run_record, write_json  # noqa: E402

SAMPLERS = {"euler": (5, 10, 20, 40), "heun": (3, 5, 10, 20), "stochastic": (10, 20, 40)}
SCALES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
QUICK_SAMPLERS = {"euler": (1, 2), "heun": (1, 2), "stochastic": (1, 2)}  # --quick: that the script runs
QUICK_SCALES = (0.0, 1.0, 2.0)
SAMPLER_RULE = "the fewest network evaluations whose Fréchet distance is within 5 % of the best of all samplers"
GUIDANCE_RULE = "the lowest Fréchet distance among the scales whose label accuracy is at least 97 %"


def measure(model, *, n: int, seed: int, **sampling) -> dict:
    """Quality of n guided samples made with `sampling` (steps, method, guidance), against val."""
    start = time.perf_counter()
    samples, labels = draw_samples(model, conditional=True, n=n, seed=seed, **sampling)
    seconds = time.perf_counter() - start
    report = mnist_quality(samples, labels=labels, reference="val")
    return {"nfe": evaluations(sampling["steps"], sampling["method"]), "seconds": round(seconds, 2),
            **{k: round(report[k], 4) for k in ("is_ratio", "fd_ratio", "label_accuracy", "precision", "recall")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500, help="samples per setting (default 500)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--model-dir", type=Path, help="where flow-mnist is (default: the package's checkpoints)")
    parser.add_argument("--out", type=Path, default=ROOT / "genimg_edu" / "results" / "flow_sampling.json")
    parser.add_argument("--quick", action="store_true", help="a tiny grid of samplers and scales (to check the script)")
    args = parser.parse_args()
    if args.n < 20 or args.n % 10:
        parser.error(f"--n must be a multiple of 10 and at least 20, got {args.n}")
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 2)))
    model = pretrained.load("flow-mnist", device="cpu", directory=args.model_dir)
    default = recipes.get("flow-mnist").sampling
    n_arg = (f" --n {args.n}" if args.n != parser.get_default("n") else "") + (" --quick" if args.quick else "")
    samplers, scales = (QUICK_SAMPLERS, QUICK_SCALES) if args.quick else (SAMPLERS, SCALES)
    result = {**run_record(f"python scripts/flow_sampling.py{n_arg}", threads=threads), "n": args.n,
              "seed": args.seed, "reference": "val", "default_sampling": default, "samplers": {}, "guidance": []}
    for method, step_counts in samplers.items():
        result["samplers"][method] = []
        for steps in step_counts:
            row = dict(steps=steps, **measure(model, n=args.n, seed=args.seed, steps=steps, method=method,
                                              guidance=default["guidance"]))
            result["samplers"][method].append(row)
            print(method, row, flush=True)
    rows = [dict(r, method=m) for m, rs in result["samplers"].items() for r in rs]
    best = min(r["fd_ratio"] for r in rows)
    pick = min((r for r in rows if r["fd_ratio"] <= 1.05 * best), key=lambda r: (r["nfe"], r["fd_ratio"]))
    result["chosen_sampler"] = {"rule": SAMPLER_RULE, "method": pick["method"], "steps": pick["steps"]}
    for scale in scales:
        row = dict(guidance=scale, **measure(model, n=args.n, seed=args.seed, steps=pick["steps"],
                                             method=pick["method"], guidance=scale))
        result["guidance"].append(row)
        print(row, flush=True)
    eligible = [r for r in result["guidance"] if r["label_accuracy"] >= 0.97] or result["guidance"]
    result["chosen_guidance"] = {"rule": GUIDANCE_RULE,
                                 "guidance": min(eligible, key=lambda r: r["fd_ratio"])["guidance"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_json(args.out, result)
    print(f"wrote {args.out}; chosen: {result['chosen_sampler']}, guidance {result['chosen_guidance']['guidance']}")


if __name__ == "__main__":
    main()
