"""Lab 3 (notebooks/labs/lab3_dcgan.ipynb): a DCGAN the learner builds part by part and trains live.

`reference` is what the solution builds; `parts` checks each part as a unit and names its mistakes;
`project` trains the learner's own parts end to end and judges the samples with the package's instrument.
"""
from .game import check_gan_round, check_train_gan
from .parts import check_d_loss, check_discriminator, check_g_loss, check_generator
from .project import TARGET, check_lab3_training, show_gan

__all__ = ["check_generator", "check_discriminator", "check_d_loss", "check_g_loss", "check_gan_round",
           "check_train_gan", "check_lab3_training", "show_gan", "TARGET"]
