"""Every wrong call a learner can make into the public API fails at the door, with a message naming the argument.

STYLE rule 20: a `ValueError` or `TypeError` that names the argument, the value and what was expected, never a
raw `IndexError` from inside torch or a silently wrong number. (a) a table of concrete wrong calls, (b) properties
that drive the API with generated wrong values, (c) the helpers of `genimg_edu.validate` themselves.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from genimg_edu import augment, diffusion, evaluation, forensics, losses, metrics, quiz, recipes, runtime, validate, widgets
from genimg_edu import preprocess as pp
from genimg_edu.data import load_dataset, load_image_folder, load_photo, make_shapes
from genimg_edu.data.photos import make_zone_plate
from genimg_edu.data.toy import ring_centres, ring_of_gaussians
from genimg_edu.exercises import check_q_sample, hint
from genimg_edu.models import (ConvVAE, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, MLPVAE,
                               MNISTClassifier, TinyUNet, VelocityMLP)
from genimg_edu.models.gan import sefa_directions
from genimg_edu.steps import ClassifierStep, FlowStep, GANStep, VAEStep, cosine_schedule

FAST = settings(max_examples=25, deadline=None)
ERRORS = (ValueError, TypeError)

torch.manual_seed(0)
CGAN = DCGANGenerator(width=8, n_classes=10).eval()
CD = DCGANDiscriminator(width=8, n_classes=10)
GAN = DCGANGenerator(width=8, z_dim=8).eval()
TOY_G, TOY_D = MLPGenerator(z_dim=4, hidden=8), MLPDiscriminator(hidden=8)
VAE = ConvVAE(width=8, z_dim=4, hidden=16)
MLP_VAE = MLPVAE(hidden=(16,), z_dim=4)
CNN = MNISTClassifier(width=2, hidden=8).eval()
X = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))  # four valid images in [0, 1]
BITS = torch.randint(0, 2, (4, 8), generator=torch.Generator().manual_seed(1))
FEATS = torch.randn(20, 3, generator=torch.Generator().manual_seed(2))
PROBS = torch.softmax(torch.randn(20, 10, generator=torch.Generator().manual_seed(3)), 1)
IMG = np.zeros((8, 8, 3), np.uint8)
SAMPLERS = {"DCGAN": GAN, "cGAN": CGAN, "MLP GAN": TOY_G, "ConvVAE": VAE, "MLP VAE": MLP_VAE}
UNET = TinyUNet(width=8, emb_dim=16).eval()
FLOW_MLP = VelocityMLP(hidden=8, n_classes=3)
T = torch.full((4,), 0.5)  # a valid time per image
DECODE = lambda z: torch.sigmoid(z.sum(1)[:, None, None, None].expand(-1, 1, 4, 4))  # noqa: E731 — z (B, D) → images
Z2 = torch.zeros(2)
OPT = torch.optim.SGD(TOY_D.parameters(), lr=0.1)


def gan_step(**options):
    return GANStep(DCGANGenerator(width=8, z_dim=8), DCGANDiscriminator(width=8), **options)


@pytest.fixture(autouse=True)
def _static_widgets(monkeypatch):
    """Controls in static mode (as under nbval), their pictures not displayed."""
    monkeypatch.setenv("GENIMG_WIDGETS", "static")
    for module in (widgets.gan, widgets.vae, widgets.diffusion, widgets.challenges):
        monkeypatch.setattr(module, "show_static_png", lambda png, caption: None)


# --- (a) a table of wrong calls -------------------------------------------------------------------

WRONG_CALLS = [
    # conditional GAN: labels out of range, of the wrong dtype or shape; counts that are not whole numbers >= 0
    ("cgan label 12", lambda: CGAN.sample(2, labels=torch.tensor([3, 12])), "labels"),
    ("cgan label -1", lambda: CGAN.sample(2, labels=torch.tensor([-1, 3])), "labels"),
    ("cgan float labels", lambda: CGAN.sample(2, labels=torch.tensor([1.0, 2.0])), "labels"),
    ("cgan list of floats", lambda: CGAN.sample(2, labels=[1.0, 2.0]), "labels"),
    ("cgan bool labels", lambda: CGAN.sample(2, labels=torch.tensor([True, False])), "labels"),
    ("cgan labels (2, 1)", lambda: CGAN.sample(2, labels=torch.tensor([[1], [2]])), "labels"),
    ("cgan forward label 10", lambda: CGAN(torch.randn(2, 64), torch.tensor([0, 10])), "labels"),
    ("cgan forward int32 z", lambda: CGAN(torch.zeros(2, 64, dtype=torch.int32), torch.tensor([0, 1])), "z"),
    ("cgan forward z_dim 8", lambda: CGAN(torch.randn(2, 8), torch.tensor([0, 1])), "z"),
    ("D label 10", lambda: CD(X, torch.tensor([0, 1, 2, 10])), "labels"),
    ("D 3 channels", lambda: CD(torch.rand(4, 3, 28, 28), torch.tensor([0, 1, 2, 3])), "x"),
    ("D numpy images", lambda: CD(X.numpy(), torch.tensor([0, 1, 2, 3])), "x"),
    ("sample(-3)", lambda: GAN.sample(-3), "n"),
    ("sample(2.5)", lambda: GAN.sample(2.5), "n"),
    ("sample(3.0)", lambda: GAN.sample(3.0), "n"),
    ("sample(True)", lambda: GAN.sample(True), "n"),
    ("sample('4')", lambda: GAN.sample("4"), "n"),
    ("toy sample(-1)", lambda: TOY_G.sample(-1), "n"),
    ("toy D wrong dim", lambda: TOY_D(torch.randn(5, 3)), "x"),
    ("n_classes 2.5", lambda: DCGANGenerator(width=8, n_classes=2.5), "n_classes"),
    ("width 0", lambda: DCGANDiscriminator(width=0), "width"),
    ("sefa k 2.5", lambda: sefa_directions(torch.randn(5, 3), 2.5), "k"),
    ("sefa k 0", lambda: sefa_directions(torch.randn(5, 3), 0), "k"),
    # VAE: images of another shape or range; counts
    ("vae 3 channels", lambda: VAE.loss(torch.rand(4, 3, 28, 28)), "x"),
    ("vae 32x32", lambda: VAE.loss(torch.rand(4, 1, 32, 32)), "x"),
    ("vae pixels 0..255", lambda: VAE.loss(X * 255), "x"),
    ("vae pixels in [-1, 1]", lambda: VAE.loss(X * 2 - 1), "x"),
    ("vae NaN pixels", lambda: VAE.loss(torch.full((2, 1, 28, 28), math.nan)), "x"),
    ("vae uint8 images", lambda: VAE.loss((X * 255).to(torch.uint8)), "x"),
    ("vae one image without batch axis", lambda: VAE.encode(X[0]), "x"),
    ("vae numpy images", lambda: VAE.elbo(X.numpy()), "x"),
    ("vae elbo 0..255", lambda: VAE.elbo(X * 255), "x"),
    ("vae elbo samples 0", lambda: VAE.elbo(X, samples=0), "samples"),
    ("vae iwae k 0", lambda: VAE.iwae(X, k=0), "k"),
    ("vae iwae k 2.0", lambda: VAE.iwae(X, k=2.0), "k"),
    ("vae iwae 0..255", lambda: VAE.iwae(X * 255, k=2), "x"),
    ("vae sample(-1)", lambda: VAE.sample(-1), "n"),
    ("vae sample(1.5)", lambda: MLP_VAE.sample(1.5), "n"),
    ("vae decode z_dim 3", lambda: VAE.decode(torch.randn(2, 3)), "z"),
    ("vae loss beta -1", lambda: VAE.loss(X, beta=-1), "beta"),
    ("vae init bias shape", lambda: VAE.init_output_bias(torch.rand(28, 28)), "mean_image"),
    # classifier
    ("cnn 3 channels", lambda: CNN(torch.rand(2, 3, 28, 28)), "x"),
    ("cnn uint8", lambda: CNN.predict_proba((X * 255).to(torch.uint8)), "x"),
    ("cnn loss label 10", lambda: CNN.loss(X, torch.tensor([0, 1, 2, 10])), "y"),
    ("cnn loss float labels", lambda: CNN.loss(X, torch.tensor([0.0, 1.0, 2.0, 3.0])), "y"),
    ("cnn loss labels (3,)", lambda: CNN.loss(X, torch.tensor([0, 1, 2])), "y"),
    ("cnn batch_size 0", lambda: CNN.predict_proba(X, batch_size=0), "batch_size"),
    # losses
    ("d_loss kind", lambda: losses.d_loss(torch.zeros(2), torch.zeros(2), kind="wgan"), "kind"),
    ("d_loss smoothing 1", lambda: losses.d_loss(torch.zeros(2), torch.zeros(2), smoothing=1.0), "smoothing"),
    ("d_loss smoothing nan", lambda: losses.d_loss(torch.zeros(2), torch.zeros(2), smoothing=math.nan), "smoothing"),
    ("d_loss list", lambda: losses.d_loss([0.1, 0.2], torch.zeros(2)), "d_real"),
    ("g_loss int logits", lambda: losses.g_loss(torch.zeros(2, dtype=torch.long)), "d_fake"),
    ("bernoulli_nll 0..255", lambda: losses.bernoulli_nll(torch.zeros(2, 4), torch.full((2, 4), 255.0)), "x"),
    ("bernoulli_nll shapes", lambda: losses.bernoulli_nll(torch.zeros(2, 4), torch.zeros(2, 5)), "x"),
    ("gaussian_kl shapes", lambda: losses.gaussian_kl(torch.zeros(2, 4), torch.zeros(2, 3)), "logvar"),
    ("vae_loss beta inf", lambda: losses.vae_loss(torch.zeros(2), torch.zeros(2), beta=math.inf), "beta"),
    ("gradient_penalty shapes", lambda: losses.gradient_penalty(TOY_D, torch.zeros(4, 2), torch.zeros(3, 2)), "fake"),
    ("mode_seeking one sample", lambda: losses.mode_seeking(torch.zeros(1, 2), torch.zeros(1, 4)), "z"),
    ("bits_per_dim dims 0", lambda: losses.bits_per_dim(100.0, 0), "dims"),
    # forensics
    ("embed strength -1", lambda: forensics.embed(X, BITS, strength=-1), "strength"),
    ("embed strength nan", lambda: forensics.embed(X, BITS, strength=math.nan), "strength"),
    ("embed bits 2.0", lambda: forensics.embed(X, BITS.float() * 2), "bits"),
    ("embed bits 2", lambda: forensics.embed(X, BITS * 2), "bits"),
    ("embed bits (N,)", lambda: forensics.embed(X, BITS[:, 0]), "bits"),
    ("embed bits for 3 images", lambda: forensics.embed(X, BITS[:3]), "bits"),
    ("embed 0..255 images", lambda: forensics.embed(X * 255, BITS), "images"),
    ("embed rgb images", lambda: forensics.embed(torch.rand(4, 3, 28, 28), BITS), "images"),
    ("embed rounds 0", lambda: forensics.embed(X, BITS, rounds=0), "rounds"),
    ("extract n_bits 0", lambda: forensics.extract(X, 0), "n_bits"),
    ("extract n_bits 8.0", lambda: forensics.extract(X, 8.0), "n_bits"),
    ("patterns n_bits 211", lambda: forensics.patterns(211), "n_bits"),
    ("patterns key -1", lambda: forensics.patterns(8, key=-1), "key"),
    ("bit_accuracy bits float", lambda: forensics.bit_accuracy(X, BITS.float()), "bits"),
    ("jpeg quality 0", lambda: forensics.jpeg(X, 0), "quality"),
    ("jpeg quality 101", lambda: forensics.jpeg(X, 101), "quality"),
    ("jpeg quality 75.0", lambda: forensics.jpeg(X, 75.0), "quality"),
    ("blur sigma 0", lambda: forensics.blur(X, 0), "sigma"),
    ("blur sigma -1", lambda: forensics.blur(X, -1.0), "sigma"),
    ("down_up factor 0", lambda: forensics.down_up(X, 0), "factor"),
    ("down_up factor 2", lambda: forensics.down_up(X, 2.0), "factor"),
    ("down_up factor 0.01", lambda: forensics.down_up(X, 0.01), "factor"),
    ("histogram bins 0", lambda: forensics.intensity_histogram(X, 0), "bins"),
    ("histogram 0..255", lambda: forensics.intensity_histogram(X * 255), "images"),
    ("spectrum numpy", lambda: forensics.spectrum_features(X.numpy()), "images"),
    ("detector 0..255", lambda: forensics.detector_features(X * 255), "images"),
    # metrics
    ("precision_recall k 0", lambda: metrics.precision_recall(FEATS, FEATS, k=0), "k"),
    ("precision_recall k 2.5", lambda: metrics.precision_recall(FEATS, FEATS, k=2.5), "k"),
    ("precision_recall k = N", lambda: metrics.precision_recall(FEATS, FEATS, k=20), "k"),
    ("precision_recall dims", lambda: metrics.precision_recall(FEATS, FEATS[:, :2]), "fake_feats"),
    ("density_coverage k -1", lambda: metrics.density_coverage(FEATS, FEATS, k=-1), "k"),
    ("frechet NaN", lambda: metrics.frechet_distance(FEATS * math.nan, FEATS), "feats_a"),
    ("frechet 1-D", lambda: metrics.frechet_distance(FEATS[:, 0], FEATS), "feats_a"),
    ("kid subsets 0", lambda: metrics.kid(FEATS, FEATS, subsets=0), "subsets"),
    ("kid subset_size 1.5", lambda: metrics.kid(FEATS, FEATS, subset_size=1.5), "subset_size"),
    ("kid seed -1", lambda: metrics.kid(FEATS, FEATS, seed=-1), "seed"),
    ("inception logits", lambda: metrics.inception_score(torch.randn(20, 10)), "probs"),
    ("inception one class", lambda: metrics.inception_score(torch.ones(20, 1)), "probs"),
    ("inception 1-D", lambda: metrics.inception_score(PROBS[0]), "probs"),
    ("class_coverage threshold -1", lambda: metrics.class_coverage(PROBS, threshold=-1), "threshold"),
    ("class_coverage logits", lambda: metrics.class_coverage(torch.randn(20, 10)), "probs"),
    ("classifier_outputs 0..255", lambda: metrics.classifier_outputs(X * 255, CNN), "images"),
    ("classifier_outputs batch 0", lambda: metrics.classifier_outputs(X, CNN, batch_size=0), "batch_size"),
    ("conv_features rgb", lambda: metrics.conv_features(torch.rand(2, 3, 28, 28), CNN), "images"),
    ("active_units threshold nan", lambda: metrics.active_units(VAE, X, threshold=math.nan), "threshold"),
    ("active_units 32x32", lambda: metrics.active_units(VAE, torch.rand(4, 1, 32, 32)), "x"),
    ("memorisation n 0", lambda: metrics.memorisation_ratios(X, X, n=0), "n"),
    ("memorisation alpha 0", lambda: metrics.memorisation_ratios(X, X, n=2, alpha=0), "alpha"),
    ("memorisation shapes", lambda: metrics.memorisation_ratios(X, torch.rand(4, 1, 32, 32), n=2), "train"),
    ("nearest_distances shapes", lambda: metrics.nearest_distances(X, torch.rand(4, 3, 28, 28)), "reference"),
    ("mode_coverage std 0", lambda: metrics.mode_coverage(torch.zeros(5, 2), ring_centres(), std=0), "std"),
    ("mode_coverage min_share 2", lambda: metrics.mode_coverage(torch.zeros(5, 2), ring_centres(), std=0.1,
                                                                  min_share=2), "min_share"),
    # augment
    ("random_shift -1", lambda: augment.random_shift(X, -1), "max_shift"),
    ("random_shift 1.5", lambda: augment.random_shift(X, 1.5), "max_shift"),
    ("random_shift one image", lambda: augment.random_shift(X[0], 1), "x"),
    ("nuisance max_blur -1", lambda: augment.nuisance(X, max_blur=-1), "max_blur"),
    ("nuisance max_noise inf", lambda: augment.nuisance(X, max_noise=math.inf), "max_noise"),
    # data
    ("load_dataset n 0", lambda: load_dataset("mnist", n=0), "n"),
    ("load_dataset n 2.5", lambda: load_dataset("mnist", n=2.5), "n"),
    ("load_dataset n True", lambda: load_dataset("mnist", n=True), "n"),
    ("load_dataset name", lambda: load_dataset("cifar"), "name"),
    ("load_dataset split", lambda: load_dataset("mnist", "valid"), "split"),
    ("load_dataset seed -1", lambda: load_dataset("shapes", n=2, seed=-1), "seed"),
    ("make_shapes n 0", lambda: make_shapes(0), "n"),
    ("make_shapes size 32.0", lambda: make_shapes(2, size=32.0), "size"),
    ("make_shapes seed -3", lambda: make_shapes(2, seed=-3), "seed"),
    ("ring n 2.5", lambda: ring_of_gaussians(2.5), "n"),
    ("ring std 0", lambda: ring_of_gaussians(10, std=0), "std"),
    ("ring modes 0", lambda: ring_centres(0), "modes"),
    ("photo name", lambda: load_photo("lena"), "name"),
    ("photo folder path int", lambda: load_image_folder(3), "path"),
    ("zone plate size 0", lambda: make_zone_plate(0), "size"),
    ("zone plate size 64.0", lambda: make_zone_plate(64.0), "size"),
    # preprocess
    ("resize a tensor", lambda: pp.resize(torch.zeros(8, 8, 3), 4), "img"),
    ("resize an empty image", lambda: pp.resize(np.zeros((0, 8), np.uint8), 4), "img"),
    ("rotate nan", lambda: pp.rotate(IMG, math.nan), "angle"),
    ("adjust_brightness inf", lambda: pp.adjust_brightness(IMG, math.inf), "factor"),
    ("normalize a list", lambda: pp.normalize([[0, 255]]), "img"),
    ("normalize value_range 5", lambda: pp.normalize(IMG, value_range=5), "value_range"),
    ("Augment scale scalar", lambda: pp.Augment(scale=0.9), "scale"),
    ("Augment max_angle inf", lambda: pp.Augment(max_angle=math.inf), "max_angle"),
    ("augment config dict", lambda: pp.augment(IMG, {"p_flip": 1.0}, rng=0), "config"),
    # runtime
    ("noise(-1, 4)", lambda: runtime.noise(-1, 4), "shape"),
    ("noise(2.5, 4)", lambda: runtime.noise(2.5, 4), "shape"),
    ("noise('3')", lambda: runtime.noise("3"), "shape"),
    ("noise generator", lambda: runtime.noise(2, generator=0), "generator"),
    ("noise device gpu", lambda: runtime.noise(2, device="gpu"), "device"),
    ("set_threads 2.5", lambda: runtime.set_threads(2.5), "n"),
    ("set_threads True", lambda: runtime.set_threads(True), "n"),
    ("device(3)", lambda: runtime.device(3), "choice"),
    ("seed_everything 1.5", lambda: runtime.seed_everything(1.5), "seed"),
    # diffusion: schedules, the forward process, the path and its conversions, the sampler
    ("linear_betas(0)", lambda: diffusion.linear_betas(0), "T"),
    ("linear_betas(2.5)", lambda: diffusion.linear_betas(2.5), "T"),
    ("linear_betas beta_T 2", lambda: diffusion.linear_betas(10, beta_T=2.0), "beta_T"),
    ("linear_betas beta_1 0", lambda: diffusion.linear_betas(10, beta_1=0.0), "beta_1"),
    ("linear_betas falling", lambda: diffusion.linear_betas(10, beta_1=0.5, beta_T=0.1), "beta_T"),
    ("alpha_bar betas 1.5", lambda: diffusion.alpha_bar(torch.tensor([0.1, 1.5])), "betas"),
    ("alpha_bar betas 2-D", lambda: diffusion.alpha_bar(torch.full((2, 2), 0.1)), "betas"),
    ("q_sample a_bar 1.5", lambda: diffusion.q_sample(X, 1.5, X), "a_bar"),
    ("q_sample a_bar 0", lambda: diffusion.q_sample(X, 0.0, X), "a_bar"),
    ("q_sample eps shape", lambda: diffusion.q_sample(X, 0.5, X[:2]), "eps"),
    ("q_sample numpy x0", lambda: diffusion.q_sample(X.numpy(), 0.5, X), "x0"),
    ("q_step beta -0.1", lambda: diffusion.q_step(X, -0.1), "beta"),
    ("q_step beta 1", lambda: diffusion.q_step(X, 1.0), "beta"),
    ("q_step int x", lambda: diffusion.q_step(torch.zeros(2, dtype=torch.long), 0.1), "x_prev"),
    ("evaluations(0, 'heun')", lambda: diffusion.evaluations(0, "heun"), "steps"),
    ("evaluations method", lambda: diffusion.evaluations(3, "rk4"), "method"),
    ("flow_path eps shape", lambda: diffusion.flow_path(X, torch.rand(4, 1, 14, 14), T), "eps"),
    ("flow_path t (3,)", lambda: diffusion.flow_path(X, X, T[:3]), "t"),
    ("flow_path t number", lambda: diffusion.flow_path(X, X, 0.5), "t"),
    ("flow_path t 2", lambda: diffusion.flow_path(X, X, T * 4), "t"),
    ("to_x0_eps v shape", lambda: diffusion.to_x0_eps(X, X[:1], 0.5), "v"),
    ("to_x0_eps t 1.5", lambda: diffusion.to_x0_eps(X, X, 1.5), "t"),
    ("to_x0_eps t (4, 1)", lambda: diffusion.to_x0_eps(X, X, T[:, None]), "t"),
    ("posterior s_t 0", lambda: diffusion.posterior(X, X, a_t=0.5, s_t=0.0, a_s=0.9, s_s=0.1), "s_t"),
    ("posterior a_s 0", lambda: diffusion.posterior(X, X, a_t=0.5, s_t=0.5, a_s=0.0, s_s=0.1), "a_s"),
    ("posterior s after t", lambda: diffusion.posterior(X, X, a_t=0.9, s_t=0.1, a_s=0.5, s_s=0.5), "s_s"),
    ("posterior x0 shape", lambda: diffusion.posterior(X, X[:1], a_t=0.5, s_t=0.5, a_s=0.9, s_s=0.1), "x0"),
    ("sample_flow t_end 1", lambda: diffusion.sample_flow(lambda x, t: x, X, t_end=1.0), "t_end"),
    ("sample_flow steps 2.5", lambda: diffusion.sample_flow(lambda x, t: x, X, steps=2.5), "steps"),
    ("sample_flow velocity", lambda: diffusion.sample_flow(None, X), "velocity"),
    ("FlowMatching dropout inf", lambda: diffusion.FlowMatching(UNET, label_dropout=math.inf), "label_dropout"),
    ("FlowMatching rescale", lambda: diffusion.FlowMatching(UNET, rescale="yes"), "rescale"),
    ("FlowMatching loss v shape", lambda: diffusion.FlowMatching(UNET)(X, T, None, X[:2]), "v"),
    ("FlowMatching sample_t -1", lambda: diffusion.FlowMatching(UNET).sample_t(-1), "n"),
    ("FlowMatching guidance nan", lambda: diffusion.FlowMatching(UNET).velocity(X, 0.5, guidance=math.nan), "guidance"),
    # the flow networks' forward
    ("unet 3 channels", lambda: UNET(torch.rand(4, 3, 28, 28), 0.5), "x"),
    ("unet 32x32", lambda: UNET(torch.rand(4, 1, 32, 32), 0.5), "x"),
    ("unet one image", lambda: UNET(X[0], 0.5), "x"),
    ("unet float labels", lambda: UNET(X, 0.5, torch.tensor([1.0, 2.0, 3.0, 4.0])), "labels"),
    ("unet label 11", lambda: UNET(X, 0.5, torch.tensor([0, 1, 2, 11])), "labels"),
    ("unet label -1", lambda: UNET(X, 0.5, torch.tensor([0, 1, 2, -1])), "labels"),
    ("unet labels list", lambda: UNET(X, 0.5, [0, 1, 2, 3]), "labels"),
    ("unet t 1.5", lambda: UNET(X, 1.5), "t"),
    ("unet t -0.5 tensor", lambda: UNET(X, T - 1), "t"),
    ("unet t (4, 1)", lambda: UNET(X, T[:, None]), "t"),
    ("unet t string", lambda: UNET(X, "0.5"), "t"),
    ("mlp width 3", lambda: FLOW_MLP(torch.rand(4, 3), 0.5), "x"),
    ("mlp label 4", lambda: FLOW_MLP(torch.rand(4, 2), 0.5, torch.tensor([0, 1, 2, 4])), "labels"),
    # steps: every option
    ("VAEStep beta inf", lambda: VAEStep(VAE, beta=math.inf), "beta"),
    ("VAEStep lr '1e-3'", lambda: VAEStep(VAE, lr="1e-3"), "lr"),
    ("VAEStep optimizer instance", lambda: VAEStep(VAE, optimizer=OPT), "optimizer"),
    ("VAEStep kl_warmup 2.5", lambda: VAEStep(VAE, kl_warmup=2.5), "kl_warmup"),
    ("ClassifierStep lr inf", lambda: ClassifierStep(CNN, lr=math.inf), "lr"),
    ("ClassifierStep weight_decay -1", lambda: ClassifierStep(CNN, weight_decay=-1.0), "weight_decay"),
    ("ClassifierStep robust 'yes'", lambda: ClassifierStep(CNN, robust="yes"), "robust"),
    ("ClassifierStep shift True", lambda: ClassifierStep(CNN, shift=True), "shift"),
    ("ClassifierStep decay_steps 0", lambda: ClassifierStep(CNN, decay_steps=0), "decay_steps"),
    ("ClassifierStep warmup 1.5", lambda: ClassifierStep(CNN, warmup=1.5), "warmup"),
    ("FlowStep lr nan", lambda: FlowStep(UNET, lr=math.nan), "lr"),
    ("FlowStep ema_decay 'x'", lambda: FlowStep(UNET, ema_decay="x"), "ema_decay"),
    ("FlowStep preview_seed -1", lambda: FlowStep(UNET, preview_seed=-1), "preview_seed"),
    ("GANStep betas 1.5", lambda: gan_step(betas=(0.5, 1.5)), "betas"),
    ("GANStep betas scalar", lambda: gan_step(betas=0.5), "betas"),
    ("GANStep lr_g 0", lambda: gan_step(lr_g=0), "lr_g"),
    ("GANStep lr_d inf", lambda: gan_step(lr_d=math.inf), "lr_d"),
    ("GANStep r1 nan", lambda: gan_step(r1=math.nan), "r1"),
    ("GANStep mode_seeking -1", lambda: gan_step(mode_seeking=-1.0), "mode_seeking"),
    ("GANStep n_critic 1.0", lambda: gan_step(n_critic=1.0), "n_critic"),
    ("GANStep rescale 1", lambda: gan_step(rescale=1), "rescale"),
    ("GANStep G not a model", lambda: GANStep("G", CD), "G"),
    ("averaged_generator batches 0", lambda: gan_step(ema_decay=0.9).averaged_generator(batches=0), "batches"),
    ("cosine_schedule total 2.5", lambda: cosine_schedule(OPT, total=2.5), "decay_steps"),
    # evaluation
    ("mnist_quality float labels", lambda: evaluation.mnist_quality(torch.rand(10, 1, 28, 28), labels=torch.zeros(10)),
     "labels"),
    ("mnist_quality label 10", lambda: evaluation.mnist_quality(torch.rand(10, 1, 28, 28),
                                                                labels=torch.full((10,), 10)), "labels"),
    ("mnist_quality reference", lambda: evaluation.mnist_quality(torch.rand(10, 1, 28, 28), reference="train"),
     "reference"),
    ("mnist_quality classifier", lambda: evaluation.mnist_quality(torch.rand(10, 1, 28, 28), classifier=3), "classifier"),
    ("copy_share 0..255", lambda: evaluation.copy_share(torch.rand(10, 1, 28, 28) * 255), "samples"),
    ("copy_share rgb", lambda: evaluation.copy_share(torch.rand(10, 3, 28, 28)), "samples"),
    ("copy_share uint8", lambda: evaluation.copy_share(torch.zeros(10, 1, 28, 28, dtype=torch.uint8)), "samples"),
    ("copy_share reference", lambda: evaluation.copy_share(torch.rand(10, 1, 28, 28), reference="val2"), "reference"),
    ("both_instruments label 11", lambda: evaluation.both_instruments(torch.rand(10, 1, 28, 28),
                                                                      labels=torch.full((10,), 11)), "labels"),
    ("draw_samples n 0", lambda: evaluation.draw_samples(GAN, n=0), "n"),
    ("draw_samples seed -1", lambda: evaluation.draw_samples(GAN, n=2, seed=-1), "seed"),
    ("draw_samples conditional 1", lambda: evaluation.draw_samples(CGAN, n=2, conditional=1), "conditional"),
    ("draw_samples chunk 0", lambda: evaluation.draw_samples(GAN, n=2, chunk=0), "chunk"),
    ("draw_samples no sampler", lambda: evaluation.draw_samples(CD, n=2), "model"),
    ("instrument name", lambda: evaluation.instrument("inception"), "instrument"),
    ("tracker steps 0", lambda: evaluation.tracker("toy-gan", 0), "steps"),
    # widgets and the quiz
    ("class_picker n -1", lambda: widgets.class_picker(CGAN, n=-1), "n"),
    ("class_picker default 10", lambda: widgets.class_picker(CGAN, n=2, default=10), "default"),
    ("class_picker seed 1.5", lambda: widgets.class_picker(CGAN, n=2, seed=1.5), "seed"),
    ("class_picker no sampler", lambda: widgets.class_picker(CD, n=2), "model"),
    ("interpolation steps 0", lambda: widgets.interpolation_slider(DECODE, Z2, Z2 + 1, steps=0), "steps"),
    ("interpolation scale 0", lambda: widgets.interpolation_slider(DECODE, Z2, Z2 + 1, scale=0), "scale"),
    ("interpolation z_b size", lambda: widgets.interpolation_slider(DECODE, Z2, torch.ones(3)), "z_b"),
    ("interpolation z_a nan", lambda: widgets.interpolation_slider(DECODE, Z2 * math.nan, Z2), "z_a"),
    ("interpolation decode", lambda: widgets.interpolation_slider("decoder", Z2, Z2), "decode"),
    ("latent_explorer lim -1", lambda: widgets.latent_explorer(DECODE, Z2, lim=-1), "lim"),
    ("latent_explorer names", lambda: widgets.latent_explorer(DECODE, Z2, names=["a"]), "names"),
    ("latent_explorer z0 string", lambda: widgets.latent_explorer(DECODE, "z"), "z0"),
    ("denoising n 2.5", lambda: widgets.denoising_slider(UNET, n=2.5), "n"),
    ("denoising label 2.0", lambda: widgets.denoising_slider(UNET, n=1, label=2.0), "label"),
    ("denoising label 10", lambda: widgets.denoising_slider(UNET, n=1, label=10), "label"),
    ("denoising preview 0", lambda: widgets.denoising_slider(UNET, n=1, steps=1, preview=0), "preview"),
    ("denoising guidance nan", lambda: widgets.denoising_slider(UNET, n=1, guidance=math.nan), "guidance"),
    ("flow_trace steps 0", lambda: widgets.flow_trace(UNET, 1, steps=0), "steps"),
    ("guidance_explorer label 10", lambda: widgets.guidance_explorer(UNET, n=1, label=10), "label"),
    ("guidance_explorer scale inf", lambda: widgets.guidance_explorer(UNET, n=1, scale=math.inf), "scale"),
    ("guidance_explorer preview_scales", lambda: widgets.guidance_explorer(UNET, n=1, preview_scales=()),
     "preview_scales"),
    ("watermark strength -1", lambda: widgets.watermark_explorer(X, BITS, strength=-1), "strength"),
    ("watermark preview_strengths", lambda: widgets.watermark_explorer(X, BITS, preview_strengths=(0.1, -1)),
     "preview_strengths"),
    ("watermark key 1.5", lambda: widgets.watermark_explorer(X, BITS, key=1.5), "key"),
    ("watermark images str", lambda: widgets.watermark_explorer("x", BITS), "images"),
    ("gan_toy_stepper steps_per_click 0", lambda: widgets.gan_toy_stepper(recipes.toy_gan, torch.zeros(8, 2),
                                                                           steps_per_click=0), "steps_per_click"),
    ("gan_toy_stepper data (N, 3)", lambda: widgets.gan_toy_stepper(recipes.toy_gan, torch.zeros(8, 3)), "data"),
    ("toy_gan_figure std 0", lambda: widgets.toy_gan_figure(recipes.toy_gan(hidden=4), std=0), "std"),
    ("grid_png nrow 0", lambda: widgets.grid_png(X, nrow=0), "nrow"),
    ("grid_png numpy", lambda: widgets.grid_png(X.numpy(), nrow=2), "images"),
    ("png_bytes float", lambda: widgets.png_bytes(np.zeros((4, 4))), "img"),
    ("digit_buttons 10", lambda: widgets.digit_buttons(10), "value"),
    ("preprocess antialias 'yes'", lambda: widgets.preprocess_settings(IMG, size=4, antialias="yes"), "antialias"),
    ("preprocess brightness -1", lambda: widgets.preprocess_settings(IMG, size=4, brightness=-1.0), "brightness"),
    ("quiz rounds 2.5", lambda: quiz.RealOrGenerated(X, X, rounds=2.5), "rounds"),
    ("quiz fake rgb", lambda: quiz.RealOrGenerated(X, torch.rand(4, 3, 28, 28), rounds=2), "fake"),
    ("quiz real 0..255", lambda: quiz.RealOrGenerated(X * 255, X, rounds=2), "real"),
    ("quiz seed -1", lambda: quiz.RealOrGenerated(X, X, rounds=2, seed=-1), "seed"),
    ("quiz answer 'real'", lambda: quiz.RealOrGenerated(X, X, rounds=2).answer("real"), "says_generated"),
    ("quiz scale 0", lambda: quiz.real_or_generated_quiz(X, X, rounds=2, scale=0), "scale"),
    # recipes and exercises
    ("fit_options steps 0", lambda: recipes.fit_options("toy-gan", steps=0), "steps"),
    ("fit_options steps 2.5", lambda: recipes.fit_options("toy-gan", steps=2.5), "steps"),
    ("make_step unknown option", lambda: recipes.make_step("toy-gan", lr=1e-3), "lr"),
    ("make_step unknown model option", lambda: recipes.make_step("toy-gan", model={"widht": 3}), "widht"),
    ("make_step seed -1", lambda: recipes.make_step("toy-gan", seed=-1), "seed"),
    ("make_step steps -5", lambda: recipes.make_step("toy-gan", steps=-5), "steps"),
    ("make_step device", lambda: recipes.make_step("toy-gan", device="gpu"), "device"),
    ("get unhashable name", lambda: recipes.get(["toy-gan"]), "recipe"),
    ("hint unknown", lambda: hint("no_such_exercise"), "exercise"),
    ("hint level 1.5", lambda: hint("q_sample", 1.5), "level"),
    ("hint level 0", lambda: hint("q_sample", 0), "level"),
]


def test_the_table_is_long_enough():
    assert len(WRONG_CALLS) >= 40


@pytest.mark.parametrize("call, name", [(c, n) for _, c, n in WRONG_CALLS], ids=[i for i, _, _ in WRONG_CALLS])
def test_a_wrong_call_names_its_argument(call, name):
    with pytest.raises(ERRORS, match=rf"\b{name}\b"):
        call()


def test_messages_say_what_was_expected_and_what_came():
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 10\), got values from -1 to 12"):
        CGAN.sample(2, labels=torch.tensor([-1, 12]))
    with pytest.raises(ValueError, match=r"x must be in \[0, 1\], got values up to 255 — divide uint8 pixels by 255"):
        VAE.loss(torch.linspace(0, 255, 4 * 784).reshape(4, 1, 28, 28))
    with pytest.raises(TypeError, match=r"n must be a whole number \(int\), got 2.5 \(float\)"):
        GAN.sample(2.5)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 28, 28\), got \(4, 3, 28, 28\)"):
        VAE.loss(torch.rand(4, 3, 28, 28))
    with pytest.raises(ValueError, match=r"quality must be an integer in \[1, 100\], got 101"):
        forensics.jpeg(X, 101)


def test_errors_name_the_recipe_and_the_option():
    with pytest.raises(ValueError, match=r"recipe 'toy-gan': unknown step option 'lr'; GANStep takes \[.*'lr_d'"):
        recipes.make_step("toy-gan", lr=1e-3)
    with pytest.raises(ValueError, match=r"recipe 'course-vae': unknown model option 'widht'"):
        recipes.make_step("course-vae", model={"widht": 8})


def test_check_of_something_that_is_not_a_function_says_so():
    feedback = check_q_sample(3)
    assert not feedback and feedback.mistake == "type" and "pass the function itself" in feedback.message


def test_valid_edge_values_still_work():
    assert GAN.sample(0).shape == (0, 1, 28, 28) and CGAN.sample(0).shape == (0, 1, 28, 28)
    assert GAN.sample(np.int64(2)).shape == (2, 1, 28, 28)
    assert CGAN.sample(3, labels=np.array([0, 9, 5], dtype=np.int32)).shape == (3, 1, 28, 28)
    assert CGAN.sample(2, labels=[1, 2]).shape == (2, 1, 28, 28) and CGAN.sample(2, labels=(1, 2)).shape[0] == 2
    assert forensics.jpeg(X, 1).shape == forensics.jpeg(X, np.int64(100)).shape == X.shape
    assert forensics.down_up(X, 1.0).shape == X.shape and forensics.embed(X, BITS.bool()).shape == X.shape
    assert forensics.embed(X, BITS, strength=0).shape == X.shape  # no mark: the watermark widget's reference
    assert torch.isfinite(VAE.loss(X.double().float())) and VAE.iwae(X, k=1).shape == (4,)
    assert CNN.predict_proba(X[:0]).shape == (0, 10)
    assert runtime.noise(0, 3).shape == (0, 3) and runtime.noise(np.int64(2)).shape == (2,)
    assert runtime.noise(X.shape).shape == X.shape  # one sequence, as torch.randn takes it
    assert diffusion.linear_betas(1, beta_1=0.1, beta_T=0.1).tolist() == [0.1]
    assert torch.equal(diffusion.q_sample(X, 1.0, X * 0), X) and diffusion.q_step(X, 0.0).shape == X.shape
    assert diffusion.evaluations(np.int64(1), "heun") == 1
    assert UNET(X, 0.0).shape == UNET(X, torch.tensor(1.0)).shape == UNET(X, T, torch.tensor([0, 9, 10, 3])).shape
    assert FLOW_MLP(torch.rand(0, 2), 0.5, torch.zeros(0, dtype=torch.long)).shape == (0, 2)
    assert diffusion.sample_flow(lambda x, t: x, X, steps=1, t_end=0.5).shape == X.shape


def test_the_checks_do_not_change_any_result():
    """Validation only reads its arguments: a valid call returns exactly what the unchecked computation does."""
    assert torch.equal(runtime.noise(3, 2, generator=torch.Generator().manual_seed(5)),
                       torch.randn(3, 2, generator=torch.Generator().manual_seed(5)))
    x_t, v = diffusion.flow_path(X, X.flip(0), T)
    torch.testing.assert_close(x_t, 0.5 * X + 0.5 * X.flip(0), rtol=0, atol=0)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    logits, mu, logvar = VAE(X, generator=g())
    rec = torch.nn.functional.binary_cross_entropy_with_logits(logits, X, reduction="none").flatten(1).sum(1)
    kl = -0.5 * (1 + logvar - mu.pow(2) - logvar.exp()).sum(1)
    torch.testing.assert_close(losses.vae_loss(*VAE.terms(X, generator=g())), (rec + kl).mean(), rtol=0, atol=0)
    z, labels = torch.randn(3, 64, generator=g()), torch.tensor([0, 4, 9])
    with torch.no_grad():
        expected = (CGAN.net(torch.cat([z, CGAN.embed(labels)], 1)) + 1) / 2
    torch.testing.assert_close(CGAN.sample(3, labels=labels, generator=g()), expected, rtol=0, atol=0)


# --- (b) properties: generated wrong values ---------------------------------------------------------

@FAST
@given(st.lists(st.integers(-50, 50), min_size=1, max_size=6).filter(lambda v: min(v) < 0 or max(v) >= 10))
def test_labels_outside_the_classes_are_refused_by_sample_and_forward(values):
    labels = torch.tensor(values)
    with pytest.raises(ValueError, match=r"labels must be integers in \[0, 10\)"):
        CGAN.sample(len(values), labels=labels)
    with pytest.raises(ValueError, match="labels"):
        CD(torch.rand(len(values), 1, 28, 28), labels)


@FAST
@given(st.lists(st.floats(0, 9, allow_nan=False), min_size=1, max_size=6))
def test_float_labels_are_refused_even_when_whole(values):
    with pytest.raises(TypeError, match="labels"):
        CGAN.sample(len(values), labels=torch.tensor(values))
    with pytest.raises(TypeError, match="y"):
        CNN.loss(torch.rand(len(values), 1, 28, 28), torch.tensor(values))


@FAST
@given(st.sampled_from(sorted(SAMPLERS)),
       st.integers(max_value=-1) | st.floats(allow_nan=True) | st.booleans() | st.text(max_size=2) | st.none())
def test_every_sample_wants_a_whole_count(model, n):
    with pytest.raises(ERRORS, match=r"\bn\b"):
        SAMPLERS[model].sample(n)


@FAST
@given(st.floats(max_value=-1e-9) | st.sampled_from([math.nan, math.inf, -math.inf]))
def test_watermark_strength_must_be_non_negative_and_finite(strength):
    with pytest.raises(ValueError, match="strength"):
        forensics.embed(X, BITS, strength=strength)


@FAST
@given(st.integers().filter(lambda q: not 1 <= q <= 100) | st.floats(1, 100))
def test_jpeg_quality_is_a_whole_number_from_1_to_100(quality):
    with pytest.raises(ERRORS, match="quality"):
        forensics.jpeg(X[:1], quality)


@FAST
@given(st.integers(-5, 5).filter(lambda b: b not in (0, 1)))
def test_bits_are_zeros_and_ones(bad):
    bits = BITS.clone()
    bits[0, 0] = bad
    with pytest.raises(ValueError, match="bits must be 0 or 1"):
        forensics.embed(X, bits)


@FAST
@given(st.sampled_from([1, 2, 3, 4]), st.sampled_from([14, 28, 32]), st.sampled_from([14, 28, 32]))
def test_vae_loss_wants_its_own_image_shape(c, h, w):
    x = torch.rand(2, c, h, w)
    if (c, h, w) == (1, 28, 28):
        assert torch.isfinite(VAE.loss(x))
    else:
        with pytest.raises(ValueError, match=r"x must have shape \(N, 1, 28, 28\)"):
            VAE.loss(x)


@FAST
@given(st.floats(-1000, 1000, allow_nan=False), st.floats(-1000, 1000, allow_nan=False))
def test_vae_loss_wants_pixels_in_0_1(a, b):
    x = torch.full((2, 1, 28, 28), 0.5)
    x[0, 0, 0, 0], x[1, 0, 0, 0] = a, b
    if min(a, b) >= -validate.TOLERANCE and max(a, b) <= 1 + validate.TOLERANCE:
        assert torch.isfinite(VAE.loss(x))
    else:
        with pytest.raises(ValueError, match=r"x must be in \[0, 1\]"):
            VAE.loss(x)


@FAST
@given(st.integers(max_value=0) | st.floats(allow_nan=True))
def test_counts_of_the_bounds_and_metrics(k):
    with pytest.raises(ERRORS, match=r"\bk\b"):
        VAE.iwae(X, k=k)
    with pytest.raises(ERRORS, match=r"\bk\b"):
        metrics.precision_recall(FEATS, FEATS, k=k)


@FAST
@given(st.integers(max_value=-1) | st.floats(allow_nan=True) | st.booleans() | st.text(max_size=2) | st.none())
def test_noise_and_schedules_want_whole_sizes(size):
    with pytest.raises(ERRORS, match="shape"):
        runtime.noise(size, 4)
    with pytest.raises(ERRORS, match=r"\bT\b"):
        diffusion.linear_betas(size if size != 0 else -1)


@FAST
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda a: not 0 < a <= 1))
def test_a_bar_and_beta_are_probabilities(a):
    with pytest.raises(ValueError, match="a_bar"):
        diffusion.q_sample(X, a, X)
    if not 0 <= a < 1:
        with pytest.raises(ValueError, match="beta"):
            diffusion.q_step(X, a)


@FAST
@given(st.floats(width=32, allow_nan=True, allow_infinity=True).filter(lambda t: not 0 <= t <= 1))
def test_flow_times_outside_0_1_are_refused(t):
    with pytest.raises(ValueError, match=r"\bt\b"):
        UNET(X, t)
    with pytest.raises(ValueError, match=r"\bt\b"):
        UNET(X, torch.full((4,), t))
    with pytest.raises(ValueError, match=r"\bt\b"):
        diffusion.to_x0_eps(X, X, t)
    with pytest.raises(ValueError, match=r"\bt\b"):
        diffusion.flow_path(X, X, torch.full((4,), t))


@FAST
@given(st.lists(st.integers(-20, 20), min_size=1, max_size=5).filter(lambda v: min(v) < 0 or max(v) > 10))
def test_unet_labels_outside_0_to_the_no_class_token(values):
    with pytest.raises(ValueError, match=r"labels must be \(\d+,\) ints in \[0, 10\]"):
        UNET(torch.rand(len(values), 1, 28, 28), 0.5, torch.tensor(values))


@FAST
@given(st.sampled_from(["lr", "beta"]), st.floats(max_value=0) | st.sampled_from([math.inf, math.nan]))
def test_vae_step_numbers_are_finite_and_in_range(option, value):
    if option == "beta" and value == 0:
        return  # β = 0 is allowed: a plain autoencoder
    with pytest.raises(ValueError, match=rf"\b{option}\b"):
        VAEStep(VAE, **{option: value})


@FAST
@given(st.tuples(st.floats(allow_nan=True), st.floats(allow_nan=True)).filter(
    lambda b: not all(0 <= v < 1 for v in b)))
def test_adam_betas_are_a_pair_in_0_1(betas):
    with pytest.raises(ValueError, match="betas"):
        gan_step(betas=betas)


@FAST
@given(st.integers(max_value=0) | st.floats(allow_nan=True) | st.booleans())
def test_widget_counts_are_whole_numbers_from_1(k):
    with pytest.raises(ERRORS, match="steps"):
        widgets.interpolation_slider(DECODE, Z2, Z2 + 1, steps=k)
    with pytest.raises(ERRORS, match=r"\bn\b"):
        widgets.class_picker(CGAN, n=k)


# --- (c) the helpers themselves ----------------------------------------------------------------------

def test_count_accepts_whole_numbers_and_numpy_integers():
    assert validate.count("n", 3) == 3 and validate.count("n", 0) == 0
    assert validate.count("n", np.int64(7)) == 7 and type(validate.count("n", np.int32(7))) is int
    assert validate.count("n", 5, minimum=5) == 5


@pytest.mark.parametrize("value, error", [(True, TypeError), (np.bool_(False), TypeError), (3.0, TypeError),
                                          (np.float64(3), TypeError), ("3", TypeError), (None, TypeError),
                                          (torch.tensor(3), TypeError), (-1, ValueError)])
def test_count_refuses(value, error):
    with pytest.raises(error, match="^n_steps must be"):
        validate.count("n_steps", value)


def test_number_accepts_reals_and_checks_bounds():
    assert validate.number("s", 2) == 2.0 and validate.number("s", np.float32(0.5)) == 0.5
    assert validate.number("s", torch.tensor(0.25)) == 0.25
    assert validate.number("s", 0, low=0) == 0 and validate.number("s", 1, high=1) == 1
    for value, kwargs in [(0, dict(low=0, low_inclusive=False)), (1, dict(high=1, high_inclusive=False)),
                          (-0.1, dict(low=0)), (1.1, dict(low=0, high=1))]:
        with pytest.raises(ValueError, match="^s must be"):
            validate.number("s", value, **kwargs)
    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="^s must be a finite number"):
            validate.number("s", value)
    for value in (True, "1", None, [1.0], 1j):
        with pytest.raises(TypeError, match="^s must be a real number"):
            validate.number("s", value)


def test_labels_accepts_integer_tensors_arrays_and_lists_and_returns_int64():
    t = torch.tensor([0, 9, 3])
    assert validate.labels("y", t, n=3, n_classes=10) is t  # already int64: returned as it is
    for value in (np.array([0, 9, 3], np.uint8), [0, 9, 3], (0, 9, 3), torch.tensor([0, 9, 3], dtype=torch.int32)):
        out = validate.labels("y", value, n=3, n_classes=10)
        assert out.dtype == torch.int64 and out.tolist() == [0, 9, 3]
    assert validate.labels("y", [], n=0, n_classes=10).shape == (0,)


@pytest.mark.parametrize("value, error, message", [
    (torch.tensor([0.0, 1.0]), TypeError, "integers"), (np.array([0.0, 1.0]), TypeError, "integers"),
    (torch.tensor([True, False]), TypeError, "integers"), ("01", TypeError, "tensor, array or list"),
    (torch.tensor([0, 1, 2]), ValueError, r"shape \(2,\)"), (torch.tensor([[0, 1]]), ValueError, r"shape \(2,\)"),
    (torch.tensor([0, 10]), ValueError, r"in \[0, 10\), got values from 0 to 10"),
    (torch.tensor([-2, 3]), ValueError, "from -2 to 3"),
])
def test_labels_refuses(value, error, message):
    with pytest.raises(error, match=f"^y must .*{message}"):
        validate.labels("y", value, n=2, n_classes=10)


def test_images_accepts_float_batches_and_returns_them_unchanged():
    assert validate.images("x", X, shape=(1, 28, 28), value_range=(0, 1)) is X
    assert validate.images("x", X.double(), shape=(1, None, None)) is not None
    assert validate.images("x", torch.full((1, 1, 2, 2), 1 + 0.5 * validate.TOLERANCE), value_range=(0, 1)) is not None
    assert validate.images("x", torch.zeros(0, 1, 28, 28), value_range=(0, 1)).shape[0] == 0


@pytest.mark.parametrize("value, error, message", [
    (X.numpy(), TypeError, "got numpy.ndarray; use torch.from_numpy"), ([[0.0]], TypeError, "got list"),
    ((X * 255).to(torch.uint8), TypeError, "floating-point.*divide uint8 pixels by 255"),
    (X[0], ValueError, r"4-D .*got shape \(1, 28, 28\); add a batch axis"),
    (torch.rand(2, 1, 32, 32), ValueError, r"shape \(N, 1, 28, 28\), got \(2, 1, 32, 32\)"),
    (X * 255, ValueError, r"in \[0, 1\], got values up to"), (X - 1, ValueError, r"values down to -?\d"),
    (X * math.nan, ValueError, "NaN"), (torch.full((1, 1, 28, 28), math.inf), ValueError, "up to inf"),
])
def test_images_refuses(value, error, message):
    with pytest.raises(error, match=f"^x must .*{message}"):
        validate.images("x", value, shape=(1, 28, 28), value_range=(0, 1))


def test_one_of():
    assert validate.one_of("kind", "hinge", losses.GAN_LOSSES) == "hinge"
    for value in ("wgan", ["hinge"], torch.tensor(1), None):
        with pytest.raises(ValueError, match="^unknown kind .*; expected one of"):
            validate.one_of("kind", value, losses.GAN_LOSSES)
