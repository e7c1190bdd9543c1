"""The sweep scripts and the benchmarks that train (time_to_quality, recipe_times) run end to end on tiny budgets.

Each script runs in this process (its `main` with its command line), as tests/test_pretrain_script.py does:
what is tested is the script's own code, and a fresh interpreter per script only cost time (the import of
torch, and the evaluation's reference statistics, which stay cached between the scripts here).
"""
import importlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for folder in ("scripts", "benchmarks"):
    if str(ROOT / folder) not in sys.path:
        sys.path.insert(0, str(ROOT / folder))


def _run(monkeypatch, path: str, *args) -> None:
    """Run `path` (e.g. "scripts/challenges.py") as `python path args...` would, with GENIMG_THREADS=1."""
    monkeypatch.setattr(sys, "argv", [path, *args])
    monkeypatch.setenv("GENIMG_THREADS", "1")
    monkeypatch.chdir(ROOT)
    importlib.import_module(Path(path).stem).main()


def _readme_table(module: str, marker: str, result: dict, tmp_path, monkeypatch) -> str:
    """The README a benchmark's `update_readme` writes from `result`, into a scratch README with its markers."""
    bench = importlib.import_module(module)
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n<!-- {marker}:start -->\nold\n<!-- {marker}:end -->\nafter\n")
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    bench.update_readme(result)
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    return text


def test_stability_sweep_writes_every_setting(tmp_path, monkeypatch):
    out = tmp_path / "stability.json"
    _run(monkeypatch, "scripts/stability_sweep.py", "--steps", "2", "--every", "2", "--samples", "100",
         "--out", str(out))
    result = json.loads(out.read_text(encoding="utf-8"))
    import stability_sweep

    assert set(result["gan"]) == set(stability_sweep.GAN_SETTINGS)
    assert set(result["vae"]) == set(stability_sweep.VAE_SETTINGS)
    first = result["gan"]["baseline (hinge, SN, β1 = 0.5)"]
    assert first[0]["step"] == 2 and 0 < first[0]["is_ratio"] and first[-1]["status"] == "finished"
    assert all(0 <= r["active_units"] <= 16 for r in result["vae"].values())
    assert result["command"] == "python scripts/stability_sweep.py --steps 2 --samples 100" and result["samples"] == 100


def test_time_to_quality_measures_both_recipes_and_writes_the_readme_table(tmp_path, monkeypatch):
    out = tmp_path / "ttq.json"
    _run(monkeypatch, "benchmarks/time_to_quality.py", "--budgets", "0.5", "1", "--samples", "100", "--out", str(out),
         "--no-readme")
    result = json.loads(out.read_text(encoding="utf-8"))
    for kind, key in (("gan", "is_ratio"), ("vae", "test_neg_elbo")):
        for recipe in ("course", "plain"):
            rows = result[kind][recipe]
            assert [r["seconds"] for r in rows] == [0.5, 1.0] and rows[1]["steps"] >= rows[0]["steps"] and key in rows[0]
    text = _readme_table("time_to_quality", "time-to-quality", result, tmp_path, monkeypatch)
    assert "| GAN: IS ratio / FD ratio | course |" in text and "after 0.5 s" in text


def test_recipe_times_projects_each_recipe_with_its_tracking_and_writes_the_readme_table(tmp_path, monkeypatch):
    out = tmp_path / "times.json"
    _run(monkeypatch, "benchmarks/recipe_times.py", "--names", "vae2d-mnist", "dcgan-mnist", "--steps", "2",
         "--out", str(out), "--no-readme")
    result = json.loads(out.read_text(encoding="utf-8"))
    vae, gan = result["recipes"]["vae2d-mnist"], result["recipes"]["dcgan-mnist"]
    assert vae["evaluations"] == 0 and gan["evaluations"] == gan["steps"] // 2500 > 0  # the GAN tracks on val
    for r in (vae, gan):
        expected = (r["ms_per_step"] / 1000 * r["steps"] + r["evaluations"] * r["seconds_per_evaluation"]) / 60
        assert r["projected_minutes"] == pytest.approx(expected, rel=0.05, abs=0.1)
        assert r["within_budget"] == (r["projected_minutes"] <= r["budget_minutes"] == 30)
    text = _readme_table("recipe_times", "recipe-times", result, tmp_path, monkeypatch)
    assert "| `dcgan-mnist` |" in text and "| 30 min" in text


