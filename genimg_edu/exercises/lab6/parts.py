"""Lab 6, parts 1–4: a leaderboard's measures built by the learner — the features the course measures in, improved
precision and recall, coverage, and the share of near-copies — each checked as a unit against `reference`, on the
course's own classifier and on small point sets the check makes itself."""
from __future__ import annotations

import numpy as np
import torch
from scipy.spatial.distance import cdist

from ... import metrics
from ..core import Exercise, Mistake, register, seeded
from . import reference


def _classifier():
    from ...pretrained import load

    return load("cnn-mnist", device="cpu")


def _features_trial(answer):
    from ...data import load_dataset

    classifier = _classifier().train()  # as a model is left after training: the check must switch it
    x = load_dataset("mnist", "test")[0][:30]
    recorded = []
    hook = classifier.body.register_forward_hook(lambda *_: recorded.append(torch.is_grad_enabled()))
    try:
        feats = answer(classifier, x.clone(), batch_size=16)
    finally:
        hook.remove()
        classifier.eval()
    return [feats, any(recorded)]


def _features_wrong(kind):
    def wrong(classifier, images, batch_size=250):
        if kind != "train-mode":
            classifier.eval()
        with torch.set_grad_enabled(kind == "no-no-grad"):
            if kind == "last-hidden":
                return metrics.classifier_outputs(images, classifier)[0]
            return torch.cat([classifier.body(images[i:i + batch_size]).mean((2, 3))
                              for i in range(0, len(images), batch_size)])
    return wrong


check_features = register(Exercise(
    name="features", title="Lab 6.1 · the features the course measures in",
    reference=reference.features, trial=_features_trial,
    describe=lambda i: ["the features of 30 test digits, in batches of 16", "whether autograd recorded"][i],
    start="Run the classifier's convolutional body on the images, batch by batch, and average each feature map over "
          "its positions — in evaluation mode and without a graph — hint('features') if you are stuck.",
    hints=["classifier.body(x) is (B, C, 7, 7): the convolutional part; .mean((2, 3)) averages over the 7 × 7 "
           "positions, (B, C).",
           "classifier.eval() (BatchNorm's running statistics) and @torch.no_grad(), as lab 2's accuracy did.",
           "batch by batch: torch.cat over images[i:i + batch_size] for i in range(0, len(images), batch_size)."],
    mistakes={
        "last-hidden": Mistake(_features_wrong("last-hidden"), "those are the last hidden layer's features: that "
                                                               "layer was trained to ignore blur and noise, so "
                                                               "precision measured there cannot see damage "
                                                               "(notebook 06 §4). Use the convolutional body."),
        "train-mode": Mistake(_features_wrong("train-mode"), "the classifier was in training mode: BatchNorm used each "
                                                             "batch's own statistics, so a sample's features depend "
                                                             "on its batch-mates. Call classifier.eval() first."),
        "no-no-grad": Mistake(_features_wrong("no-no-grad"), "the features are right, but autograd recorded every "
                                                             "pass: wrap it in torch.no_grad()."),
    }))

_rng = np.random.default_rng(6)
_REAL = [_rng.normal(size=(40, 3)), _rng.normal(size=(30, 2))]
_FAKE = [_rng.normal(size=(35, 3)) * 0.5 + 0.8, np.concatenate([_rng.normal(size=(20, 2)) * 0.3,
                                                               _rng.normal(size=(5, 2)) + 4])]


def _pr_wrong(kind):
    def wrong(real, fake, k=3):
        col = k - 1 if kind == "self-neighbour" else k
        r_real, r_fake = np.sort(cdist(real, real), axis=1)[:, col], np.sort(cdist(fake, fake), axis=1)[:, col]
        d = cdist(fake, real)
        if kind == "own-radii":
            r_real, r_fake = r_fake, r_real
            precision, recall = (d <= r_real[:, None]).any(1).mean(), (d.T <= r_fake[:, None]).any(1).mean()
        else:
            precision, recall = (d <= r_real[None, :]).any(1).mean(), (d.T <= r_fake[None, :]).any(1).mean()
        if kind == "pairs":
            precision, recall = (d <= r_real[None, :]).mean(), (d.T <= r_fake[None, :]).mean()
        return (float(recall), float(precision)) if kind == "swapped" else (float(precision), float(recall))
    return wrong


