"""Exercises for notebook 07 (diffusion and flow matching): the closed-form noising, the Euler sampler of the
flow, classifier-free guidance, and a sampler's cost. References: `diffusion.q_sample`, `diffusion.sample_flow`,
`diffusion.evaluations`."""
import torch

from .. import diffusion
from .core import Exercise, Mistake, register, seeded

_X0 = [torch.rand(3, 1, 4, 4, generator=seeded(0)) * 2 - 1, torch.randn(5, 2, generator=seeded(1))]
_EPS = [torch.randn(3, 1, 4, 4, generator=seeded(2)), torch.randn(5, 2, generator=seeded(3))]
_A_BAR = [0.3, 0.9]


def _q_wrong(kind):
    def wrong(x0, a_bar, eps):
        if kind == "no-sqrt":
            return a_bar * x0 + (1 - a_bar) * eps
        if kind == "swapped":
            return (1 - a_bar) ** 0.5 * x0 + a_bar ** 0.5 * eps
        return a_bar ** 0.5 * x0 + (1 - a_bar) * eps
    return wrong


check_q_sample = register(Exercise(
    name="q_sample", title="Exercise 7.1 · noising in one jump",
    reference=diffusion.q_sample,
    trial=lambda answer: [answer(x.clone(), a, e.clone()) for x, a, e in zip(_X0, _A_BAR, _EPS)],
    describe=lambda i: f"x0 of shape {tuple(_X0[i].shape)}, a_bar={_A_BAR[i]}",
    start="The forward process gives x_t from x_0 in one jump, as a scaled x_0 plus scaled noise: write it with "
          "the ᾱ_t and the noise you are given — hint('q_sample') if you are stuck.",
    hints=["q(x_t | x_0) = N(√ᾱ_t · x_0, (1 − ᾱ_t) I): a mean and a variance.",
           "a sample is mean + standard deviation × ε, and the standard deviation is √(1 − ᾱ_t)."],
    mistakes={
        "no-sqrt": Mistake(_q_wrong("no-sqrt"), "the square roots are missing: ᾱ_t scales the variance, so the "
                                                "signal is multiplied by √ᾱ_t and the noise by √(1 − ᾱ_t)."),
        "swapped": Mistake(_q_wrong("swapped"), "signal and noise are swapped: √ᾱ_t multiplies x_0 (ᾱ_t → 1 at "
                                                "t = 0, where x_t is the clean image)."),
        "variance-as-std": Mistake(_q_wrong("variance-as-std"), "ε is multiplied by the variance 1 − ᾱ_t; it needs "
                                                                "the standard deviation √(1 − ᾱ_t)."),
    }))

_X1 = [torch.randn(4, 2, generator=seeded(4)), torch.randn(2, 1, 3, 3, generator=seeded(5))]
_STEPS = [4, 3]


def _field(x, t):
    """A velocity that depends on both x and t (a network's stand-in), so that every slip changes the result."""
    return torch.sin(3 * x) * (1 + t) - x * t ** 2


def _sampler_trial(answer):
    out = []
    for x1, steps in zip(_X1, _STEPS):
        times = []
        got = answer(lambda x, t: times.append(float(t)) or _field(x, float(t)), x1.clone(), steps)
        out += [got, torch.tensor(times)]
    return out


def _euler_reference(velocity, x1, steps):
    return diffusion.sample_flow(velocity, x1, steps=steps, method="euler")


def _euler_wrong(kind):
    def wrong(velocity, x1, steps):
        n = steps - 1 if kind == "one-short" else steps
        start, end = (0.0, 1.0) if kind == "forward" else (1.0, 0.0)
        times = torch.linspace(start, end, n + 1).tolist()
        x = x1
        v = velocity(x1, 1.0) if kind == "velocity-once" else None
        for t, s in zip(times, times[1:]):
            if kind != "velocity-once":
                v = velocity(x, s if kind == "time-of-arrival" else t)
            x = x + ((t - s) if kind == "sign" else (s - t)) * v
        return x
    return wrong


