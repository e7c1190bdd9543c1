"""Measuring generated images: each metric written out to teach, and validated by tests.

Features come from a *domain classifier* — by default the course's pretrained MNIST CNN
(`pretrained.load("cnn-mnist")`) — so "Fréchet distance" here is the MNIST analogue of FID (which uses ImageNet
Inception features). The course's protocol — which classifier, which split, which reference — lives apart, in
`genimg_edu.evaluation`; this module holds the metrics only.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.distance import cdist

from genimg_edu import validate


def _as_numpy(a, name: str = "features") -> np.ndarray:
    """Features or probabilities (N, D) as float64, checked: 2-D and finite."""
    try:
        a = a.detach().cpu().double().numpy() if isinstance(a, torch.Tensor) else np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array or tensor of numbers (N, D), got {type(a).__name__}") from None
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (N, D), got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, got NaN or inf")
    return a


def _pair(a, b, names=("real_feats", "fake_feats")) -> tuple[np.ndarray, np.ndarray]:
    """Two feature sets (N, D) and (M, D) of one dimension D."""
    a, b = _as_numpy(a, names[0]), _as_numpy(b, names[1])
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{names[0]} and {names[1]}: feature dimensions differ: {a.shape[1]} vs {b.shape[1]}")
    return a, b


def _probs(probs) -> np.ndarray:
    """Class probabilities (N, K), K >= 2: each row in [0, 1] and summing to 1."""
    p = _as_numpy(probs, "probs")
    if p.shape[0] < 1 or p.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) with N >= 1 images and K >= 2 classes, got shape {p.shape}")
    sums = p.sum(1)
    if p.min() < -1e-6 or p.max() > 1 + 1e-6 or np.abs(sums - 1).max() > 1e-3:
        raise ValueError(f"probs must be probabilities (rows in [0, 1] summing to 1), got values from {p.min():.3g} "
                         f"to {p.max():.3g} and row sums from {sums.min():.3g} to {sums.max():.3g}; "
                         "were they logits? use logits.softmax(1)")
    return p


def frechet_distance(feats_a, feats_b) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (N, D) (Heusel et al. 2017):

    ``d² = ‖μ_a − μ_b‖² + Tr(Σ_a + Σ_b − 2 (Σ_a Σ_b)^{1/2})``.

    ``Σ_a Σ_b`` is not symmetric, and a general matrix square root of it is
    fragile when features are correlated or some are constant (dead ReLUs). We
    use ``Tr((Σ_a Σ_b)^{1/2}) = Tr((Σ_a^{1/2} Σ_b Σ_a^{1/2})^{1/2})``: the inner
    matrix is symmetric positive semi-definite, so its square-root trace is the
    sum of the square roots of its (clipped) eigenvalues.
    """
    a, b = _pair(feats_a, feats_b, ("feats_a", "feats_b"))
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 samples per set, got {len(a)} and {len(b)}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root_a = _psd_sqrt(cov_a)
    tr_covmean = np.sqrt(np.linalg.eigvalsh(root_a @ cov_b @ root_a).clip(min=0)).sum()
    return float(max(0.0, ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * tr_covmean))


def _psd_sqrt(cov: np.ndarray) -> np.ndarray:
    """Symmetric square root of a positive semi-definite matrix, by eigendecomposition."""
    w, v = np.linalg.eigh(cov)
    return (v * np.sqrt(w.clip(min=0))) @ v.T


def inception_score(probs) -> float:
    """Classifier Inception Score ``exp(E_x[KL(p(y|x) ‖ p(y))])`` from class probabilities (N, K).

    High when each image is classified confidently (sharp p(y|x)) *and* the
    classes are balanced (flat p(y)); at most K. With an MNIST classifier it
    is the course's stand-in for Salimans et al. (2016)'s Inception Score.
    """
    p = _probs(probs).clip(1e-12, 1)
    p_y = p.mean(0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(p_y))).sum(1).mean()))


