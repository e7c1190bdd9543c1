"""Every training recipe of the course, named once: the model, the step's settings and the budget.

    step, data = recipes.build("dcgan-mnist")          # the step object (models on the CPU) and its data
    history = fit(step, data, **recipes.fit_options("dcgan-mnist"))

Scripts (`scripts/pretrain.py`, the sweeps), benchmarks, widgets and tests build their models from here
by name, so a recipe cannot drift between the checkpoint it made, the test that guards it and the
benchmark that times it. What each shipped recipe reached, and why it is what it is, is in the
README ("Pretrained checkpoints") and in each checkpoint's manifest entry, which records the recipe.

- the **shipped** recipes (`SHIPPED`) make the checkpoints of `genimg_edu.pretrained`;
- ``"toy-gan"``: notebook 03's 2-D game on the ring (also notebook 07's collapsed run and the GAN Lab widget);
- ``"course-gan"`` / ``"plain-gan"``, ``"course-vae"`` / ``"plain-vae"``: the course's settings at a size
  that learns in a minute, and a textbook baseline of each (`benchmarks/time_to_quality.py`, the live gate);
- ``"sweep-gan"``, ``"sweep-vae"``: the base of notebook 05's stability lab (`scripts/stability_sweep.py`);
- ``"challenge-gan"``, ``"challenge-flow"``: notebook 08's small models (`scripts/challenges.py`).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import torch

from genimg_edu.runtime import one_thread

FAMILIES = ("classifier", "vae", "gan", "flow")
DATA = ("mnist", "mnist-labelled", "shapes", "ring")


@dataclass(frozen=True)
class Recipe:
    family: str  # which step trains it: one of FAMILIES
    network: str  # the model class in genimg_edu.models
    model: dict  # the network's options
    step: dict  # the step's options: optimiser, loss, stabilisers, schedule
    steps: int  # updates (fit's max_steps)
    batch_size: int
    seed: int = 0  # the initial weights and fit's batches and noise
    data: str = "mnist"  # what it trains on (the bundled *train* split): one of DATA
    disc: dict | None = None  # GANs: the discriminator's options
    sampling: dict | None = None  # flow models: the sampler chosen on val (scripts/flow_sampling.py)
    every: int | None = None  # GANs and flow models: track quality on val every this many steps
    n_train: int | None = None  # "shapes": how many to generate
    mean_image_bias: bool = True  # VAEs: start the decoder's output bias at the data's mean image
    doc: str = field(default="", compare=False)

    def record(self) -> dict:
        """The hyperparameters as a checkpoint's manifest stores them."""
        out = {"model": self.model, "step": self.step, "fit": {"max_steps": self.steps, "batch_size": self.batch_size}}
        out.update({k: getattr(self, k) for k in ("disc", "sampling", "every", "n_train") if getattr(self, k)})
        return out


