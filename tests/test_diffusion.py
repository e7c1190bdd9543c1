"""diffusion.py's equations, the flow models (VelocityMLP, TinyUNet) and FlowStep."""
import math

import pytest
import torch

from genimg_edu import diffusion
from genimg_edu.data.toy import ring_centres, ring_of_gaussians
from genimg_edu.fit import fit
from genimg_edu.metrics import mode_coverage
from genimg_edu.models import TinyUNet, VelocityMLP
from genimg_edu.steps import FlowStep

g = lambda s: torch.Generator().manual_seed(s)  # noqa: E731


def test_closed_form_matches_iterated_steps():
    betas = diffusion.linear_betas(200)
    a_bar = diffusion.alpha_bar(betas)
    x0 = torch.tensor([-1.0, 0.0, 0.5, 1.0], dtype=torch.float64)
    x = x0.expand(40_000, -1).clone()
    for t in range(200):
        x = diffusion.q_step(x, betas[t].item(), generator=g(t))
    torch.testing.assert_close(x.mean(0), a_bar[-1].sqrt() * x0, atol=0.02, rtol=0)
    torch.testing.assert_close(x.var(0), (1 - a_bar[-1]).expand(4), atol=0.03, rtol=0)


def test_posterior_is_ddpm_eq7_and_reaches_x0_at_the_last_step():
    betas = diffusion.linear_betas(1000)
    a_bar = diffusion.alpha_bar(betas)
    x_t, x0 = torch.randn(5, dtype=torch.float64), torch.randn(5, dtype=torch.float64)
    t = 500  # index t − 1 = 499
    at, ap, b = a_bar[t - 1], a_bar[t - 2], betas[t - 1]
    mean, var = diffusion.posterior(x_t, x0, a_t=at.sqrt(), s_t=(1 - at).sqrt(), a_s=ap.sqrt(), s_s=(1 - ap).sqrt())
    torch.testing.assert_close(mean, ap.sqrt() * b / (1 - at) * x0 + (1 - b).sqrt() * (1 - ap) / (1 - at) * x_t)
    torch.testing.assert_close(var, (1 - ap) / (1 - at) * b)


def test_velocity_conversions_round_trip():
    x0, eps, t = torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0.1, 0.5, 0.9])
    x_t, v = diffusion.flow_path(x0, eps, t)
    back_x0, back_eps = diffusion.to_x0_eps(x_t, v, t)
    torch.testing.assert_close(back_x0, x0)
    torch.testing.assert_close(back_eps, eps)


@pytest.mark.parametrize("method", diffusion.METHODS)
def test_every_sampler_lands_on_the_single_data_point_of_its_exact_velocity(method):
    """Data = one point c: the true velocity is (x − c)/t, and every sampler must reach c exactly."""
    c = torch.tensor([[1.5, -0.5]])
    x1 = torch.randn(64, 2, generator=g(0))
    out = diffusion.sample_flow(lambda x, t: (x - c) / t, x1, steps=7, method=method, generator=g(1))
    torch.testing.assert_close(out, c.expand(64, -1), atol=1e-5, rtol=0)


def test_heun_beats_euler_on_a_curved_flow():
    """dx/dt = sin(3t)·x, solved exactly: Heun's error shrinks with Δ², Euler's with Δ."""
    field = lambda x, t: math.sin(3 * t) * x  # noqa: E731 — exact: x(0) = x(1)·exp((cos 3 − 1)/3)
    x1 = torch.ones(1, 1)
    exact = x1 * math.exp(-(1 - math.cos(3)) / 3)
    err = {(m, n): (diffusion.sample_flow(field, x1, steps=n, method=m) - exact).abs().item()
           for m in ("euler", "heun") for n in (10, 20)}
    assert 0.4 < err["euler", 20] / err["euler", 10] < 0.6  # twice the steps: half the error (first order)
    assert err["heun", 20] / err["heun", 10] < 0.35           # about a quarter (second order)
    assert err["heun", 10] < err["euler", 10]


