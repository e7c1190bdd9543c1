"""Exercises for notebook 06 (evaluation): the Inception Score, the Fréchet distance and KID's unbiased MMD,
each from class probabilities or features. References: `metrics.inception_score`, `frechet_distance`, `kid`."""
import numpy as np

from .. import metrics
from .core import Exercise, Mistake, register

_r = np.random.default_rng(0)
_PROBS = [_r.dirichlet(np.full(10, 0.3), 50), _r.dirichlet(np.full(4, 2.0), 20)]
_A = [_r.normal(size=(40, 3)), _r.normal(size=(25, 5))]
_B = [_r.normal(size=(30, 3)) @ np.array([[1.5, 0.3, 0], [0, 0.7, 0.2], [0, 0, 1.1]]) + [0.5, -1, 0],
      _r.normal(size=(25, 5)) * 1.3 + 0.2]


def _is_wrong(kind):
    def wrong(probs):
        p_y = probs.mean(0, keepdims=True)
        if kind == "reverse":
            return float(np.exp((p_y * (np.log(p_y) - np.log(probs))).sum(1).mean()))
        kl = (probs * (np.log(probs) - np.log(p_y))).sum(1)
        return float(kl.mean()) if kind == "no-exp" else float(np.exp(kl).mean())
    return wrong


check_inception_score = register(Exercise(
    name="inception_score", title="Exercise 6.1 · the Inception Score from class probabilities",
    reference=metrics.inception_score,
    trial=lambda answer: [float(answer(p.copy())) for p in _PROBS],
    describe=lambda i: f"probabilities of shape {_PROBS[i].shape}",
    hints=["p(y) is the mean of p(y|x) over the images; each image contributes KL(p(y|x) ‖ p(y)).",
           "KL(p ‖ q) = Σ_y p(y) (log p(y) − log q(y)); average it over images, then take exp."],
    mistakes={
        "no-exp": Mistake(_is_wrong("no-exp"), "that is the mean KL; the score is its exponential (so it runs from "
                                               "1 to the number of classes)."),
        "reverse": Mistake(_is_wrong("reverse"), "the KL runs the other way: KL(p(y|x) ‖ p(y)), each image's "
                                                 "prediction first."),
        "mean-of-exp": Mistake(_is_wrong("mean-of-exp"), "exp and mean are swapped: average the KL over images "
                                                         "first, then take exp."),
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


def _mmd_wrong(kind):
    def wrong(a, b):
        d, m = a.shape[1], len(a)
        k = (lambda u, v: u @ v.T / d + 1) if kind == "linear" else \
            (lambda u, v: (u @ v.T + 1) ** 3) if kind == "no-scale" else (lambda u, v: (u @ v.T / d + 1) ** 3)
        k_aa, k_bb, k_ab = k(a, a), k(b, b), k(a, b)
        if kind == "biased":
            return float(k_aa.mean() + k_bb.mean() - 2 * k_ab.mean())
        if kind == "zeroed-diagonal":  # the diagonal set to 0, but still divided by m², not m(m − 1)
            return float(k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / m ** 2 - 2 * k_ab.mean()
        if kind == "cross-diagonal":  # Gretton et al.'s MMD²_u: unbiased too, but not KID's estimate
            within = (k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1))
            return float(within - 2 * (k_ab.sum() - np.trace(k_ab)) / (m * (m - 1)))
        return float((k_aa.sum() - np.trace(k_aa) + k_bb.sum() - np.trace(k_bb)) / (m * (m - 1)) - 2 * k_ab.mean())
    return wrong


check_mmd_unbiased = register(Exercise(
    name="mmd_unbiased", title="Exercise 6.3 · KID's unbiased MMD estimate",
    reference=lambda a, b: metrics.kid(a, b, subsets=1, subset_size=len(a))[0],  # one subset: all of the set
    trial=lambda answer: [float(answer(a.copy(), b.copy())) for a, b in zip(_A[1:], _B[1:])]
    + [float(answer(_A[0][:30].copy(), _B[0].copy()))],
    describe=lambda i: "two feature sets of 25 × 5" if i == 0 else "two feature sets of 30 × 3",
    hints=["the kernel is k(x, y) = (xᵀy / D + 1)³ with D the feature dimension; the matrices are a @ b.T.",
           "MMD² = mean k(a, a′) + mean k(b, b′) − 2 mean k(a, b), where the within-set means leave out the "
           "diagonal (a sample compared with itself): (sum − trace) / (m (m − 1))."],
    mistakes={
        "biased": Mistake(_mmd_wrong("biased"), "the within-set means include each sample compared with itself (the "
                                                "diagonal), which biases the estimate upwards — leave the diagonal "
                                                "out."),
        "zeroed-diagonal": Mistake(_mmd_wrong("zeroed-diagonal"),
                                   "the self-pairs are left out but the mean still divides by m²: there are only "
                                   "m(m − 1) pairs left in each within-set sum."),
        "cross-diagonal": Mistake(_mmd_wrong("cross-diagonal"),
                                  "the cross term also left out its diagonal: that is Gretton et al.'s MMD²_u, unbiased "
                                  "as well, but KID (and metrics.kid) averages all m² cross pairs: k_ab.mean()."),
        "linear": Mistake(_mmd_wrong("linear"), "the kernel is cubic: (xᵀy / D + 1)³ — a linear kernel only "
                                                "compares the means."),
        "no-scale": Mistake(_mmd_wrong("no-scale"), "divide xᵀy by the feature dimension D before adding 1 and "
                                                    "cubing."),
    }))
