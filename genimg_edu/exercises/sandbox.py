"""Run one student's answers and report each check — inside the process `grading` starts for that student.

    python -m genimg_edu.exercises.sandbox < job.json   # {"cells": [[name, source, shared], ...], "seconds": 20,
                                                        #  "cpu_seconds": 300, "output_bytes": 4194304}

The process runs in the student's own temporary folder (its working directory and HOME) and writes one JSON
line per exercise to the file descriptor named by ``GENIMG_GRADE_FD``: ``{"name", "status", "mistake",
"message"}``. What the answers print goes to ``output.log`` in that folder, capped by the parent's file-size
limit, never to the report. Each exercise cell runs on its own, in a fresh namespace, as an exercise must
stand in its cell; a lab's cells share one namespace, in order, as its parts build on each other. An
answer cell's last line (``check_<name>(<name>)``) is not run — the grader calls the registered check on
what the cell defined; for a lab's last cell the grader runs its project check itself, on the learner's
parts and with the lab's own settings (whatever arguments the learner typed there). An answer that takes longer than ``seconds`` is stopped by an alarm.
An answer that kills the process or swallows the alarm costs its own student's remaining rows only: the
parent marks whatever was not reported as an error.
"""
from __future__ import annotations

import errno
import json
import os
import re
import resource
import signal
import sys


class TimeLimit(BaseException):
    """Raised by the alarm inside an answer that runs too long (a BaseException, so `except Exception`
    in the answer does not swallow it)."""


def _alarm(signum, frame):
    raise TimeLimit()


def _python(source: str, *, strip_check: bool = True) -> str:
    """The cell as plain Python: IPython's %magics and !shell lines translated (an exercise cell rarely has any),
    without its last line when that is the exercise's own check call."""
    from IPython.core.inputtransformer2 import TransformerManager

    lines = source.rstrip().splitlines()
    if strip_check and lines and re.fullmatch(r"check_\w+\(\w+\)\s*", lines[-1]):
        lines = lines[:-1]
    return TransformerManager().transform_cell("\n".join(lines) + "\n")


def run_cell(source: str, seconds: float, namespace: dict) -> None:
    """Run a lab's ungraded cell; what it breaks shows in the graded cells after it."""
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        exec(compile(_python(source, strip_check=False), "<lab cell>", "exec"), namespace)
    except (Exception, TimeLimit):  # noqa: BLE001
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def grade_cell(name: str, source: str, seconds: float, namespace: dict) -> dict:
    """Run one answer cell in `namespace` and its check; the result as a dict (never raises, but for the alarm)."""
    from genimg_edu.exercises import PROJECTS, REGISTRY

    project = PROJECTS.get(name)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, project.seconds) if project else seconds)
    try:
        if project:  # a lab's last cell: the grader runs the check itself, with the lab's own settings
            feedback = project.check(*(namespace.get(part) for part in project.parts))
        else:
            exec(compile(_python(source), f"<exercise {name}>", "exec"), namespace)
            answer = namespace.get(name)
            if answer is None:
                return {"status": "error", "mistake": "missing",
                        "message": f"the cell no longer defines `{name}`: keep its name as given."}
            feedback = REGISTRY[name].check(answer)
    except TimeLimit:
        return {"status": "error", "mistake": "time", "message": f"the cell ran longer than {seconds:g} s and was "
                "stopped (an endless loop? a training run left in?)."}
    except NotImplementedError:
        return {"status": "not done", "mistake": "not-done", "message": "not done yet."}
    except Exception as e:  # noqa: BLE001 — an answer may raise anything; it is reported, not fatal
        if isinstance(e, OSError) and e.errno == errno.EFBIG:  # past the output limit
            return {"status": "error", "mistake": "output", "message": "the cell printed or wrote more than "
                    f"{resource.getrlimit(resource.RLIMIT_FSIZE)[0] // 2**20} MB and was stopped."}
        return {"status": "error", "mistake": "error", "message": f"the cell raised {type(e).__name__}: {e}"[:500]}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    status = "passed" if feedback.passed else "not done" if feedback.mistake == "not-done" else (
        "error" if feedback.mistake == "error" else "mistake")
    return {"status": status, "mistake": feedback.mistake, "message": feedback.message}


def main() -> None:
    job = json.loads(sys.stdin.read())
    report = os.fdopen(int(os.environ["GENIMG_GRADE_FD"]), "w", buffering=1)
    cpu, size = job["cpu_seconds"], job["output_bytes"]
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # beyond it the process is killed: its rows say so
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))  # what the answers may print or write, per file
    log = os.open("output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the size limit a write fails (an error), no kill
    signal.signal(signal.SIGALRM, _alarm)
    import genimg_edu.exercises  # noqa: F401 — before the first alarm: importing torch is not the answer's time

    lab = {"__name__": "__main__"}  # a lab's parts build on each other: its cells share one namespace
    for name, source, shared in job["cells"]:
        if name is None:  # a lab's own cell (imports, data, a picture): run, not graded
            run_cell(source, job["seconds"], lab)
            continue
        try:
            result = grade_cell(name, source, job["seconds"], lab if shared else {"__name__": "__main__"})
        except TimeLimit:  # the alarm fell between the answer and its check's return
            result = {"status": "error", "mistake": "time", "message": "the cell ran too long and was stopped."}
        report.write(json.dumps({"name": name, **result}) + "\n")


if __name__ == "__main__":
    main()
