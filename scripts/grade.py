"""Grade a class in one command: every exercise check on every student's notebooks.

    python scripts/grade.py SUBMISSIONS/ --out grades/

SUBMISSIONS/ holds one folder per student (its name is the student's name in the table), each with that
student's notebooks — the course's notebooks as handed in, in either edition, under any file names.
Writes grades/grades.csv (a row per student, a column per exercise: passed, "mistake: <which>", not done,
error) and grades/feedback/<student>.md (what each check said). Each student runs in a process of their
own, in an empty temporary folder, with a time limit per answer (--seconds) and a cap on output, so one
broken or hostile submission costs only its own row. See genimg_edu/exercises/grading.py.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from genimg_edu.exercises.grading import columns, grade_class


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submissions", type=Path, help="a folder with one folder of notebooks per student")
    parser.add_argument("--out", type=Path, required=True, help="where grades.csv and feedback/ go (created)")
    parser.add_argument("--seconds", type=float, default=30, help="time limit of one answer (default 30 s)")
    parser.add_argument("--jobs", type=int, default=max(1, (os.cpu_count() or 1) // 2),
                        help="students graded side by side (default: half the cores)")
    args = parser.parse_args(argv)
    try:
        runs = grade_class(args.submissions, args.out, seconds=args.seconds, jobs=args.jobs)
    except (FileNotFoundError, ValueError) as e:
        parser.error(str(e))
    total = len(columns())
    for student, results in runs.items():
        passed = sum(r["status"] == "passed" for r in results.values())
        print(f"{student:24} {passed:3} of {total} passed")
    print(f"wrote {args.out / 'grades.csv'} and {len(runs)} feedback files in {args.out / 'feedback'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
