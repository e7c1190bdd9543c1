"""The course's MNIST evaluation protocol: which instruments, which split, which references.

`metrics` holds the measures; this module fixes how the course applies them to
generated digits, so every notebook, test and manifest entry measures alike:

- **two instruments**: the features of ``"cnn-mnist"`` (trained with blur, gamma
  and noise nuisances, so it ignores imperceptible texture) and of
  ``"cnn-mnist-plain"`` (an independent classifier trained without them, so it
  *sees* smudged strokes and speckle). A robust instrument alone can be blind
  to exactly the artefacts generators make; a gate must hold in both.
- **one reference**: the real digits of a held-out split (``"test"`` for the
  figures the course reports, ``"val"`` for every choice made while building a
  recipe), at the same sample size as the samples; Fréchet distances are divided
  by the real-vs-real distance (training digits against the reference).
- **copying judged per sample**: a sample counts as a near-copy when its nearest
  training digit is closer than the 1st percentile of the reference digits'
  nearest-training distances — so 1 % is what real held-out digits score.
"""
from __future__ import annotations

import torch

from genimg_edu import metrics

INSTRUMENTS = ("cnn-mnist", "cnn-mnist-plain")
COPY_PERCENTILE = 1.0


def instrument(name: str = "cnn-mnist"):
    """The pretrained classifier `name` (one of `INSTRUMENTS`) on the CPU, in eval mode."""
    from genimg_edu import pretrained

    if name not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {name!r}; expected one of {INSTRUMENTS}")
    return pretrained.load(name, device="cpu")


def draw_samples(model, *, n: int = 1000, seed: int = 1234, conditional: bool = False,
                 chunk: int = 250, **sampling) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(n samples, their labels or None) of a generator, drawn as the protocol draws them: from one seeded
    generator, in chunks of `chunk` (memory), every digit n/10 times when `conditional`.
    `sampling` goes to ``model.sample`` (e.g. a flow model's ``steps``, ``method``, ``guidance``)."""
    labels = torch.arange(n) % 10 if conditional else None
    g = torch.Generator().manual_seed(seed)
    parts = [model.sample(len(i), labels=None if labels is None else labels[i], generator=g, **sampling)
             for i in torch.arange(n).split(chunk)]
    return torch.cat(parts).cpu(), labels


def copy_share(samples: torch.Tensor, *, reference: str = "test") -> tuple[float, float]:
    """(share of samples that are near-copies of a training digit, the distance threshold used).

    The threshold is the `COPY_PERCENTILE`-th percentile of the nearest-training
    distances of the `reference` split's real digits (pixel space, Carlini et al. 2023's
    per-sample view of memorisation rather than an average). Real reference digits score 1 % by
    construction, give or take 0.3 % on 1,000 samples: judge a generator on 5,000 or more.
    """
    from genimg_edu.data import load_dataset

    x_train, _ = load_dataset("mnist", "train")
    x_ref, _ = load_dataset("mnist", reference)
    pixels = _pixel_distances(samples, x_ref, x_train)
    return pixels["copy_share"], pixels["threshold"]


def _pixel_distances(samples, x_ref, x_train) -> dict:
    """Nearest-training distances of the samples and of the reference digits, computed once, and what
    follows from them: their means (over as many reference digits as samples) and the copy share."""
    d_gen = metrics.nearest_distances(samples.cpu(), x_train)
    d_ref = metrics.nearest_distances(x_ref, x_train)
    threshold = float(torch.quantile(d_ref, COPY_PERCENTILE / 100))
    return {"nn_samples": float(d_gen.mean()), "nn_test": float(d_ref[:len(samples)].mean()),
            "copy_share": float((d_gen < threshold).float().mean()), "threshold": threshold}


def _in_features(samples, labels, classifier, x_ref, x_train) -> dict:
    """The classifier-based figures of `mnist_quality`, in one instrument's features."""
    n = len(samples)
    f_ref, p_ref = metrics.classifier_outputs(x_ref[:n], classifier)
    f_train, _ = metrics.classifier_outputs(x_train[:n], classifier)
    f_gen, p_gen = metrics.classifier_outputs(samples, classifier)
    report = {
        "inception_score": metrics.inception_score(p_gen),
        "is_ratio": metrics.inception_score(p_gen) / metrics.inception_score(p_ref),
        "frechet_distance": metrics.frechet_distance(f_gen, f_ref),
        "fd_ratio": metrics.frechet_distance(f_gen, f_ref) / metrics.frechet_distance(f_train, f_ref),
    }
    if labels is not None:
        report["label_accuracy"] = float((p_gen.argmax(1) == labels.cpu()).double().mean())  # k/n exactly: 950 of 1,000 is 0.95
    return report


def _splits(reference: str):
    from genimg_edu.data import load_dataset

    if reference not in ("val", "test"):
        raise ValueError(f"reference must be 'val' or 'test', got {reference!r}")
    return load_dataset("mnist", reference)[0], load_dataset("mnist", "train")[0]


@torch.no_grad()
def mnist_quality(samples: torch.Tensor, *, labels: torch.Tensor | None = None, classifier=None,
                  reference: str = "test") -> dict:
    """Quality of generated digits (N, 1, 28, 28) in [0, 1], N ≈ 1,000, in one instrument's features.

    `classifier`: a module with ``features`` and ``out``, or an instrument's name
    (default ``"cnn-mnist"``). Against the `reference` split (``"test"`` or ``"val"``):

    - ``is_ratio``: classifier Inception Score of the samples ÷ that of the real reference digits;
    - ``fd_ratio``: Fréchet distance (samples, reference) ÷ Fréchet distance (real train, reference);
    - ``label_accuracy``: share of samples classified as the requested `labels` (conditional models);
    - ``nn_samples`` / ``nn_test``: mean pixel distance to the nearest *training* digit, for the
      samples and for the reference digits; ``copy_share``: see `copy_share`.
    """
    x_ref, x_train = _splits(reference)
    if classifier is None or isinstance(classifier, str):
        classifier = instrument(classifier or "cnn-mnist")
    pixels = _pixel_distances(samples, x_ref, x_train)
    return {**_in_features(samples, labels, classifier, x_ref, x_train),
            **{k: pixels[k] for k in ("nn_samples", "nn_test", "copy_share")}}


@torch.no_grad()
def both_instruments(samples: torch.Tensor, *, labels: torch.Tensor | None = None, reference: str = "test") -> dict:
    """`mnist_quality` in "cnn-mnist"'s features, plus ``plain_fd_ratio`` / ``plain_is_ratio``
    (/ ``plain_label_accuracy``) measured in "cnn-mnist-plain"'s: the figures every gate checks."""
    report = mnist_quality(samples, labels=labels, reference=reference)
    plain = _in_features(samples, labels, instrument("cnn-mnist-plain"), *_splits(reference))
    report.update({f"plain_{k}": plain[k] for k in ("fd_ratio", "is_ratio", "label_accuracy") if k in plain})
    return report
