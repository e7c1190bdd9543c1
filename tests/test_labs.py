"""The labs (notebooks/labs/): each solution runs top to bottom with every check passed, its live training
included; each stub says "not done yet", never a traceback; the learner writes enough; the scaffold never
shows an answer; and the last check names what went wrong end to end. (Each part's catalogue of mistakes is
tested with every exercise's, in test_exercises.py.)"""
import ast
import re
from pathlib import Path

import nbformat
import pytest

from genimg_edu.exercises import PROJECTS, REGISTRY, Feedback
from genimg_edu.exercises.lab1 import check_lab1_pipeline
from genimg_edu.exercises.lab1 import reference as pipeline
from genimg_edu.exercises.lab2 import TARGET, check_lab2_training, reference
from genimg_edu.exercises.lab3 import check_lab3_training
from genimg_edu.exercises.lab3 import reference as gan
from genimg_edu.exercises.lab4 import check_lab4_training
from genimg_edu.exercises.lab6 import check_lab6_leaderboard
from genimg_edu.exercises.lab6 import reference as board
from genimg_edu.exercises.lab4 import reference as vae
from genimg_edu.exercises.lab7 import check_lab7_digits, check_lab7_ring
from genimg_edu.exercises.lab7 import reference as flow
from genimg_edu.exercises.lab7.parts import _cfg_wrong
from genimg_edu.exercises.lab7.samplers import _euler_wrong

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "solutions" / "labs").glob("*.ipynb"))
REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def code_cells(path: Path) -> list:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def run(path: Path) -> list:
    """Run a lab's code cells in order in one namespace, as a kernel would; the checks' feedback, in order."""
    import matplotlib

    matplotlib.use("Agg")
    namespace, feedback = {"__name__": "__main__"}, []
    for cell in code_cells(path):
        tree = ast.parse(cell.source)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(path), "exec"), namespace)
        value = eval(compile(ast.Expression(last.value), str(path), "eval"), namespace) if last else None
        if isinstance(value, Feedback):  # what the cell shows, as a kernel would display its last expression
            feedback.append(value)
    return feedback


def test_there_is_a_lab_and_its_learners_notebook():
    assert LABS, "solutions/labs/ holds no lab"
    for lab in LABS:
        assert (ROOT / "notebooks" / "labs" / lab.name).is_file()


def solution_passes(lab: Path) -> None:
    feedback = run(lab)
    graded = [c.metadata["exercise"] for c in code_cells(lab) if "exercise" in c.metadata]
    assert [f.exercise for f in feedback] == graded and all(f.passed for f in feedback), feedback
    assert any(f.exercise in PROJECTS for f in feedback), "a lab ends with a check that trains the learner's parts"


# One class per lab: `make test`'s processes (pytest-xdist, --dist loadscope) deal out classes, so the live
# trainings (a minute or two each) run side by side instead of one after another in one process.
class TestLab1Solution:
    def test_the_solution_passes_every_check_and_its_live_training(self):
        solution_passes(ROOT / "solutions" / "labs" / "lab1_pipeline.ipynb")


class TestLab2Solution:
    def test_the_solution_passes_every_check_and_its_live_training(self):
        solution_passes(ROOT / "solutions" / "labs" / "lab2_cnn.ipynb")


class TestLab3Solution:
    def test_the_solution_passes_every_check_and_its_live_training(self):
        solution_passes(ROOT / "solutions" / "labs" / "lab3_dcgan.ipynb")


class TestLab6Solution:
    def test_the_solution_passes_every_check_and_its_live_training(self):
        solution_passes(ROOT / "solutions" / "labs" / "lab6_leaderboard.ipynb")


class TestLab4Solution:
    def test_the_solution_passes_every_check_and_its_live_training(self):
        solution_passes(ROOT / "solutions" / "labs" / "lab4_vae.ipynb")


class TestLab7Solution:
    def test_the_solution_passes_every_check_and_its_live_training(self):
        solution_passes(ROOT / "solutions" / "labs" / "lab7_flow.ipynb")