_CNN = dict(width=32, hidden=128, dropout=0.3)
_SHIFTED = dict(lr=2e-3, weight_decay=5e-4, shift=2, warmup=100)
_HINGE = dict(loss="hinge", betas=(0.5, 0.999))
RECIPES: dict[str, Recipe] = {
    "cnn-mnist": Recipe("classifier", "MNISTClassifier", _CNN, dict(_SHIFTED, robust=True), 5000, 64, data="mnist-labelled",
                        doc="the course's measuring instrument: trained with blur, gamma and noise nuisances"),
    "cnn-mnist-plain": Recipe("classifier", "MNISTClassifier", _CNN, _SHIFTED, 5000, 64, seed=1, data="mnist-labelled",
                              doc="the second instrument: an independent classifier (another seed) without them"),
    "dcgan-mnist": Recipe("gan", "DCGANGenerator", dict(z_dim=64, width=64, refine=True),
                          dict(_HINGE, lr_g=2e-3, lr_d=2e-3, ema_decay=0.999, shift=2), 17500, 64,
                          disc=dict(width=48, spectral=True, refine=True), every=2500,
                          doc="width-48 D: the recipe fits in 30 min on a slow 2-core day (README)"),
    # Tried on 2026-11-29: dcgan-mnist's settings (refine, lr 2e-3, no mode-seeking term) made class-conditional
    # collapses within each class — labels 100 % and IS 1.01 x on val, but FD 17 x at 2,500 steps and 20 x
    # at 5,000 (the shipped DCGAN run: 16 x and 7.5 x) — so this recipe keeps the mode-seeking term.
    "cgan-mnist": Recipe("gan", "DCGANGenerator", dict(z_dim=64, width=64, n_classes=10),
                         dict(_HINGE, lr_g=2e-4, lr_d=2e-4, ema_decay=0.999, shift=2, mode_seeking=1.0), 24000, 64,
                         data="mnist-labelled", disc=dict(width=64, spectral=True, n_classes=10), every=4000),
    # a 0.57 M-parameter U-Net; Heun with 10 steps (19 network evaluations) and classifier-free guidance
    "flow-mnist": Recipe("flow", "TinyUNet", dict(width=32, emb_dim=128, n_classes=10),
                         dict(lr=2e-3, t_sampling="logit-normal", label_dropout=0.2, ema_decay=0.999, warmup=200),
                         6000, 128, data="mnist-labelled", every=1000,
                         sampling=dict(steps=10, method="heun", guidance=1.5)),
    "vae-mnist": Recipe("vae", "ConvVAE", dict(width=32, z_dim=32, hidden=256), dict(lr=2e-3, shift=1, warmup=200),
                        12000, 128),
    "vae2d-mnist": Recipe("vae", "MLPVAE", dict(hidden=(512, 256), z_dim=2), dict(lr=2e-3, shift=1, warmup=200),
                          8000, 128),
    "betavae-shapes": Recipe("vae", "ConvVAE", dict(image_shape=(3, 32, 32), width=32, z_dim=10, hidden=256),
                             dict(lr=1e-3, beta=4.0, warmup=200), 10000, 128, data="shapes", n_train=20000),
    # --- recipes that make no checkpoint -------------------------------------------------------------
    "toy-gan": Recipe("gan", "MLPGenerator", dict(hidden=64),
                      dict(loss="non-saturating", lr_g=1e-3, lr_d=1e-3, betas=(0.0, 0.9), r1=0.1, rescale=False),
                      1000, 256, data="ring", disc=dict(hidden=64),
                      doc="notebook 03's toy game: MLP players, Adam β = (0, 0.9) and the R1 penalty "
                          "(Mescheder et al. 2018), which keeps this small game from circling"),
    "course-gan": Recipe("gan", "DCGANGenerator", dict(z_dim=64, width=32),
                         dict(_HINGE, lr_g=2e-3, lr_d=2e-3, ema_decay=0.99, shift=1), 1000, 64,
                         disc=dict(width=32, spectral=True),
                         doc="the course's GAN settings (hinge, spectral norm, lr 2e-3 — notebook 05's sweep — "
                             "translations, a short-horizon weight average) at half dcgan-mnist's width, no refine"),
    "plain-gan": Recipe("gan", "DCGANGenerator", dict(z_dim=64, width=64),
                        dict(loss="non-saturating", lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)), 1000, 64,
                        disc=dict(width=64, spectral=False),
                        doc="the textbook DCGAN (Radford et al. 2016; the PyTorch example): BCE, Adam(2e-4, β1 = 0.5)"),
    "course-vae": Recipe("vae", "ConvVAE", dict(width=32, z_dim=16), dict(lr=2e-3, shift=1), 1000, 128,
                         doc="notebook 04's conv VAE: decoder bias at the mean image, ±1-pixel shifts"),
    "plain-vae": Recipe("vae", "MLPVAE", dict(hidden=(400,), z_dim=20), dict(lr=1e-3), 1000, 128, mean_image_bias=False,
                        doc="the PyTorch VAE example's 784-400-20 MLP, Adam(1e-3)"),
    "sweep-gan": Recipe("gan", "DCGANGenerator", dict(z_dim=64, width=32),
                        dict(_HINGE, lr_g=2e-4, lr_d=2e-4), 2000, 64, disc=dict(width=32, spectral=True),
                        doc="notebook 05's stability lab: the baseline each setting changes one thing of"),
    "sweep-vae": Recipe("vae", "MLPVAE", dict(hidden=(256,), z_dim=16), {}, 2000, 128,
                        doc="notebook 05's KL-weight lab"),
    "challenge-gan": Recipe("gan", "DCGANGenerator", dict(z_dim=64, width=32),
                            dict(_HINGE, lr_g=2e-3, lr_d=2e-3), 2000, 64, disc=dict(width=32, spectral=True),
                            doc="notebook 08's seeds, data sizes and bias runs"),
    "challenge-flow": Recipe("flow", "TinyUNet", dict(width=16, emb_dim=64, n_classes=0),
                             dict(lr=2e-3, t_sampling="logit-normal", label_dropout=0.0), 1500, 64,
                             sampling=dict(steps=10, method="heun"), doc="notebook 08's unconditional flow model"),
}
SHIPPED = ("cnn-mnist", "cnn-mnist-plain", "dcgan-mnist", "cgan-mnist", "flow-mnist", "vae-mnist", "vae2d-mnist",
           "betavae-shapes")


def get(name: str) -> Recipe:
    """The recipe `name`; an unknown name is an error that lists the known ones."""
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; expected one of {sorted(RECIPES)}")
    return RECIPES[name]


def _budget(steps):
    """`steps`, None or a whole number >= 1 (0 would silently mean the recipe's budget)."""
    from genimg_edu import validate

    return None if steps is None else validate.count("steps", steps, minimum=1)


def _options(name: str, what: str, cls, given) -> dict:
    """`given`, a dict of options of `cls`, each one `cls` takes — else an error naming the recipe and the option."""
    if not isinstance(given, dict):
        raise TypeError(f"recipe {name!r}: {what} must be a dict of options, got {type(given).__name__}")
    params = inspect.signature(cls).parameters
    known = sorted(k for k, p in params.items() if p.kind == p.KEYWORD_ONLY)
    unknown = sorted(k for k in given if k not in known)
    if unknown:
        raise ValueError(f"recipe {name!r}: unknown {what} option {unknown[0]!r}; {cls.__name__} takes {known}")
    return given


