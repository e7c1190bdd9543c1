"""The real-or-generated quiz: its rules, its static preview and its buttons."""
import pytest
import torch


def test_quiz_rules_and_score():
    from genimg_edu.quiz import RealOrGenerated

    real, fake = torch.zeros(20, 1, 28, 28), torch.ones(20, 1, 28, 28)
    quiz = RealOrGenerated(real, fake, rounds=12, seed=3)
    assert 0 < sum(quiz.generated) < 12  # a fair coin per round, seeded
    for gen in quiz.generated:  # the image shown is from the set the truth names
        assert bool(quiz.current.mean() == 1) == gen
        assert quiz.answer(says_generated=gen)
    assert quiz.done and quiz.score == (12, 12)
    with pytest.raises(IndexError, match="over"):
        quiz.answer(True)
    assert RealOrGenerated(real, fake, rounds=12, seed=3).generated == quiz.generated
    with pytest.raises(ValueError, match="fake must be images"):
        RealOrGenerated(real, fake[:5], rounds=10)


def test_quiz_static_preview_keeps_the_answer_key_until_asked(monkeypatch):
    import IPython.display

    from genimg_edu.quiz import RealOrGenerated, answer_key, real_or_generated_quiz

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    real, fake = torch.zeros(10, 1, 28, 28), torch.ones(10, 1, 28, 28)
    key = answer_key(RealOrGenerated(real, fake, rounds=6))
    assert key.startswith("1: ") and key.count("·") == 5
    assert real_or_generated_quiz(real, fake, rounds=6) is None
    html = [o.data for o in shown if isinstance(o, IPython.display.HTML)]
    assert len(html) == 1 and "reveal=True" in html[0] and key not in html[0]
    shown.clear()
    real_or_generated_quiz(real, fake, rounds=6, reveal=True)
    assert [o.data for o in shown if isinstance(o, IPython.display.HTML)] == [f"<b>Answer key:</b> {key}"]


def test_quiz_live_buttons_play_a_game(monkeypatch):
    from genimg_edu.quiz import real_or_generated_quiz

    monkeypatch.setenv("GENIMG_WIDGETS", "live")
    box = real_or_generated_quiz(torch.zeros(10, 1, 28, 28), torch.ones(10, 1, 28, 28), rounds=3)
    picture, (real_b, fake_b, new_b), status = box.children[0], box.children[1].children, box.children[2]
    first = picture.value
    real_b.click()
    assert "Round 2 of 3" in status.value and ("right" in status.value or "wrong" in status.value)
    fake_b.click()
    real_b.click()
    assert "Done" in status.value and real_b.disabled
    new_b.click()
    assert not real_b.disabled and "Round 1 of 3" in status.value and bytes(first)[:4] == b"\x89PNG"
