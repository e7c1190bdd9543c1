"""Train one of the course's shipped checkpoints, reproducibly, on the bundled *train* split only.

    python scripts/pretrain.py NAME            # NAME: cnn-mnist, dcgan-mnist, cgan-mnist, vae-mnist,
                                               #       vae2d-mnist, betavae-shapes, or all
    python scripts/pretrain.py NAME --steps 200 --dry-run   # a quick check that the recipe runs

Each recipe fixes its seed and hyperparameters; the script trains on the CPU
(2 threads unless GENIMG_THREADS says otherwise), measures the result on the
bundled *test* split, then writes the weights and a manifest entry (command,
seed, hyperparameters, wall time, machine, metrics) atomically through
`genimg_edu.pretrained.save`. The GAN recipes need "cnn-mnist" for their metrics,
so train it first. Each recipe takes at most 30 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genimg_edu import pretrained, seed_everything, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.metrics import mnist_quality  # noqa: E402
from genimg_edu.models import ConvVAE, DCGANDiscriminator, DCGANGenerator, MLPVAE, MNISTClassifier  # noqa: E402
from genimg_edu.train import standing_stats, train_classifier, train_gan, train_vae  # noqa: E402

RECIPES = {
    "cnn-mnist": dict(model=dict(width=32, hidden=128, dropout=0.3),
                      train=dict(steps=5000, batch_size=64, lr=2e-3, shift=2, robust=True, weight_decay=5e-4),
                      seed=0),
    "dcgan-mnist": dict(model=dict(z_dim=64, width=64, refine=True), disc=dict(width=64, spectral=True, refine=True),
                        train=dict(steps=20000, batch_size=64, loss="hinge", lr_g=2e-3, lr_d=2e-3,
                                   betas=(0.5, 0.999), ema_decay=0.999, shift=2), every=2500, seed=0),
    "cgan-mnist": dict(model=dict(z_dim=64, width=64, n_classes=10), disc=dict(width=64, spectral=True, n_classes=10),
                       train=dict(steps=24000, batch_size=64, loss="hinge", lr_g=2e-4, lr_d=2e-4,
                                  betas=(0.5, 0.999), ema_decay=0.999, shift=2, mode_seeking=1.0),
                       every=4000, seed=0),
    "vae-mnist": dict(model=dict(width=32, z_dim=32, hidden=256),
                      train=dict(steps=12000, batch_size=128, lr=2e-3, shift=1), seed=0),
    "vae2d-mnist": dict(model=dict(hidden=(512, 256), z_dim=2),
                        train=dict(steps=8000, batch_size=128, lr=2e-3, shift=1), seed=0),
    "betavae-shapes": dict(model=dict(image_shape=(3, 32, 32), width=32, z_dim=10, hidden=256),
                           train=dict(steps=10000, batch_size=128, lr=1e-3, beta=4.0), n_train=20000, seed=0),
}


def train(name: str, recipe: dict, steps: int | None) -> tuple[torch.nn.Module, dict]:
    """Train `name` by its recipe; return (model, metrics on the test split)."""
    kw = dict(recipe["train"], **({"steps": steps} if steps else {}))
    if name == "cnn-mnist":
        x, y = load_dataset("mnist", "train")
        model = MNISTClassifier(**recipe["model"])
        train_classifier(model, x, y, seed=recipe["seed"], **kw)
        return model, {}
    if name in ("dcgan-mnist", "cgan-mnist"):
        x, y = load_dataset("mnist", "train")
        G, D = DCGANGenerator(**recipe["model"]), DCGANDiscriminator(**recipe["disc"])
        conditional = "n_classes" in recipe["model"]
        log = []

        def track(step, G, ema):  # how the weight-averaged generator improves, for the manifest
            log.append({"step": step, **_gan_metrics(ema.model, conditional)})
            print(f"  {log[-1]}", flush=True)

        _, ema = train_gan(G, D, x, y if conditional else None, seed=recipe["seed"], every=recipe["every"],
                           callback=track, **kw)
        standing_stats(ema.model)
        return ema.model, {"trajectory": log}
    if name in ("vae-mnist", "vae2d-mnist"):
        x, _ = load_dataset("mnist", "train")
        model = (ConvVAE if name == "vae-mnist" else MLPVAE)(**recipe["model"])
        model.init_output_bias(x.mean(0))
        train_vae(model, x, seed=recipe["seed"], **kw)
        return model, {}
    if name == "betavae-shapes":
        x, _ = load_dataset("shapes", "train", n=recipe["n_train"], seed=recipe["seed"])
        model = ConvVAE(**recipe["model"])
        model.init_output_bias(x.mean(0))
        train_vae(model, x, seed=recipe["seed"], **kw)
        return model, {}
    raise ValueError(f"unknown checkpoint {name!r}; expected one of {sorted(RECIPES)}")


def _gan_metrics(G, conditional: bool) -> dict:
    g = torch.Generator().manual_seed(1234)
    labels = torch.arange(1000) % 10 if conditional else None
    report = mnist_quality(G.sample(1000, labels=labels, generator=g), labels=labels)
    return {k: round(v, 4) for k, v in report.items()}


def evaluate(name: str, model: torch.nn.Module) -> dict:
    """The metrics written into the manifest, measured on the reloaded (float16-stored) model."""
    model.eval()
    if name == "cnn-mnist":
        x, y = load_dataset("mnist", "test")
        return {"test_accuracy": round(float((model.predict_proba(x).argmax(1) == y).float().mean()), 4)}
    if name in ("dcgan-mnist", "cgan-mnist"):
        return _gan_metrics(model, name == "cgan-mnist")
    split = load_dataset("shapes", "test", n=1000)[0] if name == "betavae-shapes" else load_dataset("mnist", "test")[0]
    g = torch.Generator().manual_seed(0)
    return {"test_neg_elbo_nats": round(float(-model.elbo(split, samples=10, generator=g).mean()), 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=[*RECIPES, "all"])
    parser.add_argument("--steps", type=int, help="override the recipe's step count (for a quick check)")
    parser.add_argument("--dry-run", action="store_true", help="train and evaluate, but write nothing")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="re-measure a shipped checkpoint (e.g. after cnn-mnist changed) and update its metrics")
    parser.add_argument("--note", help="what else ran on the machine meanwhile (recorded with the wall time), "
                                       "e.g. 'two other jobs running'")
    args = parser.parse_args()
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 2)))
    for name in RECIPES if args.name == "all" else [args.name]:
        if args.evaluate_only:
            record = {k: v for k, v in pretrained.manifest()[name].items()
                      if k not in ("file", "sha256", "model", "config")}
            model = pretrained.load(name, device="cpu")
            if name in ("dcgan-mnist", "cgan-mnist") and not record.get("standing_stats"):
                standing_stats(model)  # a checkpoint saved before the recipe recomputed them
            record["metrics"] = evaluate(name, model)
            record["metrics_classifier_sha256"] = pretrained.manifest()["cnn-mnist"]["sha256"]
            record["standing_stats"] = name in ("dcgan-mnist", "cgan-mnist")
            pretrained.save(name, model, record)  # re-saving float16 weights is lossless
            print(f"{name}: {record['metrics']} (re-evaluated)", flush=True)
            continue
        recipe = RECIPES[name]
        seed_everything(recipe["seed"])
        start = time.perf_counter()
        print(f"training {name} ...", flush=True)
        model, extra = train(name, recipe, args.steps)
        seconds = time.perf_counter() - start
        if args.dry_run:
            print(f"{name}: {seconds:.0f} s, {evaluate(name, model)} (dry run, nothing written)")
            continue
        record = {"command": f"python scripts/pretrain.py {name}" + (f" --steps {args.steps}" if args.steps else ""),
                  "seed": recipe["seed"], "hyperparameters": {k: v for k, v in recipe.items() if k != "seed"},
                  "wall_seconds": round(seconds), "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                  f"{threads} threads, torch {torch.__version__}" + (f"; {args.note}" if args.note else ""),
                  "date": time.strftime("%Y-%m-%d"), **extra}
        pretrained.save(name, model, dict(record, metrics={}))
        record["metrics"] = evaluate(name, pretrained.load(name, device="cpu"))
        if name in ("dcgan-mnist", "cgan-mnist"):  # their metrics are measured in cnn-mnist's features
            record["metrics_classifier_sha256"] = pretrained.manifest()["cnn-mnist"]["sha256"]
            record["standing_stats"] = True
        pretrained.save(name, model, record)
        print(f"{name}: {seconds:.0f} s, {record['metrics']}", flush=True)


if __name__ == "__main__":
    main()