def _classifier(classifier=None):
    """The metrics' feature extractor in eval mode: `classifier`, or the pretrained "cnn-mnist" by default."""
    if classifier is None:
        from genimg_edu import pretrained

        classifier = pretrained.load("cnn-mnist")
    return classifier.eval()


def _batches(classifier, images, batch_size):
    """The door of the classifier's metrics: (the classifier in eval mode, `images` — (N, C, H, W) in [0, 1] with the
    classifier's channels — cut into batches on its device)."""
    classifier = _classifier(classifier)
    validate.images("images", images, value_range=(0, 1))
    validate.count("batch_size", batch_size, minimum=1)
    if not len(images):
        raise ValueError("images must hold at least one image, got 0")
    first = next((m for m in classifier.modules() if isinstance(m, torch.nn.Conv2d)), None)
    if first is not None and images.shape[1] != first.in_channels:
        raise ValueError(f"images must have {first.in_channels} channel(s) for this classifier, "
                         f"got shape {tuple(images.shape)}")
    dev = next(classifier.parameters()).device
    return classifier, (b.to(dev) for b in images.split(batch_size))


@torch.no_grad()
def classifier_outputs(images: torch.Tensor, classifier=None, *, batch_size: int = 500):
    """(features (N, D), probabilities (N, K)) of images (N, 1, 28, 28) in [0, 1] under `classifier`.

    `classifier` defaults to the pretrained "cnn-mnist"; any module with
    ``features(x)`` and ``out(features)`` works.
    """
    classifier, batches = _batches(classifier, images, batch_size)
    feats = [classifier.features(b) for b in batches]
    return torch.cat([f.cpu() for f in feats]), torch.cat([classifier.out(f).softmax(1).cpu() for f in feats])


@torch.no_grad()
def conv_features(images: torch.Tensor, classifier=None, *, batch_size: int = 500) -> torch.Tensor:
    """The classifier's convolutional features, averaged over positions: (N, C) for images (N, 1, 28, 28).

    The features for the k-nearest-neighbour metrics (`precision_recall`, `density_coverage`). The last hidden
    layer was *trained* to ignore blur, noise and stroke contrast, and damaged digits shrink towards the dense
    centre of the real features, inside the wide k-NN balls there, so precision cannot see the damage. The
    convolutional layers still respond to strokes' texture, which is what "does this look like a real digit?"
    needs — the same reason Kynkäänniemi et al. (2019) measure in VGG-16 rather than Inception features.
    """
    classifier, batches = _batches(classifier, images, batch_size)
    return torch.cat([classifier.body(b).mean((2, 3)).cpu() for b in batches])  # (B, C, 7, 7) → (B, C)


@torch.no_grad()
def classifier_views(images: torch.Tensor, classifier=None, *, batch_size: int = 500):
    """(features, probabilities, convolutional features): `classifier_outputs` and `conv_features` of the same
    images from one pass through the convolutions, most of the classifier's cost (its `body`, then its `head`)."""
    if not hasattr(_classifier(classifier), "head"):  # features(x) is not head(body(x)): the two passes
        return (*classifier_outputs(images, classifier, batch_size=batch_size),
                conv_features(images, classifier, batch_size=batch_size))
    classifier, batches = _batches(classifier, images, batch_size)
    views = []
    for b in batches:
        maps = classifier.body(b)  # (B, C, 7, 7)
        f = classifier.head(maps)
        views.append((f.cpu(), classifier.out(f).softmax(1).cpu(), maps.mean((2, 3)).cpu()))
    return tuple(torch.cat(v) for v in zip(*views))


def nearest_distances(queries: torch.Tensor, reference: torch.Tensor, *, batch_size: int = 500) -> torch.Tensor:
    """Euclidean distance from each query (N, ...) to its nearest reference (M, ...), in pixel space: (N,)."""
    _same_items(queries=queries, reference=reference)
    validate.count("batch_size", batch_size, minimum=1)
    ref = reference.flatten(1).float()
    return torch.cat([torch.cdist(q.flatten(1).float(), ref).min(1).values
                      for q in queries.split(batch_size)])


