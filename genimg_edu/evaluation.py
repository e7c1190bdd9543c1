"""The course's MNIST evaluation protocol: which instruments, which split, which references — written once.

`metrics` holds the measures; this module fixes how the course applies them to
generated digits, so every notebook, test, script, benchmark and manifest entry measures alike:

- **two instruments**: the features of ``"cnn-mnist"`` (trained with blur, gamma
  and noise nuisances, so it ignores imperceptible texture) and of
  ``"cnn-mnist-plain"`` (an independent classifier trained without them, so it
  *sees* smudged strokes and speckle). A robust instrument alone can be blind
  to exactly the artefacts generators make; a gate must hold in both.
- **one reference**: the real digits of a held-out split (``"test"`` for the
  figures the course reports, ``"val"`` for every choice made while building a
  recipe), at the same sample size as the samples; Fréchet distances are divided
  by the real-vs-real distance (training digits against the reference).
- **the right features for each measure** (notebook 06): Fréchet distance and the
  Inception Score in the classifier's last hidden layer and its probabilities;
  precision/recall and density/coverage in its *convolutional* features
  (`metrics.conv_features`), because the last layer was trained to ignore the damage
  they must see.
- **copying judged per sample**: a sample counts as a near-copy when its nearest
  training digit is closer than the 1st percentile of the reference digits'
  nearest-training distances — so 1 % is what real held-out digits score.

Reference features and distances are computed once per (instrument, split, size) and kept.
`run_record` is the header every precomputed JSON carries: command, date, machine, threads, load.
"""
from __future__ import annotations

import functools
import os
import platform
import time

import torch

from genimg_edu import metrics

INSTRUMENTS = ("cnn-mnist", "cnn-mnist-plain")
REFERENCES = ("val", "test")
COPY_PERCENTILE = 1.0
K_PRECISION, K_DENSITY = 3, 5  # the k of the k-NN balls (Kynkäänniemi et al. 2019; Naeem et al. 2020)


@functools.lru_cache(maxsize=None)
def instrument(name: str = "cnn-mnist"):
    """The pretrained classifier `name` (one of `INSTRUMENTS`) on the CPU, in eval mode (loaded once)."""
    from genimg_edu import pretrained

    if name not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {name!r}; expected one of {INSTRUMENTS}")
    return pretrained.load(name, device="cpu")