check_precision_recall = register(Exercise(
    name="precision_recall", title="Lab 6.2 · improved precision and recall",
    reference=reference.precision_recall,
    trial=lambda answer: [tuple(float(v) for v in answer(r.copy(), f.copy(), k=3)) for r, f in zip(_REAL, _FAKE)],
    describe=lambda i: f"real {_REAL[i].shape} and fake {_FAKE[i].shape} points, k = 3",
    start="Give every point a ball reaching its k-th nearest neighbour in its own set; precision asks which fakes "
          "fall in some real ball, recall which reals fall in some fake ball — hint('precision_recall') if you are "
          "stuck.",
    hints=["scipy.spatial.distance.cdist(a, b) gives all distances (N_a, N_b). Sorted along each row, column 0 is a "
           "point's distance to itself, so column k is its k-th nearest *other* point.",
           "precision: for each fake, is cdist(fake, real) <= the real points' radii for any real point? .any(1), "
           "then the mean over fakes.",
           "recall: the same the other way round — each real point against the fake points' radii."],
    mistakes={
        "self-neighbour": Mistake(_pr_wrong("self-neighbour"), "the balls are one neighbour too small: after sorting, "
                                                               "column 0 is the point itself, so the k-th nearest "
                                                               "other point is column k."),
        "swapped": Mistake(_pr_wrong("swapped"), "precision and recall are swapped: precision asks whether the *fakes* "
                                                 "are realistic (inside the real manifold)."),
        "own-radii": Mistake(_pr_wrong("own-radii"), "each set was measured with its own balls: precision puts the "
                                                     "fakes in the balls around the *real* points."),
        "pairs": Mistake(_pr_wrong("pairs"), "you counted pairs: a fake counts as realistic when it falls in *any* "
                                             "real ball (.any(1)), not by how many."),
    }))

def _coverage_wrong(kind):
    def wrong(real, fake, k=5):
        if kind == "fake-balls":
            real, fake = fake, real
        radii = np.sort(cdist(real, real), axis=1)[:, k - 1 if kind == "self-neighbour" else k]
        inside = cdist(fake, real) <= radii[None, :]
        return float(inside.any(1).mean() if kind == "per-fake" else inside.any(0).mean())
    return wrong


check_coverage = register(Exercise(
    name="coverage", title="Lab 6.3 · coverage",
    reference=reference.coverage,
    trial=lambda answer: [float(answer(r.copy(), f.copy(), k=5)) for r, f in zip(_REAL, _FAKE)],
    describe=lambda i: f"real {_REAL[i].shape} and fake {_FAKE[i].shape} points, k = 5",
    start="Balls around the real points only, each reaching its k-th nearest real neighbour; the share of real "
          "points whose ball holds at least one fake — hint('coverage') if you are stuck.",
    hints=["the radii as in precision_recall: sorted distances among the real points, column k.",
           "inside = cdist(fake, real) <= radii[None, :] is (N_fake, N_real); a real ball is covered when any fake "
           "is inside it: .any(0), then the mean over the real points."],
    mistakes={
        "self-neighbour": Mistake(_coverage_wrong("self-neighbour"), "the balls are one neighbour too small: column "
                                                                     "0 of the sorted distances is the point itself."),
        "per-fake": Mistake(_coverage_wrong("per-fake"), "that is the share of *fakes* inside some real ball (precision "
                                                         "with k = 5); coverage counts the *real* balls reached: "
                                                         ".any(0)."),
        "fake-balls": Mistake(_coverage_wrong("fake-balls"), "coverage puts its balls around the *real* points only "
                                                             "(Naeem et al. 2020): a few stray fakes then cannot "
                                                             "inflate it, as they inflate recall."),
    }))

_SAMPLES = torch.rand(6, 1, 4, 4, generator=seeded(60))
_TRAIN = torch.cat([_SAMPLES[:2] + 0.01, torch.rand(10, 1, 4, 4, generator=seeded(61))])


def _copies_wrong(kind):
    def wrong(samples, train, radius):
        d = torch.cdist(samples.flatten(1), train.flatten(1))
        if kind == "mean-distance":
            return (d.mean(1) < radius).float().mean().item()
        if kind == "count":
            return int((d.min(1).values < radius).sum())
        return (d.min(1).values > radius).float().mean().item()
    return wrong


check_copy_share = register(Exercise(
    name="copy_share", title="Lab 6.4 · the share of near-copies",
    reference=reference.copy_share,
    trial=lambda answer: [float(answer(_SAMPLES.clone(), _TRAIN.clone(), r)) for r in (0.2, 3.0)],
    describe=lambda i: f"6 samples, 12 training images, radius {(0.2, 3.0)[i]}",
    start="For each sample, the distance to its nearest training image; the share of samples closer than the radius "
          "— hint('copy_share') if you are stuck.",
    hints=["torch.cdist(samples.flatten(1), train.flatten(1)) is (N_samples, N_train); .min(1).values is each "
           "sample's nearest distance.",
           "(nearest < radius).float().mean().item(): a share, from 0 to 1."],
    mistakes={
        "mean-distance": Mistake(_copies_wrong("mean-distance"), "a copy is close to *one* training image, not to all "
                                                                 "of them on average: take the nearest (.min(1))."),
        "count": Mistake(_copies_wrong("count"), "return the share (0 to 1), not the count: a table compares "
                                                 "generators sampled at different sizes."),
        "inverted": Mistake(_copies_wrong("inverted"), "that is the share of samples *farther* than the radius: a "
                                                       "near-copy is closer than it."),
    }))
