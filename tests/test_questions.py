"""The teacher's question bank (`docs/questions/`, English and Chinese) and the model answers to the discussion
questions of `docs/teaching.md` (`docs/discussion-answers.md`, `docs/zh/discussion-answers.md`) keep the shape
teachers and graders rely on.

Per notebook `NN_*.ipynb`, each edition has `NN_*.md`: at least six questions, at least three of them multiple
choice and at least one short answer, with ids QNN.1 … QNN.n in order. A multiple-choice question has 3–5 options
lettered A, B, C…, exactly one of them without the misconception tag (the right one), and its answer line starts
with that letter. Every answer cites a section of its own notebook (`03 §3`, or a named section such as
`00 *The datasets*`). The Chinese file asks the same questions: same ids, kinds, option counts and answer letters.
The discussion answers repeat every question of teaching.md's "Discussion questions", each followed by an answer
that cites a section and says what a weak answer misses; the Chinese file has as many questions per group.

The checks are functions that return the problems they find, so `test_a_broken_copy_is_caught` can show that
each rule catches the mistake it is there for. Fast, and needs neither torch nor the notebooks' outputs.
"""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
QUESTIONS = ROOT / "docs" / "questions"
TEACHING = ROOT / "docs" / "teaching.md"
ANSWERS = {"en": ROOT / "docs" / "discussion-answers.md", "zh": ROOT / "docs" / "zh" / "discussion-answers.md"}

EDITIONS = {
    "en": {"folder": QUESTIONS, "title": "# Questions · {nn} · ", "kinds": {"multiple choice": "mc", "short answer": "short"},
           "tag": " — *misconception:* ", "answer": "**Answer:**", "weak": "*A weak answer"},
    "zh": {"folder": QUESTIONS / "zh", "title": "# 题库 · {nn} · ", "kinds": {"单选题": "mc", "简答题": "short"},
           "tag": " — *误区：*", "answer": "**答案：**", "weak": "*薄弱的回答"},
}
HEADING = re.compile(r"^## (Q(\d\d)\.(\d+)) · (.+?)\s*$")
OPTION = re.compile(r"^- ([A-Z])\. (.+)$")


def cites(nn: str) -> re.Pattern:
    """A citation of a section of notebook nn: `03 §3`, or a named one, `00 *The datasets*`."""
    return re.compile(rf"(?<!\d){nn} (?:§\d|\*[^*\n]+\*)")


def parse_questions(text: str, edition: str) -> list[dict]:
    """The questions of one file, in order: id, kind (as written), options [(letter, text)], answer (text or None).
    Lines inside fenced code blocks are question text, never options, answers or headings."""
    marker = EDITIONS[edition]["answer"]
    questions, fenced = [], False
    for line in text.splitlines():
        fence = line.lstrip().startswith("```")
        fenced ^= fence
        q = questions[-1] if questions else None
        if fence or fenced:  # code belongs to the question's (or the answer's) text
            if q and q["answer"] is not None:
                q["answer"] += "\n" + line
            continue
        if line.startswith("## "):  # a question, or a heading that ends the question before it
            heading = HEADING.match(line)
            questions.append({"id": heading[1] if heading else line[3:].strip(),
                              "nn": heading[2] if heading else None, "k": int(heading[3]) if heading else None,
                              "kind": heading[4] if heading else "(not a question heading)",
                              "options": [], "answer": None, "answers": 0})
        elif q is None:
            continue
        elif line.startswith(marker):
            q["answers"] += 1
            q["answer"] = line[len(marker):].strip()
        elif q["answer"] is not None:
            q["answer"] += "\n" + line
        elif (option := OPTION.match(line)):
            q["options"].append((option[1], option[2]))
    return questions


