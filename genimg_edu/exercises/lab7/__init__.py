"""Lab 7 (notebooks/labs/lab7_flow.ipynb): flow matching the learner builds part by part — the loss, label dropout,
Euler's and Heun's samplers, classifier-free guidance, the training loop — then trains live twice: on the ring of
eight Gaussians, and on the digits' codes in the shipped VAE's latent space, guided to the asked-for digit.

`reference` is what the solution builds (the package's own); `parts`, `samplers` and `loop` check each part as a unit
and name its mistakes; `project` trains the learner's own parts end to end and judges the result.
"""
from .parts import check_cfg_velocity, check_drop_labels, check_flow_loss  # parts 1, 2, 5
from .samplers import check_euler, check_heun  # parts 3, 4
from .loop import check_train_flow  # part 6
from .project import GUIDANCE, TARGET, check_lab7_digits, check_lab7_ring, decode, digit_codes, show_digits, show_ring

__all__ = ["check_flow_loss", "check_drop_labels", "check_euler", "check_heun", "check_cfg_velocity",
           "check_train_flow", "check_lab7_ring", "check_lab7_digits", "show_ring", "show_digits", "digit_codes",
           "decode", "GUIDANCE", "TARGET"]
