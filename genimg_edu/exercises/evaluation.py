"""Exercises for notebook 06 (evaluation): the Inception Score over splits, the Fréchet distance and KID's unbiased
MMD, each from class probabilities or features. References: `metrics.inception_score`, `frechet_distance`, `kid`."""
import numpy as np

from .. import metrics
from .core import Exercise, Mistake, pair, register

_r = np.random.default_rng(0)
_PROBS = [_r.dirichlet(np.full(10, 0.3), 50), _r.dirichlet(np.full(4, 2.0), 20)]
_A = [_r.normal(size=(40, 3)), _r.normal(size=(25, 5))]
_B = [_r.normal(size=(30, 3)) @ np.array([[1.5, 0.3, 0], [0, 0.7, 0.2], [0, 0, 1.1]]) + [0.5, -1, 0],
      _r.normal(size=(25, 5)) * 1.3 + 0.2]


_SPLITS = [5, 2]


def _is_reference(probs, splits=10):
    """The Inception Score as Salimans et al. report it: its mean and standard deviation over `splits` parts."""
    scores = [metrics.inception_score(part) for part in np.array_split(probs, splits)]
    return float(np.mean(scores)), float(np.std(scores))


def _is_trial(answer):
    out = []
    for p, splits in zip(_PROBS, _SPLITS):
        out += map(float, pair(answer(p.copy(), splits), "(mean, standard deviation)"))
    return out


def _is_wrong(kind):
    def one(part, p_y):
        if kind == "reverse":
            return float(np.exp((p_y * (np.log(p_y) - np.log(part))).sum(1).mean()))
        kl = (part * (np.log(part) - np.log(p_y))).sum(1)
        return float(kl.mean()) if kind == "no-exp" else float(np.exp(kl).mean()) if kind == "mean-of-exp" \
            else float(np.exp(kl.mean()))

    def wrong(probs, splits=10):
        if kind == "no-splits":
            return one(probs, probs.mean(0, keepdims=True)), 0.0
        parts = np.array_split(probs, splits)
        scores = [one(part, (probs if kind == "global-marginal" else part).mean(0, keepdims=True)) for part in parts]
        return float(np.mean(scores)), float(np.std(scores))
    return wrong


check_inception_score = register(Exercise(
    name="inception_score", title="Exercise 6.1 · the Inception Score over splits, mean and spread",
    reference=_is_reference,
    trial=_is_trial,
    describe=lambda i: (f"the {'mean' if i % 2 == 0 else 'standard deviation'} for probabilities of shape "
                        f"{_PROBS[i // 2].shape} in {_SPLITS[i // 2]} splits"),
    start="Cut the rows into `splits` consecutive parts; for each part compute the score from its own class shares; "
          "then summarise the parts' scores — hint('inception_score') if you are stuck.",
    hints=["within one part: p(y) is the mean of that part's rows; each image contributes KL(p(y|x) ‖ p(y)); the "
           "part's score is exp of the mean KL.",
           "KL(p ‖ q) = Σ_y p(y) (log p(y) − log q(y)): with numpy, (part * (np.log(part) − np.log(p_y))).sum(axis=1).",
           "np.array_split(probs, splits) gives the parts (as equal as possible); return (np.mean(scores), "
           "np.std(scores)) as two floats."],
    mistakes={
        "no-exp": Mistake(_is_wrong("no-exp"), "that is the mean KL; each part's score is its exponential (so it "
                                               "runs from 1 to the number of classes)."),
        "reverse": Mistake(_is_wrong("reverse"), "the KL runs the other way: KL(p(y|x) ‖ p(y)), each image's "
                                                 "prediction first."),
        "mean-of-exp": Mistake(_is_wrong("mean-of-exp"), "exp and mean are swapped: average the KL over a part's "
                                                         "images first, then take exp."),
        "no-splits": Mistake(_is_wrong("no-splits"), "that is the score of the whole set, with no spread: cut the "
                                                     "rows into `splits` parts and score each one."),
        "global-marginal": Mistake(_is_wrong("global-marginal"),
                                   "each part's p(y) must be that part's own mean row: with the whole set's, a part "
                                   "that holds only a few classes looks more diverse than it is."),
    }))


