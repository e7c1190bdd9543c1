"""The Chinese edition cannot drift: every English markdown cell translated from its current text, the
generated notebooks current, code and outputs identical, and the glossary's terms used."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import translations  # noqa: E402

NOTEBOOKS = translations.english_notebooks()
GLOSSARY = ROOT / "docs" / "glossary.md"


def glossary() -> list[tuple[str, list[str]]]:
    """(English term, accepted Chinese forms) for every row of the glossary's tables."""
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cols = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cols) == 3 and cols[0] not in ("English", "---"):
            rows.append((cols[0], [form.strip() for form in cols[1].split(" / ")]))
    return rows


# Everyday senses of glossary words, left out before matching: "prior to" is not the prior.
EVERYDAY = re.compile(r"prior to|recall (?:that|how|what|which|why|the|from|notebook|§)|(?:pay|paid|draw|drawing) attention",
                      re.IGNORECASE)


def english_pattern(term: str) -> re.Pattern:
    """The term as a whole word, plural allowed, in British or American spelling."""
    p = re.escape(term).replace("our", "ou?r").replace("ise", "i[sz]e").replace("isation", "i[sz]ation")
    p = p.replace("iser", "i[sz]er").replace("–", "[–-]").replace("gray", "gr[ae]y")
    return re.compile(rf"(?<![\w-]){p}(s|es)?(?![\w-])", re.IGNORECASE)


def prose(markdown: str) -> str:
    """Markdown without what is not prose: code, maths, link targets, HTML tags."""
    markdown = re.sub(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$", " ", markdown, flags=re.S)
    return EVERYDAY.sub(" ", re.sub(r"\]\([^)]*\)|<[^>]+>", " ", markdown))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_markdown_cell_translated_from_its_current_text(nb):
    found = translations.problems(nb)
    assert not found, "\n".join(found) + "\n→ python scripts/translations.py todo " + translations.key(nb)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_generated_notebook_is_current(nb):
    if translations.problems(nb):
        pytest.fail(f"{nb.name}'s translation is incomplete (see the test above)")
    assert not translations.out_of_date(nb), f"notebooks/zh/{nb.name} is out of date: python scripts/translations.py build"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_and_outputs_are_the_english_ones(nb):
    zh_path = translations.output(nb)
    if not zh_path.exists():
        pytest.fail(f"no notebooks/zh/{nb.name}")
    en, zh = (json.loads(p.read_text(encoding="utf-8"))["cells"] for p in (nb, zh_path))
    en_code = [c for c in en if c["cell_type"] == "code"]
    zh_code = [c for c in zh if c["cell_type"] == "code"]
    assert en_code == zh_code


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_translations_use_the_glossary(nb):
    terms = [(english_pattern(en), en, forms) for en, forms in glossary()]
    cells = {c["id"]: translations.text(c) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "markdown"}
    done = translations.load_translation(nb)
    missing = [f"cell {cid}: '{en}' → expected {' or '.join(forms)}"
               for cid, english in cells.items() if cid in done
               for pattern, en, forms in terms
               if pattern.search(prose(english)) and not any(f in done[cid]["zh"] for f in forms)]
    assert not missing, f"{nb.name}: the glossary's term is not used\n" + "\n".join(missing)


# Words the primer itself uses (../shared/primer, not in this repository), and two the course adds that the primer
# never uses: the glossary lists the first under "The primer's terms", the second elsewhere.
PRIMER_WORDS = ("生成模型", "卷积神经网络", "生成对抗网络", "变分自编码器", "交叉熵", "重构误差", "KL 散度", "生成器", "判别器",
                "编码器", "解码器", "预处理", "训练", "评估", "质量", "真实度", "可信度", "泛化", "数据清洗", "对数损失",
                "标准正态分布", "随机变量", "重构损失")
NOT_THE_PRIMERS = ("扩散模型", "证据下界")


def test_glossary_covers_the_primer_and_has_no_duplicates():
    rows = glossary()
    english = [en.lower() for en, _ in rows]
    assert len(english) == len(set(english)), "a term is listed twice"
    text = GLOSSARY.read_text(encoding="utf-8")
    section = text[text.index("## The primer's terms"):]
    section = section[:section.index("\n## ", 1)]
    primer = {f for en, forms in rows for f in forms if f"| {en} |" in section}
    zh = {f for _, forms in rows for f in forms}
    for term in PRIMER_WORDS:
        assert term in primer, f"the glossary's primer section lacks {term}"
    for term in NOT_THE_PRIMERS:
        assert term in zh and term not in primer, f"{term} is the course's word, not the primer's"


def test_english_pattern_spellings_and_word_boundaries():
    assert english_pattern("normalisation").search("batch normalization helps")
    assert english_pattern("colour space").search("Color spaces")
    assert english_pattern("encoder").search("the encoders")
    assert english_pattern("grayscale").search("a greyscale image")
    assert not english_pattern("prior").search(prose("prior to training"))
    assert not english_pattern("encoder").search("an autoencoder")
    assert not english_pattern("loss").search("`d_loss`".strip("`"))
    assert "train_gan" not in prose("call `train_gan` [here](03_gan.ipynb) with $x_t$")


def test_stale_and_missing_translations_are_reported(tmp_path, monkeypatch):
    nb_dir, i18n = tmp_path / "notebooks", tmp_path / "i18n"
    nb_dir.mkdir()
    cells = [{"cell_type": "markdown", "id": "a1", "metadata": {}, "source": ["# Title"]},
             {"cell_type": "code", "id": "c1", "metadata": {}, "source": ["1 + 1"], "outputs": [],
              "execution_count": 1},
             {"cell_type": "markdown", "id": "a2", "metadata": {}, "source": ["See [04](04_vae.ipynb) and "
                                                                             "[the guide](../docs/teaching.md)."]}]
    nb = nb_dir / "09_demo.ipynb"
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    monkeypatch.setattr(translations, "I18N", i18n)
    monkeypatch.setattr(translations, "OUT", nb_dir / "zh")
    assert [p.split(": ")[1] for p in translations.problems(nb)] == ["no translation"] * 2
    i18n.mkdir()
    entry = lambda cell, zh: {"en_sha256": translations.digest(translations.text(cell)), "zh": zh}  # noqa: E731
    (i18n / "09.json").write_text(json.dumps({"notebook": nb.name, "cells": {
        "a1": entry(cells[0], "# 标题"), "a2": entry(cells[2], "见 [04](04_vae.ipynb) 和[指南](../docs/teaching.md)。")}}))
    assert translations.problems(nb) == []
    built = translations.build(nb)
    assert built["cells"][3]["source"] == ["见 [04](04_vae.ipynb) 和[指南](../../docs/teaching.md)。"]
    assert built["cells"][2] == cells[1]  # code copied unchanged
    assert translations.out_of_date(nb)
    cells[0]["source"] = ["# A new title"]
    nb.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert translations.problems(nb) == ["09_demo.ipynb cell 0 (a1): the English text changed since it was translated"]
