"""scripts/pretrain.py: every recipe runs end to end through fit (a few steps, written into --out only)."""
import subprocess
import sys
from pathlib import Path

import pytest

from genimg_edu import pretrained

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import pretrain  # noqa: E402


def test_every_shipped_name_has_a_recipe():
    assert set(pretrain.RECIPES) == set(pretrained.NAMES)


METRIC = {"cnn-mnist": "test_accuracy", "cnn-mnist-plain": "test_accuracy", "dcgan-mnist": "plain_fd_ratio",
          "cgan-mnist": "label_accuracy_seeds", "vae-mnist": "test_neg_elbo_nats", "vae2d-mnist": "test_neg_elbo_nats",
          "betavae-shapes": "test_neg_elbo_nats", "flow-mnist": "guided_label_accuracy_seeds"}


@pytest.mark.parametrize("name", sorted(METRIC))
def test_every_recipe_runs_through_fit_and_writes_into_out(name, tmp_path):
    """Every recipe, with all its options, for 3 steps: trained by fit, measured (generators on 100 samples,
    the flow model with one sampling step), written into --out only."""
    assert set(METRIC) == set(pretrain.RECIPES)
    shipped = (pretrained.CHECKPOINT_DIR / "manifest.json").read_bytes()
    quick = {"dcgan-mnist": ["--eval-samples", "100"], "cgan-mnist": ["--eval-samples", "100"],
             "flow-mnist": ["--sample-steps", "1", "--eval-samples", "100"]}
    cmd = [sys.executable, "scripts/pretrain.py", name, "--steps", "3", "--out", str(tmp_path / "out"),
           "--runs", str(tmp_path / "runs"), *quick.get(name, [])]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env={"GENIMG_THREADS": "1", "PATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    entry = pretrained.manifest(tmp_path / "out")[name]
    assert METRIC[name] in entry["metrics"] and entry["command"].endswith(f"{name} --steps 3")
    assert entry["train_split"] == "train" and entry["world_size"] == 1
    model = pretrained.load(name, device="cpu", directory=tmp_path / "out")
    assert type(model).__name__ == entry["model"]
    assert (pretrained.CHECKPOINT_DIR / "manifest.json").read_bytes() == shipped, "--out leaves the package alone"
    assert (tmp_path / "runs" / "steps3" / f"{name}.pt").exists(), "fit's resumable checkpoint is kept"
    again = subprocess.run(cmd + ["--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                           env={"GENIMG_THREADS": "1", "PATH": ""})
    assert again.returncode == 0 and "dry run, nothing written" in again.stdout, again.stderr[-2000:]


def test_the_flow_model_samples_with_its_recipe_settings_by_default():
    """Notebooks, gates and the manifest sample flow-mnist the same way: the model's defaults are the recipe's."""
    import inspect

    from genimg_edu.models import TinyUNet

    defaults = {k: p.default for k, p in inspect.signature(TinyUNet.sample).parameters.items()}
    assert {k: defaults[k] for k in pretrain.RECIPES["flow-mnist"]["sampling"]} == pretrain.RECIPES["flow-mnist"]["sampling"]


def test_an_unknown_name_is_refused():
    out = subprocess.run([sys.executable, "scripts/pretrain.py", "gan-cifar"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 and "invalid choice" in out.stderr
