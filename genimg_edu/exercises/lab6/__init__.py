"""Lab 6 (notebooks/labs/lab6_leaderboard.ipynb): a leaderboard the learner builds part by part and runs on the
shipped generators and three impostors.

`reference` is what the solution builds; `parts` and `project` check each part as a unit and name its mistakes;
the last check runs the learner's table on the shipped models and on a noise, a collapsed and a memorising
generator, and compares it with the reference's.
"""
from .parts import check_copy_share, check_coverage, check_features, check_precision_recall
from .project import check_lab6_leaderboard, check_leaderboard, impostors, show_leaderboard

__all__ = ["check_features", "check_precision_recall", "check_coverage", "check_copy_share", "check_leaderboard",
           "check_lab6_leaderboard", "show_leaderboard", "impostors"]
