"""Lab 2, part 6: the learner's classifier trained by the learner's loop, judged by the package's accuracy."""
from __future__ import annotations

import time

import torch

from ...data import load_dataset
from ..core import Feedback, Project, loss_fell, register_project
from . import reference

TARGET = 0.97  # test accuracy the lab's live training must reach
TITLE = "Lab 2.6 · your classifier, trained"


def _run_lab(*, Classifier, train, accuracy, steps: int = 1000, width: int = 16) -> Feedback:
    """Train the learner's Classifier with the learner's loop; judge it with the package's accuracy."""
    x_train, y_train = load_dataset("mnist", "train")
    x_test, y_test = load_dataset("mnist", "test")
    torch.manual_seed(0)
    model = Classifier(width=width)
    start = time.perf_counter()
    losses = [float(v) for v in train(model, x_train, y_train, steps=steps)]
    seconds = time.perf_counter() - start
    measured = reference.accuracy(model, x_test, y_test)  # the package's, not the learner's
    theirs = float(accuracy(model, x_test, y_test))
    details = dict(model=model, losses=losses, accuracy=measured, seconds=seconds)
    head = min(50, max(1, len(losses) // 4))

    def fail(key, message):
        return Feedback("lab2_training", False, key, f"✗ {TITLE}: {message}", details)
    if len(losses) != steps:
        return fail("losses", f"train returned {len(losses)} losses for {steps} steps: one per step.")
    fell, first, last = loss_fell(losses, factor=0.5, head=head)
    if not fell:
        return fail("not-learning", f"the loss did not fall (first {head} steps: {first:.2f}, last {head}: {last:.2f})"
                                    " — does each step update the model you passed in?")
    if abs(theirs - measured) > 1e-6:
        return fail("accuracy-disagrees", f"your accuracy says {theirs:.4f}, the package's {measured:.4f} on the "
                                          "same model — check_accuracy tells you why.")
    if measured < TARGET:
        return fail("below-target", f"test accuracy {measured:.1%} after {steps} steps, below {TARGET:.0%}: "
                                    "train longer (steps=...) or look at your loss curve.")
    return Feedback("lab2_training", True, None, f"✓ {TITLE}: test accuracy {measured:.1%} after {steps} steps "
                    f"({seconds:.0f} s); your accuracy agrees.", details)


check_lab2_training = register_project(Project(
    name="lab2_training", title=TITLE, parts=("Classifier", "train", "accuracy"),
    run=_run_lab))


def show_training(result: Feedback) -> None:
    """The lab's picture: the loss of every step, and 24 test digits labelled by the trained model (red: wrong)."""
    import matplotlib.pyplot as plt

    if not result.details:
        print("Nothing to show yet: the check above trains your model once every part passes its own check.")
        return
    model, losses = result.details["model"], result.details["losses"]
    x, y = load_dataset("mnist", "test")
    with torch.no_grad():
        predicted = model.eval()(x[:24]).argmax(1)
    fig = plt.figure(figsize=(11, 3.2))
    ax = fig.add_subplot(1, 3, 1)
    ax.plot(losses, lw=0.5, alpha=0.5)
    window = max(1, len(losses) // 50)
    smooth = torch.tensor(losses).unfold(0, window, 1).mean(1) if len(losses) >= window else torch.tensor(losses)
    ax.plot(range(window - 1, window - 1 + len(smooth)), smooth, lw=1.5)
    ax.set(yscale="log", xlabel="step", ylabel="cross-entropy", title="training loss")
    for i in range(24):
        sub = fig.add_subplot(3, 12, (i // 8) * 12 + 5 + i % 8)
        sub.imshow(x[i, 0].numpy(), cmap="gray")
        sub.set_axis_off()
        sub.set_title(str(predicted[i].item()), fontsize=9, color="black" if predicted[i] == y[i] else "red")
    fig.suptitle(f"test accuracy {result.details['accuracy']:.1%}", x=0.66, fontsize=10)
    plt.show()
