"""`fit`: one training loop for classifiers, VAEs and GANs that does not lose work.

    step = GANStep(G, D, loss="hinge")               # what one update is (genimg_edu.steps)
    history = fit(step, (x,), max_seconds=60, checkpoint="runs/gan.pt")

What it adds to a plain ``for`` loop, each because learners lose work without it:

- **budgets**: ``max_steps`` and/or ``max_seconds``, whichever ends first;
- **progress**: through a *reporter* the caller chooses — by default log lines, or
  what the user interface set as the default (`dashboard.use_dashboard()`: a progress
  bar and a live dashboard of loss curves and samples in JupyterLab); the loop itself
  never imports the user interface;
- **checkpoints** written atomically every ``checkpoint_every`` steps and at the
  end; calling `fit` again with the same path *resumes exactly* — models,
  optimisers, RNG states, step count and history — so an interrupted run ends
  identical to an uninterrupted one (on the CPU, for a seed);
- **a NaN guard**: a non-finite loss stops training with a message and puts back
  the last good state (kept every ``guard_every`` steps);
- **Ctrl-C** (KeyboardInterrupt) stops at the end of the current step, keeps and saves the state;
- **several processes** under ``torchrun``: when a process group is initialised
  (`torch.distributed`), the step's network is wrapped in PyTorch's
  `DistributedDataParallel`, each process takes its share of every batch (so
  ``batch_size`` is the total), the losses are averaged over processes, and only
  rank 0 reports and writes checkpoints (with every rank's random state, so a
  resumed run continues each process's noise); a script ends each process with
  `leave_processes()`. Those details live in `genimg_edu.distributed`.
"""
from __future__ import annotations

import contextlib
import copy
import math
import signal
import threading
import time
from pathlib import Path

import torch

from genimg_edu import validate
from genimg_edu.distributed import RANK_SEED, agree, gather_states, mean_over_processes, rank_and_world
from genimg_edu.io import atomic_write
from genimg_edu.runtime import default_reporter

CHECKPOINT_FORMAT = 1


class CheckpointMismatch(ValueError):
    """A checkpoint that belongs to a different run (seed, batch size or data size)."""


def batch_indices(n: int, batch_size: int, *, seed: int, step: int) -> torch.Tensor:
    """The indices of batch number `step`: epoch e is a permutation of range(n) seeded by (seed, e).

    A function of the step alone — not of a generator's history — so a resumed
    run sees exactly the batches the uninterrupted run would have seen.
    """
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the data size {n}, got {batch_size}")
    per_epoch = n // batch_size  # the last incomplete batch of each epoch is dropped
    epoch, i = divmod(step, per_epoch)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch))
    return perm[i * batch_size:(i + 1) * batch_size]


