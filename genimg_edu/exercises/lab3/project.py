"""Lab 3, part 7: the learner's DCGAN, trained by the learner's loop, judged by the package's Inception Score."""
from __future__ import annotations

import math
import time

import torch

from ...data import load_dataset
from ..core import Feedback, Project, register_project, seeded

TARGET = 0.6  # classifier Inception Score of the averaged G's samples ÷ that of real test digits
TITLE = "Lab 3.7 · your GAN, trained"


@torch.no_grad()
def samples_of(G, n: int = 1000, seed: int = 1) -> torch.Tensor:
    """n images in [0, 1] from G in eval mode (BatchNorm's running statistics), from fixed noise."""
    G.eval()
    return (G(torch.randn(n, G.z_dim, generator=seeded(seed))) + 1) / 2


def _run_lab(*, Generator, Discriminator, train_gan, steps: int = 1000) -> Feedback:
    from ...evaluation import mnist_quality
    from ...metrics import classifier_outputs

    x_train, _ = load_dataset("mnist", "train")
    torch.manual_seed(0)
    G, D = Generator(), Discriminator()
    start = time.perf_counter()
    out = train_gan(G, D, x_train, steps=steps)
    seconds = time.perf_counter() - start
    if not isinstance(out, tuple) or len(out) != 2:
        return Feedback("lab3_training", False, "returns", f"✗ {TITLE}: train_gan returned {type(out).__name__}; "
                        "return (history, G_avg) — check_train_gan says what each is.")
    history, G_avg = out
    history = [(float(d), float(g)) for d, g in history]
    details = dict(G=G_avg, history=history, seconds=seconds)

    def fail(key, message):
        return Feedback("lab3_training", False, key, f"✗ {TITLE}: {message}", details)
    if len(history) != steps:
        return fail("losses", f"train_gan returned {len(history)} rounds for {steps} steps: one (loss_d, loss_g) "
                              "per round.")
    if not all(math.isfinite(v) for pair in history for v in pair):
        return fail("not-finite", "a loss became NaN or infinite: check_train_gan and check_gan_round say why.")
    samples = samples_of(G_avg)
    report = mnist_quality(samples)
    digits = torch.bincount(classifier_outputs(samples)[1].argmax(1), minlength=10)
    details.update(is_ratio=report["is_ratio"], fd_ratio=report["fd_ratio"], digits=digits.tolist())
    late_d = sum(d for d, _ in history[-100:]) / len(history[-100:])
    if late_d < 0.05:
        return fail("d-wins", f"D's loss fell to {late_d:.3f} over the last rounds: it tells every fake apart and G "
                              "gets nothing to learn from. Did G's step update G (check_gan_round)?")
    if report["is_ratio"] < TARGET:
        if digits.max() > 0.5 * len(samples):
            return fail("collapsed", f"Inception Score {report['is_ratio']:.2f} × real after {steps:,} rounds, below "
                                     f"{TARGET}, and {digits.max().item()} of {len(samples)} samples are one digit "
                                     f"({digits.argmax().item()}): the generator collapsed, or has barely begun. "
                                     "Look at the samples below, and at your noise (check_train_gan).")
        return fail("below-target", f"Inception Score {report['is_ratio']:.2f} × real after {steps:,} rounds, below "
                                    f"{TARGET}: train longer (steps=...) or look at the samples below.")
    return Feedback("lab3_training", True, None, f"✓ {TITLE}: Inception Score {report['is_ratio']:.2f} × real "
                    f"and Fréchet distance {report['fd_ratio']:.0f} × real-vs-real after {steps:,} rounds "
                    f"({seconds:.0f} s); each digit drawn {min(digits).item()} to {max(digits).item()} times in "
                    "1,000 (real digits: about 100 each).", details)


check_lab3_training = register_project(Project(
    name="lab3_training", title=TITLE, parts=("Generator", "Discriminator", "train_gan"), run=_run_lab))


def show_gan(result: Feedback) -> None:
    """The lab's picture: both players' losses, and 48 samples of the averaged generator."""
    import matplotlib.pyplot as plt

    from ...plot import show_images

    if not result.details:
        print("Nothing to show yet: the check above trains your GAN once every part passes its own check.")
        return
    history = torch.tensor(result.details["history"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.0), gridspec_kw={"width_ratios": [1, 2.2]})
    for i, name in enumerate(("D", "G")):
        axes[0].plot(history[:, i], lw=0.5, label=f"{name}'s loss")
    axes[0].set(xlabel="round", title="the losses of a game do not fall together")
    axes[0].legend(fontsize=8)
    show_images(samples_of(result.details["G"], 48, seed=2), nrow=16, ax=axes[1],
                title="48 samples of the averaged generator")
    plt.show()
