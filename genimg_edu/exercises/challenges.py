"""Exercises for notebook 08 (challenges): SeFa's directions from a generator's first layer, the false-alarm
rate of an 8-bit watermark (a prediction), and Carlini et al.'s memorisation ratio. References:
`models.gan.sefa_directions`, `metrics.memorisation_ratios`."""
import torch

from .. import metrics
from ..models.gan import sefa_directions as _sefa
from .core import Exercise, Mistake, register, seeded

_W = [torch.randn(30, 6, generator=seeded(0)) * torch.linspace(0.5, 2, 6), torch.randn(50, 8, generator=seeded(1))]
_K = [2, 3]


def _projection(v):
    """Each row's projector v_i v_iᵀ, in order (k, z_dim, z_dim): SeFa's directions have no preferred sign,
    but their order does matter (the first slider is the strongest direction)."""
    v = torch.as_tensor(v).double()
    return v[:, :, None] * v[:, None, :] if v.dim() == 2 else v  # another shape: reported as such


def _sefa_wrong(kind):
    def wrong(weight, k):
        values, vectors = torch.linalg.eigh(weight.double().T @ weight.double())
        if kind == "smallest":
            return vectors[:, :k].T
        if kind == "ascending":
            return vectors[:, -k:].T  # the top k, but the smallest of them first
        if kind == "rows":
            return vectors[-k:].flip(0)  # rows of the eigenvector matrix, not its columns
        if kind == "scaled":
            return (vectors[:, -k:] * values[-k:]).flip(1).T
        _, _, vh = torch.linalg.svd(weight.double().T, full_matrices=False)  # kind == "left": U of weight
        return vh[:k]
    return wrong


check_sefa_directions = register(Exercise(
    name="sefa_directions", title="Exercise 8.1 · SeFa's directions from a first layer's weight",
    reference=_sefa,
    trial=lambda answer: [_projection(answer(w.clone(), k)) for w, k in zip(_W, _K)],
    describe=lambda i: f"a weight of shape {tuple(_W[i].shape)} and k = {_K[i]} (each direction's projector "
                       "v vᵀ, in your order: compared up to each direction's sign)",
    start="section 3's derivation says which unit vectors make ‖A n‖ largest; write that with torch.linalg — "
          "hint('sefa_directions') if you are stuck.",
    hints=["‖A n‖² = nᵀ (AᵀA) n: the unit vectors that maximise it are eigenvectors of AᵀA, the largest "
           "eigenvalues first.",
           "torch.linalg.eigh(A.T @ A) returns (eigenvalues ascending, eigenvectors as *columns*): take the last k "
           "columns, largest first, and return them as rows (k, z_dim)."],
    mistakes={
        "smallest": Mistake(_sefa_wrong("smallest"), "those are the directions that change the layer *least*: eigh "
                                                     "sorts eigenvalues in ascending order, so the largest are last."),
        "ascending": Mistake(_sefa_wrong("ascending"), "the right k directions in the wrong order: eigh sorts "
                                                       "ascending, so vectors[:, -k:] ends with the largest — put "
                                                       "it first (flip), as the first slider is the strongest."),
        "rows": Mistake(_sefa_wrong("rows"), "eigh returns the eigenvectors as the *columns* of its matrix; you took "
                                             "rows. Take vectors[:, -k:] and transpose."),
        "scaled": Mistake(_sefa_wrong("scaled"), "directions are unit vectors: do not multiply them by their "
                                                 "eigenvalues (the step size is the slider's job)."),
        "left": Mistake(_sefa_wrong("left"), "those are directions in the layer's *output* space (weight's left "
                                             "singular vectors); SeFa's live in z-space: eigenvectors of AᵀA, "
                                             "or the right singular vectors."),
    }))

check_false_alarm_rate = register(Exercise(
    name="false_alarm_rate", title="Exercise 8.2 · predict: how often an unmarked image passes for marked",
    reference=lambda: 2.0 ** -8,
    trial=lambda answer: [float(answer())],
    describe=lambda i: "the share of unmarked images whose 8 bits all match the identifier (a fraction, not a percentage)",
    atol=2e-4, rtol=0,
    start="Predict it first — on paper — then return your number; hint('false_alarm_rate') if you are stuck.",
    reveal=False,
    hints=["from an unmarked image each bit is read as 0 or 1 with probability ½, independently of the others "
           "(the table above: about 50 % of bits 'right').",
           "all 8 must match: multiply the probabilities."],
    mistakes={
        "one-bit": Mistake(lambda: 0.5, "that is the chance that *one* bit matches; the detector demands all 8."),
        "eighth": Mistake(lambda: 1 / 8, "the bits are not one choice among 8: each of the 8 matches with "
                                         "probability ½, and all must."),
        "zero": Mistake(lambda: 0.0, "not zero: an unmarked image's bits are coin flips, and 8 coins can all land "
                                     "right."),
        "any-bit": Mistake(lambda: 1 - 2.0 ** -8, "that is the chance that *at least one* bit differs — the share "
                                                  "of unmarked images correctly rejected."),
    }))