def memorisation_ratios(samples: torch.Tensor, train: torch.Tensor, *, n: int = 50, alpha: float = 0.5,
                        batch_size: int = 500):
    """Carlini et al. (2023)'s per-sample test for a copied training image, in pixel space.

    For each sample x̂: ``ℓ2(x̂, x₁) / (α · mean ℓ2(x̂, S))`` with x₁ its nearest training image and S its
    `n` nearest (x₁ included). A sample far nearer to one training image than to the others scores near
    0; a sample that merely looks like the data scores near 1/α. Carlini et al. call a sample extracted
    below 1/3 (CIFAR-10, n = 50, α = 0.5). Returns (ratios (N,), index of x₁ (N,)); `batch_size` samples at a
    time, so that no distance matrix holds more than batch_size × M entries.
    """
    _same_items(samples=samples, train=train)
    validate.number("alpha", alpha, low=0, low_inclusive=False)
    if not 1 <= validate.count("n", n, minimum=1) <= len(train):
        raise ValueError(f"n must be between 1 and the {len(train)} training images, got {n}")
    ref = train.flatten(1).float()
    near = [torch.cdist(q.flatten(1).float(), ref).topk(n, largest=False)
            for q in samples.split(validate.count("batch_size", batch_size, minimum=1))]
    d, index = torch.cat([k.values for k in near]), torch.cat([k.indices for k in near])  # sorted, nearest first
    return d[:, 0] / (alpha * d.mean(1)), index[:, 0]


def mode_coverage(points: torch.Tensor, centres: torch.Tensor, *, std: float, min_share: float = 0.01):
    """Mode collapse, measured on toy data whose modes are known (Srivastava et al. 2017's VEEGAN protocol).

    A sample is *high quality* if it lies within 3·std of its nearest centre; a mode is *covered* if at least
    `min_share` of the samples are high-quality samples of that mode. Returns ``(modes covered, fraction of
    high-quality samples)``.
    """
    _same_items(points=points, centres=centres)
    validate.number("std", std, low=0, low_inclusive=False)
    validate.number("min_share", min_share, low=0, high=1)
    dist, nearest = torch.cdist(points.float().cpu(), centres.float()).min(1)  # each point's nearest of the modes
    good = dist < 3 * std
    counts = torch.bincount(nearest[good], minlength=len(centres))
    return int((counts >= min_share * len(points)).sum()), float(good.float().mean())


