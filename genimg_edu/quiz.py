""""Real or generated?" — the human test of a generator, as a game.

`RealOrGenerated` holds the rules (which images, which answers, the score) so
they can be tested without a browser; `real_or_generated_quiz` puts buttons on
them. A person scoring near 50 % cannot tell the generator's digits from real
ones; notebook 06 compares that with what the metrics say.
"""
from __future__ import annotations

import numpy as np
import torch

from genimg_edu import validate


class RealOrGenerated:
    """`rounds` images, each drawn from `real` or `fake` (N, C, H, W) in [0, 1] by a fair coin, seeded."""

    def __init__(self, real: torch.Tensor, fake: torch.Tensor, *, rounds: int = 10, seed: int = 0):
        rounds = validate.count("rounds", rounds, minimum=1)
        seed = validate.count("seed", seed)
        validate.images("real", real, value_range=(0, 1))
        validate.images("fake", fake, shape=real.shape[1:], value_range=(0, 1))
        for name, t in (("real", real), ("fake", fake)):
            if len(t) < rounds:
                raise ValueError(f"{name} must be images (N, C, H, W) with N ≥ rounds = {rounds}, got {tuple(t.shape)}")
        g = torch.Generator().manual_seed(seed)
        self.generated = (torch.rand(rounds, generator=g) < 0.5).tolist()  # the truth, one coin per round
        pick_real, pick_fake = torch.randperm(len(real), generator=g), torch.randperm(len(fake), generator=g)
        self.images = torch.stack([fake[pick_fake[i]] if gen else real[pick_real[i]]
                                   for i, gen in enumerate(self.generated)])  # (rounds, C, H, W)
        self.answers: list[bool] = []

    @property
    def done(self) -> bool:
        return len(self.answers) == len(self.generated)

    @property
    def current(self) -> torch.Tensor:
        """The image (C, H, W) of the round being played."""
        if self.done:
            raise IndexError("the quiz is over; start a new one")
        return self.images[len(self.answers)]

    def answer(self, says_generated: bool) -> bool:
        """Record the player's answer for the current round; True when it was right."""
        if not isinstance(says_generated, (bool, np.bool_)):
            raise TypeError(f"says_generated must be True (generated) or False (real), got {says_generated!r}")
        truth = self.generated[len(self.answers)] if not self.done else None
        if truth is None:
            raise IndexError("the quiz is over; start a new one")
        self.answers.append(bool(says_generated))
        return self.answers[-1] == truth

    @property
    def score(self) -> tuple[int, int]:
        """(right answers, rounds answered)."""
        return sum(a == t for a, t in zip(self.answers, self.generated)), len(self.answers)


def answer_key(quiz: RealOrGenerated) -> str:
    """The truth of every round, e.g. ``"1: generated · 2: real · …"``."""
    return " · ".join(f"{i + 1}: {'generated' if g else 'real'}" for i, g in enumerate(quiz.generated))


def real_or_generated_quiz(real: torch.Tensor, fake: torch.Tensor, *, rounds: int = 10, seed: int = 0,
                           scale: int = 8, reveal: bool = False):
    """Show one image at a time with **Real** / **Generated** buttons, a running score and a New game button.

    Without a browser (nbval, a notebook viewer) it shows all rounds as one grid, numbered from the left, and
    says how to see the answers: the same call with ``reveal=True`` — never the key itself, so that a stored
    notebook does not answer its own quiz.
    """
    from genimg_edu.runtime import is_live
    from genimg_edu.widgets.common import grid_png, show_static_png

    scale = validate.count("scale", scale, minimum=1)
    quiz = RealOrGenerated(real, fake, rounds=rounds, seed=seed)
    if not is_live():
        from IPython.display import HTML, display

        show_static_png(grid_png(quiz.images, nrow=rounds, scale=3), f"{rounds} rounds, numbered from the left")
        if reveal:
            display(HTML(f"<b>Answer key:</b> {answer_key(quiz)}"))
        else:
            display(HTML("Write down <i>real</i> or <i>generated</i> for each, then run this call again with "
                         "<code>reveal=True</code> to see the answers."))
        return None

    import ipywidgets as W

    picture = W.Image(format="png", layout=W.Layout(width=f"{28 * scale}px"))
    real_button = W.Button(description="Real", icon="check", tooltip="this digit was written by a person")
    fake_button = W.Button(description="Generated", icon="magic", tooltip="this digit came from the generator")
    new_button = W.Button(description="New game", icon="refresh", tooltip="draw new images")
    status = W.HTML()
    state = {"quiz": quiz, "game": 0}

    def show(message: str = "") -> None:
        q = state["quiz"]
        right, played = q.score
        if q.done:
            status.value = f"{message}<br><b>Done: {right}/{played} right.</b> ~50 % means you cannot tell them apart."
            real_button.disabled = fake_button.disabled = True
            return
        picture.value = grid_png(q.current[None], nrow=1, scale=scale)
        status.value = f"{message}<br>Round {played + 1} of {len(q.generated)} · score {right}/{played}"

    def on_answer(says_generated: bool):
        def handler(_):
            q = state["quiz"]
            was_generated = q.generated[len(q.answers)]
            right = q.answer(says_generated)
            show(("✔ right" if right else "✘ wrong") + f" — it was {'generated' if was_generated else 'real'}.")
        return handler

    def on_new(_):
        state["game"] += 1
        state["quiz"] = RealOrGenerated(real, fake, rounds=rounds, seed=seed + state["game"])
        real_button.disabled = fake_button.disabled = False
        show()

    real_button.on_click(on_answer(False))
    fake_button.on_click(on_answer(True))
    new_button.on_click(on_new)
    show()
    return W.VBox([picture, W.HBox([real_button, fake_button, new_button]), status])
