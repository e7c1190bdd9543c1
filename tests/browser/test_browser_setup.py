"""The browser tests' own machinery, checked without a browser: skipping, cell selection, pictures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from labdriver import find_chromium
from notebook_cells import needed_cells, prepare_notebook
from pictures import changed_fraction

HERE = Path(__file__).parent


def _run_widget_tests(**env) -> subprocess.CompletedProcess:
    child = {k: v for k, v in os.environ.items() if k not in ("GENIMG_BROWSER_TESTS", "PYTEST_CURRENT_TEST")}
    child.update(env)
    return subprocess.run([sys.executable, "-m", "pytest", str(HERE / "test_browser_widgets.py"), "-q", "-rs",
                           "-p", "no:cacheprovider", "-k", "latent"], env=child, capture_output=True, text=True,
                          cwd=HERE.parents[1], timeout=300)


def test_without_a_browser_the_tests_skip_and_say_why():
    r = _run_widget_tests(GENIMG_CHROMIUM="/nonexistent/chromium")
    assert r.returncode == 0, r.stdout[-2000:]
    assert "1 skipped" in r.stdout and "passed" not in r.stdout, r.stdout[-2000:]
    assert "no Chromium found" in r.stdout and "apt-get install chromium" in r.stdout


def test_without_a_browser_ci_fails(monkeypatch):
    """`.ci/run` sets GENIMG_BROWSER_TESTS=required: the reason that skipped above fails the run instead. (The
    fixture's path to `unavailable` is the one the test above runs end to end; one pytest process less.)"""
    from labdriver import unavailable

    monkeypatch.setenv("GENIMG_BROWSER_TESTS", "required")
    with pytest.raises(pytest.fail.Exception, match="browser tests are required .* but no Chromium found"):
        unavailable("no Chromium found")
    monkeypatch.setenv("GENIMG_BROWSER_TESTS", "")
    with pytest.raises(pytest.skip.Exception, match="browser tests skipped: no Chromium found"):
        unavailable("no Chromium found")


def test_find_chromium_honours_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("GENIMG_CHROMIUM", str(tmp_path / "missing"))
    assert find_chromium() is None
    fake = tmp_path / "chrome"
    fake.write_text("")
    monkeypatch.setenv("GENIMG_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_needed_cells_keeps_setup_widgets_and_what_they_read():
    nb = _notebook(
        "import torch\nfrom genimg_edu.widgets import latent_explorer",  # 1 setup: always
        "slow = train_for_a_minute()",  # 2 nobody reads `slow`
        "model = load('vae2d')\nfig, ax = plot(model)",  # 3 defines model
        "fig, ax = plot(slow)\nax.set(title='x')",  # 4 sets and reads fig/ax itself
        "!pip list\nlatent_explorer(lambda z: model.decode(z), torch.zeros(2))",  # 5 the widget cell
    )
    assert needed_cells(nb) == [1, 3, 5]


def test_prepare_notebook_drops_outputs_and_numbers_widget_cells(tmp_path):
    nb = _notebook("x = 1", "y = 2", "class_picker(x)")
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="old")]
    nb.cells[1].execution_count = 7
    src = tmp_path / "src" / "99_demo.ipynb"
    src.parent.mkdir()
    nbformat.write(nb, src)
    dest, widget_cells = prepare_notebook(src, tmp_path)
    copy = nbformat.read(dest, as_version=4)
    assert [c.source for c in copy.cells] == ["x = 1", "class_picker(x)"]
    assert widget_cells == [1]
    assert all(c.outputs == [] and c.execution_count is None for c in copy.cells)
    _, widget_cells = prepare_notebook(src, tmp_path, full=True)
    assert widget_cells == [3], "a whole notebook keeps every cell, markdown included"


def test_changed_fraction_counts_only_the_region():
    before = np.zeros((10, 20, 3), np.uint8)
    after = before.copy()
    after[:, 10:] = 255  # the right half changes
    assert changed_fraction(before, after) == pytest.approx(0.5)
    assert changed_fraction(before, after, (0, 0, 10, 10)) == 0
    assert changed_fraction(before, after, (10, 0, 20, 10)) == 1