def _fd_trial(answer):
    out = []
    for a, b in zip(_A, _B):
        d = answer(a.copy(), b.copy())
        if np.iscomplexobj(d):
            raise ValueError("it returned a complex number — scipy.linalg.sqrtm can leave tiny imaginary parts; "
                             "keep the .real part")
        out.append(float(d))
    return out


def _fd_wrong(kind):
    def wrong(a, b):
        from scipy import linalg
        mu_a, mu_b = a.mean(0), b.mean(0)
        bias = kind == "biased-cov"
        ca, cb = np.cov(a, rowvar=False, bias=bias), np.cov(b, rowvar=False, bias=bias)
        if kind == "diagonal":
            ca, cb = np.diag(a.var(0, ddof=1)), np.diag(b.var(0, ddof=1))
        mean_term = np.linalg.norm(mu_a - mu_b) if kind == "no-square" else ((mu_a - mu_b) ** 2).sum()
        cross = linalg.sqrtm(ca @ cb).real
        return float(mean_term + np.trace(ca + cb - (1 if kind == "no-two" else 2) * cross))
    return wrong


check_frechet_distance = register(Exercise(
    name="frechet_distance", title="Exercise 6.2 · the Fréchet distance from two feature sets",
    reference=metrics.frechet_distance,
    trial=_fd_trial,
    describe=lambda i: f"features of shapes {_A[i].shape} and {_B[i].shape}",
    hints=["fit a Gaussian to each set: the mean over rows (axis 0) and the covariance np.cov(a, rowvar=False).",
           "d² = ‖μ_a − μ_b‖² + Tr(Σ_a) + Tr(Σ_b) − 2 Tr((Σ_a Σ_b)^½).",
           "section 2's stable trace: Tr((Σ_a Σ_b)^½) = Σ √λ over the eigenvalues λ of Σ_a^½ Σ_b Σ_a^½ "
           "(np.linalg.eigh for Σ_a^½, np.linalg.eigvalsh for the λ, clipped at 0). scipy.linalg.sqrtm(Σ_a Σ_b).real "
           "gives the same here, on small well-conditioned sets."],
    mistakes={
        "no-square": Mistake(_fd_wrong("no-square"), "the mean term is the *squared* distance ‖μ_a − μ_b‖²."),
        "no-two": Mistake(_fd_wrong("no-two"), "the cross term is 2·(Σ_a Σ_b)^½ — with the 2, a set's distance to "
                                               "itself is 0."),
        "biased-cov": Mistake(_fd_wrong("biased-cov"), "np.cov(..., bias=True) divides by N; the course (like "
                                                       "every FID implementation) divides by N − 1, np.cov's "
                                                       "default."),
        "diagonal": Mistake(_fd_wrong("diagonal"), "only the variances were used: the covariance matrix also "
                                                   "holds how features vary together — np.cov(a, rowvar=False)."),
    }))


_KID_OPTIONS = [dict(subsets=4, subset_size=12, seed=0), dict(subsets=3, subset_size=25, seed=5)]


def _kid_trial(answer):
    out = []
    for a, b, options in zip(_A, _B, _KID_OPTIONS):
        out += map(float, pair(answer(a.copy(), b.copy(), **options), "(mean, standard deviation)"))
    return out