def test_every_lab_solution_is_run_above():
    run_above = {name.removeprefix("Test").removesuffix("Solution").lower() for name in globals() if name.startswith("TestLab")}
    assert run_above == {lab.stem.split("_")[0] for lab in LABS}


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_the_stub_says_not_done_at_every_check(lab):
    feedback = run(ROOT / "notebooks" / "labs" / lab.name)
    assert feedback and all(f.mistake == "not-done" and f.message.startswith("✎") for f in feedback), feedback


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_the_learner_writes_at_least_25_lines_and_no_answer_is_on_screen(lab):
    lines = learner_lines(lab)
    assert len(lines) >= 25, f"{lab.name}: the learner writes {len(lines)} lines"
    learner = (ROOT / "notebooks" / "labs" / lab.name).read_text(encoding="utf-8")
    shown = [line for line in lines if len(line.rstrip(",")) >= 20 and line.rstrip(",") in learner]
    assert not shown, f"{lab.name}: the learner's notebook shows these answer lines: {shown}"


def learner_lines(lab: Path) -> list[str]:
    """The lines the learner writes in a lab: between the solution markers, neither blank nor a comment."""
    answers = [m for c in code_cells(lab) for m in REGION.findall(c.source)]
    return [line.strip() for a in answers for line in a.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_the_learner_writes_200_lines_across_the_labs_as_the_readme_says():
    total = sum(len(learner_lines(lab)) for lab in LABS)
    assert total >= 200, f"the labs ask for {total} lines"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Across the {['', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'][len(LABS)]} labs the " \
           f"learner writes {total} lines." in readme


@pytest.mark.parametrize("lab", LABS, ids=lambda p: p.stem)
def test_every_part_has_at_least_three_catalogued_mistakes(lab):
    parts = [c.metadata["exercise"] for c in code_cells(lab) if "exercise" in c.metadata.get("tags", [])]
    assert parts and all(len(REGISTRY[p].mistakes) >= 3 for p in parts), \
        {p: len(REGISTRY[p].mistakes) for p in parts}


def _no_step_train(model, x, y, *, steps, batch_size=64, lr=2e-3, seed=0):
    import torch.nn.functional as F

    return [F.cross_entropy(model(x[:batch_size]), y[:batch_size]).item() for _ in range(steps)]


@pytest.mark.parametrize("parts, steps, mistake", [
    ((reference.Classifier, _no_step_train, reference.accuracy), 40, "not-learning"),
    ((reference.Classifier, lambda *a, **k: reference.train(*a, **k)[-1:], reference.accuracy), 40, "losses"),
    ((reference.Classifier, reference.train, lambda *a: 100 * reference.accuracy(*a)), 40, "accuracy-disagrees"),
    ((reference.Classifier, reference.train, reference.accuracy), 40, "below-target"),
], ids=["no-update", "last-loss-only", "percent", "too-short"])
def test_the_last_check_names_what_went_wrong_end_to_end(parts, steps, mistake):
    feedback = check_lab2_training(*parts, steps=steps)
    assert not feedback.passed and feedback.mistake == mistake, feedback
    assert feedback.details["losses"], "the picture is still drawn from what was trained"


def test_the_last_check_asks_for_the_parts_it_needs():
    assert check_lab2_training(reference.Classifier).mistake == "missing"
    assert check_lab2_training(reference.Classifier, None, reference.accuracy).mistake == "missing"
    assert TARGET == 0.97


def _frozen_loss(x, x_logits, mu, logvar):  # the right number, but no gradient reaches the model
    return vae.vae_loss(x, x_logits, mu, logvar).detach().requires_grad_()


def _elbo_as_iwae(encoder, decoder, x, eps):  # the log-weights averaged: the ELBO, not the IWAE bound
    return vae.log_weights(encoder, decoder, x, eps).mean(0)


@pytest.mark.parametrize("loss, bound, mistake", [
    (_frozen_loss, vae.iwae_bound, "not-learning"),
    (vae.vae_loss, _elbo_as_iwae, "iwae-disagrees"),
    (vae.vae_loss, vae.iwae_bound, "above-target"),
], ids=["no-gradient", "elbo-as-iwae", "too-short"])
def test_the_vae_labs_last_check_names_what_went_wrong(loss, bound, mistake):
    feedback = check_lab4_training(vae.Encoder, vae.Decoder, vae.sample_latent, loss, bound, steps=20)
    assert not feedback.passed and feedback.mistake == mistake, feedback


def test_the_gan_labs_round_makes_exactly_the_packages_hinge_update():
    """Lab 3's round, written out by the learner, is GANStep's update with the hinge loss, Adam(β1 = 0.5) and no
    stabiliser on top — so the lab's live training (IS ≥ 0.6 × real after 1,000 rounds, in the solution's run
    above) is also the live gate of the package's GAN training, which `fit` runs with the same step."""
    import copy

    import torch

    from genimg_edu.exercises.lab3 import reference as gan
    from genimg_edu.models import DCGANDiscriminator, DCGANGenerator
    from genimg_edu.runtime import noise
    from genimg_edu.steps import GANStep

    torch.manual_seed(0)
    G, D = DCGANGenerator(z_dim=8, width=4), DCGANDiscriminator(width=4)
    step = GANStep(copy.deepcopy(G), copy.deepcopy(D), loss="hinge", lr_g=2e-3, lr_d=2e-3, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    for k in range(3):
        z = noise(16, 8, generator=torch.Generator().manual_seed(k))
        ours = gan.gan_round(G, D, opt_g, opt_d, x * 2 - 1, z)
        theirs = step((x,), torch.Generator().manual_seed(k))
        assert ours == pytest.approx((theirs["d_loss"], theirs["g_loss"]), abs=1e-5), k
    for a, b in zip([*G.state_dict().values(), *D.state_dict().values()],
                    [*step.G.state_dict().values(), *step.D.state_dict().values()]):
        assert torch.allclose(a.float(), b.float(), atol=1e-5)


def _history_only(G, D, x, *, steps):  # forgot to return the average
    return gan.train_gan(G, D, x, steps=steps)[0]


def _one_round_short(G, D, x, *, steps):
    history, G_avg = gan.train_gan(G, D, x, steps=steps)
    return history[:-1], G_avg


def _nan_losses(G, D, x, *, steps):
    history, G_avg = gan.train_gan(G, D, x, steps=steps)
    return [(float("nan"), g) for _, g in history], G_avg


@pytest.mark.parametrize("train_gan, steps, mistakes", [
    (_history_only, 2, {"returns"}),
    (_one_round_short, 2, {"losses"}),
    (_nan_losses, 2, {"not-finite"}),
    (gan.train_gan, 10, {"below-target", "collapsed"}),
], ids=["history-only", "one-round-short", "nan", "too-short"])
def test_the_gan_labs_last_check_names_what_went_wrong(train_gan, steps, mistakes):
    feedback = check_lab3_training(gan.Generator, gan.Discriminator, train_gan, steps=steps)
    assert not feedback.passed and feedback.mistake in mistakes, feedback


def _without_names(folder, size=64):
    batch, names, errors = pipeline.load_folder(folder, size)
    return batch, names[:-1], errors


def _quiet(folder, size=64):  # bad files dropped without a word
    batch, names, _ = pipeline.load_folder(folder, size)
    return batch, names, {}


def _darker(folder, size=64):
    batch, names, errors = pipeline.load_folder(folder, size)
    return batch - 0.1, names, errors


@pytest.mark.parametrize("load_folder, mistake", [
    (lambda folder, size=64: pipeline.load_folder(folder, size)[0], "returns"),
    (_without_names, "names"),
    (_quiet, "errors"),
    (_darker, "batch"),
], ids=["batch-only", "a-name-short", "quiet", "darker"])
def test_the_pipeline_labs_last_check_names_what_went_wrong(load_folder, mistake):
    feedback = check_lab1_pipeline(load_folder)
    assert not feedback.passed and feedback.mistake == mistake, feedback


def test_the_messy_folder_holds_what_the_lab_says():
    """Eleven files: eight images of eight kinds, two that will not decode, one that is not an image at all."""
    import tempfile

    from genimg_edu.exercises.lab1 import make_messy_folder
    from genimg_edu.exercises.lab1.project import WHAT
    from genimg_edu.imagefile import read_image

    with tempfile.TemporaryDirectory() as tmp:
        folder = make_messy_folder(Path(tmp) / "messy")
        assert sorted(p.name for p in folder.iterdir()) == sorted(WHAT)
        kinds = {name: read_image(folder / name).shape for name in ("logo.png", "scan 16-bit.png", "digit grey.png")}
        assert kinds == {"logo.png": (90, 140, 3), "scan 16-bit.png": (120, 160, 3), "digit grey.png": (28, 28, 3)}
        batch, names, errors = pipeline.load_folder(folder)
        assert len(names) == 8 and sorted(errors) == ["._china.jpg", "empty.png"] and "notes.txt" not in names
        assert batch.shape == (8, 3, 64, 64) and batch.min() >= -1 and batch.max() <= 1


def _one_row_short(*args, **kwargs):
    return board.leaderboard(*args, **kwargs)[:-1]


def _precision_as_percent(*args, **kwargs):
    return [dict(row, precision=100 * row["precision"]) for row in board.leaderboard(*args, **kwargs)]


def _by_name(*args, **kwargs):
    return sorted(board.leaderboard(*args, **kwargs), key=lambda row: row["name"])


@pytest.mark.parametrize("leaderboard, mistake", [
    (_one_row_short, "rows"), (_precision_as_percent, "values"), (_by_name, "order"),
], ids=["a-row-short", "percent", "by-name"])
def test_the_leaderboard_labs_last_check_names_what_went_wrong(leaderboard, mistake):
    feedback = check_lab6_leaderboard(leaderboard, n=100)
    assert not feedback.passed and feedback.mistake == mistake, feedback


def _frozen_flow(net, x, labels=None, *, steps, **options):  # the right number of losses, no update at all
    return [1.0] * steps


@pytest.mark.parametrize("euler, train_flow, steps, mistake", [
    (flow.euler, lambda *a, **k: flow.train_flow(*a, **k)[:-1], 50, "losses"),
    (flow.euler, _frozen_flow, 300, "not-learning"),
    (_euler_wrong("sign"), flow.train_flow, 300, "sampler-disagrees"),
    (flow.euler, flow.train_flow, 150, "modes"),
], ids=["a-loss-short", "no-update", "euler-sign", "too-short"])
def test_the_flow_labs_ring_check_names_what_went_wrong(euler, train_flow, steps, mistake):
    feedback = check_lab7_ring(euler, train_flow, steps=steps)
    assert not feedback.passed and feedback.mistake == mistake, feedback


@pytest.mark.parametrize("cfg_velocity, steps, mistake", [
    (_cfg_wrong("other-convention"), 100, "sampler-disagrees"),
    (flow.cfg_velocity, 100, "below-target"),
], ids=["other-convention", "too-short"])
def test_the_flow_labs_digits_check_names_what_went_wrong(cfg_velocity, steps, mistake):
    feedback = check_lab7_digits(flow.heun, cfg_velocity, flow.train_flow, steps=steps)
    assert not feedback.passed and feedback.mistake == mistake, feedback
    assert len(feedback.details["images"]) == 3, "the picture is still drawn from what was trained"


def test_the_flow_labs_loop_is_the_packages_flow_matching():
    """Lab 7's loop, written out by the learner, draws as `diffusion.FlowMatching.draw` does and takes its loss:
    the solution's own loop (in the solution notebook) and the reference through the package give the same
    network after the same steps."""
    import torch

    from genimg_edu.models import VelocityMLP

    solution = next(c.source for c in code_cells(ROOT / "solutions" / "labs" / "lab7_flow.ipynb")
                    if c.source.startswith("def train_flow"))
    namespace = {"torch": torch, "drop_labels": flow.drop_labels, "flow_loss": flow.flow_loss}
    exec(re.sub(r"^ *### (BEGIN|END) SOLUTION\n", "", solution, flags=re.M).replace("check_train_flow(train_flow)", ""),
         namespace)
    x, labels = torch.randn(64, 2, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 4
    nets = []
    for train in (namespace["train_flow"], flow.train_flow):
        torch.manual_seed(1)
        net = VelocityMLP(hidden=16, emb_dim=8, n_classes=4)
        losses = train(net, x, labels, steps=5, batch_size=16, p_drop=0.25, seed=2)
        nets.append((losses, [p.detach().clone() for p in net.parameters()]))
    assert nets[0][0] == nets[1][0]
    assert all(torch.equal(a, b) for a, b in zip(nets[0][1], nets[1][1]))


def test_the_marking_scheme_counts_each_labs_parts():
    """docs/teaching.md's suggested marks: 2 a part, 6 for each last check — totals per lab as the registry has
    them (lab 7 has two last checks: the ring and the digits)."""
    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    stated = dict(re.findall(r"Lab (\d), (\d+)[;.]", text.split("Each lab is then marked out of:")[1].split("\n")[0]))
    marks = {}
    for check, worth in [*((e, 2) for e in REGISTRY.values()), *((p, 6) for p in PROJECTS.values())]:
        found = re.match(r"Lab (\d)\.\d", check.title)
        if found:
            marks[found[1]] = marks.get(found[1], 0) + worth
    assert {lab: int(total) for lab, total in stated.items()} == marks
