"""scripts/pretrain.py: every shipped recipe runs end to end through fit (a few steps, written into --out only).

The script runs in this process (`pretrain.main` with its command line), not in a subprocess per recipe:
what is tested is the script's own code, and a fresh interpreter per recipe only cost time.
"""
import json
import sys
from pathlib import Path

import pytest

from genimg_edu import pretrained, recipes

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import pretrain  # noqa: E402


def _run(monkeypatch, capsys, *args) -> str:
    monkeypatch.setattr(sys, "argv", ["scripts/pretrain.py", *args])
    monkeypatch.setenv("GENIMG_THREADS", "1")
    pretrain.main()
    return capsys.readouterr().out


def test_every_shipped_name_has_a_recipe():
    assert set(recipes.SHIPPED) == set(pretrained.NAMES)


METRIC = {"cnn-mnist": "test_accuracy", "cnn-mnist-plain": "test_accuracy", "dcgan-mnist": "plain_fd_ratio",
          "cgan-mnist": "label_accuracy_seeds", "vae-mnist": "test_neg_elbo_nats", "vae2d-mnist": "test_neg_elbo_nats",
          "betavae-shapes": "test_neg_elbo_nats", "flow-mnist": "guided_label_accuracy_seeds"}


@pytest.mark.parametrize("name", sorted(METRIC))
def test_every_recipe_runs_through_fit_and_writes_into_out(name, tmp_path, monkeypatch, capsys):
    """Every recipe, with all its options, for 3 steps: trained by fit, measured (a quick check measures
    generators on 100 samples, the flow model with one sampling step), written into --out only."""
    assert set(METRIC) == set(recipes.SHIPPED)
    shipped = (pretrained.CHECKPOINT_DIR / "manifest.json").read_bytes()
    args = [name, "--steps", "3", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")]
    _run(monkeypatch, capsys, *args)
    entry = pretrained.manifest(tmp_path / "out")[name]
    assert METRIC[name] in entry["metrics"] and entry["command"].endswith(f"{name} --steps 3")
    assert entry["train_split"] == "train" and entry["world_size"] == 1
    assert entry["hyperparameters"] == json.loads(json.dumps(recipes.get(name).record()))  # the recipe, as JSON keeps it
    model = pretrained.load(name, device="cpu", directory=tmp_path / "out")
    assert type(model).__name__ == entry["model"]
    assert (pretrained.CHECKPOINT_DIR / "manifest.json").read_bytes() == shipped, "--out leaves the package alone"
    assert (tmp_path / "runs" / "steps3" / f"{name}.pt").exists(), "fit's resumable checkpoint is kept"


def test_a_dry_run_trains_and_measures_but_writes_nothing(tmp_path, monkeypatch, capsys):
    """The same code path for every recipe after training (measure, print); resumed from a finished run."""
    args = ["vae2d-mnist", "--steps", "3", "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")]
    assert "dry run, nothing written" in _run(monkeypatch, capsys, *args, "--dry-run")
    assert not (tmp_path / "out").exists(), "a dry run writes no checkpoint and no manifest"
    _run(monkeypatch, capsys, *args)
    manifest = (tmp_path / "out" / "manifest.json").read_bytes()
    assert "dry run, nothing written" in _run(monkeypatch, capsys, *args, "--dry-run")
    assert (tmp_path / "out" / "manifest.json").read_bytes() == manifest


def test_a_quick_check_measures_generators_on_few_samples(monkeypatch, tmp_path, capsys):
    """`--steps N` is a quick check: 100 samples a measurement unless --eval-samples asks for the protocol's 1,000."""
    seen = []
    monkeypatch.setattr(pretrain, "evaluate", lambda name, model, **kw: seen.append(kw) or {"fd_ratio": 1.0})
    monkeypatch.setattr(pretrain, "train", lambda *a, **kw: (recipes.build("dcgan-mnist")[0].G, {}))
    _run(monkeypatch, capsys, "dcgan-mnist", "--steps", "2", "--out", str(tmp_path), "--dry-run")
    _run(monkeypatch, capsys, "dcgan-mnist", "--steps", "2", "--eval-samples", "1000", "--out", str(tmp_path),
         "--dry-run")
    assert [kw["n"] for kw in seen] == [pretrain.QUICK_SAMPLES, 1000]


def test_the_flow_model_samples_with_its_recipe_settings_by_default():
    """Notebooks, gates and the manifest sample flow-mnist the same way: the model's defaults are the recipe's."""
    import inspect

    from genimg_edu.models import TinyUNet

    sampling = recipes.get("flow-mnist").sampling
    defaults = {k: p.default for k, p in inspect.signature(TinyUNet.sample).parameters.items()}
    assert {k: defaults[k] for k in sampling} == sampling


def test_an_unknown_name_is_refused(monkeypatch, capsys):
    with pytest.raises(SystemExit):
        _run(monkeypatch, capsys, "gan-cifar")
    assert "invalid choice" in capsys.readouterr().err
