"""What a correct capstone reaches: docs/teaching.md's starting point, run as written, over three seeds.

    python benchmarks/capstone_ranges.py                  # GAN and VAE, 3 seeds, 3,000 steps: ~20 min on 2 cores
    python benchmarks/capstone_ranges.py --steps 3 --samples 100 --seeds 0 --out /tmp/c.json   # a quick check

The GAN is `recipes.build("course-gan", seed=…)` trained by `fit` for `--steps` steps of 64 and measured from its
weight-averaged generator (`GANStep.averaged_generator`); the VAE is the guide's `VAEStep(ConvVAE(width=32,
z_dim=32, hidden=256), …)` for `--steps` steps of 128, with its test −ELBO (`evaluation.neg_elbo`: 10 samples an
image). Both are measured by the guide's `measure`: `both_instruments` on 1,000 samples (seed 1234) against the
test digits, and the near-copy share of 5,000 (seed 1). The shipped `dcgan-mnist` and `vae-mnist` are measured by
the same code.
Results (each seed, and each metric's mean, sd, min and max) go to `benchmarks/capstone_ranges.json`, atomically,
and — for the default --out — into docs/teaching.md's table of what a correct capstone reaches (its
`capstone-ranges` markers).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import pretrained, recipes, seed_everything, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.evaluation import both_instruments, copy_share, draw_samples, neg_elbo  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.io import replace_marked, run_record, write_json  # noqa: E402
from genimg_edu.models import ConvVAE  # noqa: E402
from genimg_edu.steps import VAEStep  # noqa: E402

RESULTS = ROOT / "benchmarks" / "capstone_ranges.json"
TEACHING = ROOT / "docs" / "teaching.md"
KEYS = ("fd_ratio", "plain_fd_ratio", "kid", "precision", "recall", "is_ratio", "copy_share_5000")


def measure(G, samples: int = 1000) -> dict:
    """docs/teaching.md's `measure`: the protocol on `samples` samples, and the near-copy share of 5,000."""
    report = both_instruments(draw_samples(G, n=samples, seed=1234)[0])
    report["copy_share_5000"] = copy_share(draw_samples(G, n=5 * samples, seed=1)[0])[0]
    return {key: float(report[key]) for key in KEYS}


