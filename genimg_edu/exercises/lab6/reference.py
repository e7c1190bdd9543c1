"""Lab 6's reference: what its solution builds — the parts' checks compare the learner's with these. The measures
and features are the package's (`metrics`: exercises 6.2 and 6.3 wrote the Fréchet distance and KID, this lab the
features, precision, recall and coverage); the copy test and the table are written out as the lab asks."""
from __future__ import annotations

import torch

from ... import metrics


def features(classifier, images, batch_size=250):
    return metrics.conv_features(images, classifier, batch_size=batch_size)  # eval mode, no graph


def precision_recall(real, fake, k=3):
    return metrics.precision_recall(real, fake, k=k)  # the package's own, which part 2 has the learner write


def coverage(real, fake, k=5):
    return metrics.density_coverage(real, fake, k=k)[1]


def copy_share(samples, train, radius):
    nearest = torch.cdist(samples.flatten(1), train.flatten(1)).min(1).values
    return (nearest < radius).float().mean().item()


def leaderboard(generators, classifier, real, train, *, n=500, radius=1.5):
    real_feats = features(classifier, real).numpy()
    rows = []
    for name, draw in generators.items():
        samples = draw(n)
        fake_feats = features(classifier, samples).numpy()
        precision, recall = precision_recall(real_feats, fake_feats)
        rows.append({"name": name, "fd": metrics.frechet_distance(real_feats, fake_feats),
                     "kid": metrics.kid(real_feats, fake_feats)[0], "precision": precision, "recall": recall,
                     "coverage": coverage(real_feats, fake_feats), "copies": copy_share(samples, train, radius)})
    return sorted(rows, key=lambda row: row["fd"])
