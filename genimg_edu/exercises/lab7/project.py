"""Lab 7, parts 7 and 8: the learner's flow matching trained end to end — first on notebook 03's ring of eight
Gaussians (every mode, none crowded), then on the digits' codes in the shipped VAE's latent space, sampled with the
learner's Heun and guidance, decoded, and judged by the course's classifier (label accuracy ≥ 90 %)."""
from __future__ import annotations

import functools
import time

import torch

from ...data import load_dataset
from ...data.toy import ring_centres, ring_of_gaussians
from ...models import VelocityMLP
from ...runtime import one_thread
from ..core import Feedback, Project, loss_fell, register_project, seeded
from . import reference

MODES = 8
TARGET = 0.90  # the asked-for digit recognised by cnn-mnist in at least this share of guided samples
GUIDANCE = 1.5  # w of the course's flow-mnist (recipes), chosen there on val
RING_TITLE = "Lab 7.7 · your flow on the ring"
DIGITS_TITLE = "Lab 7.8 · your flow on the digits, guided"



def _losses(out, steps: int, title: str, name: str):
    """The loop's losses as floats, or the Feedback that says what it returned instead."""
    if not isinstance(out, (list, tuple)) or len(out) != steps:
        got = f"{len(out)} items" if isinstance(out, (list, tuple)) else type(out).__name__
        return Feedback(name, False, "losses", f"✗ {title}: train_flow returned {got}; return the list of the "
                        f"{steps} losses, one number per step.")
    return [float(v) for v in out]