def test_sample_flow_rejects_bad_arguments_and_counts_evaluations():
    with pytest.raises(ValueError, match="unknown method 'rk4'"):
        diffusion.sample_flow(lambda x, t: x, torch.zeros(1, 2), method="rk4")
    with pytest.raises(ValueError, match="steps must be a whole number"):
        diffusion.sample_flow(lambda x, t: x, torch.zeros(1, 2), steps=0)
    calls = []
    diffusion.sample_flow(lambda x, t: calls.append(t) or x, torch.zeros(1, 2), steps=5, method="heun")
    assert len(calls) == diffusion.evaluations(5, "heun") == 9 and diffusion.evaluations(5, "euler") == 5


def test_unet_shapes_labels_and_guidance():
    torch.manual_seed(0)
    net = TinyUNet(width=8, emb_dim=16)
    torch.nn.init.normal_(net.out[-1].weight, std=0.1)  # not the calm zero start, so guidance shows
    x, labels = torch.randn(3, 1, 28, 28), torch.tensor([1, 2, 3])
    assert net(x, torch.rand(3), labels).shape == (3, 1, 28, 28)
    assert net(x, 0.5).shape == (3, 1, 28, 28)  # a number for t, no labels: the "no class" token
    torch.testing.assert_close(net.guided(x, 0.5, labels, guidance=1.0), net(x, 0.5, labels))
    torch.testing.assert_close(net.guided(x, 0.5, labels, guidance=0.0), net(x, 0.5), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match=r"labels must be \(3,\) ints in \[0, 10\]"):
        net(x, 0.5, torch.tensor([1, 2, 11]))
    images = net.sample(4, labels=torch.arange(4), steps=2, generator=g(0))
    assert images.shape == (4, 1, 28, 28) and images.min() >= 0 and images.max() <= 1
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 10\), got values from 0 to 10"):
        net.sample(4, labels=torch.tensor([0, 1, 2, 10]), steps=1)
    with pytest.raises(ValueError, match="guidance must be a finite number"):
        net.sample(4, labels=torch.arange(4), steps=1, guidance=float("nan"))
    a = net.sample(2, labels=torch.tensor([5, 5]), steps=2, generator=g(3))
    assert torch.equal(a, net.sample(2, labels=torch.tensor([5, 5]), steps=2, generator=g(3)))  # seeded


def test_default_unet_is_small():
    n = sum(p.numel() for p in TinyUNet().parameters())
    assert 300_000 < n < 600_000, n


def test_flow_step_learns_the_ring_and_covers_every_mode():
    torch.manual_seed(0)
    ring = ring_of_gaussians(4096, std=0.1, generator=g(0))
    step = FlowStep(VelocityMLP(hidden=64), lr=3e-3, t_sampling="uniform", rescale=False, ema_decay=0.9)
    history = fit(step, (ring,), max_steps=600, batch_size=256, reporter=None, log_every=0)
    assert sum(history["loss"][-50:]) < 0.7 * sum(history["loss"][:50])
    points = step.sampler.sample(1000, generator=g(1), steps=20, method="euler")
    assert mode_coverage(points, ring_centres(), std=0.1)[0] == 8
    assert step.sampler is step.ema.module


def test_flow_step_drops_labels_to_the_no_class_token():
    seen = []

    class Spy(VelocityMLP):
        def forward(self, x, t, labels=None):
            seen.append(labels.clone())
            return super().forward(x, t, labels)

    step = FlowStep(Spy(n_classes=3), label_dropout=0.5, rescale=False)
    step((torch.randn(2000, 2), torch.zeros(2000, dtype=torch.long)), g(0))
    dropped = (seen[0] == 3).float().mean().item()
    assert 0.45 < dropped < 0.55 and set(seen[0].tolist()) == {0, 3}


@pytest.mark.parametrize("option, value, message", [
    ("t_sampling", "beta", "t_sampling must be one of"), ("label_dropout", 1.0, "label_dropout must be in"),
    ("lr", 0.0, "lr must be positive"), ("ema_decay", 1.0, "ema_decay must be None or in")])
def test_flow_step_rejects_bad_options(option, value, message):
    with pytest.raises(ValueError, match=message):
        FlowStep(VelocityMLP(), **{option: value})
