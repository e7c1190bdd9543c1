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
"""
from __future__ import annotations

import functools
import time

import torch

from genimg_edu import metrics, validate

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
    if not callable(getattr(model, "sample", None)):
        raise TypeError(f"model must be a generator with a sample(n, labels=…) method, got {validate._type(model)}")
    n, chunk = validate.count("n", n, minimum=1), validate.count("chunk", chunk, minimum=1)
    seed = validate.count("seed", seed)
    if not isinstance(conditional, bool):
        raise TypeError(f"conditional must be True or False, got {conditional!r}")
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
    validate.one_of("reference", reference, REFERENCES)
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
    _check_samples(samples)
    validate.one_of("reference", reference, REFERENCES)
    pixels = _pixel_distances(samples, reference)
    return pixels["copy_share"], pixels["threshold"]


@functools.lru_cache(maxsize=32)
def _reference_features(name: str, reference: str, n: int) -> dict:
    """`_reference_outputs` in instrument `name`'s features, computed once."""
    return _reference_outputs(instrument(name), reference, n)


def _reference_outputs(classifier, reference: str, n: int) -> dict:
    """Everything the protocol needs of the first n reference digits and n training digits in `classifier`'s
    features: last-layer features and probabilities, convolutional features."""
    x_ref, x_train = _reference(reference)
    f_ref, p_ref, c_ref = metrics.classifier_views(x_ref[:n], classifier)
    f_train, _ = metrics.classifier_outputs(x_train[:n], classifier)
    return {"f_ref": f_ref, "p_ref": p_ref, "c_ref": c_ref, "fd_real": metrics.frechet_distance(f_train, f_ref)}


def _classifier_name(classifier) -> str | None:
    """The instrument's name when `classifier` is one (by name or as the loaded module), else None."""
    if classifier is None:
        return "cnn-mnist"
    if isinstance(classifier, str):
        return validate.one_of("classifier", classifier, INSTRUMENTS)
    return next((name for name in INSTRUMENTS if instrument(name) is classifier), None)


def _in_features(samples, labels, classifier, reference: str) -> dict:
    """The classifier-based figures of `mnist_quality`, in one instrument's features."""
    n = len(samples)
    name = _classifier_name(classifier)
    if name is not None:
        ref = _reference_features(name, reference, n)
        classifier = instrument(name)
    else:  # another classifier (an experiment): nothing is cached
        ref = _reference_outputs(classifier, reference, n)
    f_gen, p_gen, c_gen = metrics.classifier_views(samples, classifier)
    fd = metrics.frechet_distance(f_gen, ref["f_ref"])
    inception = metrics.inception_score(p_gen)
    precision, recall = metrics.precision_recall(ref["c_ref"], c_gen, k=K_PRECISION)
    density, coverage = metrics.density_coverage(ref["c_ref"], c_gen, k=K_DENSITY)
    report = {"inception_score": inception, "is_ratio": inception / metrics.inception_score(ref["p_ref"]),
              "frechet_distance": fd, "fd_ratio": fd / ref["fd_real"],
              "kid": metrics.kid(f_gen, ref["f_ref"], subsets=10)[0],
              "precision": precision, "recall": recall, "density": density, "coverage": coverage}
    if labels is not None:
        report["label_accuracy"] = float((p_gen.argmax(1) == labels.cpu()).double().mean())  # k/n exactly: 950 of 1,000 is 0.95
    return report


def _check_samples(samples) -> None:
    validate.images("samples", samples, shape=(1, 28, 28))
    if len(samples) < 2 * K_DENSITY:
        raise ValueError(f"samples: measure at least {2 * K_DENSITY} (the protocol's figures assume ~1,000), "
                         f"got {len(samples)}")
    validate.images("samples", samples, value_range=(0, 1))


