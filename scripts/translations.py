"""The Chinese edition: notebooks/zh/ generated from the English notebooks and i18n/zh/NN.json (labs: labN.json).

    python scripts/translations.py check          # what is missing, stale or out of date (exit 1 if anything)
    python scripts/translations.py todo 03        # the English text (and hash) of 03's cells still to translate
    python scripts/translations.py todo lab2      # the same for notebooks/labs/lab2_*.ipynb
    python scripts/translations.py build          # write notebooks/zh/*.ipynb and zh/labs/ (refuses while check fails)

A translation file maps each English markdown cell's id to its Chinese text and to the
hash of the English text it was translated from::

    {"notebook": "03_gan.ipynb",
     "cells": {"<cell id>": {"en_sha256": "<first 16 hex digits>", "zh": "## 生成对抗网络 …"}}}

When an English cell is edited its hash changes and the translation is *stale* until a
translator updates ``zh`` and copies the new hash from ``todo``. Code cells and their
outputs are copied unchanged (nbval runs the English notebooks only); relative links are
rewritten for the Chinese notebook's folder, except those to another notebook of the course, which
lead to its Chinese twin. Generated files are written atomically.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu.io import atomic_write  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
LANG = "zh"
I18N = ROOT / "i18n" / LANG
OUT = NOTEBOOKS / LANG
BANNER = ("> 本笔记本是课程的中文版，由 `scripts/translations.py` 从英文版 [{name}]({english}) 生成，"
          "代码与输出和英文版完全相同。尽管运行和修改代码；如果想改进译文，请编辑 `i18n/zh/{key}.json` 再重新生成。"
          "术语见[中英术语表]({glossary})。")


def english_notebooks() -> list[Path]:
    """The course notebooks, then the labs."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted(NOTEBOOKS.glob("labs/lab*.ipynb"))


def key(nb: Path) -> str:
    """A notebook's short name: ``03`` for 03_gan.ipynb, ``lab2`` for labs/lab2_cnn.ipynb."""
    return nb.name.split("_")[0]


def output(nb: Path) -> Path:
    """Where `nb`'s Chinese twin goes: notebooks/zh/03_gan.ipynb, notebooks/zh/labs/lab2_cnn.ipynb."""
    return OUT / nb.relative_to(OUT.parent)  # OUT is notebooks/zh


def text(cell: dict) -> str:
    src = cell["source"]
    return src if isinstance(src, str) else "".join(src)


def digest(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()[:16]


def translation_path(nb: Path) -> Path:
    return I18N / f"{key(nb)}.json"


def load_translation(nb: Path) -> dict:
    path = translation_path(nb)
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("notebook") != nb.name or not isinstance(data.get("cells"), dict):
        raise ValueError(f"{path}: expected {{'notebook': {nb.name!r}, 'cells': {{cell id: {{'en_sha256', 'zh'}}}}}}")
    return data["cells"]


def problems(nb: Path) -> list[str]:
    """What keeps `nb`'s Chinese edition from being complete and current (empty when it is)."""
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    done = load_translation(nb)
    found, ids = [], set()
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        ids.add(cell["id"])
        entry = done.get(cell["id"])
        if entry is None or not str(entry.get("zh", "")).strip():
            found.append(f"{nb.name} cell {i} ({cell['id']}): no translation")
        elif entry.get("en_sha256") != digest(text(cell)):
            found.append(f"{nb.name} cell {i} ({cell['id']}): the English text changed since it was translated")
    found += [f"{translation_path(nb).name}: cell {k} is not a markdown cell of {nb.name} any more"
              for k in sorted(set(done) - ids)]
    return found


def relink(markdown: str, source: Path = NOTEBOOKS / "00.ipynb") -> str:
    """Relative links of the English notebook `source` made right for its Chinese twin's folder; a link to
    another English notebook is kept, so that it leads to that notebook's twin beside this one."""
    here, there = source.parent, output(source).parent
    twins = set(english_notebooks())

    def fix(m):
        target = m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        resolved = Path(os.path.normpath(here / path))
        if resolved in twins or re.fullmatch(r"\d\d_[\w-]+\.ipynb", path):
            return m.group(0)
        return m.group(1) + os.path.relpath(resolved, there) + (f"#{anchor}" if anchor else "")
    return re.sub(r"(\]\(|src=\")([^)\"\s]+)", fix, markdown)


def build(nb: Path) -> dict:
    """The Chinese notebook for `nb` (which must have a complete, current translation)."""
    data = json.loads(nb.read_text(encoding="utf-8"))
    done = load_translation(nb)
    out = copy.deepcopy(data)
    for cell in out["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = relink(done[cell["id"]]["zh"], nb).splitlines(keepends=True)
    there = output(nb).parent
    banner = {"cell_type": "markdown", "id": f"{LANG}-banner", "metadata": {},
              "source": [BANNER.format(name=nb.name, english=os.path.relpath(nb, there), key=key(nb),
                                       glossary=os.path.relpath(ROOT / "docs" / "glossary.md", there))]}
    out["cells"].insert(1, banner)
    out["metadata"]["genimg_edu"] = {"lang": LANG, "generated_from": nb.name}
    return out


def serialise(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def out_of_date(nb: Path) -> bool:
    target = output(nb)
    return not target.exists() or target.read_text(encoding="utf-8") != serialise(build(nb))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="list missing or stale translations and out-of-date generated notebooks")
    todo = sub.add_parser("todo", help="print (as JSON) the English cells of one notebook still to translate")
    todo.add_argument("number", help="the notebook's two digits, e.g. 03, or a lab's name, e.g. lab2")
    sub.add_parser("build", help="write notebooks/zh/ from the English notebooks and i18n/zh/")
    args = parser.parse_args()
    notebooks = english_notebooks()
    if args.command == "todo":
        matches = [nb for nb in notebooks if key(nb) == args.number]
        if not matches:
            parser.error(f"no notebook numbered {args.number!r} in {NOTEBOOKS}")
        nb = matches[0]
        done = load_translation(nb)
        todo_cells = {c["id"]: {"en_sha256": digest(text(c)), "en": text(c)}
                      for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
                      if c["cell_type"] == "markdown" and done.get(c["id"], {}).get("en_sha256") != digest(text(c))}
        print(json.dumps(todo_cells, indent=1, ensure_ascii=False))
        return 0
    found = [p for nb in notebooks for p in problems(nb)]
    if args.command == "check":
        found += [f"{output(nb).relative_to(ROOT)} is out of date: run python scripts/translations.py build"
                  for nb in notebooks if not problems(nb) and out_of_date(nb)]
        print("\n".join(found) or f"the {LANG} edition is complete and current ({len(notebooks)} notebooks)")
        return 1 if found else 0
    if found:
        print("\n".join(found), file=sys.stderr)
        print(f"not built: {len(found)} cells need translating (python scripts/translations.py todo NN)",
              file=sys.stderr)
        return 1
    for nb in notebooks:
        with atomic_write(output(nb), "w") as f:
            f.write(serialise(build(nb)))
    print(f"wrote {len(notebooks)} notebooks to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
