"""scripts/pretrain.py: every recipe runs end to end (a few steps, nothing written)."""
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


@pytest.mark.parametrize("name", ["cnn-mnist", "dcgan-mnist", "vae2d-mnist", "betavae-shapes"])
def test_a_recipe_runs_and_reports_its_metric(name):
    out = subprocess.run([sys.executable, "scripts/pretrain.py", name, "--steps", "3", "--dry-run"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300, env={"GENIMG_THREADS": "1", "PATH": ""})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "dry run, nothing written" in out.stdout
    metric = {"cnn-mnist": "test_accuracy", "dcgan-mnist": "is_ratio", "vae2d-mnist": "test_neg_elbo_nats",
              "betavae-shapes": "test_neg_elbo_nats"}[name]
    assert metric in out.stdout


def test_an_unknown_name_is_refused():
    out = subprocess.run([sys.executable, "scripts/pretrain.py", "gan-cifar"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode != 0 and "invalid choice" in out.stderr