@torch.no_grad()
def mnist_quality(samples: torch.Tensor, *, labels: torch.Tensor | None = None, classifier=None,
                  reference: str = "test") -> dict:
    """Quality of generated digits (N, 1, 28, 28) in [0, 1], N ≈ 1,000, in one instrument's features.

    `classifier`: an instrument's name (default ``"cnn-mnist"``) or any module with ``features``,
    ``body`` and ``out``. Against the first N digits of the `reference` split (``"test"`` or ``"val"``):

    - ``is_ratio``: classifier Inception Score of the samples ÷ that of the real reference digits;
    - ``fd_ratio``: Fréchet distance (samples, reference) ÷ Fréchet distance (real train, reference);
      ``kid``: the unbiased Kernel Inception Distance there (real digits: 0 within its spread over subsets);
    - ``precision``, ``recall`` (k = 3) and ``density``, ``coverage`` (k = 5), in the convolutional features;
    - ``label_accuracy``: share of samples classified as the requested `labels` (conditional models);
    - ``nn_samples`` / ``nn_test``: mean pixel distance to the nearest *training* digit, for the
      samples and for the reference digits; ``copy_share``: see `copy_share`.
    """
    _check_samples(samples)
    labels = None if labels is None else validate.labels("labels", labels, n=len(samples), n_classes=10)
    if not (classifier is None or isinstance(classifier, str) or hasattr(classifier, "features")):
        raise TypeError(f"classifier must be an instrument's name or a module like MNISTClassifier, got {classifier!r}")
    _classifier_name(classifier)  # an unknown instrument's name is refused there
    validate.one_of("reference", reference, REFERENCES)
    pixels = _pixel_distances(samples, reference)
    return {**_in_features(samples, labels, classifier, reference),
            **{k: pixels[k] for k in ("nn_samples", "nn_test", "copy_share")}}


@torch.no_grad()
def both_instruments(samples: torch.Tensor, *, labels: torch.Tensor | None = None, reference: str = "test") -> dict:
    """`mnist_quality` in "cnn-mnist"'s features, plus ``plain_fd_ratio`` / ``plain_is_ratio``
    (/ ``plain_label_accuracy``) measured in "cnn-mnist-plain"'s: the figures every gate checks."""
    report = mnist_quality(samples, labels=labels, reference=reference)  # checks its arguments
    labels = None if labels is None else validate.labels("labels", labels, n=len(samples), n_classes=10)
    plain = _in_features(samples, labels, "cnn-mnist-plain", reference)
    report.update({f"plain_{k}": plain[k] for k in ("fd_ratio", "is_ratio", "label_accuracy") if k in plain})
    return report


LABEL_SEEDS = range(5)  # a conditional model's label accuracy is judged on five sampling seeds (the minimum counts)


@torch.no_grad()
def classifier_accuracy(classifier, *, split: str = "test") -> float:
    """Share of the `split` digits a classifier gets right."""
    from genimg_edu.data import load_dataset

    if not callable(getattr(classifier, "predict_proba", None)):
        raise TypeError(f"classifier must have predict_proba (like MNISTClassifier), got {validate._type(classifier)}")
    x, y = load_dataset("mnist", split)
    return float((classifier.eval().predict_proba(x).argmax(1).cpu() == y).float().mean())


@torch.no_grad()
def neg_elbo(vae, x: torch.Tensor | None = None) -> float:
    """−ELBO in nats per image on the MNIST test digits (or on `x`), 10 posterior samples each, seed 0."""
    from genimg_edu.data import load_dataset

    x = load_dataset("mnist", "test")[0] if x is None else x
    return float(-vae.eval().elbo(x, samples=10, generator=torch.Generator().manual_seed(0)).mean())


