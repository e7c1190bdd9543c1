"""Training on several processes with `torchrun` — the details `fit` needs, kept out of its loop.

PyTorch's `DistributedDataParallel` does the work: each process holds a copy of the
network, takes its share of every batch and, inside ``backward()``, averages its
gradients with the others', so every copy takes the same update. What the course adds:

- `start_processes`: join torchrun's process group (gloo on CPUs, NCCL on GPUs, one GPU a process);
- `rank_and_world`: who this process is — (0, 1) when there is no process group;
- `agree`: rank 0's decision to stop (its clock, its Ctrl-C) sent to all, so all stop at the same step;
- `mean_over_processes`: the batch's losses averaged over processes, so every process logs the same;
- `gather_states`: every process's random state, for the one checkpoint rank 0 writes;
- `leave_processes`: end a process without the interpreter's teardown (see its docstring).

Process r draws its noise from ``seed + r·RANK_SEED``, so the processes' shares of a batch
get different augmentations and noise, as one process's whole batch would.
"""
from __future__ import annotations

import os
import sys

import torch
from torch import distributed as dist

RANK_SEED = 1_000_003


def rank_and_world() -> tuple[int, int]:
    """(this process's rank, number of processes): (0, 1) unless torchrun started a process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def start_processes() -> tuple[int, int, torch.device]:
    """(rank, world size, device): under torchrun, join its process group — gloo on CPUs, NCCL on GPUs,
    one GPU per process; alone, (0, 1, the course device)."""
    from genimg_edu.runtime import device as course_device

    world = int(os.environ.get("WORLD_SIZE", 1))
    if world == 1:
        return 0, 1, course_device()
    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    local = int(os.environ.get("LOCAL_RANK", 0))
    if cuda:
        torch.cuda.set_device(local)
    return dist.get_rank(), world, torch.device(f"cuda:{local}" if cuda else "cpu")


def agree(status: str | None) -> str | None:
    """Rank 0's decision to stop (or not), sent to every process so they stop at the same step."""
    box = [status]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def mean_over_processes(out: dict[str, float]) -> dict[str, float]:
    """The batch's losses averaged over processes: every process sees (and logs) the same numbers."""
    values = torch.tensor(list(out.values()), dtype=torch.float64)
    dist.all_reduce(values)
    return dict(zip(out, (values / dist.get_world_size()).tolist()))


def gather_states(state: dict) -> list[dict]:
    """Every process's `state` (a dict of random states), in rank order; every process must call it."""
    states = [None] * dist.get_world_size()
    dist.all_gather_object(states, state)
    return states


def leave_processes() -> None:
    """End a torchrun process: wait until every process is here (all work done, rank 0 has written),
    then exit at once with status 0.

    The exit skips the interpreter's teardown on purpose: once in CI a finished gloo run aborted there
    ("terminate called without an active exception", SIGABRT), most likely when the process group that
    `DistributedDataParallel` still references was destroyed with its worker threads running (it never
    reproduced, so the mechanism is not confirmed). Skipping the teardown avoids it whatever the cause;
    the barrier guarantees nothing is in flight, and the operating system closes the sockets.
    """
    dist.barrier()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