def draw_samples(model, *, n: int = 1000, seed: int = 1234, conditional: bool = False,
                 chunk: int = 250, **sampling) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(n samples, their labels or None) of a generator, drawn as the protocol draws them: from one seeded
    generator, in chunks of `chunk` (memory), every digit n/10 times when `conditional`.
    `sampling` goes to ``model.sample`` (e.g. a flow model's ``steps``, ``method``, ``guidance``)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a whole number of samples >= 1, got {n!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a whole number >= 1, got {chunk!r}")
    labels = torch.arange(n) % 10 if conditional else None
    g = torch.Generator().manual_seed(seed)
    parts = [model.sample(len(i), labels=None if labels is None else labels[i], generator=g, **sampling)
             for i in torch.arange(n).split(chunk)]
    return torch.cat(parts).cpu(), labels


@functools.lru_cache(maxsize=None)
def _split(name: str) -> torch.Tensor:
    from genimg_edu.data import load_dataset

    return load_dataset("mnist", name)[0]


def _reference(reference: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(the reference split's digits, the training digits)."""
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    return _split(reference), _split("train")


@functools.lru_cache(maxsize=None)
def _reference_nearest(reference: str) -> torch.Tensor:
    """Each reference digit's distance to its nearest training digit (pixels), computed once per split."""
    x_ref, x_train = _reference(reference)
    return metrics.nearest_distances(x_ref, x_train)


def _pixel_distances(samples: torch.Tensor, reference: str) -> dict:
    """Nearest-training distances of the samples, set beside those of the reference digits: their means
    (over as many reference digits as samples) and the copy share."""
    d_gen = metrics.nearest_distances(samples.cpu(), _split("train"))
    d_ref = _reference_nearest(reference)
    threshold = float(torch.quantile(d_ref, COPY_PERCENTILE / 100))
    return {"nn_samples": float(d_gen.mean()), "nn_test": float(d_ref[:len(samples)].mean()),
            "copy_share": float((d_gen < threshold).float().mean()), "threshold": threshold}


def copy_share(samples: torch.Tensor, *, reference: str = "test") -> tuple[float, float]:
    """(share of samples that are near-copies of a training digit, the distance threshold used).

    The threshold is the `COPY_PERCENTILE`-th percentile of the nearest-training
    distances of the `reference` split's real digits (pixel space, Carlini et al. 2023's
    per-sample view of memorisation rather than an average). Real reference digits score 1 % by
    construction, give or take 0.3 % on 1,000 samples: judge a generator on 5,000 or more.
    """
    pixels = _pixel_distances(samples, reference)
    return pixels["copy_share"], pixels["threshold"]


@functools.lru_cache(maxsize=32)
def _reference_features(name: str, reference: str, n: int) -> dict:
    """Everything the protocol needs of the first n reference digits and n training digits in instrument
    `name`'s features, computed once: last-layer features and probabilities, convolutional features."""
    x_ref, x_train = _reference(reference)
    classifier = instrument(name)
    f_ref, p_ref = metrics.classifier_outputs(x_ref[:n], classifier)
    f_train, _ = metrics.classifier_outputs(x_train[:n], classifier)
    return {"f_ref": f_ref, "p_ref": p_ref, "c_ref": metrics.conv_features(x_ref[:n], classifier),
            "fd_real": metrics.frechet_distance(f_train, f_ref)}


def _classifier_name(classifier) -> str | None:
    """The instrument's name when `classifier` is one (by name or as the loaded module), else None."""
    if classifier is None:
        return "cnn-mnist"
    if isinstance(classifier, str):
        if classifier not in INSTRUMENTS:
            raise ValueError(f"unknown instrument {classifier!r}; expected one of {INSTRUMENTS}")
        return classifier
    return next((name for name in INSTRUMENTS if instrument(name) is classifier), None)


def _in_features(samples, labels, classifier, reference: str) -> dict:
    """The classifier-based figures of `mnist_quality`, in one instrument's features."""
    n = len(samples)
    name = _classifier_name(classifier)
    if name is not None:
        ref = _reference_features(name, reference, n)
        classifier = instrument(name)
    else:  # another classifier (an experiment): nothing is cached
        x_ref, x_train = _reference(reference)
        f_ref, p_ref = metrics.classifier_outputs(x_ref[:n], classifier)
        f_train, _ = metrics.classifier_outputs(x_train[:n], classifier)
        ref = {"f_ref": f_ref, "p_ref": p_ref, "c_ref": metrics.conv_features(x_ref[:n], classifier),
               "fd_real": metrics.frechet_distance(f_train, f_ref)}
    f_gen, p_gen = metrics.classifier_outputs(samples, classifier)
    c_gen = metrics.conv_features(samples, classifier)
    fd = metrics.frechet_distance(f_gen, ref["f_ref"])
    inception = metrics.inception_score(p_gen)
    precision, recall = metrics.precision_recall(ref["c_ref"], c_gen, k=K_PRECISION)
    density, coverage = metrics.density_coverage(ref["c_ref"], c_gen, k=K_DENSITY)
    report = {"inception_score": inception, "is_ratio": inception / metrics.inception_score(ref["p_ref"]),
              "frechet_distance": fd, "fd_ratio": fd / ref["fd_real"],
              "precision": precision, "recall": recall, "density": density, "coverage": coverage}
    if labels is not None:
        report["label_accuracy"] = float((p_gen.argmax(1) == labels.cpu()).double().mean())  # k/n exactly: 950 of 1,000 is 0.95
    return report


def _check_samples(samples) -> None:
    if not isinstance(samples, torch.Tensor) or samples.dim() != 4 or tuple(samples.shape[1:]) != (1, 28, 28):
        shape = tuple(samples.shape) if isinstance(samples, torch.Tensor) else type(samples).__name__
        raise ValueError(f"samples must be a tensor of digits (N, 1, 28, 28), got {shape}")
    if len(samples) < 2 * K_DENSITY:
        raise ValueError(f"samples: measure at least {2 * K_DENSITY} (the protocol's figures assume ~1,000), "
                         f"got {len(samples)}")
    if not torch.isfinite(samples).all() or samples.min() < -1e-3 or samples.max() > 1 + 1e-3:
        raise ValueError(f"samples must be finite and in [0, 1], got values from {float(samples.min()):.3g} "
                         f"to {float(samples.max()):.3g}")


@torch.no_grad()
def mnist_quality(samples: torch.Tensor, *, labels: torch.Tensor | None = None, classifier=None,
                  reference: str = "test") -> dict:
    """Quality of generated digits (N, 1, 28, 28) in [0, 1], N ≈ 1,000, in one instrument's features.

    `classifier`: an instrument's name (default ``"cnn-mnist"``) or any module with ``features``,
    ``body`` and ``out``. Against the first N digits of the `reference` split (``"test"`` or ``"val"``):

    - ``is_ratio``: classifier Inception Score of the samples ÷ that of the real reference digits;
    - ``fd_ratio``: Fréchet distance (samples, reference) ÷ Fréchet distance (real train, reference);
    - ``precision``, ``recall`` (k = 3) and ``density``, ``coverage`` (k = 5), in the convolutional features;
    - ``label_accuracy``: share of samples classified as the requested `labels` (conditional models);
    - ``nn_samples`` / ``nn_test``: mean pixel distance to the nearest *training* digit, for the
      samples and for the reference digits; ``copy_share``: see `copy_share`.
    """
    _check_samples(samples)
    if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != (len(samples),)):
        raise ValueError(f"labels must be a tensor ({len(samples)},) beside the samples, got "
                         f"{tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__}")
    pixels = _pixel_distances(samples, reference)
    return {**_in_features(samples, labels, classifier, reference),
            **{k: pixels[k] for k in ("nn_samples", "nn_test", "copy_share")}}


@torch.no_grad()
def both_instruments(samples: torch.Tensor, *, labels: torch.Tensor | None = None, reference: str = "test") -> dict:
    """`mnist_quality` in "cnn-mnist"'s features, plus ``plain_fd_ratio`` / ``plain_is_ratio``
    (/ ``plain_label_accuracy``) measured in "cnn-mnist-plain"'s: the figures every gate checks."""
    report = mnist_quality(samples, labels=labels, reference=reference)
    plain = _in_features(samples, labels, "cnn-mnist-plain", reference)
    report.update({f"plain_{k}": plain[k] for k in ("fd_ratio", "is_ratio", "label_accuracy") if k in plain})
    return report


def run_record(command: str, *, threads: int | None = None, note: str | None = None) -> dict:
    """The header of every result a script or benchmark writes: what ran, when, where and beside what load."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"command": command, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads: "
                       f"{threads or torch.get_num_threads()}, torch {torch.__version__}" + (f"; {note}" if note else ""),
            "load_before": None if load is None else round(load, 2)}