def fit(step, data, *, max_steps: int | None = None, max_seconds: float | None = None, batch_size: int = 64,
        seed: int = 0, checkpoint: str | Path | None = None, checkpoint_every: int = 500, guard_every: int = 50,
        callbacks=(), eval_every: int = 500, log_every: int = 100, reporter="auto") -> dict:
    """Train `step` (a `genimg_edu.steps.Step`) on `data`, a tuple of tensors (x,) or (x, y) of equal length.

    Returns the history: one list per loss (entry i is step i + 1), ``"eval"``
    (what the callbacks returned, with their step), ``"steps"`` (total),
    ``"seconds"`` (total, over resumes) and ``"status"``: "finished" (max_steps
    reached), "time budget", "interrupted" or "diverged".
    `callbacks` are called as ``fn(step, steps_done)`` every `eval_every` steps and may return a
    dict of metrics. `reporter` shows progress: an object with ``start(history, max_steps, step)``,
    ``update(history, step, losses)``, ``line(text)`` and ``close(history, step)`` (`LogReporter`,
    `dashboard.LiveReporter`), "auto" for the default the user interface set
    (`runtime.set_default_reporter`, e.g. by `dashboard.use_dashboard`), or None for log lines every
    `log_every` steps (``log_every=0``: silent) — also what "auto" means when nothing was set.
    """
    if max_steps is None and max_seconds is None:
        raise ValueError("give a budget: max_steps=… and/or max_seconds=…")
    if max_steps is not None:
        validate.count("max_steps", max_steps)
    if max_seconds is not None:
        validate.number("max_seconds", max_seconds, low=0)
    for name, value in (("batch_size", batch_size), ("checkpoint_every", checkpoint_every),
                        ("guard_every", guard_every), ("eval_every", eval_every)):
        validate.count(name, value, minimum=1)
    validate.count("seed", seed)
    data = tuple(data) if isinstance(data, (tuple, list)) else (data,)
    n = len(data[0])
    if any(len(t) != n for t in data):
        raise ValueError(f"data tensors must have the same length, got {[len(t) for t in data]}")
    rank, world = rank_and_world()
    if batch_size % world:
        raise ValueError(f"batch_size {batch_size} must be divisible by the number of processes {world}")
    g = torch.Generator().manual_seed(seed + RANK_SEED * rank)  # the noise inside steps: z, augmentation
    run = {"seed": seed, "batch_size": batch_size, "n": n, **({"world_size": world} if world > 1 else {})}
    history = {"eval": [], "steps": 0, "seconds": 0.0, "status": "running"}
    with torch.random.fork_rng(devices=[]):  # dropout etc. depend on the seed; the caller's RNG is untouched
        torch.manual_seed(seed + RANK_SEED * rank)
        if checkpoint and Path(checkpoint).exists():
            history = _restore(step, g, load_checkpoint(checkpoint), run, checkpoint)
        if world > 1:
            step.distribute()  # after a restore, so every process starts from the same weights
        report = _reporter(reporter, log_every, rank)
        report.start(history, max_steps, step)
        good, start, seconds0 = _snapshot(step, g, history), time.perf_counter(), history["seconds"]
        step.train()
        with _deferred_interrupt() as interrupt:
            while True:
                k = history["steps"]
                status = ("finished" if max_steps is not None and k >= max_steps else
                          "time budget" if max_seconds is not None and time.perf_counter() - start >= max_seconds
                          else "interrupted" if interrupt["hit"] else None)
                status = agree(status) if world > 1 else status  # rank 0's clock and Ctrl-C decide for all
                if status:
                    break
                try:
                    out = step(_batch(data, batch_size, seed, k), g)
                except KeyboardInterrupt:  # raised inside the step (not in the main thread): undo the half step
                    status = "interrupted"
                    _put_back(step, g, history, good)
                    break
                out = mean_over_processes(out) if world > 1 else out
                bad = {name: v for name, v in out.items() if not math.isfinite(v)}
                if bad:
                    status = "diverged"
                    _put_back(step, g, history, good)
                    report.line(f"stopped: {', '.join(f'{a} = {v}' for a, v in bad.items())} at step {k + 1}; "
                                f"restored the last good state (step {history['steps']}). "
                                "Try a smaller learning rate, gradient clipping, or a loss that cannot overflow.")
                    break
                for name, v in out.items():
                    history.setdefault(name, []).append(v)
                history["steps"] = k = k + 1
                history["seconds"] = seconds0 + time.perf_counter() - start
                if callbacks and k % eval_every == 0 and rank == 0:
                    _evaluate(step, callbacks, k, history)
                if k % guard_every == 0:
                    good = _snapshot(step, g, history)
                if checkpoint and k % checkpoint_every == 0:
                    save_checkpoint(checkpoint, step, g, history, run)
                report.update(history, step, out)
        history.update(status=status, seconds=seconds0 + time.perf_counter() - start)
        if checkpoint:
            save_checkpoint(checkpoint, step, g, history, run)
        report.close(history, step)
    if history["status"] == "interrupted":
        print(f"interrupted at step {history['steps']}; the state is kept"
              + (f" in {checkpoint} — call fit again to resume" if checkpoint else ""))
    return history


def _batch(data: tuple, batch_size: int, seed: int, k: int) -> tuple:
    """Batch number k of the run — this process's share of it under torchrun."""
    rank, world = rank_and_world()
    share = batch_size // world
    rows = batch_indices(len(data[0]), batch_size, seed=seed, step=k)[rank * share:(rank + 1) * share]
    return tuple(t[rows] for t in data)


