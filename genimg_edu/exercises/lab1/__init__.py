"""Lab 1 (notebooks/labs/lab1_pipeline.ipynb): a data pipeline the learner builds part by part and runs on a
folder of messy files.

`reference` is what the solution builds; `parts` checks each part as a unit and names its mistakes;
`project` makes the messy folder and compares the learner's batch with the reference pipeline's.
"""
from .parts import check_decode, check_load_folder, check_square, check_to_batch
from .project import check_lab1_pipeline, make_messy_folder, show_pipeline
from .reference import IMAGE_SUFFIXES

__all__ = ["check_decode", "check_square", "check_to_batch", "check_load_folder", "check_lab1_pipeline",
           "make_messy_folder", "show_pipeline", "IMAGE_SUFFIXES"]
