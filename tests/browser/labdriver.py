"""Drive the course's notebooks in JupyterLab, in a real browser, the way a learner does.

Three parts, each usable alone (which cells to run: `notebook_cells`; screenshots: `pictures`):

- `find_chromium` / `unavailable`: where the browser is, and how to say that it is not;
- `JupyterLab`: a server from this environment on 127.0.0.1 with a token, a free port and a
  temporary root, whose kernels see live widgets;
- `Notebook`: one notebook open in a Playwright page: run it, find a widget's output, press keys,
  wait for a picture to change, take screenshots, and collect every error a learner would see.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


# --- is there a browser? --------------------------------------------------------------------------

def find_chromium() -> str | None:
    """``GENIMG_CHROMIUM`` if set (must exist), else Debian's /usr/bin/chromium or one on PATH."""
    chosen = os.environ.get("GENIMG_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for candidate in ("/usr/bin/chromium", *(shutil.which(n) for n in ("chromium", "chromium-browser",
                                                                         "google-chrome"))):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def unavailable(reason: str):
    """Skip with `reason`, or fail when ``GENIMG_BROWSER_TESTS=required`` (CI): never pass silently."""
    if os.environ.get("GENIMG_BROWSER_TESTS", "").strip().lower() == "required":
        pytest.fail(f"browser tests are required (GENIMG_BROWSER_TESTS=required) but {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


# --- the server -----------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``python -m jupyterlab`` from this environment, on 127.0.0.1, serving `root`.

    The kernels it starts get ``GENIMG_WIDGETS=live`` and no ``PYTEST_CURRENT_TEST``, so the
    notebooks show their real controls, not the static preview that nbval stores.
    """

    def __init__(self, root: Path, home: Path, *, threads: int = 1):
        self.root, self.home, self.token, self.port = root, home, secrets.token_hex(16), free_port()
        settings = home / "settings"
        for plugin, values in {
            "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},  # every cell in the DOM
        }.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "JUPYTER_TOKEN")}
        env.update(GENIMG_WIDGETS="live", GENIMG_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   OPENBLAS_NUM_THREADS=str(threads),
                   JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   IPYTHONDIR=str(home / "ipython"), MPLCONFIGDIR=str(home / "matplotlib"))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--port-retries=0", f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={home / 'workspaces'}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI containers run as root; the server refuses otherwise
        self.log_path = home / "jupyterlab.log"
        self.process = subprocess.Popen(cmd, env=env, stdout=self.log_path.open("w"), stderr=subprocess.STDOUT,
                                        start_new_session=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, notebook: str) -> str:
        """The notebook alone in a fresh workspace of its own (else the last one's open tabs come back)."""
        workspace = re.sub(r"[^A-Za-z0-9_-]", "-", notebook)
        return f"{self.base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={self.token}"

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"JupyterLab did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def peak_rss_mb(self) -> int | None:
        """The server process's peak resident memory so far (Linux; None elsewhere), kernels not included."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        m = re.search(r"VmHWM:\s+(\d+) kB", status)
        return round(int(m.group(1)) / 1024) if m else None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGTERM: the server shuts down its kernels (each in a session of its own) before it exits
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- a notebook in the page -----------------------------------------------------------------------

class Notebook:
    """One notebook open in JupyterLab in a Playwright `page`."""

    def __init__(self, page, lab: JupyterLab, name: str):
        self.page, self.lab, self.name = page, lab, name
        self.console_errors: list[str] = []
        self.pictures_seen: dict[int, set[str]] = {}  # cell → every picture its controls showed during run_all
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))
        page.goto(lab.url(name))
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        self._wait_kernel_idle(timeout=60)

    def _answer_dialogs(self) -> None:
        """JupyterLab may ask which kernel to start while its kernel list loads: take the notebook's own.

        Any other dialog is unexpected, and fails the test with what it says.
        """
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            text = dialog.first.inner_text()
            if "Select Kernel" not in text:
                raise AssertionError(f"{self.name}: unexpected dialog: {text[:500]}")
            self.page.locator(".jp-Dialog .jp-mod-accept").first.click()
            dialog.first.wait_for(state="detached", timeout=10_000)

    def _wait_kernel_idle(self, *, timeout: float, steady: float = 1.0) -> None:
        """Wait until the kernel is idle and no dialog has come up for `steady` seconds."""
        deadline, since = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            self._answer_dialogs()
            if self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count():
                since = since or time.monotonic()
                if time.monotonic() - since >= steady:
                    return
            else:
                since = None
            time.sleep(0.2)
        raise TimeoutError(f"{self.name}: the kernel was not idle within {timeout} s")

    def cell(self, index: int):
        return self.page.locator(".jp-Notebook .jp-Cell").nth(index)

    def run_all(self, *, timeout: float = 300) -> float:
        """Run ▸ Run All Cells from the menu; wait until every code cell has run. Returns seconds.

        Fails at once, with the cell's text, when a cell stops with an error (Run All stops there).
        """
        start = time.monotonic()
        for attempt in range(3):  # a click while the kernel is still connecting can be dropped: try again
            self._answer_dialogs()
            self.page.get_by_role("menuitem", name="Run", exact=True).click()
            self.page.locator("li[data-command='runmenu:run-all']").click()
            try:
                self.page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]"
                    ".some(e => /\\[(\\*|\\d+)\\]/.test(e.textContent))", timeout=10_000)
                break
            except Exception:
                self.page.keyboard.press("Escape")
        idle_since = None
        while time.monotonic() - start < timeout:
            time.sleep(0.5)
            self._answer_dialogs()
            self._note_pictures()
            prompts = self.page.locator(".jp-Notebook .jp-CodeCell .jp-InputPrompt").all_inner_texts()
            if prompts and all(re.search(r"\[\d+\]", p) for p in prompts):
                self._wait_kernel_idle(timeout=timeout)
                return time.monotonic() - start
            error = self.page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                      has_text="Traceback")
            if error.count():
                raise AssertionError(f"{self.name}: a cell failed:\n{error.first.inner_text()[-3000:]}")
            idle = self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
            busy = any("*" in p for p in prompts)
            idle_since = (idle_since or time.monotonic()) if idle and not busy else None
            if idle_since and time.monotonic() - idle_since > 10:
                self.page.screenshot(path=self.lab.home / f"stopped-{self.name}.png")
                raise AssertionError(f"{self.name}: Run All stopped with cells not run: {prompts}; "
                                     f"page at {self.lab.home}/stopped-{self.name}.png")
        self.page.screenshot(path=self.lab.home / f"timeout-{self.name}.png")
        raise TimeoutError(f"{self.name}: Run All did not finish in {timeout} s ({prompts}); "
                           f"page at {self.lab.home}/timeout-{self.name}.png")

    def _note_pictures(self) -> None:
        """Remember the picture (blob URL) each cell's widget images show now: a live widget changes them."""
        for i, srcs in enumerate(self.page.evaluate(
                "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]"
                ".map(c => [...c.querySelectorAll('img.widget-image')].map(i => i.src))")):
            self.pictures_seen.setdefault(i, set()).update(srcs)

    def widget(self, cell: int):
        """The output of a widget cell, once its controls are drawn."""
        output = self.cell(cell).locator(".jp-OutputArea-output").filter(has=self.page.locator(".widget-image"))
        try:
            output.first.wait_for(timeout=60_000)
        except Exception:
            self.cell(cell).scroll_into_view_if_needed()
            self.page.screenshot(path=self.lab.home / f"failed-{self.name}-cell{cell}.png")
            raise AssertionError(f"{self.name}: cell {cell} shows no control; page at "
                                 f"{self.lab.home}/failed-{self.name}-cell{cell}.png\n"
                                 f"{self.cell(cell).inner_text()[-2000:]}") from None
        return output.first

    def wait_picture_change(self, img, old_src: str, *, timeout: float = 30) -> float:
        """Wait until `img` shows a new picture (a new blob URL, loaded); return the seconds it took."""
        start = time.monotonic()
        self.page.wait_for_function("([el, old]) => el.src !== old && el.complete && el.naturalWidth > 0",
                                    arg=[img.element_handle(), old_src], timeout=timeout * 1000)
        return time.monotonic() - start

    def settle(self, img, *, quiet: float = 1.0, timeout: float = 30) -> None:
        """Wait until the kernel is idle and `img` has not changed for `quiet` seconds (updates arrive one by one)."""
        deadline = time.monotonic() + timeout
        src, since = img.get_attribute("src"), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            now = img.get_attribute("src")
            if now != src:
                src, since = now, time.monotonic()
            idle = self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count()
            if idle and time.monotonic() - since >= quiet:
                return
        raise TimeoutError(f"{self.name}: the picture kept changing for {timeout} s")

    def save(self) -> None:
        """Ctrl+S, as a learner saves; wait until the tab is clean."""
        self.page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})  # focus the notebook
        self.page.keyboard.press("Escape")  # command mode
        self.page.keyboard.press("Control+s")
        self.page.wait_for_function("() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
                                    timeout=30_000)
        time.sleep(0.3)

    def kernel_errors(self) -> list[str]:
        """Tracebacks in the saved notebook's outputs, and what the log console caught from widget callbacks."""
        self.save()
        nb = nbformat.read(self.lab.root / self.name, as_version=4)
        errors = []
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                if out.output_type == "error":
                    errors.append(f"cell {i}: {out.ename}: {out.evalue}")
                elif out.output_type == "stream" and out.name == "stderr" and "Traceback" in out.text:
                    errors.append(f"cell {i} stderr: {out.text[-500:]}")
        # Output of widget callbacks has no cell; JupyterLab routes it to the log console.
        status = self.page.locator(".jp-LogConsoleStatusItem [title]")
        if status.count():
            title = status.first.get_attribute("title") or ""
            m = re.search(r"(\d+) log entr", title)
            if m and int(m.group(1)) > 0:
                status.first.click()
                console = self.page.locator(".jp-LogConsolePanel, .jp-LogConsole").first
                console.wait_for(timeout=10_000)
                errors.append(f"log console ({title}): {console.inner_text()[-1500:]}")
        return errors

    def page_errors(self) -> list[str]:
        """Errors the page logged to its console, and uncaught exceptions, since it opened."""
        return list(self.console_errors)


def record(artifacts: Path, **values) -> None:
    """Merge `values` into artifacts/browser_run.json (what the last run measured)."""
    path = artifacts / "browser_run.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    for key, value in values.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