def tracker(name: str, steps: int, *, samples: int = 1000, sample_steps: int | None = None) -> tuple[tuple, int]:
    """(callbacks, eval_every) for `fit`: recipe `name`'s quality on *val* while it trains — a GAN's
    weight-averaged generator on `samples` samples, a flow model's guided and unconditional samples on at most
    500 (each costs it 19–38 network passes) with its recipe's sampler (or `sample_steps` steps); others: none."""
    from genimg_edu import recipes

    recipe = recipes.get(name)
    validate.count("steps", steps, minimum=1)
    samples = validate.count("samples", samples, minimum=2 * K_DENSITY)
    sample_steps = sample_steps if sample_steps is None else validate.count("sample_steps", sample_steps, minimum=1)
    keys = ("is_ratio", "fd_ratio", "label_accuracy")
    if recipe.family == "gan":
        def track(step, k):
            x, labels = draw_samples(step.sampler.eval(), n=samples, conditional=bool(step.sampler.n_classes))
            report = mnist_quality(x, labels=labels, reference="val")
            return {key: round(report[key], 4) for key in keys if key in report}
    elif recipe.family == "flow" and recipe.sampling:
        def track(step, k):
            net, out = step.sampler.eval(), {}
            for tag, guided in (("guided", True), ("uncond", False)):
                x, labels = draw_samples(net, conditional=guided, n=min(500, samples),
                                         **dict(recipe.sampling, steps=sample_steps or recipe.sampling["steps"]))
                report = mnist_quality(x, labels=labels, reference="val")
                out.update({f"{tag}_{key}": round(report[key], 4) for key in keys if key in report})
            return out
    else:
        return (), 500
    return (track,), min(recipe.every, steps)


@torch.no_grad()
def evaluate(name: str, model: torch.nn.Module, *, n: int = 1000, sample_steps: int | None = None) -> dict:
    """The figures a shipped checkpoint's manifest records, measured on the *test* split: a classifier's
    accuracy; a VAE's −ELBO; a generator's figures in both instruments (`both_instruments`), with a
    conditional model's label accuracy over `LABEL_SEEDS` and a flow model's near-copies over them."""
    from genimg_edu import recipes
    from genimg_edu.data import load_dataset

    recipe = recipes.get(name)
    n = validate.count("n", n, minimum=2 * K_DENSITY)
    sample_steps = sample_steps if sample_steps is None else validate.count("sample_steps", sample_steps, minimum=1)
    model.eval()
    if recipe.family == "classifier":
        return {"test_accuracy": round(classifier_accuracy(model), 4)}
    if recipe.family == "vae":
        x = load_dataset("shapes", "test", n=1000)[0] if recipe.data == "shapes" else None
        return {"test_neg_elbo_nats": round(neg_elbo(model, x), 2)}
    if recipe.family == "gan":
        samples, labels = draw_samples(model, n=n, conditional=bool(model.n_classes))
        report = {k: round(v, 4) for k, v in both_instruments(samples, labels=labels).items()}
        if model.n_classes:
            report["label_accuracy_seeds"] = [
                round(mnist_quality(s, labels=y)["label_accuracy"], 4)
                for s, y in (draw_samples(model, n=n, seed=seed, conditional=True) for seed in LABEL_SEEDS)]
        return report
    sampling = dict(recipe.sampling, **({"steps": sample_steps} if sample_steps else {}))
    report, guided = {}, []
    for tag, seed in [("uncond", 1234)] + [("guided", s) for s in (1234, *LABEL_SEEDS[1:])]:
        samples, labels = draw_samples(model, n=n, conditional=tag == "guided", seed=seed, **sampling)
        if seed == 1234:  # the main figures, in both instruments
            report.update({f"{tag}_{k}": round(v, 4) for k, v in both_instruments(samples, labels=labels).items()})
        if tag == "guided":
            guided.append(samples)
            report.setdefault("guided_label_accuracy_seeds", []).append(
                round(mnist_quality(samples, labels=labels)["label_accuracy"], 4))
    report[f"guided_copy_share_{5 * n}"] = round(copy_share(torch.cat(guided))[0], 4)  # the five seeds' samples
    start = time.perf_counter()
    draw_samples(model, conditional=True, n=64, **sampling)
    report["sample64_seconds"] = round(time.perf_counter() - start, 2)
    return report
