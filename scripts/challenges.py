"""Precompute notebook 08's experiments on training difficulty, memorisation and bias — too slow to run live.

    python scripts/challenges.py gan     # ~25 min on 1 thread → genimg_edu/results/challenges_gan.json
    python scripts/challenges.py flow    # ~40 min on 1 thread → genimg_edu/results/challenges_flow.json
    python scripts/challenges.py gan --steps 4 --samples 100 --out /tmp/c.json   # a quick check that it runs
    python scripts/challenges.py flow-samples   # ~4 min → genimg_edu/results/flow_samples.npz

`flow-samples`: 1,000 guided digits (each digit 100 times) and 1,000 unconditional ones from the shipped
"flow-mnist" with its recipe's sampler (seed 1234, as `evaluation.draw_samples` draws), stored as 8-bit
images — for notebook 08's detector, and for the flow model's quality gates (tests/test_quality_gates.py),
which re-sample a prefix to check the checkpoint still draws them instead of sampling all (minutes on a CPU).

Every run is a small model trained by `fit` + a step object, as in notebook 05's sweep:

- **seeds**: the same recipe (`genimg_edu.recipes`: "challenge-gan", a DCGAN of width 32 with hinge loss,
  spectral norm and lr 2e-3; "challenge-flow", an unconditional `TinyUNet` of width 16) from five seeds,
  measured along the way: quality against training time;
- **data**: the same recipe on the first 100, 1,000 and all 8,000 training digits (8,000 is seed 0);
  each run's samples are tested for copies of *its own* training digits (`metrics.memorisation_ratios`);
- **bias** (GAN only): digit `RARE` kept at one in ten of its examples (≈ 1 % of the data), trained
  (a) as it is, (b) re-weighted — the rare digit's examples repeated ten times — and (c) conditioned on
  the label and sampled with every digit equally often; the share of each digit among the samples.

Samples are judged against the *val* split by the course's protocol in "cnn-mnist" (`evaluation.mnist_quality`:
FD and IS in its last hidden layer, precision and recall in its convolutional features, as notebook 06
teaches). The JSON starts with `io.run_record` (command, date, machine, threads, load) and is
written atomically.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import metrics, pretrained, recipes, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.evaluation import draw_samples, instrument, mnist_quality  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.io import atomic_write, run_record, write_json  # noqa: E402

SEEDS = (0, 1, 2, 3, 4)
SIZES = (100, 1000)  # plus all 8,000: the seed-0 run
RARE, RARE_KEEP = 3, 0.1
N_SAMPLES = 1000
RECIPE = {"gan": "challenge-gan", "flow": "challenge-flow"}  # genimg_edu.recipes


def make_step(kind: str, seed: int, conditional: bool = False):
    classes = dict(model={"n_classes": 10}, disc={"n_classes": 10}) if conditional else {}
    return recipes.make_step(RECIPE[kind], seed=seed, **classes)


def samples_of(kind: str, step, n: int, conditional: bool = False) -> torch.Tensor:
    model = step.G if kind == "gan" else step.model
    model.eval()
    x, _ = draw_samples(model, n=n, seed=1, conditional=conditional, chunk=250,
                        **(recipes.get(RECIPE[kind]).sampling or {}))
    model.train()
    return x


def quality(x: torch.Tensor, classifier) -> dict:
    """IS and FD ratios, precision and recall against val, and the share of each digit among the samples."""
    report = mnist_quality(x, classifier=classifier, reference="val")
    _, p_fake = metrics.classifier_outputs(x, classifier)
    shares = torch.bincount(p_fake.argmax(1), minlength=10).double() / len(x)
    return {**{k: round(report[k], 4) for k in ("is_ratio", "fd_ratio", "precision", "recall")},
            "digit_shares": [round(v, 4) for v in shares.tolist()]}


def memorisation(x: torch.Tensor, train: torch.Tensor, show: int = 8) -> dict:
    """The ratio test against the run's own training digits, and the `show` most copy-like samples with
    their nearest training digit (as 0–255 integers, for the notebook's figure)."""
    ratios, nearest = metrics.memorisation_ratios(x, train, n=min(50, len(train)))
    worst = ratios.argsort()[:show]
    as_bytes = lambda t: (t * 255).round().to(torch.uint8).flatten(1).tolist()  # noqa: E731
    return {"copied_share": round(float((ratios < 1 / 3).double().mean()), 4),
            "median_ratio": round(float(ratios.median()), 4),
            "ratios": [round(v, 3) for v in ratios.tolist()],
            "closest_samples": as_bytes(x[worst]), "their_neighbours": as_bytes(train[nearest[worst]])}


def run(kind: str, data: tuple, steps: int, seed: int, classifier, *, n_samples: int, conditional: bool = False,
        every: int | None = None) -> dict:
    """Train one model; its quality every `every` steps against its training seconds (measuring excluded)."""
    step = make_step(kind, seed, conditional)
    clock = {"measuring": 0.0, "start": time.perf_counter()}

    def measure(step, k):
        t0 = time.perf_counter()
        seconds = t0 - clock["start"] - clock["measuring"]
        out = {"train_seconds": round(seconds, 1), **quality(samples_of(kind, step, n_samples, conditional), classifier)}
        clock["measuring"] += time.perf_counter() - t0
        return out

    history = fit(step, data, max_steps=steps, batch_size=recipes.get(RECIPE[kind]).batch_size, seed=seed,
                  callbacks=[measure], eval_every=every or steps, reporter=None, log_every=0)
    final = samples_of(kind, step, n_samples, conditional)
    return {"trajectory": history["eval"], "status": history["status"], "final": final,
            "train_seconds": history["eval"][-1]["train_seconds"] if history["eval"] else None}


def imbalanced(x, y, seed: int = 0):
    """The training digits with only RARE_KEEP of digit RARE's examples (the first ones, fixed)."""
    rare = (y == RARE).nonzero().flatten()
    drop = rare[int(len(rare) * RARE_KEEP):]
    keep = torch.ones(len(y), dtype=torch.bool)
    keep[drop] = False
    return x[keep], y[keep]


def flow_samples(out: Path, record: dict, n: int) -> None:
    model = pretrained.load("flow-mnist", device="cpu")
    sampling = pretrained.manifest()["flow-mnist"]["hyperparameters"]["sampling"]
    started = time.perf_counter()
    x, labels = draw_samples(model, n=n, conditional=True, **sampling)
    uncond, _ = draw_samples(model, n=n, **sampling)
    as_bytes = lambda t: (t * 255).round().to(torch.uint8).numpy()  # noqa: E731
    with atomic_write(out, "wb") as f:
        np.savez_compressed(f, images=as_bytes(x), labels=labels.numpy(), uncond_images=as_bytes(uncond),
                            seed=1234, sampling=json.dumps(sampling), **{k: v for k, v in record.items() if v is not None},
                            seconds=round(time.perf_counter() - started, 1))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=[*sorted(RECIPE), "flow-samples"], help="which experiments to run")
    parser.add_argument("--steps", type=int, help="training steps per run (default: the recipe's, "
                                                  f"{ {k: recipes.get(r).steps for k, r in RECIPE.items()} })")
    parser.add_argument("--samples", type=int, default=N_SAMPLES, help="samples per measurement (default 1,000)")
    parser.add_argument("--out", type=Path, help="default genimg_edu/results/challenges_KIND.json")
    args = parser.parse_args()
    if args.samples < 20 or args.samples % 10:
        parser.error(f"--samples must be a multiple of 10 and at least 20, got {args.samples}")
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 1)))
    if args.kind == "flow-samples":
        return flow_samples(args.out or ROOT / "genimg_edu" / "results" / "flow_samples.npz",
                            run_record("python scripts/challenges.py flow-samples", threads=threads), args.samples)
    kind, steps = args.kind, args.steps or recipes.get(RECIPE[args.kind]).steps
    out = args.out or ROOT / "genimg_edu" / "results" / f"challenges_{kind}.json"
    steps_arg = (f" --steps {steps}" if args.steps else "") + (f" --samples {args.samples}" if args.samples != 1000 else "")
    classifier = instrument("cnn-mnist")
    x, y = load_dataset("mnist", "train")
    result = {**run_record(f"python scripts/challenges.py {kind}{steps_arg}", threads=threads), "steps": steps,
              "recipe": RECIPE[kind], "settings": recipes.get(RECIPE[kind]).record(), "samples": args.samples, "seeds": {}, "data": {}}
    started = time.perf_counter()
    for seed in SEEDS:
        r = run(kind, (x,), steps, seed, classifier, n_samples=args.samples, every=max(1, steps // 4))
        if seed == 0:
            result["data"][str(len(x))] = {**quality(r["final"], classifier), **memorisation(r["final"], x)}
        r.pop("final")
        result["seeds"][str(seed)] = r
        print(f"seed {seed}: {r['trajectory'][-1]}", flush=True)
    for n in SIZES:
        r = run(kind, (x[:n],), steps, 0, classifier, n_samples=args.samples)
        result["data"][str(n)] = {**quality(r["final"], classifier), **memorisation(r["final"], x[:n])}
        print(f"{n} digits: copied {result['data'][str(n)]['copied_share']}", flush=True)
    result["data"] = dict(sorted(result["data"].items(), key=lambda kv: int(kv[0])))
    if kind == "gan":
        xb, yb = imbalanced(x, y)
        rare = yb == RARE
        repeat = torch.where(rare, int(round(1 / RARE_KEEP)), 1)
        xr = xb.repeat_interleave(repeat, 0)
        result["bias"] = {"rare_digit": RARE, "kept": RARE_KEEP, "n": len(xb),
                          "data_shares": [round(float((yb == d).double().mean()), 4) for d in range(10)],
                          "reweighted_shares": [round(float((yb.repeat_interleave(repeat) == d).double().mean()), 4)
                                                for d in range(10)]}
        for name, data, conditional in (("as it is", (xb,), False), ("re-weighted", (xr,), False),
                                        ("conditioned", (xb, yb), True)):
            r = run(kind, data, steps, 0, classifier, n_samples=args.samples, conditional=conditional)
            report = quality(r["final"], classifier)
            if conditional:
                _, p = metrics.classifier_outputs(r["final"], classifier)
                wanted = torch.arange(args.samples) % 10 == RARE
                report["rare_label_accuracy"] = round(float((p[wanted].argmax(1) == RARE).double().mean()), 4)
            result["bias"][name] = report
            print(f"bias, {name}: share of {RARE} = {report['digit_shares'][RARE]}", flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_json(out, result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
