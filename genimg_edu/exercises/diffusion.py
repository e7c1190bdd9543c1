"""Exercises for notebook 07 (diffusion and flow matching): the closed-form noising, one Euler step of the
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

_X = [torch.randn(4, 2, generator=seeded(4)), torch.randn(2, 1, 3, 3, generator=seeded(5))]
_V = [torch.randn(4, 2, generator=seeded(6)), torch.randn(2, 1, 3, 3, generator=seeded(7))]
_TIMES = [(1.0, 0.75), (0.4, 0.1)]


def _euler_reference(x, t, s, v):
    return diffusion.sample_flow(lambda x_, t_: v, x, steps=1, method="euler", t_end=s) if t == 1 else x + (s - t) * v


def _euler_wrong(kind):
    def wrong(x, t, s, v):
        return {"sign": x + (t - s) * v, "no-dt": x - v, "to-x0": x - t * v}[kind]
    return wrong


check_euler_step = register(Exercise(
    name="euler_step", title="Exercise 7.3 · one Euler step of the flow, from t to s < t",
    reference=_euler_reference,
    trial=lambda answer: [answer(x.clone(), t, s, v.clone()) for x, (t, s), v in zip(_X, _TIMES, _V)],
    describe=lambda i: "t={}, s={}".format(*_TIMES[i]),
    hints=["v = dx_t/dt; over a short time the path moves by (time elapsed) × velocity.",
           "time runs from t down to s, so the elapsed time s − t is negative: x_s ≈ x_t + (s − t)·v."],
    mistakes={
        "sign": Mistake(_euler_wrong("sign"), "the step went the wrong way (towards more noise): time decreases from "
                                              "t to s, so the step is (s − t)·v."),
        "no-dt": Mistake(_euler_wrong("no-dt"), "a whole unit of time was taken: scale the velocity by the step "
                                                "size s − t."),
        "to-x0": Mistake(_euler_wrong("to-x0"), "that jumps all the way to t = 0 (the network's guess of x_0); one "
                                                "step moves only from t to s."),
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