def train(kind: str, seed: int, steps: int, folder: Path):
    """One capstone run as the guide writes it: (the model to measure, training seconds)."""
    start = time.perf_counter()
    if kind == "gan":
        step, data = recipes.build("course-gan", seed=seed)
        fit(step, data, max_steps=steps, batch_size=64, seed=seed, checkpoint=folder / f"gan-seed{seed}.pt",
            reporter=None, log_every=0)
        # standing statistics from min(100, steps) batches, as scripts/pretrain.py: the guide's runs (≥ 100 steps)
        # get its default of 100, a test's 2-step run does not spend most of its time on them
        return step.averaged_generator(batches=min(100, steps)), time.perf_counter() - start
    x_train, _ = load_dataset("mnist", "train")
    seed_everything(seed)
    model = ConvVAE(width=32, z_dim=32, hidden=256)
    model.init_output_bias(x_train.mean(0))
    step = VAEStep(model, lr=2e-3, shift=1, decay_steps=steps, warmup=min(200, steps // 10))
    fit(step, (x_train,), max_steps=steps, batch_size=128, seed=seed, checkpoint=folder / f"vae-seed{seed}.pt",
        reporter=None, log_every=0)
    return model.eval(), time.perf_counter() - start


def summary(runs: list[dict]) -> dict:
    keys = [k for k in runs[0] if isinstance(runs[0][k], float)]
    out = {}
    for key in keys:
        v = np.array([r[key] for r in runs])
        out[key] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                    "min": float(v.min()), "max": float(v.max())}
    return out


LABELS = {"fd_ratio": "FD ÷ real-vs-real, cnn-mnist", "plain_fd_ratio": "FD ÷ real-vs-real, plain instrument",
          "kid": "KID (last hidden layer)", "precision": "precision (conv features)", "recall": "recall (conv features)",
          "is_ratio": "Inception Score ÷ real", "copy_share_5000": "near-copies (5 × the samples)",
          "test_neg_elbo_nats": "test −ELBO (nats)"}


def table(result: dict) -> str:
    """docs/teaching.md's table: each metric's range (min–max) and mean ± sd over the seeds, beside the shipped model."""
    def cell(v: float, key: str) -> str:
        return f"{v:.1%}" if key == "copy_share_5000" else f"{v:.3g}" if key == "kid" else f"{v:.2f}"
    lines = [f"| run | metric | {len(result['seeds'])} seeds: min–max | mean ± sd | shipped model, same code |",
             "|---|---|---|---|---|"]
    for kind, name in (("gan", "GAN, course-gan"), ("vae", "VAE, ConvVAE")):
        if kind not in result:
            continue
        for key, label in LABELS.items():
            if key not in result[kind]["summary"]:
                continue
            s, shipped = result[kind]["summary"][key], result[kind]["shipped"]
            lines.append(f"| {name} | {label} | {cell(s['min'], key)}–{cell(s['max'], key)} | {cell(s['mean'], key)} ± "
                         f"{cell(s['sd'], key)} | {shipped['name']}: {cell(shipped[key], key)} |")
    seconds = {k: [r["train_seconds"] for r in result[k]["runs"]] for k in ("gan", "vae") if k in result}
    times = "; ".join(f"{k.upper()} {min(v):.0f}–{max(v):.0f} s" for k, v in seconds.items())
    return ("\n".join(lines) + f"\n\n*{result['steps']:,} steps, seeds {', '.join(map(str, result['seeds']))}, "
            f"{result['samples']:,} samples a measurement; training {times}; {result['machine']}, {result['date']}; "
            f"`{result['command']}`.*")


def update_docs(result: dict, path: Path = TEACHING) -> None:
    replace_marked(path, "capstone-ranges", table(result))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=3000, help="training steps per run (the guide's 3,000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=1000, help="samples per measurement (the protocol's 1,000; ≥ 20)")
    parser.add_argument("--kinds", nargs="+", choices=("gan", "vae"), default=["gan", "vae"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.steps < 1 or args.samples < 20 or not args.seeds:
        parser.error(f"--steps must be ≥ 1, --samples ≥ 20 and --seeds at least one seed; got --steps {args.steps}, "
                     f"--samples {args.samples}, --seeds {args.seeds}")
    threads = set_threads()
    result = {**run_record("python benchmarks/capstone_ranges.py" + "".join(f" {a}" for a in (argv or sys.argv[1:])),
                           threads=threads),
              "steps": args.steps, "seeds": args.seeds, "samples": args.samples}
    shipped = {"gan": "dcgan-mnist", "vae": "vae-mnist"}
    with tempfile.TemporaryDirectory(prefix="capstone-") as folder:
        for kind in args.kinds:
            runs = []
            for seed in args.seeds:
                model, seconds = train(kind, seed, args.steps, Path(folder))
                run = {"seed": seed, "train_seconds": round(seconds, 1), **measure(model, args.samples)}
                if kind == "vae":
                    run["test_neg_elbo_nats"] = neg_elbo(model)
                runs.append(run)
                print(kind, run, flush=True)
            reference = pretrained.load(shipped[kind], device="cpu")
            ref = measure(reference, args.samples)
            if kind == "vae":
                ref["test_neg_elbo_nats"] = neg_elbo(reference)
            result[kind] = {"runs": runs, "summary": summary(runs), "shipped": {"name": shipped[kind], **ref}}
    write_json(args.out, result)
    print(f"wrote {args.out}")
    if args.out == RESULTS:
        update_docs(result)
        print(f"updated {TEACHING.relative_to(ROOT)}")
    return result


if __name__ == "__main__":
    main()
