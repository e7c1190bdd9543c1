"""fit(): budgets, exact resume, the NaN guard, Ctrl-C, and checkpoints that are safe to interrupt."""
import math
import os
import signal

import pytest
import torch

from genimg_edu.dashboard import plot_history, smooth
from genimg_edu.fit import CheckpointMismatch, batch_indices, fit, load_checkpoint
from genimg_edu.models import DCGANDiscriminator, DCGANGenerator, MLPVAE, MNISTClassifier
from genimg_edu.steps import ClassifierStep, GANStep, VAEStep

x = torch.rand(256, 1, 28, 28)
y = torch.randint(0, 10, (256,))


def make(kind):
    torch.manual_seed(0)
    if kind == "vae":
        return VAEStep(MLPVAE(hidden=(32,), z_dim=4), kl_warmup=10), (x,)
    if kind == "classifier":  # dropout: the global RNG must be restored too
        return ClassifierStep(MNISTClassifier(width=4, hidden=16, dropout=0.5), shift=2), (x, y)
    G, D = DCGANGenerator(width=8, z_dim=8), DCGANDiscriminator(width=8)  # BatchNorm in G, spectral norm in D
    return GANStep(G, D, ema_decay=0.9, shift=1), (x,)


def params(step):
    return [t.clone() for m in step.modules.values() for t in list(m.parameters()) + list(m.buffers())]


def same(a, b):
    return len(a) == len(b) and all(torch.equal(p, q) for p, q in zip(a, b))


@pytest.mark.parametrize("kind", ["vae", "classifier", "gan"])
def test_resumed_run_ends_identical_to_uninterrupted(kind, tmp_path):
    full, data = make(kind)
    h_full = fit(full, data, max_steps=12, batch_size=32, log_every=1000)
    part, data = make(kind)
    fit(part, data, max_steps=5, batch_size=32, checkpoint=tmp_path / "run.pt", log_every=1000)
    resumed, data = make(kind)  # a fresh process would build fresh objects
    h = fit(resumed, data, max_steps=12, batch_size=32, checkpoint=tmp_path / "run.pt", log_every=1000)
    assert h["steps"] == 12 and h["status"] == "finished"
    assert same(params(full), params(resumed))
    assert {k: v for k, v in h.items() if isinstance(v, list)} == {k: v for k, v in h_full.items() if isinstance(v, list)}


def test_same_seed_same_run_and_other_seed_differs():
    a, data = make("vae")
    b, _ = make("vae")
    c, _ = make("vae")
    fit(a, data, max_steps=6, batch_size=32, log_every=1000)
    fit(b, data, max_steps=6, batch_size=32, log_every=1000)
    fit(c, data, max_steps=6, batch_size=32, seed=1, log_every=1000)
    assert same(params(a), params(b)) and not same(params(a), params(c))


def test_batches_cover_each_epoch_once_and_depend_on_step_only():
    idx = torch.cat([batch_indices(100, 10, seed=3, step=s) for s in range(10)])
    assert sorted(idx.tolist()) == list(range(100))
    assert torch.equal(batch_indices(100, 10, seed=3, step=17), batch_indices(100, 10, seed=3, step=17))
    assert not torch.equal(batch_indices(100, 10, seed=3, step=0), batch_indices(100, 10, seed=3, step=10))
    with pytest.raises(ValueError, match="batch_size"):
        batch_indices(5, 10, seed=0, step=0)


def test_budgets():
    step, data = make("vae")
    with pytest.raises(ValueError, match="budget"):
        fit(step, data)
    for bad in (dict(max_steps=-1), dict(max_steps=2.5), dict(max_steps=True), dict(max_seconds=-3),
                dict(max_seconds=float("nan")), dict(max_steps=5, batch_size=0), dict(max_steps=5, eval_every=0),
                dict(max_steps=5, checkpoint_every=-1), dict(max_steps=5, guard_every=0.5)):
        with pytest.raises((ValueError, TypeError), match=next(iter(k for k in bad if k != "max_steps"), "max_steps")):
            fit(step, data, **bad)
    h = fit(step, data, max_seconds=0.3, batch_size=32, log_every=1000)
    assert h["status"] == "time budget" and h["steps"] > 0 and 0.3 <= h["seconds"] < 5
    with pytest.raises(ValueError, match="same length"):
        fit(step, (x, y[:10]), max_steps=1)


