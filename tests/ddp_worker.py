"""Run by tests/test_distributed.py, alone or under torchrun: train a small step with `fit`, save the weights.

    python -m torch.distributed.run --standalone --nproc_per_node=2 tests/ddp_worker.py KIND OUT --batch 32 --steps 6
"""
import argparse
import os
import sys
from pathlib import Path

import torch
from torch import distributed as dist

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from genimg_edu import seed_everything, set_threads  # noqa: E402
from genimg_edu.data import load_dataset  # noqa: E402
from genimg_edu.data.toy import ring_of_gaussians  # noqa: E402
from genimg_edu.distributed import leave_processes  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.models import VelocityMLP  # noqa: E402
from genimg_edu.steps import ClassifierStep, FlowStep  # noqa: E402


class TinyClassifier(torch.nn.Sequential):
    """A classifier as `ClassifierStep` expects one: logits from forward, its objective as ``loss(x, y)``."""

    def loss(self, x, y):
        return torch.nn.functional.cross_entropy(self(x), y)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["classifier", "flow"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--checkpoint", type=Path)
    args = parser.parse_args()
    set_threads(1)
    if int(os.environ.get("WORLD_SIZE", 1)) > 1:
        dist.init_process_group("gloo")
    seed_everything(0)
    if args.kind == "classifier":  # no dropout, no augmentation, no BatchNorm (it normalises each process's
        x, y = load_dataset("mnist", "train", n=512)  # share): the update is a function of the whole batch alone
        model = TinyClassifier(torch.nn.Conv2d(1, 8, 3, 2), torch.nn.ReLU(), torch.nn.Flatten(),
                               torch.nn.Linear(8 * 13 * 13, 10))  # (B, 8, 13, 13) → (B, 10)
        step, data = ClassifierStep(model, lr=1e-3), (x, y)
    else:  # noise in every update: a resumed run must continue each process's random numbers
        step = FlowStep(VelocityMLP(hidden=32), lr=1e-3, rescale=False, ema_decay=0.9)
        data = (ring_of_gaussians(512, generator=torch.Generator().manual_seed(0)),)
    history = fit(step, data, max_steps=args.steps, batch_size=args.batch, checkpoint=args.checkpoint,
                  checkpoint_every=2, log_every=0, reporter=None)
    if not dist.is_initialized() or dist.get_rank() == 0:
        torch.save({"step": step.state_dict(), "loss": history["loss"]}, args.out)
    if dist.is_initialized():
        leave_processes()  # every process done (rank 0 has saved); no gloo teardown at exit


if __name__ == "__main__":
    main()