def test_flow_sampling_measures_every_sampler_and_scale(tmp_path, monkeypatch):
    """A 2-step flow model is enough to check the script: every sampler, every scale, the chosen scale."""
    model_dir, out = tmp_path / "model", tmp_path / "flow.json"
    _run(monkeypatch, "scripts/pretrain.py", "flow-mnist", "--steps", "2", "--sample-steps", "1",
         "--eval-samples", "100", "--out", str(model_dir), "--runs", str(tmp_path / "runs"))
    _run(monkeypatch, "scripts/flow_sampling.py", "--n", "20", "--quick", "--model-dir", str(model_dir), "--out", str(out))
    result = json.loads(out.read_text(encoding="utf-8"))
    import flow_sampling

    assert {m: [r["steps"] for r in rows] for m, rows in result["samplers"].items()} == \
        {m: list(s) for m, s in flow_sampling.QUICK_SAMPLERS.items()}
    assert [r["guidance"] for r in result["guidance"]] == list(flow_sampling.QUICK_SCALES)
    assert result["samplers"]["heun"][1]["nfe"] == 3 and 0 <= result["guidance"][0]["recall"] <= 1
    assert result["chosen_guidance"]["guidance"] in flow_sampling.QUICK_SCALES
    chosen = result["chosen_sampler"]
    assert chosen["steps"] in flow_sampling.QUICK_SAMPLERS[chosen["method"]]
    assert result["command"] == "python scripts/flow_sampling.py --n 20 --quick" and result["reference"] == "val"


def test_challenges_script_runs_every_experiment(tmp_path, monkeypatch):
    """scripts/challenges.py gan on a tiny budget: five seeds, three data sizes with the memorisation test, the bias runs."""
    out = tmp_path / "challenges.json"
    _run(monkeypatch, "scripts/challenges.py", "gan", "--steps", "4", "--samples", "60", "--out", str(out))
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["command"] == "python scripts/challenges.py gan --steps 4 --samples 60"
    assert sorted(result["seeds"]) == ["0", "1", "2", "3", "4"] and sorted(result["data"], key=int) == ["100", "1000", "8000"]
    assert all(r["trajectory"][-1]["step"] == 4 and r["status"] == "finished" for r in result["seeds"].values())
    for r in result["data"].values():
        assert len(r["ratios"]) == 60 and 0 <= r["copied_share"] <= 1 and len(r["closest_samples"]) == 8
    bias = result["bias"]
    assert abs(sum(bias["data_shares"]) - 1) < 1e-3 and bias["data_shares"][bias["rare_digit"]] < 0.02
    assert abs(bias["reweighted_shares"][bias["rare_digit"]] - 0.1) < 0.02
    assert {"as it is", "re-weighted", "conditioned"} <= set(bias) and "rare_label_accuracy" in bias["conditioned"]


def test_challenges_script_names_a_bad_sample_count(monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_:
        _run(monkeypatch, "scripts/challenges.py", "gan", "--samples", "15")
    assert exit_.value.code == 2
    assert "--samples must be a multiple of 10 and at least 20, got 15" in capsys.readouterr().err


def test_capstone_ranges_runs_the_guides_starting_point_and_summarises_the_seeds(tmp_path, monkeypatch):
    """benchmarks/capstone_ranges.py trains both tracks of docs/teaching.md's starting point through `fit` and
    measures them with the guide's `measure`; the summary is over the seeds; the guide's table is the JSON's."""
    import capstone_ranges

    out = tmp_path / "capstone.json"
    _run(monkeypatch, "benchmarks/capstone_ranges.py", "--steps", "2", "--samples", "40", "--seeds", "0", "1",
         "--out", str(out))
    result = json.loads(out.read_text())
    assert result["steps"] == 2 and result["seeds"] == [0, 1] and "load_before" in result
    for kind, shipped in (("gan", "dcgan-mnist"), ("vae", "vae-mnist")):
        runs, summary = result[kind]["runs"], result[kind]["summary"]
        assert [r["seed"] for r in runs] == [0, 1] and result[kind]["shipped"]["name"] == shipped
        for key in capstone_ranges.KEYS:
            values = [r[key] for r in runs]
            assert summary[key]["min"] == min(values) and summary[key]["max"] == max(values)
            assert summary[key]["mean"] == pytest.approx(sum(values) / 2)
        assert runs[0] != runs[1], "two seeds, two models"
    assert "test_neg_elbo_nats" in result["vae"]["summary"] and result["vae"]["shipped"]["test_neg_elbo_nats"] < 100
    with pytest.raises(SystemExit):
        capstone_ranges.main(["--samples", "5"])
    teaching = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    stored = json.loads((ROOT / "benchmarks" / "capstone_ranges.json").read_text(encoding="utf-8"))
    assert stored["steps"] == 3000 and stored["seeds"] == [0, 1, 2]
    assert capstone_ranges.table(stored) in teaching, "docs/teaching.md's capstone table is not the JSON's: rerun it"
