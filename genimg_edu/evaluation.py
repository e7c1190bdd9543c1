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
    threshold = float(torch.quantile(metrics.nearest_distances(x_ref, x_train), COPY_PERCENTILE / 100))
    d = metrics.nearest_distances(samples.cpu(), x_train)
    return float((d < threshold).float().mean()), threshold


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
    from genimg_edu.data import load_dataset

    if reference not in ("val", "test"):
        raise ValueError(f"reference must be 'val' or 'test', got {reference!r}")
    if classifier is None or isinstance(classifier, str):
        classifier = instrument(classifier or "cnn-mnist")
    n = len(samples)
    x_train, _ = load_dataset("mnist", "train")
    x_ref, _ = load_dataset("mnist", reference)
    f_ref, p_ref = metrics.classifier_outputs(x_ref[:n], classifier)
    f_train, _ = metrics.classifier_outputs(x_train[:n], classifier)
    f_gen, p_gen = metrics.classifier_outputs(samples, classifier)
    report = {
        "inception_score": metrics.inception_score(p_gen),
        "is_ratio": metrics.inception_score(p_gen) / metrics.inception_score(p_ref),
        "frechet_distance": metrics.frechet_distance(f_gen, f_ref),
        "fd_ratio": metrics.frechet_distance(f_gen, f_ref) / metrics.frechet_distance(f_train, f_ref),
        "nn_samples": float(metrics.nearest_distances(samples.cpu(), x_train).mean()),
        "nn_test": float(metrics.nearest_distances(x_ref[:n], x_train).mean()),
        "copy_share": copy_share(samples, reference=reference)[0],
    }
    if labels is not None:
        report["label_accuracy"] = float((p_gen.argmax(1) == labels.cpu()).float().mean())
    return report


def both_instruments(samples: torch.Tensor, *, labels: torch.Tensor | None = None, reference: str = "test") -> dict:
    """`mnist_quality` in "cnn-mnist"'s features, plus ``plain_fd_ratio`` / ``plain_is_ratio``
    (/ ``plain_label_accuracy``) measured in "cnn-mnist-plain"'s: the figures every gate checks."""
    report = mnist_quality(samples, labels=labels, reference=reference)
    plain = mnist_quality(samples, labels=labels, classifier="cnn-mnist-plain", reference=reference)
    report.update({f"plain_{k}": plain[k] for k in ("fd_ratio", "is_ratio", "label_accuracy") if k in plain})
    return report