def _run_ring(*, euler, train_flow, steps: int = 1500) -> Feedback:
    from ...metrics import mode_coverage

    ring = ring_of_gaussians(10_000, std=0.1, generator=seeded(0))  # notebook 07's, section 3
    torch.manual_seed(0)
    net = VelocityMLP(hidden=128)
    with one_thread():
        start = time.perf_counter()
        losses = _losses(train_flow(net, ring, None, steps=steps, batch_size=256, lr=2e-3), steps, RING_TITLE,
                         "lab7_ring")
        seconds = time.perf_counter() - start
        if isinstance(losses, Feedback):
            return losses
        x1 = torch.randn(2000, 2, generator=seeded(1))
        with torch.no_grad():
            points = euler(lambda x, t: net(x, t), x1.clone(), 40)
            ours = reference.euler(lambda x, t: net(x, t), x1.clone(), 40)
    modes, good = mode_coverage(points, ring_centres(), std=0.1)
    shares = torch.bincount(torch.cdist(points, ring_centres()).argmin(1), minlength=MODES) / len(points)
    details = dict(net=net, losses=losses, points=points, ring=ring, modes=modes, shares=shares, seconds=seconds)

    def fail(key, message):
        return Feedback("lab7_ring", False, key, f"✗ {RING_TITLE}: {message}", details)
    if not loss_fell(losses, factor=0.8, head=min(100, len(losses) // 5))[0]:
        return fail("not-learning", f"the loss did not fall (first steps ~{losses[0]:.2f}, last ~{losses[-1]:.2f}): "
                                    "check_train_flow and check_flow_loss say why.")
    if not torch.allclose(points, ours, atol=1e-4, rtol=1e-3):
        return fail("sampler-disagrees", "your Euler sampler and the package's, from the same noise through your "
                                         "network, end at different points — check_euler says why.")
    if modes < MODES or not (shares.min() > 0.5 / MODES and shares.max() < 1.5 / MODES):
        return fail("modes", f"{modes} of the {MODES} modes drawn, shares from {shares.min():.2f} to "
                             f"{shares.max():.2f} (fair: {1 / MODES:.3f}); train longer (steps=...).")
    return Feedback("lab7_ring", True, None, f"✓ {RING_TITLE}, after {steps:,} steps ({seconds:.0f} s): all {MODES} "
                    f"modes, each with {shares.min():.2f}–{shares.max():.2f} of 2,000 samples (fair: "
                    f"{1 / MODES:.3f}); {good:.0%} within 3σ of a mode.", details)


check_lab7_ring = register_project(Project(
    name="lab7_ring", title=RING_TITLE, parts=("euler", "train_flow"), run=_run_ring, seconds=120))


@functools.lru_cache(maxsize=1)
def digit_codes() -> tuple[torch.Tensor, torch.Tensor, float]:
    """(codes (8000, 32), labels (8000,), scale): the shipped VAE's encoder means μ(x) of the training digits,
    divided by `scale` (their standard deviation) so that they spread like the noise the flow starts from."""
    from ... import pretrained

    vae = pretrained.load("vae-mnist", device="cpu").eval()
    x, y = load_dataset("mnist", "train")
    with torch.no_grad():
        mu = torch.cat([vae.encode(b)[0] for b in x.split(1000)])
    scale = mu.std().item()
    return mu / scale, y, scale


@torch.no_grad()
def decode(codes: torch.Tensor) -> torch.Tensor:
    """Codes in `digit_codes`' scale → digits (N, 1, 28, 28) in [0, 1], by the shipped VAE's decoder."""
    from ... import pretrained

    return pretrained.load("vae-mnist", device="cpu").eval().decode(codes * digit_codes()[2])


def _run_digits(*, heun, cfg_velocity, train_flow, steps: int = 1500, guidance: float = GUIDANCE) -> Feedback:
    from ... import pretrained
    from ...evaluation import mnist_quality

    codes, labels, _ = digit_codes()
    torch.manual_seed(0)
    net = VelocityMLP(dim=codes.shape[1], hidden=256, emb_dim=64, n_classes=10)
    y, x1 = torch.arange(1000) % 10, torch.randn(1000, codes.shape[1], generator=seeded(1))
    with one_thread():
        start = time.perf_counter()
        losses = _losses(train_flow(net, codes, labels, steps=steps, batch_size=256, lr=2e-3, p_drop=0.2), steps,
                         DIGITS_TITLE, "lab7_digits")
        seconds = time.perf_counter() - start
        if isinstance(losses, Feedback):
            return losses
        net.eval()
        with torch.no_grad():
            z = {w: heun(lambda x, t, w=w: cfg_velocity(net, x, t, y, w), x1.clone(), 10) for w in (0.0, 1.0, guidance)}
            ours = reference.heun(lambda x, t: reference.cfg_velocity(net, x, t, y, guidance), x1.clone(), 10)
    images = {w: decode(code) for w, code in z.items()}
    reports = {w: mnist_quality(im, labels=y, reference="val") for w, im in images.items()}
    prior_images = pretrained.load("vae-mnist", device="cpu").sample(1000, generator=seeded(2))  # z ~ N(0, I)
    prior = mnist_quality(prior_images, reference="val")  # the VAE's own way of sampling, for comparison
    details = dict(net=net, losses=losses, images=images, reports=reports, prior=prior, prior_images=prior_images,
                   guidance=guidance, seconds=seconds)

    def fail(key, message):
        return Feedback("lab7_digits", False, key, f"✗ {DIGITS_TITLE}: {message}", details)
    if not loss_fell(losses, factor=0.8, head=min(100, len(losses) // 5))[0]:
        return fail("not-learning", f"the loss did not fall (first steps ~{losses[0]:.2f}, last ~{losses[-1]:.2f}): "
                                    "check_train_flow and check_flow_loss say why.")
    if not torch.allclose(z[guidance], ours, atol=1e-3, rtol=1e-3):
        return fail("sampler-disagrees", f"your Heun sampler with your guidance (w = {guidance}) and the package's, "
                                         "from the same noise through your network, end at different codes — "
                                         "check_heun and check_cfg_velocity say why.")
    got = reports[guidance]["label_accuracy"]
    if got < TARGET:
        return fail("below-target", f"cnn-mnist recognised the asked-for digit in {got:.1%} of 1,000 guided samples "
                                    f"(w = {guidance}), below {TARGET:.0%}: train longer (steps=...).")
    plain = reports[1.0]
    return Feedback("lab7_digits", True, None, f"✓ {DIGITS_TITLE}, after {steps:,} steps ({seconds:.0f} s): the "
                    f"asked-for digit in {got:.1%} of 1,000 samples "
                    f"at w = {guidance} ({plain['label_accuracy']:.1%} at w = 1, "
                    f"{reports[0.0]['label_accuracy']:.1%} at w = 0, which ignores the label); Fréchet distance "
                    f"~{plain['fd_ratio']:.1f} × real-vs-real at w = 1, where the VAE's own samples from N(0, I) "
                    f"score ~{prior['fd_ratio']:.1f} ×.", details)


check_lab7_digits = register_project(Project(
    name="lab7_digits", title=DIGITS_TITLE, parts=("heun", "cfg_velocity", "train_flow"), run=_run_digits,
    seconds=180))


def show_ring(result: Feedback) -> None:
    """The ring's picture: the loss, and 2,000 samples of the learner's flow over the eight modes."""
    import matplotlib.pyplot as plt

    if not result.details:
        print("Nothing to show yet: the check above trains your flow once every part passes its own check.")
        return
    d = result.details
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
    axes[0].plot(d["losses"], lw=0.5)
    axes[0].set(xlabel="step", ylabel="flow-matching loss", title="training loss")
    axes[1].scatter(*d["ring"][:2000].T, s=2, alpha=0.3, color="0.6", label="data")
    axes[1].scatter(*d["points"].T, s=2, alpha=0.5, label="your samples")
    axes[1].set(aspect="equal", title=f"Euler, 40 steps: {d['modes']}/{MODES} modes")
    axes[1].legend(markerscale=5, loc="center", fontsize="small")
    plt.show()


def show_digits(result: Feedback) -> None:
    """The digits' picture: ten samples of each digit at w = 0, 1 and the lab's guidance, the VAE's own samples
    beside them, and what each scores."""
    import matplotlib.pyplot as plt

    from ...plot import show_images

    if not result.details:
        print("Nothing to show yet: the check above trains your flow once every part passes its own check.")
        return
    d = result.details
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
    for ax, (w, images) in zip(axes, d["images"].items()):
        r = d["reports"][w]
        grid = images[:100].reshape(10, 10, 1, 28, 28).transpose(0, 1).reshape(100, 1, 28, 28)  # a row per digit
        show_images(grid, nrow=10, ax=ax, title=f"w = {w:g} · labels {r['label_accuracy']:.0%} · FD {r['fd_ratio']:.1f} ×")
    show_images(d["prior_images"][:100], nrow=10, ax=axes[3],
                title=f"the VAE's own · FD {d['prior']['fd_ratio']:.1f} ×")
    plt.show()
    print(f"{'w':>5} {'label accuracy':>15} {'FD ÷ real':>10} {'precision':>10} {'recall':>7}")
    for w, r in d["reports"].items():
        print(f"{w:5g} {r['label_accuracy']:15.1%} {r['fd_ratio']:10.2f} {r['precision']:10.2f} {r['recall']:7.2f}")
    p = d["prior"]
    print(f"{'VAE':>5} {'—':>15} {p['fd_ratio']:10.2f} {p['precision']:10.2f} {p['recall']:7.2f}   "
          "(the VAE's own samples, decoded from N(0, I))")
