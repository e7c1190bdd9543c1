"""How long the notebooks' live training takes, and what it reaches, on this machine.

    python benchmarks/live_training.py

Times each live recipe exactly as its notebook runs it (same seed, steps and
settings) and writes ``benchmarks/live_training.json`` atomically. The models
issue asks for the live VAE to reach its gate within 40 s of training on a
laptop CPU; this is where that is recorded (timings never go into tests).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import seed_everything, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.io import run_record, write_json  # noqa: E402
from genimg_edu.models import ConvVAE, DCGANDiscriminator, DCGANGenerator, MNISTClassifier  # noqa: E402
from genimg_edu.data.toy import ring_centres, ring_of_gaussians  # noqa: E402
from genimg_edu.metrics import mode_coverage  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.steps import ClassifierStep, GANStep, VAEStep  # noqa: E402
from genimg_edu.recipes import toy_gan, train_toy  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return round(time.perf_counter() - start, 1), out


def main() -> None:
    threads = set_threads()
    (x, y), (xt, yt) = load_dataset("mnist", "train"), load_dataset("mnist", "test")
    results = {}

    seed_everything(0)
    cnn = MNISTClassifier(width=16)
    step = ClassifierStep(cnn, lr=2e-3, weight_decay=5e-4, shift=1, decay_steps=400, warmup=40)  # as notebook 02
    seconds, _ = timed(lambda: fit(step, (x, y), max_steps=400, batch_size=64, log_every=0))
    accuracy = float((cnn.eval().predict_proba(xt).argmax(1) == yt).float().mean())
    results["02 CNN, 400 steps"] = {"seconds": seconds, "test_accuracy": round(accuracy, 4)}

    seed_everything(0)
    toy, ring = toy_gan(seed=0), ring_of_gaussians(10_000, std=0.1, generator=torch.Generator().manual_seed(0))
    seconds, _ = timed(lambda: train_toy(toy, ring, 1000))
    modes, _ = mode_coverage(toy.G.sample(2000, generator=torch.Generator().manual_seed(1)), ring_centres(), std=0.1)
    results["03 toy GAN, 1,000 steps"] = {"seconds": seconds, "modes_covered": modes}

    seed_everything(0)
    G, D = DCGANGenerator(width=32), DCGANDiscriminator(width=32)
    gan = GANStep(G, D, loss="non-saturating", lr_g=2e-3, lr_d=2e-3)  # as notebook 03's live run
    seconds, _ = timed(lambda: fit(gan, (x,), max_steps=250, batch_size=64, log_every=0))
    results["03 DCGAN, 250 steps"] = {"seconds": seconds}

    seed_everything(0)
    vae = ConvVAE(width=16, z_dim=32, hidden=256)
    vae.init_output_bias(x.mean(0))
    seconds, _ = timed(lambda: fit(VAEStep(vae, lr=2e-3, shift=1, decay_steps=1600, warmup=200), (x,), max_steps=1600,
                                   batch_size=64, seed=0, log_every=0))  # as notebook 04's live run
    nelbo = float(-vae.eval().elbo(xt, samples=10, generator=torch.Generator().manual_seed(0)).mean())
    results["04 ConvVAE, 1,600 steps"] = {"seconds": seconds, "test_neg_elbo_nats": round(nelbo, 1)}

    write_json(ROOT / "benchmarks" / "live_training.json",
               {**run_record("python benchmarks/live_training.py", threads=threads), "results": results})
    for name, r in results.items():
        print(f"{name:<26} {r}")


if __name__ == "__main__":
    main()
