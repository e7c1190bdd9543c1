"""Lab 4, part 6: the learner's VAE, trained with the learner's sample and loss, judged by the package's ELBO."""
from __future__ import annotations

import time

import torch

from ...data import load_dataset
from ...fit import batch_indices
from ..core import Feedback, Project, loss_fell, register_project, seeded
from . import reference

TARGET = 110.0  # test −ELBO, nats per image, the lab's live training must reach
TITLE = "Lab 4.6 · your VAE, trained"


@torch.no_grad()
def _nats(encoder, decoder, x, loss, seed=1) -> float:
    """−ELBO in nats per image on x, one reparameterised sample per image from a fixed generator."""
    mu, logvar = encoder(x)
    z = reference.sample_latent(mu, logvar, torch.randn(mu.shape, generator=seeded(seed)))
    return float(loss(x, decoder(z), mu, logvar))


def _run_lab(*, Encoder, Decoder, sample_latent, vae_loss, iwae_bound, steps: int = 800, z_dim: int = 16, lr: float = 4e-3,
             k: int = 50) -> Feedback:
    x_train, _ = load_dataset("mnist", "train")
    x_test, _ = load_dataset("mnist", "test")
    torch.manual_seed(0)
    encoder, decoder = Encoder(z_dim=z_dim), Decoder(z_dim=z_dim)
    optimizer = torch.optim.Adam([*encoder.parameters(), *decoder.parameters()], lr=lr)
    noise, losses, start = seeded(0), [], time.perf_counter()
    for step in range(steps):  # the loop of lab 2, with your sample and your loss
        x = x_train[batch_indices(len(x_train), 128, seed=0, step=step)]
        mu, logvar = encoder(x)
        loss = vae_loss(x, decoder(sample_latent(mu, logvar, torch.randn(mu.shape, generator=noise))), mu, logvar)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    encoder.eval(), decoder.eval()
    nats = _nats(encoder, decoder, x_test, reference.vae_loss)  # the package's loss on your model
    eps = torch.randn(k, 200, z_dim, generator=seeded(2))
    with torch.no_grad():  # 20 digits at a time: K = 50 samples of each go through the decoder at once (memory)
        theirs = -torch.cat([iwae_bound(encoder, decoder, x_test[i:i + 20], eps[:, i:i + 20])
                             for i in range(0, 200, 20)]).mean().item()
        ours = -torch.cat([reference.iwae_bound(encoder, decoder, x_test[i:i + 20], eps[:, i:i + 20])
                           for i in range(0, 200, 20)]).mean().item()
        elbo_200 = _nats(encoder, decoder, x_test[:200], reference.vae_loss)
    details = dict(encoder=encoder, decoder=decoder, losses=losses, nats=nats, iwae_nats=ours, seconds=seconds)

    def fail(key, message):
        return Feedback("lab4_training", False, key, f"✗ {TITLE}: {message}", details)
    head = min(50, max(1, steps // 4))
    fell, first, last = loss_fell(losses, factor=0.8, head=head)
    if not fell:
        return fail("not-learning", f"the loss did not fall (first {head} steps: {first:.0f} nats, last {head}: "
                                    f"{last:.0f}).")
    if abs(theirs - ours) > 1e-3 * max(1.0, abs(ours)):
        return fail("iwae-disagrees", f"your IWAE bound gives {theirs:.2f} nats on 200 test digits with K = {k}, "
                                      f"the package's {ours:.2f} with the same noise — check_iwae_bound says why.")
    if nats > TARGET:
        return fail("above-target", f"test −ELBO {nats:.1f} nats per image after {steps} steps, above {TARGET:.0f}: "
                                    "train longer (steps=...) or look at your loss.")
    return Feedback("lab4_training", True, None, f"✓ {TITLE}: test −ELBO {nats:.1f} nats per image after {steps} "
                    f"steps ({seconds:.0f} s); the IWAE bound with K = {k} is {ours:.1f} nats on 200 of them "
                    f"(the ELBO there: {elbo_200:.1f}), and yours agrees.", details)


check_lab4_training = register_project(Project(
    name="lab4_training", title=TITLE, parts=("Encoder", "Decoder", "sample_latent", "vae_loss", "iwae_bound"),
    run=_run_lab))


def show_vae(result: Feedback) -> None:
    """The lab's picture: the loss, test digits and their reconstructions, and digits decoded from the prior."""
    import matplotlib.pyplot as plt

    from ...plot import show_images

    if not result.details:
        print("Nothing to show yet: the check above trains your VAE once every part passes its own check.")
        return
    encoder, decoder = result.details["encoder"], result.details["decoder"]
    x = load_dataset("mnist", "test")[0][:12]
    with torch.no_grad():
        recon = decoder(encoder(x)[0]).sigmoid()
        z = torch.randn(12, encoder(x[:1])[0].shape[1], generator=seeded(3))
        dreams = decoder(z).sigmoid()
    fig, axes = plt.subplots(1, 2, figsize=(11, 2.9), gridspec_kw={"width_ratios": [1, 2.2]})
    axes[0].plot(result.details["losses"], lw=0.6)
    axes[0].set(xlabel="step", ylabel="−ELBO (nats / image)", title="training loss", ylim=(80, 300))
    show_images(torch.cat([x, recon, dreams]), nrow=12, ax=axes[1],
                title="test digits, their reconstructions (mean of p(x|z)), and samples from the prior")
    plt.show()
