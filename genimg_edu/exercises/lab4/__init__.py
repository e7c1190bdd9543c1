"""Lab 4 (notebooks/labs/lab4_vae.ipynb): a convolutional VAE the learner builds part by part and trains live.

`reference` is what the solution builds; `parts` checks each part as a unit and names its mistakes;
`project` trains the learner's own parts end to end and judges the result with the package's ELBO.
"""
from .parts import check_decoder, check_encoder, check_iwae_bound, check_sample_latent, check_vae_loss
from .project import TARGET, check_lab4_training, show_vae

__all__ = ["check_encoder", "check_decoder", "check_sample_latent", "check_vae_loss", "check_iwae_bound",
           "check_lab4_training", "show_vae", "TARGET"]