def fit_options(name: str, *, steps: int | None = None) -> dict:
    """`fit`'s budget, batch size and seed for recipe `name` (``steps`` overrides the budget)."""
    r = get(name)
    steps = _budget(steps)
    return {"max_steps": steps or r.steps, "batch_size": r.batch_size, "seed": r.seed}


def training_data(name: str) -> tuple[torch.Tensor, ...]:
    """The tensors recipe `name` trains on: (x,) or (x, y), from the bundled *train* split."""
    from genimg_edu.data import load_dataset
    from genimg_edu.data.toy import ring_of_gaussians

    r = get(name)
    if r.data == "ring":
        return (ring_of_gaussians(10_000, std=0.1, generator=torch.Generator().manual_seed(0)),)
    if r.data == "shapes":
        return (load_dataset("shapes", "train", n=r.n_train, seed=r.seed)[0],)
    x, y = load_dataset("mnist", "train")
    return (x, y) if r.data == "mnist-labelled" else (x,)


def make_step(name: str, *, steps: int | None = None, device="cpu", data=None, seed: int | None = None, **changes):
    """The step object of recipe `name`, its models' initial weights seeded by the recipe (or by ``seed``).

    ``steps`` sets the learning-rate schedule's horizon (default: the recipe's budget); ``data``, the
    training tensors, is needed only by a VAE whose decoder starts at the mean image (default: the
    recipe's). ``changes`` override the step's options (e.g. ``ema_decay=None``); model options go in
    ``model={…}`` / ``disc={…}`` and are merged into the recipe's.
    """
    from genimg_edu import models, seed_everything, validate
    from genimg_edu import steps as step_classes

    r = get(name)
    horizon = _budget(steps) or r.steps
    if seed is not None:
        validate.count("seed", seed)
    Step = getattr(step_classes, {"gan": "GANStep", "classifier": "ClassifierStep", "flow": "FlowStep",
                                  "vae": "VAEStep"}[r.family])
    model_opts = {**r.model, **_options(name, "model", getattr(models, r.network), changes.pop("model", {}))}
    disc_opts = {**(r.disc or {}), **_options(name, "disc", getattr(models, r.network.replace("Generator", "Discriminator")),
                                                changes.pop("disc", {}))} if r.family == "gan" else {}
    if r.family != "gan" and "disc" in changes:
        raise ValueError(f"recipe {name!r}: unknown option 'disc'; only a GAN recipe has a discriminator")
    options = {**r.step, **_options(name, "step", Step, changes)}
    if r.family != "gan" and "warmup" in options:
        if "decay_steps" in options:
            raise ValueError(f"recipe {name!r}: decay_steps is set by steps ({horizon}) for this recipe's schedule; "
                             f"pass steps=… instead")
        validate.count("warmup", options["warmup"])
    if data is not None and (not isinstance(data, (tuple, list)) or not data
                             or not all(isinstance(t, torch.Tensor) for t in data)):
        raise TypeError(f"data must be the training tensors, a tuple (x,) or (x, y), got {type(data).__name__}")
    try:
        torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device must be a torch.device or a name such as 'cpu' or 'cuda', got {device!r}") from None
    seed_everything(r.seed if seed is None else seed)
    if r.family == "vae" and r.mean_image_bias and data is None:
        data = training_data(name)
    net = getattr(models, r.network)(**model_opts).to(device)
    if r.family == "gan":
        D = getattr(models, r.network.replace("Generator", "Discriminator"))(**disc_opts).to(device)
        return Step(net, D, **options)
    schedule = {}
    if "warmup" in options:  # a cosine schedule over the run, after a warm-up
        options["warmup"] = min(options["warmup"], horizon // 10)  # a short check run still decays
        schedule = {"decay_steps": horizon}
    if r.family == "vae" and r.mean_image_bias:
        net.init_output_bias(data[0].mean(0).to(device))
    return Step(net, **schedule, **options)


def build(name: str, *, steps: int | None = None, device="cpu", **changes):
    """(step object, training data) of recipe `name`: `make_step` and `training_data` together."""
    data = training_data(name)
    return make_step(name, steps=steps, device=device, data=data, **changes), data


def toy_gan(*, seed: int = 0, hidden: int = 64, **changes):
    """The ``"toy-gan"`` step with MLP players of `hidden` units (its `changes`: e.g. ``lr_g=5e-3, r1=0.0``)."""
    return make_step("toy-gan", seed=seed, model={"hidden": hidden}, disc={"hidden": hidden}, **changes)


def train_toy(step, data: torch.Tensor, steps: int, *, batch_size: int | None = None) -> dict:
    """`steps` more updates of a toy GAN by `fit`, silently; each call draws its own batches and noise
    (seeded by the steps done so far), so a stepped game repeats exactly from a Reset."""
    from genimg_edu.fit import fit

    with one_thread():  # 64-unit layers on 2-D points: a second thread only adds hand-offs
        return fit(step, (data,), max_steps=steps, batch_size=batch_size or get("toy-gan").batch_size,
                   seed=step.steps, reporter=None, log_every=0)