def kid(feats_a, feats_b, *, subsets: int = 20, subset_size: int = 500, seed: int = 0) -> tuple[float, float]:
    """Kernel Inception Distance (Bińkowski et al. 2018): unbiased squared MMD with the cubic kernel
    ``k(x, y) = (xᵀy / D + 1)³``, averaged over random subsets. Returns ``(mean, std over subsets)``.

    Unlike the Fréchet distance, each subset's estimate is unbiased — its
    expectation does not depend on the sample size — so KID compares fairly
    between small and large sample sets, and is ≈ 0 for two samples of one distribution.
    """
    a, b = _pair(feats_a, feats_b, ("feats_a", "feats_b"))
    subsets, seed = validate.count("subsets", subsets, minimum=1), validate.count("seed", seed)
    m = min(validate.count("subset_size", subset_size, minimum=2), len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 samples per set, got {len(a)} and {len(b)}")
    rng = np.random.default_rng(seed)
    estimates = []
    for _ in range(subsets):
        x, y = a[rng.choice(len(a), m, replace=False)], b[rng.choice(len(b), m, replace=False)]
        k_xx, k_yy, k_xy = ((u @ v.T / a.shape[1] + 1) ** 3 for u, v in ((x, x), (y, y), (x, y)))
        # unbiased: leave out the diagonal k(x_i, x_i) of the within-set terms
        mmd = ((k_xx.sum() - np.trace(k_xx)) + (k_yy.sum() - np.trace(k_yy))) / (m * (m - 1)) - 2 * k_xy.mean()
        estimates.append(mmd)
    return float(np.mean(estimates)), float(np.std(estimates))


def _kth_neighbour_radii(feats: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point (N,)."""
    if not 1 <= validate.count("k", k, minimum=1) < len(feats):
        raise ValueError(f"k must be between 1 and N − 1 = {len(feats) - 1}, got {k}")
    return np.sort(cdist(feats, feats), axis=1)[:, k]  # column 0 is the point itself


def precision_recall(real_feats, fake_feats, *, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-nearest-neighbour manifolds.

    Each set's manifold is the union of balls around its points reaching their k-th nearest neighbour.
    **Precision**: share of fake samples inside the real manifold (are samples realistic?). **Recall**: share of
    real samples inside the fake manifold (is every kind of real image produced?).
    """
    real, fake = _pair(real_feats, fake_feats)
    r_real, r_fake = _kth_neighbour_radii(real, k), _kth_neighbour_radii(fake, k)
    d = cdist(fake, real)  # (N_fake, N_real)
    return float((d <= r_real[None, :]).any(1).mean()), float((d.T <= r_fake[None, :]).any(1).mean())


def density_coverage(real_feats, fake_feats, *, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020), k-NN balls around *real* samples only.

    **Density**: how many real balls contain each fake sample, ÷ k, averaged (≈ 1 when fakes follow the real
    density; > 1 when they crowd dense regions). **Coverage**: share of real samples whose ball contains at least
    one fake. Both are robust to the outliers that inflate precision and recall.
    """
    real, fake = _pair(real_feats, fake_feats)
    radii = _kth_neighbour_radii(real, k)
    inside = cdist(fake, real) <= radii[None, :]  # (N_fake, N_real)
    return float(inside.sum() / (k * len(fake))), float(inside.any(0).mean())


@torch.no_grad()
def active_units(vae, x: torch.Tensor, *, threshold: float = 0.01, batch_size: int = 500) -> tuple[int, torch.Tensor]:
    """Latent dimensions a VAE actually uses (Burda et al. 2016, §5.2): ``A_u = Cov_x(E_q[z_u | x]) > threshold``.

    A dimension whose posterior mean does not change with the input carries no information about x — the KL
    term has pushed it onto the prior. When (almost) all are inactive, the model has suffered *posterior collapse*.
    Returns (number active, the variance of each dimension's posterior mean (z_dim,)).
    """
    validate.images("x", x, shape=getattr(vae, "image_shape", None), value_range=(0, 1))
    validate.number("threshold", threshold, low=0)
    validate.count("batch_size", batch_size, minimum=1)
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 images for a variance, got {len(x)}")
    vae.eval()
    dev = next(vae.parameters()).device
    mu = torch.cat([vae.encode(b.to(dev))[0].cpu() for b in x.split(batch_size)])  # (N, z_dim)
    var = mu.var(0)
    return int((var > threshold).sum()), var


def class_coverage(probs, *, threshold: float = 0.0) -> tuple[int, float]:
    """Classes produced and how evenly: ``(classes predicted at least once, normalised entropy of the
    predicted-class histogram in [0, 1])`` for class probabilities (N, K)."""
    p, threshold = _probs(probs), validate.number("threshold", threshold, low=0)
    counts = np.bincount(p.argmax(1), minlength=p.shape[1]).astype(float)
    share = counts / counts.sum()
    entropy = -(share[share > 0] * np.log(share[share > 0])).sum() / np.log(p.shape[1])
    return int((counts > threshold).sum()), float(entropy)


def _same_items(**tensors) -> None:
    """Tensors whose items (everything after the first axis) have one shape, so distances between them exist."""
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor (N, ...), got {type(t).__name__}")
        if t.ndim < 2 or not len(t):
            raise ValueError(f"{name} must be a tensor (N, ...) of N >= 1 items, got shape {tuple(t.shape)}")
    shapes = {name: tuple(t.shape) for name, t in tensors.items()}
    if len({s[1:] for s in shapes.values()}) > 1:
        got = " and ".join(map(str, shapes.values()))
        raise ValueError(f"{' and '.join(shapes)} must hold items of one shape, got {got}")
