"""Lab 2 (notebooks/labs/lab2_cnn.ipynb): a CNN classifier the learner builds part by part and trains live.

`reference` is what the solution builds; `parts` checks each part as a unit and names its mistakes;
`project` trains the learner's own parts end to end and judges the result with the package's accuracy.
"""
from .parts import check_accuracy, check_classifier, check_conv_block, check_train, check_train_step
from .project import TARGET, check_lab2_training, show_training

__all__ = ["check_conv_block", "check_classifier", "check_train_step", "check_accuracy", "check_train",
           "check_lab2_training", "show_training", "TARGET"]
