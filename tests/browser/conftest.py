"""Fixtures for the browser tests: Chromium through Playwright, JupyterLab, and a notebook already run.

The tests skip, saying why, when Playwright or a Chromium is missing — and fail instead when
``GENIMG_BROWSER_TESTS=required`` (set by `.ci/run`), so CI cannot pass without running them.

- ``GENIMG_CHROMIUM=/path/to/chrome``: use this browser instead of /usr/bin/chromium;
- ``GENIMG_BROWSER_FULL=1``: run whole notebooks, not only the cells the controls need;
- ``GENIMG_BROWSER_ARTIFACTS=DIR``: where screenshots go (default tests/browser/artifacts/).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from labdriver import CHROMIUM_FLAGS, JupyterLab, Notebook, find_chromium, record, unavailable
from notebook_cells import WIDGET_FUNCTIONS, prepare_notebook

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
# Notebooks whose control is not a call of a widget function: (functions, how many such cells).
# fit shows the training dashboard; its last call in 05 trains the small DCGAN (300 steps, a few seconds of
# redraws), the cheapest of its calls that shows samples while it trains.
SHOWN_BY = {"05_training": ({"fit"}, -1)}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    path = Path(os.environ.get("GENIMG_BROWSER_ARTIFACTS") or Path(__file__).parent / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install -e '.[browser]')")
    executable = find_chromium()
    if executable is None:
        unavailable("no Chromium found (Debian: apt-get install chromium; or set GENIMG_CHROMIUM=/path/to/chrome)")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        except Exception as e:  # a browser that does not start is as good as none; say what it said
            unavailable(f"Chromium at {executable} did not start: {str(e).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture(scope="session")
def lab(browser, tmp_path_factory, artifacts):
    """A JupyterLab server whose root holds the widget notebooks, trimmed (or whole, GENIMG_BROWSER_FULL=1)."""
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        unavailable("JupyterLab is not installed (pip install -e '.[lab]')")
    root, home = tmp_path_factory.mktemp("lab-root"), tmp_path_factory.mktemp("lab-home")
    full = os.environ.get("GENIMG_BROWSER_FULL", "") not in ("", "0")
    server = JupyterLab(root, home)
    server.widget_cells = {}
    for src in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        targets, only = SHOWN_BY.get(src.stem, (WIDGET_FUNCTIONS, None))
        dest, cells = prepare_notebook(src, root, targets, only=only, full=full)
        if cells:
            server.widget_cells[src.stem] = cells
        else:
            dest.unlink()
    try:
        server.wait_ready()
        yield server
        record(artifacts, jupyterlab_server_peak_rss_mb=server.peak_rss_mb())
    finally:
        server.stop()


@pytest.fixture(scope="module")
def notebook_run(request, browser, lab, artifacts):
    """Factory: open notebook `stem` in a new page, Run All, and return the `Notebook` (one per module)."""
    opened = {}

    def open_and_run(stem: str) -> Notebook:
        if stem not in opened:
            if stem not in lab.widget_cells:
                pytest.fail(f"{stem}.ipynb has no cell calling a control of genimg_edu.widgets")
            context = browser.new_context(viewport={"width": 1280, "height": 1000}, device_scale_factor=1)
            nb = Notebook(context.new_page(), lab, f"{stem}.ipynb")
            nb.context, nb.seconds = context, nb.run_all()
            opened[stem] = nb
            record(artifacts, run_all_seconds={stem: round(nb.seconds, 1)})
        return opened[stem]

    yield open_and_run
    for nb in opened.values():
        nb.context.close()