_TRAIN = torch.rand(60, 1, 6, 6, generator=seeded(2))
_SAMPLES = [torch.cat([_TRAIN[:3] + 0.01 * torch.randn(3, 1, 6, 6, generator=seeded(3)),
                       torch.rand(5, 1, 6, 6, generator=seeded(4))]), torch.rand(4, 1, 6, 6, generator=seeded(5))]
_N, _BATCH = [50, 10], [3, 2]


def _ratio_trial(answer):
    """Each input's ratios, and whether every distance matrix the answer asked torch.cdist for kept within
    `batch` samples (the check watches the calls)."""
    outputs, original = [], torch.cdist
    for samples, n, batch in zip(_SAMPLES, _N, _BATCH):
        rows = []

        def watched(x1, x2, *args, **kwargs):
            rows.append(x1.shape[-2] if x1.shape[-2] != len(_TRAIN) else x2.shape[-2])
            return original(x1, x2, *args, **kwargs)
        torch.cdist = watched
        try:
            ratios = answer(samples.clone(), _TRAIN.clone(), n, 0.5, batch)
        finally:
            torch.cdist = original
        outputs += [ratios, bool(rows) and max(rows) <= batch]
    return outputs


def _ratio_wrong(kind):
    def wrong(samples, train, n, alpha, batch):
        parts = [samples] if kind == "one-matrix" else samples.split(batch)
        d = torch.cat([torch.cdist(q.flatten(1), train.flatten(1)) for q in parts]).sort(1).values
        if kind == "squared":
            d = d ** 2
        if kind == "no-alpha":
            return d[:, 0] / d[:, :n].mean(1)
        if kind == "others":
            return d[:, 0] / (alpha * d[:, 1:n + 1].mean(1))
        if kind == "second":
            return d[:, 0] / d[:, 1]
        if kind == "all":
            return d[:, 0] / (alpha * d.mean(1))
        return d[:, 0] / (alpha * d[:, :n].mean(1))  # "squared" and "one-matrix" fall through to here
    return wrong


check_memorisation_ratio = register(Exercise(
    name="memorisation_ratio", title="Exercise 8.3 · Carlini et al.'s memorisation ratio, batch by batch",
    reference=lambda samples, train, n, alpha, batch: metrics.memorisation_ratios(samples, train, n=n, alpha=alpha,
                                                                                  batch_size=batch)[0],
    trial=_ratio_trial,
    describe=lambda i: (f"{len(_SAMPLES[i // 2])} samples against 60 training images, n = {_N[i // 2]}, α = 0.5, "
                        f"batch = {_BATCH[i // 2]}") + ("" if i % 2 == 0 else ": whether each distance matrix kept "
                                                                                "within the batch"),
    start="A loop over the samples, `batch` at a time: for each part, the distances to every training image, the "
          "n nearest of them, and the part's ratios; then join the parts — hint('memorisation_ratio') if you are stuck.",
    hints=["samples.split(batch) gives the parts; flatten the images to (b, D) and (M, D) for torch.cdist.",
           "torch.cdist(part, train).topk(n, largest=False).values gives each sample's n nearest distances, nearest "
           "first — sorting all M would cost more.",
           "ratio = (distance to the nearest) / (α · mean distance to the n nearest, the nearest included); "
           "torch.cat the parts' ratios into one (N,) tensor."],
    mistakes={
        "one-matrix": Mistake(_ratio_wrong("one-matrix"), "the ratios are right, but you measured every sample against "
                                                          "every training image at once: with 5,000 samples and a "
                                                          "training set of millions that matrix does not fit in "
                                                          "memory. Work through samples.split(batch)."),
        "no-alpha": Mistake(_ratio_wrong("no-alpha"), "the mean in the denominator is multiplied by α (½): without "
                                                      "it, every ratio is half what it should be."),
        "others": Mistake(_ratio_wrong("others"), "the n nearest include the nearest itself: average d₁ … dₙ, not "
                                                  "d₂ … dₙ₊₁."),
        "second": Mistake(_ratio_wrong("second"), "that is d₁ / d₂, a simpler test; Carlini et al. divide by α "
                                                  "times the mean of the n nearest distances."),
        "all": Mistake(_ratio_wrong("all"), "the mean runs over the n nearest training images, not over all of "
                                            "them."),
        "squared": Mistake(_ratio_wrong("squared"), "use the distances themselves (ℓ2), not their squares."),
    }))
