"""How long does each shipped recipe take to train on this machine?

    python benchmarks/recipe_times.py             # ~4 min on an idle 2-core machine
    python benchmarks/recipe_times.py --names vae2d-mnist --steps 2 --out /tmp/r.json --no-readme   # a check

Every shipped recipe (`genimg_edu.recipes`) is built as `scripts/pretrain.py` builds it (`recipes.build`,
the train split, the recipe's batch size) and trained through `fit` — a few warm-up steps,
then `--steps` timed ones — and its whole run is projected: seconds per step × the
recipe's steps, plus the quality tracking of the GAN and flow recipes (one evaluation
timed, times their number). The recipes run one after another in one run, so they
compare on the same machine at the same time; the budget each is held to (30 minutes
on 2 cores, 60 for `flow-mnist`) is printed beside it. Results go to
`benchmarks/recipe_times.json` (atomically), with the machine and its load average
before the run, and to the README's table. Run it on an otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu import recipes, set_threads  # noqa: E402
from genimg_edu.evaluation import tracker  # noqa: E402
from genimg_edu.fit import fit  # noqa: E402
from genimg_edu.io import replace_marked, run_record, write_json  # noqa: E402

BUDGET_MINUTES = {"flow-mnist": 60}  # every other recipe: 30
DEFAULT_STEPS = {"flow-mnist": 20}  # timed steps; every other recipe: 60


def measure(name: str, steps: int | None, warmup: int = 5) -> dict:
    recipe = recipes.get(name)
    total = recipe.steps
    steps = steps or DEFAULT_STEPS.get(name, 60)
    step, data = recipes.build(name, steps=total)
    quiet = dict(batch_size=recipe.batch_size, seed=recipe.seed, reporter=None, log_every=0)
    fit(step, data, max_steps=warmup, **quiet)
    start = time.perf_counter()
    fit(step, data, max_steps=steps, **quiet)  # the same step object: it goes on training
    per_step = (time.perf_counter() - start) / steps
    callbacks, every = tracker(name, total)
    eval_seconds, evals = 0.0, (total // every if callbacks else 0)
    if callbacks:
        start = time.perf_counter()
        callbacks[0](step, warmup + steps)
        eval_seconds = time.perf_counter() - start
    minutes = (per_step * total + eval_seconds * evals) / 60
    budget = BUDGET_MINUTES.get(name, 30)
    return {"steps": total, "batch_size": recipe.batch_size, "ms_per_step": round(1000 * per_step, 1),
            "timed_steps": steps, "evaluations": evals, "seconds_per_evaluation": round(eval_seconds, 1),
            "projected_minutes": round(minutes, 1), "budget_minutes": budget, "within_budget": minutes <= budget}


def update_readme(result: dict) -> None:
    lines = ["| recipe | steps × batch | one step | quality tracking | whole run | budget |",
             "|---|---|---|---|---|---|"]
    for name, r in result["recipes"].items():
        tracking = f"{r['evaluations']} × {r['seconds_per_evaluation']:.0f} s" if r["evaluations"] else "—"
        mark = "✓" if r["within_budget"] else "✗"
        lines.append(f"| `{name}` | {r['steps']:,} × {r['batch_size']} | {r['ms_per_step']:.0f} ms | {tracking} | "
                     f"{r['projected_minutes']:.1f} min | {r['budget_minutes']} min {mark} |")
    replace_marked(ROOT / "README.md", "recipe-times", "\n".join(lines) + f"\n\n*{result['machine']}, load "
                   f"average {result['load_before']:.2f} before the run, {result['date']}; `{result['command']}`.*")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--names", nargs="+", choices=list(recipes.SHIPPED), default=list(recipes.SHIPPED))
    parser.add_argument("--steps", type=int, help="timed steps per recipe (default 60; flow-mnist 20)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "recipe_times.json")
    parser.add_argument("--no-readme", action="store_true", help="do not update the README table")
    args = parser.parse_args()
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be a positive number of steps, got {args.steps}")
    threads = set_threads(int(os.environ.get("GENIMG_THREADS", 2)))
    env = "".join(f"{k}={os.environ[k]} " for k in ("GENIMG_THREADS",) if k in os.environ)
    result = {**run_record(f"{env}python benchmarks/recipe_times.py", threads=threads), "recipes": {}}
    for name in args.names:
        result["recipes"][name] = measure(name, args.steps)
        print(f"{name}: {result['recipes'][name]}", flush=True)
    write_json(args.out, result)
    if not args.no_readme:
        update_readme(result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