def _reporter(reporter, log_every: int, rank: int):
    """The reporter that shows this run: the caller's, the user interface's default ("auto"), or log lines;
    silent on every process but rank 0."""
    if rank != 0:
        return LogReporter(every=0)
    chosen = default_reporter() if reporter == "auto" else reporter
    return chosen if chosen is not None else LogReporter(every=log_every)


def save_checkpoint(path, step, g: torch.Generator, history: dict, run: dict) -> None:
    """Write everything a resume needs, atomically (temporary file, then rename).
    Under torchrun every process must call it; rank 0 writes, with all ranks' random states."""
    rng = {"rng": g.get_state(), "torch_rng": torch.get_rng_state()}
    rank, world = rank_and_world()
    if world > 1:
        rng["ranks"] = gather_states(rng)
        if rank != 0:
            return
    state = {"format": CHECKPOINT_FORMAT, "run": run, "step": step.state_dict(), **rng, "history": history}
    with atomic_write(path) as f:
        torch.save(state, f)


def load_checkpoint(path) -> dict:
    """A training checkpoint written by `fit`, loaded with ``weights_only=True`` (no code runs)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointMismatch(f"{path}: not a readable training checkpoint ({err.__class__.__name__}: {err})") from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointMismatch(f"{path}: not a training checkpoint written by genimg_edu.fit "
                                 f"(expected format {CHECKPOINT_FORMAT})")
    return state


def _restore(step, g, state, run, path) -> dict:
    if state["run"] != run:
        raise CheckpointMismatch(f"{path} was written by a run with {state['run']}, not {run}; "
                                 "pass another checkpoint path to start afresh, or the same settings to resume")
    step.load_state_dict(state["step"])
    rng = state["ranks"][rank_and_world()[0]] if "ranks" in state else state
    g.set_state(rng["rng"])
    torch.set_rng_state(rng["torch_rng"])
    return dict(state["history"], status="running")


def _snapshot(step, g, history) -> dict:
    return copy.deepcopy({"step": step.state_dict(), "rng": g.get_state(), "torch_rng": torch.get_rng_state(),
                          "history": history})


def _put_back(step, g, history, good) -> None:
    """Restore the last good snapshot in place (the caller's history dict is updated, not replaced)."""
    good = copy.deepcopy(good)
    step.load_state_dict(good["step"])
    g.set_state(good["rng"])
    torch.set_rng_state(good["torch_rng"])
    history.clear()
    history.update(good["history"])


def _evaluate(step, callbacks, k, history) -> None:
    for fn in callbacks:
        result = fn(step, k)
        if result is not None:
            history["eval"].append({"step": k, **result})
    step.train()  # a callback may have switched models to eval mode


@contextlib.contextmanager
def _deferred_interrupt():
    """While training, Ctrl-C sets a flag and the loop stops after the current step; a second Ctrl-C raises."""
    flag = {"hit": False}
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum, frame):
        if flag["hit"]:
            raise KeyboardInterrupt
        flag["hit"] = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


class LogReporter:
    """A log line every `every` steps (``every=0``: none) — for terminals, scripts, nbval and tests."""

    def __init__(self, *, every: int = 100):
        if not isinstance(every, int) or every < 0:
            raise ValueError(f"log_every must be a non-negative number of steps, got {every!r}")
        self.every, self.total = every, None

    def start(self, history: dict, max_steps: int | None, step) -> None:
        self.total = max_steps

    def update(self, history: dict, step, losses: dict[str, float]) -> None:
        k = history["steps"]
        if self.every and k % self.every == 0:
            total = f"/{self.total}" if self.total else ""
            self.line(f"step {k}{total} · " + " · ".join(f"{a} ~{v:.3f}" for a, v in losses.items())
                      + f" · {history['seconds']:.1f} s")

    def line(self, text: str) -> None:
        print(text, flush=True)

    def close(self, history: dict, step) -> None:
        pass