check_euler_sampler = register(Exercise(
    name="euler_sampler", title="Exercise 7.3 · the Euler sampler, from noise at t = 1 to an image at t = 0",
    reference=_euler_reference,
    trial=_sampler_trial,
    describe=lambda i: (f"{'the result' if i % 2 == 0 else 'the times your velocity was asked at'} for x1 of shape "
                        f"{tuple(_X1[i // 2].shape)} in {_STEPS[i // 2]} steps"),
    start="Cut the time from 1 down to 0 into `steps` equal steps; at each one, ask the velocity where the sample "
          "is now and move it along — hint('euler_sampler') if you are stuck.",
    hints=["v = dx_t/dt; over a short time the path moves by (time elapsed) × velocity. Going from t to s < t, "
           "time elapses by s − t, a negative number.",
           "torch.linspace(1, 0, steps + 1) gives the steps + 1 times, both ends included; consecutive pairs (t, s) "
           "are the steps. Ask velocity(x, t) at the start of each step, at the sample as it is now.",
           "x = x1; for each (t, s): x = x + (s − t) · velocity(x, t); return x — one evaluation per step."],
    mistakes={
        "sign": Mistake(_euler_wrong("sign"), "every step went the wrong way (towards more noise): time decreases "
                                              "from t to s, so the step is (s − t)·v."),
        "forward": Mistake(_euler_wrong("forward"), "the times run from 0 to 1: the sampler starts from noise at "
                                                    "t = 1 and ends at the image, t = 0 — torch.linspace(1, 0, …)."),
        "one-short": Mistake(_euler_wrong("one-short"), "one step too few: `steps` steps need steps + 1 times, both "
                                                        "ends included."),
        "velocity-once": Mistake(_euler_wrong("velocity-once"),
                                 "the velocity was asked once, at the noise: ask again at every step, where the "
                                 "sample is now — the field changes along the way."),
        "time-of-arrival": Mistake(_euler_wrong("time-of-arrival"),
                                   "the velocity was asked at the end of each step (time s): Euler asks at its "
                                   "start, velocity(x, t), where the sample is."),
    }))

_VC = [torch.randn(3, 2, generator=seeded(8)), torch.randn(2, 1, 3, 3, generator=seeded(9))]
_VU = [torch.randn(3, 2, generator=seeded(10)), torch.randn(2, 1, 3, 3, generator=seeded(11))]
_W = [1.5, 4.0]


def _cfg_wrong(kind):
    def wrong(v_cond, v_uncond, w):
        return {"other-convention": v_cond + w * (v_cond - v_uncond), "no-difference": v_uncond + w * v_cond,
                "swapped": v_cond + w * (v_uncond - v_cond)}[kind]
    return wrong


check_guided_velocity = register(Exercise(
    name="guided_velocity", title="Exercise 7.4 · classifier-free guidance",
    reference=lambda v_cond, v_uncond, w: v_uncond + w * (v_cond - v_uncond),
    trial=lambda answer: [answer(c.clone(), u.clone(), w) for c, u, w in zip(_VC, _VU, _W)],
    describe=lambda i: f"w={_W[i]}",
    hints=["start from the unconditional prediction and move along the direction the label adds.",
           "the course's convention: w = 0 is unconditional, w = 1 is plain conditional, w > 1 exaggerates."],
    mistakes={
        "other-convention": Mistake(_cfg_wrong("other-convention"),
                                    "that is the other convention, v_cond + w(v_cond − v_uncond) (Ho & Salimans "
                                    "write it that way), where w = 0 is plain conditional; the course's w = 1 is "
                                    "plain conditional: v_uncond + w(v_cond − v_uncond)."),
        "no-difference": Mistake(_cfg_wrong("no-difference"), "guidance moves along the *difference* v_cond − "
                                                              "v_uncond: at w = 1 the result must be v_cond."),
        "swapped": Mistake(_cfg_wrong("swapped"), "the roles are swapped: start from v_uncond and move towards (and "
                                                  "past) v_cond."),
    }))

check_heun_evaluations = register(Exercise(
    name="heun_evaluations", title="Exercise 7.2 · predict: network evaluations of Heun's method in 10 steps",
    reference=lambda: diffusion.evaluations(10, "heun"),
    trial=lambda answer: [answer()],
    describe=lambda i: "Heun, 10 steps",
    start="Predict it first, then return your number; hint('heun_evaluations') if you are stuck.",
    reveal=False,
    hints=["Heun's method evaluates the velocity once at the start of a step and once more at Euler's guess of its "
           "end — that guess is not where the next step starts.",
           "what happens on the last step, the one that ends at t = 0?"],
    mistakes={
        "twice-per-step": Mistake(lambda: 20, "close: every step but the last evaluates twice; the last step, which "
                                              "ends at t = 0, is an Euler step (section 5)."),
        "once-per-step": Mistake(lambda: 10, "Heun's method evaluates the velocity twice per step: once at the "
                                             "start and once at Euler's guess."),
        "shared-ends": Mistake(lambda: 11, "the corrector evaluates at Euler's guess, not at the next step's starting "
                                           "point, so the evaluations are not shared between steps."),
    }))