def _kid_wrong(kind):
    def wrong(a, b, subsets=20, subset_size=500, seed=0):
        d, m = a.shape[1], min(subset_size, len(a), len(b))
        k = (lambda u, v: u @ v.T / d + 1) if kind == "linear" else \
            (lambda u, v: (u @ v.T + 1) ** 3) if kind == "no-scale" else (lambda u, v: (u @ v.T / d + 1) ** 3)
        rng, estimates = np.random.default_rng(seed), []
        for _ in range(1 if kind == "one-subset" else subsets):
            if kind == "one-subset":
                x, y, m = a, b[:len(a)], min(len(a), len(b))
            else:
                replace = kind == "with-replacement"
                x, y = a[rng.choice(len(a), m, replace=replace)], b[rng.choice(len(b), m, replace=replace)]
            k_xx, k_yy, k_xy = k(x, x), k(y, y), k(x, y)
            within = k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)
            if kind == "biased":
                estimates.append(k_xx.mean() + k_yy.mean() - 2 * k_xy.mean())
            elif kind == "zeroed-diagonal":  # the diagonal left out, but still divided by m², not m(m − 1)
                estimates.append(within / m ** 2 - 2 * k_xy.mean())
            elif kind == "cross-diagonal":  # Gretton et al.'s MMD²_u: unbiased too, but not KID's estimate
                estimates.append((within - 2 * (k_xy.sum() - np.trace(k_xy))) / (m * (m - 1)))
            else:
                estimates.append(within / (m * (m - 1)) - 2 * k_xy.mean())
        return float(np.mean(estimates)), float(np.std(estimates))
    return wrong


check_kernel_inception_distance = register(Exercise(
    name="kernel_inception_distance", title="Exercise 6.3 · KID: unbiased MMD over random subsets",
    reference=lambda a, b, **options: metrics.kid(a, b, **options),
    trial=_kid_trial,
    describe=lambda i: (f"the {'mean' if i % 2 == 0 else 'standard deviation'} for feature sets of shapes "
                        f"{_A[i // 2].shape} and {_B[i // 2].shape} with {_KID_OPTIONS[i // 2]}"),
    start="Draw the subsets as the text says, compute one unbiased estimate per subset with the cubic kernel, then "
          "summarise them — hint('kernel_inception_distance') if you are stuck.",
    hints=["the kernel is k(x, y) = (xᵀy / D + 1)³ with D the feature dimension; for two subsets x and y the three "
           "kernel matrices are (x @ x.T / D + 1) ** 3 and likewise.",
           "MMD² = mean k(x, x′) + mean k(y, y′) − 2 mean k(x, y), where the within-set means leave out the "
           "diagonal (a sample compared with itself): (sum − trace) / (m (m − 1)); the cross mean takes all m² pairs.",
           "rng = np.random.default_rng(seed); for each subset, first x = a[rng.choice(len(a), m, replace=False)], "
           "then y likewise from b, with m = min(subset_size, len(a), len(b)); return (np.mean, np.std) of the "
           "estimates as two floats."],
    mistakes={
        "biased": Mistake(_kid_wrong("biased"), "the within-set means include each sample compared with itself (the "
                                                "diagonal), which biases the estimate upwards — leave the diagonal "
                                                "out."),
        "zeroed-diagonal": Mistake(_kid_wrong("zeroed-diagonal"),
                                   "the self-pairs are left out but the mean still divides by m²: there are only "
                                   "m(m − 1) pairs left in each within-set sum."),
        "cross-diagonal": Mistake(_kid_wrong("cross-diagonal"),
                                  "the cross term also left out its diagonal: that is Gretton et al.'s MMD²_u, unbiased "
                                  "as well, but KID (and metrics.kid) averages all m² cross pairs: k_xy.mean()."),
        "linear": Mistake(_kid_wrong("linear"), "the kernel is cubic: (xᵀy / D + 1)³ — a linear kernel only "
                                                "compares the means."),
        "no-scale": Mistake(_kid_wrong("no-scale"), "divide xᵀy by the feature dimension D before adding 1 and "
                                                    "cubing."),
        "one-subset": Mistake(_kid_wrong("one-subset"), "that is one estimate on the whole sets, with no spread: "
                                                        "draw `subsets` random subsets of `subset_size` and average "
                                                        "their estimates."),
        "with-replacement": Mistake(_kid_wrong("with-replacement"),
                                    "the subsets were drawn with replacement: a sample drawn twice is compared with "
                                    "itself off the diagonal, which biases the estimate — replace=False."),
    }))
