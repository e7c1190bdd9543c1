"""README.zh-CN.md cannot drift from the English README and the build: the same PyTorch version, the same
minimum Python, and the same measured time and memory for every notebook."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EN = (ROOT / "README.md").read_text(encoding="utf-8")
ZH = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
MEASURED = re.compile(r"^\| (0\d) \|.*\| (\d+\.\d \(\d+ s, \d+ MB\)) \|$", re.M)


def test_the_torch_version_is_the_makefiles():
    version = re.search(r"^TORCH_VERSION \?= (\S+)$", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M)[1]
    quoted = set(re.findall(r"torch(?:==|-| )(\d+\.\d+\.\d+)|`(\d+\.\d+\.\d+)`", ZH))
    found = {a or b for a, b in quoted}
    assert found == {version}, f"README.zh-CN.md quotes PyTorch {sorted(found)}, the Makefile installs {version}"


def test_the_minimum_python_is_pyprojects():
    with open(ROOT / "pyproject.toml", "rb") as f:
        minimum = tomllib.load(f)["project"]["requires-python"].removeprefix(">=")
    assert f"Python ≥ {minimum}" in ZH


def test_each_notebooks_measured_time_and_memory_is_the_english_readmes():
    en, zh = dict(MEASURED.findall(EN)), dict(MEASURED.findall(ZH))
    assert len(en) == 9 and en == zh, {k: (en.get(k), zh.get(k)) for k in en if en.get(k) != zh.get(k)}


def test_the_notebook_benchmark_writes_both_tables(tmp_path, monkeypatch):
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import notebook_times

    (tmp_path / "README.md").write_text("| 02 | [CNNs](x) | what | 1.1 (65 s, 833 MB) |\n", encoding="utf-8")
    (tmp_path / "README.zh-CN.md").write_text("| 02 | 卷积：[中文](y) · [English](x) | 学什么 | 1.1 (65 s, 833 MB) |\n",
                                              encoding="utf-8")
    monkeypatch.setattr(notebook_times, "ROOT", tmp_path)
    notebook_times.update_readme({"02_cnn": {"seconds": 34.3, "peak_rss_mb": 780}})
    for name in ("README.md", "README.zh-CN.md"):
        assert (tmp_path / name).read_text(encoding="utf-8").endswith("| 0.6 (34 s, 780 MB) |\n"), name
