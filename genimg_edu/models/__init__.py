"""The course's models, one family per file: `cnn`, `gan`, `vae`, `unet` (flow matching).

Every generative model has ``sample(n, *, labels=None, generator=None)``
returning a float tensor ``(n, C, H, W)`` in [0, 1] on the model's device.
"""
from genimg_edu.models.cnn import MNISTClassifier
from genimg_edu.models.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from genimg_edu.models.unet import TinyUNet, VelocityMLP
from genimg_edu.models.vae import ConvVAE, MLPVAE

__all__ = ["ConvVAE", "DCGANDiscriminator", "DCGANGenerator", "MLPDiscriminator", "MLPGenerator",
           "MLPVAE", "MNISTClassifier", "TinyUNet", "VelocityMLP"]