def question_problems(text: str, name: str, nn: str, edition: str) -> list[str]:
    """Everything wrong with one question file, each problem naming the file and the question id."""
    e = EDITIONS[edition]
    problems = []
    if not text.startswith(e["title"].format(nn=nn)):
        problems.append(f"{name}: the first line should start with {e['title'].format(nn=nn)!r}")
    questions = parse_questions(text, edition)
    if len(questions) < 6:
        problems.append(f"{name}: {len(questions)} questions, at least 6 wanted")
    kinds = [e["kinds"].get(q["kind"]) for q in questions]
    if kinds.count("mc") < 3:
        problems.append(f"{name}: {kinds.count('mc')} multiple-choice questions, at least 3 wanted")
    if "short" not in kinds:
        problems.append(f"{name}: no short-answer question; the bank mixes the two kinds")
    for number, q in enumerate(questions, 1):
        where = f"{name} {q['id']}"
        if (q["nn"], q["k"]) != (nn, number):
            problems.append(f"{where}: expected the id Q{nn}.{number} here (ids run QNN.1 … QNN.n in order)")
        kind = e["kinds"].get(q["kind"])
        if kind is None:
            problems.append(f"{where}: unknown kind {q['kind']!r}; one of {sorted(e['kinds'])}")
        if q["answers"] != 1:
            problems.append(f"{where}: {q['answers']} lines starting with {e['answer']}, exactly 1 wanted")
        answer = (q["answer"] or "").strip()
        if not answer:
            problems.append(f"{where}: no answer after {e['answer']}")
        elif not cites(nn).search(answer):
            problems.append(f"{where}: the answer cites no section of notebook {nn} (like '{nn} §3')")
        if kind == "short" and q["options"]:
            problems.append(f"{where}: a short-answer question with options {[letter for letter, _ in q['options']]}")
        if kind != "mc":
            continue
        letters = [letter for letter, _ in q["options"]]
        if not 3 <= len(letters) <= 5:
            problems.append(f"{where}: {len(letters)} options, 3–5 wanted")
        if letters != [chr(ord("A") + i) for i in range(len(letters))]:
            problems.append(f"{where}: options lettered {letters}, not A, B, C… in order")
        right = [letter for letter, option in q["options"] if e["tag"].strip() not in option]
        if len(right) != 1:
            problems.append(f"{where}: {len(right)} options without the misconception tag {e['tag'].strip()!r} "
                            f"({right}); exactly one, the right answer, goes without it")
        for letter, option in q["options"]:
            if e["tag"].strip() in option and (e["tag"] not in option or not option.split(e["tag"], 1)[1].strip()):
                problems.append(f"{where}: option {letter} must end with {e['tag']!r} and the misconception it catches")
        given = re.match(r"([A-Z])[.。．]", answer)
        if not given:
            problems.append(f"{where}: the answer line does not start with the letter of the right option")
        elif len(right) == 1 and given[1] != right[0]:
            problems.append(f"{where}: the answer says {given[1]}, but the option without a misconception tag is {right[0]}")
    return problems


def summary(text: str, edition: str) -> list[tuple]:
    """What the two editions must share, per question: id, kind, option count, answer letter."""
    kinds = EDITIONS[edition]["kinds"]
    rows = []
    for q in parse_questions(text, edition):
        letter = re.match(r"([A-Z])[.。．]", (q["answer"] or "").strip())
        rows.append((q["id"], kinds.get(q["kind"], q["kind"]), len(q["options"]),
                     letter[1] if letter and kinds.get(q["kind"]) == "mc" else None))
    return rows


def edition_problems(en: str, zh: str, name: str) -> list[str]:
    """Where the Chinese file does not ask the English file's questions."""
    a, b = summary(en, "en"), summary(zh, "zh")
    problems = [f"{name}: {len(a)} questions in English, {len(b)} in Chinese"] if len(a) != len(b) else []
    for (qid, kind, n, letter), (zid, zkind, zn, zletter) in zip(a, b):
        if zid != qid:
            problems.append(f"{name} {qid}: the Chinese file has {zid} in its place")
            continue
        for what, mine, theirs in (("kind", kind, zkind), ("option count", n, zn), ("answer letter", letter, zletter)):
            if mine != theirs:
                problems.append(f"{name} {qid}: {what} {mine!r} in English, {theirs!r} in Chinese")
    return problems


def paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs, each joined into one line with single spaces."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def discussion_questions(teaching: str) -> list[tuple[str, list[str]]]:
    """teaching.md's "## Discussion questions", as (group, [questions]); a bullet may wrap over several lines."""
    section = teaching.split("\n## Discussion questions\n", 1)[1].split("\n## ", 1)[0]
    groups = []
    for line in section.splitlines():
        if re.fullmatch(r"\*\*\d\d · [^*]+\*\*", line.strip()):
            groups.append((line.strip().strip("*"), []))
        elif line.startswith("- "):
            groups[-1][1].append(line[2:].strip())
        elif line.startswith("  ") and line.strip() and groups and groups[-1][1]:
            groups[-1][1][-1] += " " + line.strip()
    return [(group, [" ".join(q.split()) for q in qs]) for group, qs in groups]


