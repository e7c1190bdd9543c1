"""Build the README's Binder badge, Colab links and install line from the repository's address.

    python scripts/readme_links.py           # rewrite README.md and the notebooks from pyproject.toml
    python scripts/readme_links.py --check   # exit 1 if either is out of date (a test runs this)

The address is set in one place, ``[project.urls] Homepage`` in pyproject.toml
(``https://github.com/OWNER/REPO``). This script rewrites every Binder, Colab and
``git+https://github.com/...`` link of the README to it (and the install line in each notebook's
first cell, shown when ``genimg_edu`` cannot be imported), and regenerates the table
between ``<!-- colab-links -->`` and ``<!-- /colab-links -->``: one Colab link per
notebook in notebooks/. README.md is written atomically.
"""
from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from genimg_edu.io import atomic_write  # noqa: E402

BRANCH = "main"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def repository(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """``OWNER/REPO`` from ``[project.urls] Homepage``."""
    url = tomllib.loads(pyproject.read_text())["project"]["urls"]["Homepage"]
    m = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", url)
    if not m:
        raise ValueError(f"pyproject.toml [project.urls] Homepage must be https://github.com/OWNER/REPO, got {url!r}")
    return m.group(1)


def binder_url(repo: str, notebook: str = "notebooks/00_welcome.ipynb") -> str:
    return f"https://mybinder.org/v2/gh/{repo}/{BRANCH}?urlpath=lab/tree/{notebook}"


def colab_url(repo: str, notebook: str) -> str:
    return f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/{notebook}"


def colab_table(repo: str, notebooks: list[Path]) -> str:
    rows = [f"| {nb.stem[:2]} | [![Open in Colab]({COLAB_BADGE})]({colab_url(repo, f'notebooks/{nb.name}')}) |"
            for nb in notebooks]
    return "\n".join(["| # | Colab |", "|---|---|", *rows])


def install_lines(text: str, repo: str) -> str:
    """`text` with every ``git+https://github.com/OWNER/REPO`` install address pointing at `repo`."""
    return re.sub(r"git\+https://github\.com/[\w.-]+/[\w.-]+?(?=[\"'`@\s)]|$)", f"git+https://github.com/{repo}", text)


def render(readme: str, repo: str, notebooks: list[Path]) -> str:
    """`readme` with every Binder, Colab and git+https link pointing at `repo`, and the Colab table rebuilt."""
    out = re.sub(r"https://mybinder\.org/v2/gh/[\w.-]+/[\w.-]+/[\w.-]+\?urlpath=lab/tree/([\w./-]+)",
                 lambda m: binder_url(repo, m.group(1)), readme)
    out = re.sub(r"https://colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/([\w./-]+)",
                 lambda m: colab_url(repo, m.group(1)), out)
    out = install_lines(out, repo)
    start, end = "<!-- colab-links -->", "<!-- /colab-links -->"
    if start in out:
        head, rest = out.split(start, 1)
        _, tail = rest.split(end, 1)
        out = f"{head}{start}\n{colab_table(repo, notebooks)}\n{end}{tail}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is not what this would write")
    args = parser.parse_args()
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    # the README, and each notebook's first cell (which says how to install the package in Colab)
    pages = {readme: render(text, repository(), notebooks)}
    pages.update({nb: install_lines(nb.read_text(encoding="utf-8"), repository()) for nb in notebooks})
    stale = [path for path, new in pages.items() if new != path.read_text(encoding="utf-8")]
    if args.check:
        if stale:
            sys.exit(f"links out of date in {', '.join(p.name for p in stale)}: run python scripts/readme_links.py")
        return
    for path in stale:
        with atomic_write(path, "w") as f:
            f.write(pages[path])
        print(f"{path.name}: links rewritten for {repository()}")


if __name__ == "__main__":
    main()
