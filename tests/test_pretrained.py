"""Shipped checkpoints: save/load round trips, integrity errors, and the real manifest's files and quality."""
import hashlib
import json

import pytest
import torch

from genimg_edu import pretrained
from genimg_edu.models import DCGANGenerator, MLPVAE, MNISTClassifier


@pytest.fixture
def store(tmp_path, monkeypatch):
    """Point the checkpoint directory and manifest at an empty temporary folder."""
    monkeypatch.setattr(pretrained, "CHECKPOINT_DIR", tmp_path)
    monkeypatch.setattr(pretrained, "MANIFEST", tmp_path / "manifest.json")
    return tmp_path


def _tiny_classifier():
    torch.manual_seed(0)
    model = MNISTClassifier(width=4, hidden=8)
    model.train()(torch.rand(8, 1, 28, 28))  # move BatchNorm's running statistics off their defaults
    return model


def _assert_float16_copy(loaded, model):
    state, expected = loaded.state_dict(), model.state_dict()
    assert state.keys() == expected.keys()
    for k, v in expected.items():
        want = v.half().float() if v.is_floating_point() else v
        assert state[k].dtype == want.dtype, k
        torch.testing.assert_close(state[k], want, rtol=0, atol=0, msg=k)


def test_save_then_load_round_trips_in_float16(store):
    model = _tiny_classifier()
    path = pretrained.save("cnn-mnist", model, {"seed": 0, "metrics": {"test_accuracy": 0.1}})
    assert path == store / "cnn-mnist.pt" and path.is_file()
    loaded = pretrained.load("cnn-mnist", device="cpu")
    assert isinstance(loaded, MNISTClassifier) and not loaded.training
    _assert_float16_copy(loaded, model)
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model.eval()(x), rtol=1e-2, atol=1e-2)


def test_manifest_records_hash_config_and_model(store):
    model = _tiny_classifier()
    pretrained.save("cnn-mnist", model, {"seed": 7})
    entry = json.loads((store / "manifest.json").read_text())["cnn-mnist"]
    assert entry["sha256"] == hashlib.sha256((store / "cnn-mnist.pt").read_bytes()).hexdigest()
    assert entry["config"] == {"width": 4, "hidden": 8, "dropout": 0.3}
    assert entry["model"] == "MNISTClassifier" and entry["file"] == "cnn-mnist.pt" and entry["seed"] == 7
    assert pretrained.manifest() == {"cnn-mnist": entry}
    # a second checkpoint joins the first one
    pretrained.save("vae2d-mnist", MLPVAE(hidden=(8,), z_dim=2), {})
    assert sorted(pretrained.manifest()) == ["cnn-mnist", "vae2d-mnist"]


@pytest.mark.parametrize("name, model", [
    ("vae2d-mnist", lambda: MLPVAE(hidden=(8, 4), z_dim=2)),
    ("cgan-mnist", lambda: DCGANGenerator(z_dim=4, width=2, n_classes=10, embed_dim=3)),
])
def test_configs_with_tuples_survive_json(store, name, model):
    torch.manual_seed(0)
    model = model()
    pretrained.save(name, model, {})
    loaded = pretrained.load(name, device="cpu")
    assert loaded.config == model.config  # image_shape and hidden come back as tuples
    _assert_float16_copy(loaded, model)


def test_a_corrupt_file_is_named(store):
    pretrained.save("cnn-mnist", _tiny_classifier(), {})
    path = store / "cnn-mnist.pt"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(pretrained.CheckpointError, match="corrupt") as info:
        pretrained.load("cnn-mnist", device="cpu")
    assert str(path) in str(info.value)


def test_a_missing_file_says_how_to_make_it(store):
    pretrained.save("cnn-mnist", _tiny_classifier(), {})
    (store / "cnn-mnist.pt").unlink()
    with pytest.raises(FileNotFoundError, match="scripts/pretrain.py cnn-mnist") as info:
        pretrained.load("cnn-mnist", device="cpu")
    assert str(store / "cnn-mnist.pt") in str(info.value)


def test_a_checkpoint_not_yet_trained_says_how_to_make_it(store):
    assert pretrained.manifest() == {}
    with pytest.raises(FileNotFoundError, match="scripts/pretrain.py dcgan-mnist"):
        pretrained.load("dcgan-mnist", device="cpu")


def test_unknown_names_are_listed(store):
    with pytest.raises(ValueError, match="'cnn-cifar'.*cnn-mnist.*betavae-shapes"):
        pretrained.load("cnn-cifar")
    with pytest.raises(ValueError, match="'cnn-cifar'"):
        pretrained.save("cnn-cifar", _tiny_classifier(), {})
    assert not (store / "manifest.json").exists()


@pytest.mark.parametrize("config", [{"width": 8, "hidden": 8, "dropout": 0.3}, {"width": 4, "depth": 2}])
def test_a_config_that_does_not_fit_the_weights(store, config):
    pretrained.save("cnn-mnist", _tiny_classifier(), {})
    table = json.loads((store / "manifest.json").read_text())
    table["cnn-mnist"]["config"] = config
    (store / "manifest.json").write_text(json.dumps(table))
    with pytest.raises(pretrained.CheckpointError, match="does not load into MNISTClassifier") as info:
        pretrained.load("cnn-mnist", device="cpu")
    assert str(store / "cnn-mnist.pt") in str(info.value)


# --- the checkpoints shipped in the package ---------------------------------------------------------

SHIPPED = pretrained.manifest()


def test_the_shipped_manifest_names_known_checkpoints():
    assert "cnn-mnist" in SHIPPED
    assert set(SHIPPED) <= set(pretrained.NAMES)
    for entry in SHIPPED.values():
        assert {"file", "sha256", "model", "config", "command", "seed", "metrics"} <= entry.keys()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_checkpoint_loads(name):
    model = pretrained.load(name, device="cpu")
    assert type(model).__name__ == SHIPPED[name]["model"] and not model.training


def test_shipped_checkpoints_stay_small():
    total = sum((pretrained.CHECKPOINT_DIR / e["file"]).stat().st_size for e in SHIPPED.values())
    assert total <= 20 * 2**20, f"checkpoints weigh {total / 2**20:.1f} MiB; the budget is 20 MiB"

