"""How good does each model get in 15, 30 and 60 seconds of training on this machine?

    python benchmarks/time_to_quality.py            # ~6 min on an idle 2-core machine
    python benchmarks/time_to_quality.py --budgets 2 4 --out /tmp/ttq.json   # a quick check

The course's recipe and a plain textbook baseline are measured side by side in
one run, for a GAN and for a VAE. Training runs through `fit` in segments
(resuming exactly from a checkpoint), so evaluation time is not counted as
training time. GANs: classifier Inception Score and Fréchet distance ratios of
1,000 samples (`evaluation.mnist_quality`); VAEs: test −ELBO in nats per image.
Results go to `benchmarks/time_to_quality.json` (written atomically) and the
README's table. Run it on an otherwise idle machine: the budgets are wall-clock seconds.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import pretrained, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.io import atomic_write, replace_marked  # noqa: E402
from genimg_edu.evaluation import mnist_quality  # noqa: E402
from genimg_edu.models import ConvVAE, DCGANDiscriminator, DCGANGenerator, MLPVAE  # noqa: E402
from genimg_edu.steps import GANStep, VAEStep  # noqa: E402


def course_gan():
    """Hinge loss, spectral norm in D, a 10× larger learning rate than DCGAN's (see notebook 05's sweep),
    translation augmentation for D, and a short-horizon weight average of G."""
    G, D = DCGANGenerator(z_dim=64, width=32), DCGANDiscriminator(width=32, spectral=True)
    return GANStep(G, D, loss="hinge", lr_g=2e-3, lr_d=2e-3, betas=(0.5, 0.999), ema_decay=0.99, shift=1), 64


def plain_gan():
    """The textbook DCGAN recipe (Radford et al. 2016; the PyTorch example): binary cross-entropy,
    Adam(2e-4, β1 = 0.5), no spectral norm, no averaging, no augmentation, 64 channels."""
    G, D = DCGANGenerator(z_dim=64, width=64), DCGANDiscriminator(width=64, spectral=False)
    return GANStep(G, D, loss="non-saturating", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)), 64


def course_vae():
    """The conv VAE of notebook 04: decoder bias at the mean image, ±1-pixel shifts against overfitting."""
    x, _ = load_dataset("mnist", "train")
    model = ConvVAE(width=32, z_dim=16)
    model.init_output_bias(x.mean(0))
    return VAEStep(model, lr=2e-3, shift=1), 128


def plain_vae():
    """The PyTorch VAE example's model: a 784-400-20 MLP, Adam(1e-3), batch 128."""
    return VAEStep(MLPVAE(hidden=(400,), z_dim=20), lr=1e-3), 128


RECIPES = {"gan": {"course": course_gan, "plain": plain_gan}, "vae": {"course": course_vae, "plain": plain_vae}}


@torch.no_grad()
def measure(kind: str, step) -> dict:
    if kind == "gan":
        G = step.sampler
        G.eval()
        report = mnist_quality(G.sample(1000, generator=torch.Generator().manual_seed(1)))
        return {"is_ratio": round(report["is_ratio"], 3), "fd_ratio": round(report["fd_ratio"], 2)}
    x_test, _ = load_dataset("mnist", "test")
    model = step.modules["model"].eval()
    elbo = model.elbo(x_test, samples=10, generator=torch.Generator().manual_seed(0))
    return {"test_neg_elbo": round(float(-elbo.mean()), 2)}


def run(kind: str, recipe: str, budgets: list[float], seed: int = 0) -> list[dict]:
    torch.manual_seed(seed)
    step, batch_size = RECIPES[kind][recipe]()
    x, _ = load_dataset("mnist", "train")
    rows, done = [], 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for budget in budgets:
            history = fit(step, (x,), max_seconds=budget - done, batch_size=batch_size, seed=seed,
                          checkpoint=Path(tmp) / "run.pt", reporter=None, log_every=0)
            done = history["seconds"]
            rows.append({"seconds": budget, "steps": history["steps"], **measure(kind, step)})
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
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "time_to_quality.json")
    parser.add_argument("--no-readme", action="store_true", help="do not update the README table")
    args = parser.parse_args()
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 2)))
    pretrained.load("cnn-mnist")  # fail early if the metrics classifier is missing
    env = "".join(f"{k}={os.environ[k]} " for k in ("GENIMG_THREADS",) if k in os.environ)
    result = {"command": f"{env}python benchmarks/time_to_quality.py", "budgets": sorted(args.budgets),
              "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
              f"torch threads: {threads}, torch {torch.__version__}", "load_average_before": os.getloadavg()[0],
              "recipes": {k: {r: fn.__doc__.split("\n")[0] for r, fn in v.items()} for k, v in RECIPES.items()}}
    for kind in RECIPES:
        result[kind] = {recipe: run(kind, recipe, sorted(args.budgets)) for recipe in RECIPES[kind]}
    with atomic_write(args.out, "w") as f:
        json.dump(result, f, indent=1, ensure_ascii=False)
    if not args.no_readme:
        update_readme(result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