def discussion_answers(text: str) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """A discussion-answers file as (group heading, [(question, [answer paragraphs])])."""
    groups = []
    for block in re.split(r"^## ", text, flags=re.M)[1:]:
        heading, _, body = block.partition("\n")
        items = []
        for p in paragraphs(body):
            question = re.fullmatch(r"\*\*((?:(?!\*\*).)+)\*\*", p)
            if question:
                items.append((question[1], []))
            elif items:
                items[-1][1].append(p)
        groups.append((heading.strip(), items))
    return groups


def answer_problems(answers: str, name: str, edition: str, expected: list[tuple[str, list[str]]]) -> list[str]:
    """Each group of teaching.md's discussion questions, in order, each question followed by a model answer that
    cites a section and says what a weak answer misses. English: the same group headings and question texts;
    Chinese: groups matched by their notebook number, the same number of questions in each."""
    problems = []
    found = discussion_answers(answers)
    if [g[:2] for g, _ in found] != [g[:2] for g, _ in expected]:
        problems.append(f"{name}: groups {[g for g, _ in found]}, expected the groups of teaching.md, "
                        f"{[g for g, _ in expected]}")
    for (group, items), (want_group, want) in zip(found, expected):
        if edition == "en" and group != want_group:
            problems.append(f"{name}: the group heading '## {group}' should read '## {want_group}', as in teaching.md")
        if len(items) != len(want):
            problems.append(f"{name} {group}: {len(items)} questions, teaching.md has {len(want)}")
        for i, (question, answer) in enumerate(items):
            where = f"{name} {group}, question {i + 1}"
            if edition == "en" and i < len(want) and question != want[i]:
                problems.append(f"{where}: the question differs from teaching.md's:\n  {question}\n  {want[i]}")
            body = [p for p in answer if not p.startswith(EDITIONS[edition]["weak"])]
            if not body:
                problems.append(f"{where}: no model answer after the question")
            elif not re.search(r"(?<!\d)0\d (?:§\d|\*[^*]+\*)", " ".join(body)):
                problems.append(f"{where}: the model answer cites no notebook section (like '03 §3')")
            if not any(p.startswith(EDITIONS[edition]["weak"]) for p in answer):
                problems.append(f"{where}: no paragraph starting {EDITIONS[edition]['weak']!r} (what a weak answer misses)")
    return problems


def question_file(notebook: Path, edition: str) -> Path:
    return EDITIONS[edition]["folder"] / f"{notebook.stem}.md"


def test_there_are_notebooks_to_ask_about():
    assert len(NOTEBOOKS) >= 9, f"expected notebooks/NN_*.ipynb, found {[n.name for n in NOTEBOOKS]}"


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_question_file(notebook, edition):
    path = question_file(notebook, edition)
    assert path.is_file(), f"{notebook.name} has no question file {path.relative_to(ROOT)}"


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_question_file_is_well_formed(notebook, edition):
    path = question_file(notebook, edition)
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is missing (reported by test_every_notebook_has_a_question_file)")
    problems = question_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), notebook.name[:2], edition)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_chinese_questions_match_the_english(notebook):
    en, zh = question_file(notebook, "en"), question_file(notebook, "zh")
    if not (en.is_file() and zh.is_file()):
        pytest.skip("a question file is missing (reported by test_every_notebook_has_a_question_file)")
    problems = edition_problems(en.read_text(encoding="utf-8"), zh.read_text(encoding="utf-8"), str(zh.relative_to(ROOT)))
    assert not problems, "\n".join(problems)


def test_no_question_file_without_a_notebook():
    stems = {n.stem for n in NOTEBOOKS}
    for edition, e in EDITIONS.items():
        extra = sorted(p.name for p in e["folder"].glob("[0-9][0-9]_*.md") if p.stem not in stems)
        assert not extra, f"{e['folder'].relative_to(ROOT)}: question files for no notebook: {extra}"


def test_the_right_answer_is_not_always_the_same_letter():
    """A class that learns "it is usually A" scores without reading: across the bank, no letter is the right
    answer of more than 35 % of the multiple-choice questions."""
    letters = [s[3] for p in sorted(QUESTIONS.glob("[0-9][0-9]_*.md"))
               for s in summary(p.read_text(encoding="utf-8"), "en") if s[3]]
    shares = {letter: letters.count(letter) / len(letters) for letter in sorted(set(letters))}
    assert len(letters) >= 27 and max(shares.values()) <= 0.35, f"docs/questions/: right answers by letter {shares}"


