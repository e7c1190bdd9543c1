"""Exercises with feedback that names the mistake.

Each notebook from 01 on holds three or four exercises: a function to write (or a prediction to return),
checked by ``check_<name>(answer)``. The check runs the answer on fixed inputs, compares it with the
package's or PyTorch's own version, and if it differs, says which realistic mistake it matches (a wrong
sign, a forgotten ``detach``, a sum where a mean was meant …). ``hint("<name>")`` gives progressive hints.
The labs (``notebooks/labs/``) use the same checks, one per part they build, and a last one
(``PROJECTS``) that trains the learner's own parts end to end. The solutions live in ``solutions/``.

    from genimg_edu.exercises import check_conv_output_size, hint
"""
from .challenges import check_false_alarm_rate, check_memorisation_ratio, check_sefa_directions
from .cnn import check_conv_output_size, check_conv_parameters, check_cross_entropy, check_cross_entropy_gradient
from .core import PROJECTS, REGISTRY, Feedback, hint
from .diffusion import check_euler_sampler, check_guided_velocity, check_heun_evaluations, check_q_sample
from .evaluation import check_frechet_distance, check_inception_score, check_kernel_inception_distance
from .gan import check_discriminator_loss, check_discriminator_step, check_value_at_optimum
from .lab1 import check_decode, check_lab1_pipeline, check_load_folder, check_square, check_to_batch, \
    show_pipeline
from .lab2 import check_accuracy, check_classifier, check_conv_block, check_lab2_training, check_train, \
    check_train_step, show_training
from .lab3 import check_d_loss, check_discriminator, check_g_loss, check_gan_round, check_generator, \
    check_lab3_training, check_train_gan, show_gan
from .lab4 import check_decoder, check_encoder, check_iwae_bound, check_lab4_training, check_sample_latent, \
    check_vae_loss, show_vae
from .lab6 import check_copy_share, check_coverage, check_features, check_lab6_leaderboard, check_leaderboard, \
    check_precision_recall, show_leaderboard
from .lab7 import check_cfg_velocity, check_drop_labels, check_euler, check_flow_loss, check_heun, \
    check_lab7_digits, check_lab7_ring, check_train_flow, show_digits, show_ring
from .preprocessing import check_bgr_to_tensor, check_resize_keep_aspect, check_to_signed
from .training import check_ema_update, check_is_bad_loss, check_resume_needs
from .vae import check_gaussian_kl, check_negative_elbo, check_reparameterise

__all__ = ["REGISTRY", "PROJECTS", "Feedback", "hint"] + sorted(n for n in dir() if n.startswith("check_"))
