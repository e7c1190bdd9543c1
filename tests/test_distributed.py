"""Training on several processes: `fit` under torchrun (DistributedDataParallel, gloo on the CPU).

Two processes with batch b each must make the same updates as one process with batch 2b
(DistributedDataParallel averages the gradients, each process holds half of every batch);
an interrupted two-process run must resume exactly; `scripts/pretrain.py` must run under torchrun
and record the world size. Each test starts real processes (a few seconds each).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
WORKER = ROOT / "tests" / "ddp_worker.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]


def _run(cmd, tmp_path):
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                               "GENIMG_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _train(tmp_path, kind, *, procs, batch, steps, name, checkpoint=None):
    out = tmp_path / f"{name}.pt"
    launcher = TORCHRUN if procs == 2 else [sys.executable]
    extra = ["--checkpoint", str(checkpoint)] if checkpoint else []
    _run([*launcher, str(WORKER), kind, str(out), "--batch", str(batch), "--steps", str(steps), *extra], tmp_path)
    return torch.load(out, weights_only=True)


def test_two_processes_make_the_updates_of_one_with_the_whole_batch(tmp_path):
    one = _train(tmp_path, "classifier", procs=1, batch=64, steps=6, name="one")
    two = _train(tmp_path, "classifier", procs=2, batch=64, steps=6, name="two")  # 32 rows per process
    for key, tensor in one["step"]["module.model"].items():
        torch.testing.assert_close(two["step"]["module.model"][key], tensor, rtol=1e-4, atol=1e-5, msg=key)
    assert two["loss"] == pytest.approx(one["loss"], rel=1e-4)  # the logged loss is the mean over processes


def test_an_interrupted_two_process_run_resumes_exactly(tmp_path):
    whole = _train(tmp_path, "flow", procs=2, batch=64, steps=6, name="whole")
    ckpt = tmp_path / "run.pt"
    _train(tmp_path, "flow", procs=2, batch=64, steps=3, name="first", checkpoint=ckpt)  # "interrupted" at 3
    resumed = _train(tmp_path, "flow", procs=2, batch=64, steps=6, name="resumed", checkpoint=ckpt)
    assert resumed["loss"] == whole["loss"]  # the same noise in each process after the resume
    for key, tensor in whole["step"]["module.model"].items():
        assert torch.equal(resumed["step"]["module.model"][key], tensor), key
    assert torch.load(ckpt, weights_only=True)["run"]["world_size"] == 2


def test_pretrain_runs_under_torchrun_and_records_the_world_size(tmp_path):
    _run([*TORCHRUN, str(ROOT / "scripts" / "pretrain.py"), "vae2d-mnist", "--steps", "4",
          "--out", str(tmp_path / "out"), "--runs", str(tmp_path / "runs")], tmp_path)
    entry = json.loads((tmp_path / "out" / "manifest.json").read_text())["vae2d-mnist"]
    assert entry["world_size"] == 2 and entry["command"].startswith("torchrun --nproc_per_node=2 ")
    assert (tmp_path / "runs" / "steps4" / "world2" / "vae2d-mnist.pt").is_file()


def test_a_gan_recipe_refuses_several_processes_with_a_clear_message():
    """`fit` calls `step.distribute()` when torchrun started several processes (the test above runs that path);
    a GAN's step refuses there, naming itself, before any process group is touched."""
    from genimg_edu import recipes

    with pytest.raises(NotImplementedError, match="GANStep does not run on several processes"):
        recipes.make_step("dcgan-mnist").distribute()
