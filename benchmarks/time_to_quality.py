"""How good does each model get in 15, 30 and 60 seconds of training on this machine?

    python benchmarks/time_to_quality.py            # ~6 min on an idle 2-core machine
    python benchmarks/time_to_quality.py --budgets 2 4 --samples 100 --out /tmp/ttq.json   # a quick check

The course's recipe and a plain textbook baseline (`genimg_edu.recipes`: "course-gan" / "plain-gan",
"course-vae" / "plain-vae") are measured side by side in one run, for a GAN and for a VAE. Training runs through `fit` in segments
(resuming exactly from a checkpoint), so evaluation time is not counted as
training time. GANs: classifier Inception Score and Fréchet distance ratios of
1,000 samples (`evaluation.mnist_quality`); VAEs: test −ELBO in nats per image.
Results go to `benchmarks/time_to_quality.json` (written atomically) and the
README's table. Run it on an otherwise idle machine: the budgets are wall-clock seconds.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import pretrained, recipes, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.io import replace_marked, run_record, write_json  # noqa: E402
from genimg_edu.evaluation import mnist_quality  # noqa: E402


RECIPES = {"gan": {"course": "course-gan", "plain": "plain-gan"},  # genimg_edu.recipes
           "vae": {"course": "course-vae", "plain": "plain-vae"}}


@torch.no_grad()
def measure(kind: str, step, samples: int = 1000) -> dict:
    if kind == "gan":
        G = step.sampler
        G.eval()
        report = mnist_quality(G.sample(samples, generator=torch.Generator().manual_seed(1)))
        return {"is_ratio": round(report["is_ratio"], 3), "fd_ratio": round(report["fd_ratio"], 2)}
    x_test, _ = load_dataset("mnist", "test")
    model = step.modules["model"].eval()
    elbo = model.elbo(x_test, samples=10, generator=torch.Generator().manual_seed(0))
    return {"test_neg_elbo": round(float(-elbo.mean()), 2)}


def run(kind: str, recipe: str, budgets: list[float], seed: int = 0, samples: int = 1000) -> list[dict]:
    step, (x,) = recipes.build(RECIPES[kind][recipe], seed=seed)
    batch_size = recipes.get(RECIPES[kind][recipe]).batch_size
    rows, done = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for budget in budgets:
            history = fit(step, (x,), max_seconds=max(0.0, budget - done), batch_size=batch_size, seed=seed,
                          checkpoint=Path(tmp) / "run.pt", reporter=None, log_every=0)
            done = history["seconds"]
            rows.append({"seconds": budget, "steps": history["steps"], **measure(kind, step, samples)})
            step.train()
            print(f"{kind} {recipe} {budget:>4} s: {rows[-1]}", flush=True)
    return rows


def update_readme(result: dict) -> None:
    lines = ["| model | recipe | " + " | ".join(f"after {b:g} s" for b in result["budgets"]) + " |",
             "|---|---|" + "---|" * len(result["budgets"])]
    for kind, label in (("gan", "GAN: IS ratio / FD ratio"), ("vae", "VAE: test −ELBO (nats)")):
        for recipe in ("course", "plain"):
            cells = [f"{r['is_ratio']:.2f} / {r['fd_ratio']:.1f}" if kind == "gan" else f"{r['test_neg_elbo']:.1f}"
                     for r in result[kind][recipe]]
            lines.append(f"| {label} | {recipe} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    replace_marked(ROOT / "README.md", "time-to-quality",
                   f"{table}\n\n*{result['machine']}, {result['date']}; `{result['command']}`.*")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budgets", type=float, nargs="+", default=[15, 30, 60], help="seconds of training")
    parser.add_argument("--samples", type=int, default=1000, help="GAN samples per measurement (a quick check: 100)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "time_to_quality.json")
    parser.add_argument("--no-readme", action="store_true", help="do not update the README table")
    args = parser.parse_args()
    if args.samples < 20:
        parser.error(f"--samples must be at least 20 (a covariance of the features), got {args.samples}")
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 2)))
    pretrained.load("cnn-mnist")  # fail early if the metrics classifier is missing
    env = "".join(f"{k}={os.environ[k]} " for k in ("GENIMG_THREADS",) if k in os.environ)
    quick = f" --samples {args.samples}" if args.samples != parser.get_default("samples") else ""
    result = {**run_record(f"{env}python benchmarks/time_to_quality.py{quick}", threads=threads),
              "budgets": sorted(args.budgets), "samples": args.samples,
              "recipes": {k: {r: f"{name}: {recipes.get(name).doc}" for r, name in v.items()} for k, v in RECIPES.items()}}
    for kind in RECIPES:
        result[kind] = {recipe: run(kind, recipe, sorted(args.budgets), samples=args.samples) for recipe in RECIPES[kind]}
    write_json(args.out, result)
    if not args.no_readme:
        update_readme(result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
