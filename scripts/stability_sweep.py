"""Precompute notebook 05's stability lab: GAN and VAE settings compared on MNIST, too slow to run live.

    python scripts/stability_sweep.py                 # ~25 min on 1 thread → genimg_edu/results/stability.json
    python scripts/stability_sweep.py --steps 20 --samples 100 --out /tmp/s.json   # a quick check that it runs

GANs: the small DCGAN of recipe "sweep-gan" (`genimg_edu.recipes`, width 32) trained with `fit` under each
setting, its quality (classifier Inception Score and Fréchet distance ratios,
`evaluation.mnist_quality` on 500 samples) measured along the way. VAEs: the MLP
VAE of recipe "sweep-vae" per KL weight β, with and without KL warm-up, measured by its test ELBO
and its number of active latent units (`metrics.active_units`). Every run is
seeded; the JSON starts with `io.run_record` (command, date, machine, threads, load) and is written atomically.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import recipes, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.io import run_record, write_json  # noqa: E402
from genimg_edu.evaluation import instrument, mnist_quality  # noqa: E402
from genimg_edu.metrics import active_units  # noqa: E402

BASE = recipes.get("sweep-gan").step  # hinge, lr 2e-4, β = (0.5, 0.999); D with spectral norm
GAN_SETTINGS = {  # name: (generator options, discriminator options, GANStep options)
    "baseline (hinge, SN, β1 = 0.5)": ({}, {"spectral": True}, BASE),
    "Adam β1 = 0.9": ({}, {"spectral": True}, dict(BASE, betas=(0.9, 0.999))),
    "learning rate × 10": ({}, {"spectral": True}, dict(BASE, lr_g=2e-3, lr_d=2e-3)),
    "no BatchNorm in G": ({"batchnorm": False}, {"spectral": True}, BASE),
    "no spectral norm (non-saturating)": ({}, {"spectral": False}, dict(BASE, loss="non-saturating")),
    "non-saturating, no SN, + label smoothing 0.1": ({}, {"spectral": False},
                                                     dict(BASE, loss="non-saturating", smoothing=0.1)),
    "learning rate × 10, no SN (non-saturating)": ({}, {"spectral": False},
                                                   dict(BASE, loss="non-saturating", lr_g=2e-3, lr_d=2e-3)),
    "TTUR (lr_D 4e-4, lr_G 1e-4)": ({}, {"spectral": True}, dict(BASE, lr_g=1e-4, lr_d=4e-4)),
    "WGAN-GP (λ = 10, no SN)": ({}, {"spectral": False}, dict(BASE, loss="wasserstein", gp=10.0, betas=(0.0, 0.9))),
}
VAE_SETTINGS = {f"β = {b}" + (", KL warm-up" if w else ""): dict(beta=b, kl_warmup=w)
                for b in (0.5, 1.0, 4.0, 16.0) for w in (0, 1000)}


def gan_run(options, steps: int, every: int, seed: int, samples: int = 500) -> list[dict]:
    g_opts, d_opts, step_opts = options
    step, (x,) = recipes.build("sweep-gan", seed=seed, model=g_opts, disc=d_opts, **step_opts)
    classifier = instrument("cnn-mnist")  # the protocol's instrument: its reference statistics are kept

    def measure(step, k):
        step.G.eval()
        images = step.G.sample(samples, generator=torch.Generator().manual_seed(1))
        return {k: round(v, 4) for k, v in mnist_quality(images, classifier=classifier, reference="val").items()
                if k in ("is_ratio", "fd_ratio")}

    history = fit(step, (x,), max_steps=steps, batch_size=recipes.get("sweep-gan").batch_size, seed=seed,
                  callbacks=[measure], eval_every=every,
                  reporter=None, log_every=0)
    return history["eval"] + [{"status": history["status"], "seconds": round(history["seconds"], 1)}]


def vae_run(options, steps: int, seed: int) -> dict:
    x_test, _ = load_dataset("mnist", "test")
    step, data = recipes.build("sweep-vae", seed=seed, **options)
    model = step.modules["model"]
    history = fit(step, data, max_steps=steps, batch_size=recipes.get("sweep-vae").batch_size, seed=seed,
                  reporter=None, log_every=0)
    active, variances = active_units(model, x_test)
    neg_elbo = float(-model.elbo(x_test, generator=torch.Generator().manual_seed(0)).mean())
    return {"active_units": active, "unit_variances": [round(v, 4) for v in variances.tolist()],
            "test_neg_elbo": round(neg_elbo, 2), "seconds": round(history["seconds"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000, help="GAN steps per setting (VAE: the same number)")
    parser.add_argument("--every", type=int, help="measure GAN quality every this many steps (default steps/6)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=500,
                        help="samples per GAN measurement, against as many val digits (a quick check: 100)")
    parser.add_argument("--out", type=Path, default=ROOT / "genimg_edu" / "results" / "stability.json")
    parser.add_argument("--only", nargs="+", metavar="SETTING",
                        help="run only these settings and merge them into an existing --out file")
    args = parser.parse_args()
    if args.samples < 20:
        parser.error(f"--samples must be at least 20 (a covariance of the features), got {args.samples}")
    unknown = set(args.only or []) - set(GAN_SETTINGS) - set(VAE_SETTINGS)
    if unknown:
        parser.error(f"unknown settings {sorted(unknown)}; expected some of {[*GAN_SETTINGS, *VAE_SETTINGS]}")
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 2)))
    every = args.every or max(1, args.steps // 6)
    steps_arg = "".join(f" --{k} {getattr(args, k)}" for k in ("steps", "samples")
                        if getattr(args, k) != parser.get_default(k))
    result = {**run_record(f"python scripts/stability_sweep.py{steps_arg}", threads=threads),
              "steps": args.steps, "seed": args.seed, "samples": args.samples, "gan": {}, "vae": {}}
    if args.only:  # add to an earlier sweep made with the same settings
        earlier = json.loads(args.out.read_text(encoding="utf-8"))
        made = (earlier["steps"], earlier["seed"], earlier.get("samples", 500))
        if made != (args.steps, args.seed, args.samples):
            parser.error(f"{args.out} was made with --steps {made[0]}, seed {made[1]} and --samples {made[2]}")
        result = dict(earlier, only_updated=sorted(set(earlier.get("only_updated", [])) | set(args.only)))
    wanted = lambda name: not args.only or name in args.only  # noqa: E731
    for name, options in GAN_SETTINGS.items():
        if wanted(name):
            result["gan"][name] = gan_run(options, args.steps, every, args.seed, args.samples)
            print(f"{name}: {result['gan'][name][-2:]}", flush=True)
    result["gan"] = {name: result["gan"][name] for name in GAN_SETTINGS if name in result["gan"]}  # keep the order
    for name, options in VAE_SETTINGS.items():
        if not wanted(name):
            continue
        result["vae"][name] = vae_run(options, args.steps, args.seed)
        print(f"{name}: {({k: v for k, v in result['vae'][name].items() if k != 'unit_variances'})}", flush=True)
    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
