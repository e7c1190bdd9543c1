"""Lab 7, parts 3 and 4: Euler's and Heun's samplers, checked against `diffusion.sample_flow` on a velocity field
the check knows (it bends with x and changes with t), by the sample they return and the times at which they asked
for the velocity."""
from __future__ import annotations

import torch

from ..core import Exercise, Mistake, register, seeded
from . import reference

# --- 7.3 and 7.4 the samplers --------------------------------------------------------------------------------

_X1 = [torch.randn(4, 2, generator=seeded(75)), torch.randn(2, 1, 3, 3, generator=seeded(76))]
_STEPS = [3, 5]


def _field(x, t):
    """A velocity that bends with x and changes with t: the checks' stand-in for a trained network."""
    return x * (1 - t) - 0.5 * torch.sin(3 * x) + t


def _sampler_trial(answer):
    outputs = []
    for x1, steps in zip(_X1, _STEPS):
        times = []

        def velocity(x, t):
            times.append(round(float(t), 6))
            return _field(x, t)
        outputs += [answer(velocity, x1.clone(), steps), times]
    return outputs


def _describe_sampler(i):
    return [f"{what} with {_STEPS[i // 2]} steps from noise of shape {tuple(_X1[i // 2].shape)}"
            for what in ("the sample", "the times at which you evaluated the velocity")][i % 2]


def _euler_wrong(kind):
    def wrong(velocity, x1, steps):
        times = torch.linspace(0.0, 1.0, steps + 1) if kind == "forward" else \
            torch.linspace(1.0, 0.0, steps if kind == "one-short" else steps + 1)
        times, x = times.tolist(), x1
        v = velocity(x, times[0]) if kind == "stale" else None
        for t, s in zip(times, times[1:]):
            v = v if kind == "stale" else velocity(x, t)
            x = x - (s - t) * v if kind == "sign" else x + (s - t) * v
        return x
    return wrong


check_euler = register(Exercise(
    name="euler", title="Lab 7.3 · Euler's sampler",
    reference=reference.euler, trial=_sampler_trial, describe=_describe_sampler,
    start="From the noise x1 at t = 1 to the data at t = 0 in equal steps; each step moves x by the step's "
          "length times the velocity at its start — hint('euler') if you are stuck.",
    hints=["torch.linspace(1, 0, steps + 1).tolist() gives the steps + 1 times, from 1 down to 0.",
           "walk the pairs (t, s) of neighbouring times: zip(times, times[1:]).",
           "time decreases, so s − t is negative: x ← x + (s − t)·velocity(x, t)."],
    mistakes={
        "forward": Mistake(_euler_wrong("forward"), "you integrated from t = 0 to 1, towards the noise: start at "
                                                    "t = 1 with the noise x1 and end at t = 0."),
        "sign": Mistake(_euler_wrong("sign"), "each step went the wrong way: time runs from t down to s, so the "
                                              "step is (s − t)·v, a negative time times the velocity."),
        "one-short": Mistake(_euler_wrong("one-short"), "that is one step too few: `steps` steps need steps + 1 "
                                                        "times, from 1 to 0 inclusive."),
        "stale": Mistake(_euler_wrong("stale"), "you evaluated the velocity once and reused it: the field changes "
                                                "with x and t, so ask for it at the start of every step."),
    }))


def _heun_wrong(kind):
    def wrong(velocity, x1, steps):
        times, x = torch.linspace(1.0, 0.0, steps + 1).tolist(), x1
        for t, s in zip(times, times[1:]):
            v = velocity(x, t)
            guess = x + (s - t) * v
            if kind == "euler" or (s == 0 and kind != "last-step-heun"):
                x = guess
            elif kind == "end-slope":
                x = x + (s - t) * velocity(guess, s)
            elif kind == "midpoint":
                x = x + (s - t) * velocity(x + (s - t) / 2 * v, (t + s) / 2)
            else:
                x = x + (s - t) * (v + velocity(guess, s)) / 2
        return x
    return wrong


check_heun = register(Exercise(
    name="heun", title="Lab 7.4 · Heun's sampler",
    reference=reference.heun, trial=_sampler_trial, describe=_describe_sampler,
    start="Euler's step first, as a guess; then the velocity at the guess, and the step again with the average "
          "of the two velocities — hint('heun') if you are stuck.",
    hints=["the times and pairs (t, s) as in Euler's sampler; in each step, v = velocity(x, t) and "
           "guess = x + (s − t)·v.",
           "the corrected step: x ← x + (s − t)·(v + velocity(guess, s)) / 2.",
           "on the last step (s = 0) keep Euler's guess: the correction buys little there, and the course's "
           "sampler saves that evaluation — 2·steps − 1 in all (exercise 7.2)."],
    mistakes={
        "euler": Mistake(_heun_wrong("euler"), "that is Euler's sampler: Heun's corrects each step with the "
                                               "velocity at Euler's guess of its end."),
        "end-slope": Mistake(_heun_wrong("end-slope"), "you stepped with the velocity at the guess alone: Heun's "
                                                       "method averages it with the velocity at the start."),
        "midpoint": Mistake(_heun_wrong("midpoint"), "that is the midpoint method (also second order): Heun's "
                                                     "evaluates at Euler's guess of the step's end, at time s, and "
                                                     "averages the two slopes."),
        "last-step-heun": Mistake(_heun_wrong("last-step-heun"), "close — but on the last step, which ends at "
                                                                 "t = 0, keep Euler's guess: the course's sampler "
                                                                 "(diffusion.sample_flow) does, and saves one "
                                                                 "evaluation."),
    }))