def test_teaching_guide_has_discussion_questions():
    expected = discussion_questions(TEACHING.read_text(encoding="utf-8"))
    assert len(expected) >= 8 and all(qs for _, qs in expected), f"docs/teaching.md: parsed {expected}"
    assert all(q[-1] in "?.)" for _, qs in expected for q in qs), \
        f"docs/teaching.md: a parsed question does not end its sentence (a wrapped line lost?): {expected}"


@pytest.mark.parametrize("edition", ANSWERS)
def test_discussion_answers_cover_every_question(edition):
    path = ANSWERS[edition]
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    expected = discussion_questions(TEACHING.read_text(encoding="utf-8"))
    problems = answer_problems(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), edition, expected)
    assert not problems, "\n".join(problems)


# --- the checks themselves: a broken copy of a good file must be caught -------------------------------------------

def _uncite(text: str) -> str:
    """The first answer line with its section citations replaced by words."""
    lines = text.splitlines(keepends=True)
    i = next(i for i, line in enumerate(lines) if line.startswith("**Answer:**"))
    lines[i] = re.sub(r"(?<!\d)\d\d (?:§\d+|\*[^*\n]+\*)", "the notebook", lines[i])
    return "".join(lines)


BREAKAGES = {
    "a distractor loses its tag": lambda t: t.replace(" — *misconception:* ", " — ", 1),
    "the right option gets a tag": lambda t: re.sub(r"^(- [A-E]\. (?:(?!\*misconception:\*).)+)$",
                                                     r"\1 — *misconception:* invented", t, count=1, flags=re.M),
    "the answer letter is wrong": lambda t: re.sub(r"\*\*Answer:\*\* ([A-E])\.",
                                                   lambda m: f"**Answer:** {'B' if m[1] == 'A' else 'A'}.", t, count=1),
    "an answer cites no section": _uncite,
    "an id is wrong": lambda t: t.replace("## Q0", "## Q9", 1),
    "an option is dropped": lambda t: re.sub(r"^- C\. .*\n", "", t, count=1, flags=re.M),
    "the answer line is missing": lambda t: t.replace("**Answer:**", "Answer:", 1),
    "a question loses its kind": lambda t: t.replace(" · multiple choice", " · multiple-choice", 1),
}


@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_copy_is_caught(breakage):
    """Each rule is live: applied to a copy of the first notebook's English questions, each breakage is reported."""
    notebook = next(n for n in NOTEBOOKS if question_file(n, "en").is_file())
    text = question_file(notebook, "en").read_text(encoding="utf-8")
    nn = notebook.name[:2]
    assert not question_problems(text, "copy", nn, "en")
    broken = BREAKAGES[breakage](text)
    assert broken != text, f"the breakage {breakage!r} changed nothing: fix the test"
    problems = question_problems(broken, "copy", nn, "en")
    assert problems, f"{breakage!r} went unnoticed"
    assert all(p.startswith("copy") for p in problems), problems


def test_a_chinese_file_that_drifts_is_caught():
    notebook = next(n for n in NOTEBOOKS if question_file(n, "en").is_file() and question_file(n, "zh").is_file())
    en, zh = (question_file(notebook, e).read_text(encoding="utf-8") for e in ("en", "zh"))
    assert not edition_problems(en, zh, "copy")
    letter = re.search(r"\*\*答案：\*\* ([A-E])", zh)[1]
    drifted = zh.replace(f"**答案：** {letter}", f"**答案：** {'B' if letter == 'A' else 'A'}", 1)
    assert any("answer letter" in p for p in edition_problems(en, drifted, "copy"))
    assert any("kind" in p for p in edition_problems(en, zh.replace("· 单选题", "· 简答题", 1), "copy"))


def test_a_discussion_answer_that_drifts_is_caught():
    expected = discussion_questions(TEACHING.read_text(encoding="utf-8"))
    text = ANSWERS["en"].read_text(encoding="utf-8")
    assert not answer_problems(text, "copy", "en", expected)
    first = expected[0][1][0]
    reworded = text.replace(f"**{first.split()[0]} ", f"**Then {first.split()[0].lower()} ", 1)
    assert any("differs from teaching.md" in p for p in answer_problems(reworded, "copy", "en", expected))
    dropped = re.sub(r"\n\*\*[^\n]+\*\*\n", "\n", text, count=1)
    assert any("questions, teaching.md has" in p for p in answer_problems(dropped, "copy", "en", expected))