class ExplodesAt(VAEStep):
    """A VAE step whose loss becomes NaN at a given step, as after a too-large learning rate."""

    def __init__(self, model, at):
        super().__init__(model, kl_warmup=10)  # as make("vae")
        self.at = at

    def __call__(self, batch, generator):
        out = super().__call__(batch, generator)
        if self.steps == self.at:
            with torch.no_grad():
                for p in self.modules["model"].parameters():
                    p.fill_(math.nan)
            out["loss"] = math.nan
        return out


def test_nan_guard_stops_and_restores_last_good_state(tmp_path, capsys):
    torch.manual_seed(0)
    bad = ExplodesAt(MLPVAE(hidden=(32,), z_dim=4), at=13)
    h = fit(bad, (x,), max_steps=30, batch_size=32, guard_every=5, checkpoint=tmp_path / "run.pt", log_every=1000)
    assert h["status"] == "diverged" and h["steps"] == 10 and len(h["loss"]) == 10
    assert "loss = nan at step 13" in capsys.readouterr().out
    assert all(torch.isfinite(p).all() for p in bad.modules["model"].parameters())
    good, _ = make("vae")
    good.modules["model"].load_state_dict(bad.modules["model"].state_dict())
    ref, data = make("vae")
    fit(ref, data, max_steps=10, batch_size=32, log_every=1000)  # the same 10 steps without the explosion
    assert same(params(ref)[:4], params(good)[:4])
    assert load_checkpoint(tmp_path / "run.pt")["history"]["steps"] == 10  # the saved state is the good one


def test_ctrl_c_stops_after_the_step_keeps_state_and_resumes_exactly(tmp_path, capsys):
    def press_ctrl_c(step, k):
        if k == 6:
            os.kill(os.getpid(), signal.SIGINT)

    step, data = make("gan")
    before = signal.getsignal(signal.SIGINT)  # Python's Ctrl-C handler; SIG_IGN where started in the background
    h = fit(step, data, max_steps=10, batch_size=32, checkpoint=tmp_path / "run.pt", callbacks=[press_ctrl_c],
            eval_every=1, log_every=1000)
    assert h["status"] == "interrupted" and h["steps"] == 6
    assert "interrupted at step 6" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is before  # the usual Ctrl-C is back
    resumed, data = make("gan")
    fit(resumed, data, max_steps=10, batch_size=32, checkpoint=tmp_path / "run.pt", log_every=1000)
    full, data = make("gan")
    fit(full, data, max_steps=10, batch_size=32, log_every=1000)
    assert same(params(full), params(resumed))


def test_callbacks_are_recorded_in_the_history():
    step, data = make("vae")
    h = fit(step, data, max_steps=6, batch_size=32, callbacks=[lambda s, k: {"k2": k * 2}], eval_every=3,
            log_every=1000)
    assert h["eval"] == [{"step": 3, "k2": 6}, {"step": 6, "k2": 12}]


