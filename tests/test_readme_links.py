"""The README's Binder, Colab and install links all come from pyproject's [project.urls] Homepage."""
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import readme_links  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_links_are_up_to_date():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "readme_links.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_readme_has_a_binder_badge_a_colab_link_per_notebook_and_an_install_line():
    repo = readme_links.repository()
    assert readme_links.binder_url(repo) in README
    for nb in NOTEBOOKS:
        assert readme_links.colab_url(repo, f"notebooks/{nb.name}") in README, f"no Colab link for {nb.name}"
    assert f"git+https://github.com/{repo}" in README


def test_every_link_follows_a_new_address():
    moved = readme_links.render(README, "someone-else/fork", NOTEBOOKS)
    for pattern in [r"mybinder\.org/v2/gh/([\w.-]+/[\w.-]+)/", r"colab\.research\.google\.com/github/([\w.-]+/[\w.-]+)/",
                    r"git\+https://github\.com/([\w.-]+/[\w.-]+)"]:
        found = re.findall(pattern, moved)
        assert found and set(found) == {"someone-else/fork"}, f"{pattern}: {set(found)}"


def test_linked_notebooks_exist():
    for path in re.findall(r"(?:urlpath=lab/tree/|/blob/main/)([\w./-]+\.ipynb)", README):
        assert (ROOT / path).is_file(), f"the README links {path}, which does not exist"


def test_repository_rejects_an_address_that_is_not_github(tmp_path):
    bad = tmp_path / "pyproject.toml"
    bad.write_text('[project]\nurls = { Homepage = "https://example.org/course" }\n')
    with pytest.raises(ValueError, match="OWNER/REPO"):
        readme_links.repository(bad)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_without_the_package_says_exactly_what_to_run(notebook):
    """The first cell of every notebook, run where genimg_edu is missing (as in a fresh Colab), names the install
    line for this repository's address — and the address follows pyproject's Homepage like the README's."""
    import nbformat

    first = next(c for c in nbformat.read(notebook, 4).cells if c.cell_type == "code").source
    guard = first[:first.index(" from None") + len(" from None")]
    r = subprocess.run([sys.executable, "-I", "-S", "-c", guard], capture_output=True, text=True)  # no site-packages
    repo = readme_links.repository()
    assert r.returncode == 1 and "ModuleNotFoundError: genimg_edu is not installed" in r.stderr
    assert f"!pip install 'genimg-edu @ git+https://github.com/{repo}'" in r.stderr
    assert "git+https://github.com/someone-else/fork" in readme_links.install_lines(first, "someone-else/fork")


def test_the_chinese_readme_links_what_the_english_one_does():
    """README.zh-CN.md's Binder, Colab and install links are the English README's (so they move with it), and
    every notebook it links, English or Chinese, exists."""
    zh = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    for pattern in [r"https://mybinder\.org/v2/gh/[^\s)]+", r"https://colab\.research\.google\.com/github/[^\s)]+",
                    r"git\+https://github\.com/[\w.-]+/[\w.-]+"]:
        for url in re.findall(pattern, zh):
            assert url in README, f"README.zh-CN.md links {url}, which README.md does not"
    for path in re.findall(r"\]\((notebooks/[\w./-]+\.ipynb)\)", zh):
        assert (ROOT / path).is_file(), f"README.zh-CN.md links {path}, which does not exist"
    assert "README.zh-CN.md" in README and "docs/glossary.md" in README and "docs/glossary.md" in zh
