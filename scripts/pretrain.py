"""Train one of the course's shipped checkpoints, reproducibly, on the bundled *train* split only.

    python scripts/pretrain.py NAME            # NAME: one of genimg_edu.recipes.SHIPPED, or all
    python scripts/pretrain.py NAME --steps 200 --out /tmp/try   # a quick check, shipped files untouched

Every recipe (`genimg_edu.recipes`, where its seed and hyperparameters are fixed) is a
step object trained by `genimg_edu.fit` — the same loop and updates the notebooks write out.
A quick check (``--steps N``) measures generators on 100 samples (the flow model with one
sampling step) unless ``--eval-samples`` / ``--sample-steps`` say otherwise. `fit` writes a training checkpoint every 500 steps
to ``runs/pretrain/NAME.pt``: run the same command again after an interruption
and it resumes exactly where it stopped. The GAN recipes track their quality on
the *val* split while they train (the trajectory in the manifest); at the end the
model is measured on the *test* split in both instruments of `genimg_edu.evaluation`
and the weights and a manifest entry (command, seed, hyperparameters, wall time,
machine, metrics) are written atomically through `genimg_edu.pretrained.save`.
Train "cnn-mnist" and "cnn-mnist-plain" first: the GANs are measured in their features.
Threads: GENIMG_THREADS (default 2). Each recipe takes at most 30 minutes on 2 cores (flow-mnist: 60).

On several processes, GPUs or machines — PyTorch's DistributedDataParallel, through `fit`::

    torchrun --standalone --nproc_per_node=4 scripts/pretrain.py flow-mnist --out runs/flow4
    torchrun --nnodes=2 --node_rank=0 --nproc_per_node=8 --rdzv_backend=c10d \
             --rdzv_endpoint=HOST:29500 scripts/pretrain.py flow-mnist --out runs/flow16   # on each machine

(gloo on CPUs, NCCL on GPUs). Each process takes its share of every batch, so the
recipe is unchanged; only rank 0 writes checkpoints and the manifest, which records
the world size. The classifier, VAE and flow recipes run this way; the GANs on one process.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import pretrained, recipes, set_threads  # noqa: E402
from genimg_edu.io import run_record  # noqa: E402
from genimg_edu.evaluation import evaluate, tracker  # noqa: E402
from genimg_edu.distributed import leave_processes, start_processes  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402

QUICK_SAMPLES = 100  # a --steps N check measures generators on this many samples unless --eval-samples says


def train(name: str, steps: int | None, run_dir: Path, device="cpu", *, eval_samples: int = 1000,
          sample_steps: int | None = None) -> tuple[torch.nn.Module, dict]:
    """Train `name` by its recipe through `fit` (resuming from run_dir/NAME.pt); return (model, extra record)."""
    options = recipes.fit_options(name, steps=steps)
    steps = options["max_steps"]
    step, data = recipes.build(name, steps=steps, device=device)
    callbacks, eval_every = tracker(name, steps, samples=eval_samples, sample_steps=sample_steps)
    run_dir.mkdir(parents=True, exist_ok=True)
    history = fit(step, data, **options, checkpoint=run_dir / f"{name}.pt", callbacks=callbacks, eval_every=eval_every,
                  log_every=max(1, steps // 20), reporter=None)
    if history["status"] != "finished":
        raise SystemExit(f"{name}: training stopped ({history['status']}) at step {history['steps']}; "
                         f"run the same command again to resume from {run_dir / (name + '.pt')}")
    extra = {"train_seconds": round(history["seconds"])}
    family = recipes.get(name).family
    if family in ("gan", "flow"):
        extra["trajectory"] = [{k: v for k, v in e.items()} for e in history["eval"]]
    if family == "gan":  # standing statistics over 100 batches; a quick check of a few steps needs no more
        return step.averaged_generator(batches=min(100, steps)), extra
    if family == "flow":
        return step.sampler, extra
    return step.modules["model"], extra


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=[*recipes.SHIPPED, "all"])
    parser.add_argument("--steps", type=int, help="override the recipe's step count (for a quick check)")
    parser.add_argument("--out", type=Path, help="write the checkpoint and its manifest entry into this folder "
                                                 "instead of the package's (experiments never overwrite shipped files)")
    parser.add_argument("--runs", type=Path, default=ROOT / "runs" / "pretrain",
                        help="where fit keeps its resumable training checkpoints (default: runs/pretrain/)")
    parser.add_argument("--dry-run", action="store_true", help="train and evaluate, but write nothing")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="re-measure a shipped checkpoint (e.g. after an instrument changed) and update its metrics")
    parser.add_argument("--sample-steps", type=int, help="override the flow model's sampling steps when it is "
                                                         "evaluated (for a quick check)")
    parser.add_argument("--eval-samples", type=int,
                        help="samples per measurement of a generator (default 1,000, the protocol's; "
                             f"{QUICK_SAMPLES} with --steps, a quick check)")
    parser.add_argument("--note", help="what else ran on the machine meanwhile (recorded with the wall time), "
                                       "e.g. 'two other jobs running'")
    args = parser.parse_args()
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be a positive number of steps, got {args.steps}")
    if args.eval_samples is None:
        args.eval_samples = QUICK_SAMPLES if args.steps is not None else 1000
    if args.sample_steps is None and args.steps is not None:
        args.sample_steps = 1  # a quick check of the flow model samples with one network evaluation
    if args.eval_samples < 100 or args.eval_samples % 10:
        parser.error(f"--eval-samples must be a multiple of 10 and at least 100, got {args.eval_samples}")
    if args.sample_steps is not None and args.sample_steps < 1:
        parser.error(f"--sample-steps must be a positive number of steps, got {args.sample_steps}")
    rank, world, device = start_processes()
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", max(1, 2 // world))))
    directory = args.out or pretrained.CHECKPOINT_DIR
    launcher = f"torchrun --nproc_per_node={world} " if world > 1 else "python "
    for name in recipes.SHIPPED if args.name == "all" else [args.name]:
        if args.evaluate_only:
            if rank != 0:
                continue
            record = {k: v for k, v in pretrained.manifest(directory)[name].items()
                      if k not in ("file", "sha256", "model", "config")}
            record["metrics"] = evaluate(name, pretrained.load(name, device="cpu", directory=directory),
                                         sample_steps=args.sample_steps, n=args.eval_samples)
            if recipes.get(name).sampling:  # measured with today's sampler settings (chosen after training)
                record["hyperparameters"]["sampling"] = recipes.get(name).sampling
            _instruments(record, name)
            pretrained.save(name, pretrained.load(name, device="cpu", directory=directory), record, directory=directory)
            print(f"{name}: {record['metrics']} (re-evaluated)", flush=True)
            continue
        recipe = recipes.get(name)
        start = time.perf_counter()
        if rank == 0:
            print(f"training {name} on {world} process(es), {device} ...", flush=True)
        runs = args.runs / (f"steps{args.steps}" if args.steps else "") / (f"world{world}" if world > 1 else "")
        model, extra = train(name, args.steps, runs, device, eval_samples=args.eval_samples,
                             sample_steps=args.sample_steps)
        seconds = time.perf_counter() - start
        if rank != 0:  # rank 0 measures and writes
            continue
        if args.dry_run:
            metrics = evaluate(name, model.cpu(), sample_steps=args.sample_steps, n=args.eval_samples)
            print(f"{name}: {seconds:.0f} s, {metrics} (dry run, nothing written)")
            continue
        command = f"{launcher}scripts/pretrain.py {name}" + (f" --steps {args.steps}" if args.steps else "")
        record = {**run_record(command, threads=threads, note=args.note), "seed": recipe.seed,
                  "hyperparameters": recipe.record(), "train_split": "train", "wall_seconds": round(seconds),
                  "world_size": world, **extra}
        pretrained.save(name, model, dict(record, metrics={}), directory=directory)
        record["metrics"] = evaluate(name, pretrained.load(name, device="cpu", directory=directory),
                                         sample_steps=args.sample_steps, n=args.eval_samples)
        _instruments(record, name)
        pretrained.save(name, model, record, directory=directory)
        print(f"{name}: {seconds:.0f} s, {record['metrics']}", flush=True)
    if world > 1:
        leave_processes()  # every process waits until rank 0 has measured and saved


def _instruments(record: dict, name: str) -> None:
    """Record which instruments measured a GAN, by their shipped files' hashes."""
    if recipes.get(name).family == "gan":
        table = pretrained.manifest()
        record["instruments_sha256"] = {k: table[k]["sha256"] for k in ("cnn-mnist", "cnn-mnist-plain") if k in table}


if __name__ == "__main__":
    main()
