"""A picture for the numbers: samples of every shipped digit generator beside real test digits.

The metrics of notebooks 06–08 say how far each generator is from real digits; this draws what they measure,
the same way every time (`scripts/sample_grid.py` for the README, notebook 06 live): the first `n` samples
from one seed — never picked by hand — with the class-conditional models asked for 0, 1, …, 9 in turn and the
flow model sampled with the settings it shipped with.
"""
from __future__ import annotations

import torch

from genimg_edu import pretrained, validate
from genimg_edu.evaluation import draw_samples

GENERATORS = ("dcgan-mnist", "cgan-mnist", "vae-mnist", "flow-mnist")
CONDITIONAL = ("cgan-mnist", "flow-mnist")


def real_digits(n: int = 20) -> torch.Tensor:
    """(n, 1, 28, 28) test digits in the order 0, 1, …, 9, 0, 1, …: the first of each digit, then the second."""
    from genimg_edu.data import load_dataset

    n = validate.count("n", n, minimum=1)
    x, y = load_dataset("mnist", "test")
    by_digit = [torch.nonzero(y == d).flatten() for d in range(10)]
    fewest = min(len(i) for i in by_digit)
    if n > 10 * fewest:
        raise ValueError(f"n: the test split holds {fewest} of its rarest digit, so at most {10 * fewest} in "
                         f"this order; got n={n}")
    return x[torch.stack([by_digit[k % 10][k // 10] for k in range(n)])]


def shipped_samples(n: int = 20, *, seed: int = 0, names=GENERATORS) -> dict[str, torch.Tensor]:
    """``{name: (n, 1, 28, 28) samples in [0, 1]}`` for the shipped digit generators `names`."""
    n, seed = validate.count("n", n, minimum=1), validate.count("seed", seed)
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise TypeError(f"names must be a list of shipped digit generators {list(GENERATORS)}, got {names!r}")
    if not names or any(name not in GENERATORS for name in names):
        raise ValueError(f"names must be a list of shipped digit generators {list(GENERATORS)}, got {names!r}")
    out, table = {}, pretrained.manifest()
    for name in names:
        sampling = table[name]["hyperparameters"].get("sampling", {})  # the flow model's sampler and guidance
        model = pretrained.load(name, device="cpu")
        out[name] = draw_samples(model, n=n, seed=seed, conditional=name in CONDITIONAL, **sampling)[0]
    return out


def caption(name: str) -> str:
    """How a row of the gallery was drawn, in a few words."""
    if name == "flow-mnist":
        s = pretrained.manifest()[name]["hyperparameters"]["sampling"]
        return f"{name}: digits 0–9 asked for; {s['method']}, {s['steps']} steps, guidance w = {s['guidance']}"
    return f"{name}: digits 0–9 asked for" if name in CONDITIONAL else f"{name}: unconditional"


def show_gallery(samples: dict[str, torch.Tensor], real: torch.Tensor, *, nrow: int = 10):
    """One block per row source — real test digits first, then each generator — labelled above it. Returns the
    figure."""
    import matplotlib.pyplot as plt

    from genimg_edu.plot import show_images

    if not isinstance(samples, dict) or not samples:
        raise TypeError(f"samples must be a non-empty dict {{name: images}}, got {validate._type(samples)}")
    blocks = {"real test digits, 0–9 in turn": real, **{caption(k): v for k, v in samples.items()}}
    rows = [-(-len(v) // nrow) for v in blocks.values()]
    fig, axes = plt.subplots(len(blocks), 1, figsize=(0.55 * nrow + 0.4, 0.55 * sum(rows) + 0.45 * len(blocks)),
                             gridspec_kw={"height_ratios": rows})
    for ax, (title, images) in zip(axes, blocks.items()):
        show_images(images, nrow=nrow, ax=ax)
        ax.set_title(title, loc="left", fontsize=9, fontweight="normal")
    fig.tight_layout(h_pad=0.4)
    return fig