def test_checkpoint_from_another_run_or_corrupt_file_is_refused(tmp_path):
    step, data = make("vae")
    fit(step, data, max_steps=2, batch_size=32, checkpoint=tmp_path / "run.pt", log_every=1000)
    with pytest.raises(CheckpointMismatch, match="run.pt.*batch_size"):
        fit(step, data, max_steps=4, batch_size=16, checkpoint=tmp_path / "run.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatch, match="bad.pt"):
        fit(step, data, max_steps=4, batch_size=32, checkpoint=tmp_path / "bad.pt")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []  # no temporary files left


def test_error_inside_a_step_leaves_the_last_checkpoint_intact(tmp_path):
    class Fails(VAEStep):
        def __call__(self, batch, generator):
            if self.steps == 7:
                raise RuntimeError("out of memory (simulated)")
            return super().__call__(batch, generator)

    torch.manual_seed(0)
    with pytest.raises(RuntimeError, match="simulated"):
        fit(Fails(MLPVAE(hidden=(32,), z_dim=4)), (x,), max_steps=20, batch_size=32,
            checkpoint=tmp_path / "run.pt", checkpoint_every=5, log_every=1000)
    assert load_checkpoint(tmp_path / "run.pt")["history"]["steps"] == 5


def test_log_lines_when_no_browser(capsys):
    step, data = make("gan")
    fit(step, data, max_steps=4, batch_size=32, log_every=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("step 2/4 · d_loss ~") and "g_loss ~" in lines[0] and len(lines) == 2


def test_vae_kl_warmup():
    step, _ = make("vae")
    assert step.kl_weight() == 0.0
    step.steps = 5
    assert step.kl_weight() == 0.5


def test_dashboard_plot_and_smoothing():
    assert smooth([1, 3, 5, 7], window=2).tolist() == [1, 2, 4, 6]
    step, data = make("gan")
    h = fit(step, data, max_steps=3, batch_size=32, log_every=1000)
    fig = plot_history(h, step.preview())
    assert len(fig.axes) == 2 and [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["d_loss", "g_loss"]
    with pytest.raises(ValueError, match="no losses"):
        plot_history({"eval": []})


def test_live_dashboard_and_progress_bar_in_a_notebook(monkeypatch, capsys):
    """In a live notebook, fit shows a tqdm bar and redraws the dashboard (throttled) instead of log lines."""
    import genimg_edu.dashboard as dashboard
    from genimg_edu import runtime

    boards = []

    class Recorded(dashboard.Dashboard):
        def __init__(self, **kw):
            super().__init__(**kw)
            boards.append(self)

    monkeypatch.setenv("GENIMG_WIDGETS", "live")
    monkeypatch.setattr(runtime, "in_notebook", lambda: True)
    monkeypatch.setattr(runtime, "_reporter_factory", None)  # put back after the test
    monkeypatch.setattr(dashboard, "Dashboard", Recorded)
    step, data = make("gan")
    fit(step, data, max_steps=1, batch_size=32, log_every=1)
    assert not boards and "step 1/1" in capsys.readouterr().out, "log lines until the notebook asks for the dashboard"
    dashboard.use_dashboard()
    fit(step, data, max_steps=3, batch_size=32, log_every=1)
    assert len(boards) == 1 and bytes(boards[0].image.value)[:4] == b"\x89PNG"  # the final redraw at least
    captured = capsys.readouterr()
    assert "step 1/3" not in captured.out and "3/3" in captured.err  # a progress bar, not log lines


def test_a_reporter_chosen_by_the_caller_sees_every_step():
    calls = []

    class Recorder:
        def start(self, history, max_steps, step):
            calls.append(("start", max_steps))

        def update(self, history, step, losses):
            calls.append(("update", history["steps"], sorted(losses)))

        def line(self, text):
            calls.append(("line", text))

        def close(self, history, step):
            calls.append(("close", history["status"]))

    step, data = make("gan")
    fit(step, data, max_steps=2, batch_size=32, reporter=Recorder())
    assert calls == [("start", 2), ("update", 1, ["d_loss", "g_loss"]), ("update", 2, ["d_loss", "g_loss"]),
                     ("close", "finished")]


def test_silent_with_log_every_zero_and_bad_log_every_is_refused(capsys):
    step, data = make("vae")
    fit(step, data, max_steps=3, batch_size=32, log_every=0)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="log_every"):
        fit(step, data, max_steps=3, batch_size=32, log_every=-1)
