"""The optimiser's side of training — what `genimg_edu.fit.fit` repeats, one batch at a time.

The objectives live beside their models: ``classifier.loss(x, y)``, ``vae.terms(x)`` /
``vae.loss(x)``, `diffusion.FlowMatching` around a velocity network, and the GAN's two
losses in `genimg_edu.losses`. A step object owns the models, optimisers and learning-rate
schedules (so `fit` can checkpoint them) and is called with one batch,
``losses = step(batch, generator)``: it prepares the batch (augmentation), computes the
objective, and shows its update explicitly — ``zero_grad`` / ``backward`` / ``step`` —
returning the batch's losses as plain floats for the history and the dashboard::

    step = VAEStep(ConvVAE(), lr=2e-3)
    history = fit(step, (x_train,), max_seconds=30)

There are two kinds: `ObjectiveStep`, one model minimising one objective with one optimiser
(`ClassifierStep`, `VAEStep` and `FlowStep` only say which objective and which options), and
`GANStep`, the two-player game. The weight average (EMA), the model to sample from and the
dashboard's `preview` are written once, in `Step`. These are the updates notebooks 02–04 write
out by hand and prove equal (``torch.equal`` on every weight after the same steps from the same
seed); what a step adds beyond the hand-written loop is off by default.
"""
from genimg_edu.steps.base import Objective, ObjectiveStep, Step, cosine_schedule
from genimg_edu.steps.gan import GANStep, discriminator_step
from genimg_edu.steps.single import ClassifierStep, FlowStep, VAEStep

__all__ = ["Step", "Objective", "ObjectiveStep", "ClassifierStep", "VAEStep", "FlowStep", "GANStep", "discriminator_step",
           "cosine_schedule"]
