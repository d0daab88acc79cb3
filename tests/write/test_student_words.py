"""Words for students: no document of any kind, for any example, in LaTeX or Markdown, mentions the tool, its
internals or the documents it was built from (its name, registries, vector-Jacobian products, the engine,
'seed 00x', a bare `tau` meant as the letter). The templates own the words; this reads what they produce."""

from __future__ import annotations

import re

import pytest

from documents_of_every_kind import build, kinds

FORBIDDEN = re.compile(r"\bderive(?:'s)?\b|\bregistr(?:y|ies)\b|\bseed[ -]?00\d|\bVJPs?\b|vector-Jacobian|"
                       r"\bengine\b|latex2sympy|\bsympy\.Symbol\b|(?<![\\\w])tau\b", re.I)
KINDS = kinds()


def forbidden_words(text: str) -> list[str]:
    """Each forbidden word in `text`, with some context."""
    return [text[max(0, m.start() - 50):m.end() + 30].replace("\n", " ") for m in FORBIDDEN.finditer(text)]


def test_the_word_check_sees_what_it_must():
    for text in ("Seed 000 writes the loss", "(seed 003's derivation of policy gradients)", "derive carried them out",
                 "derive uses the subgradient 0 there", "the matrix registry holds vector-Jacobian products",
                 "directional (seed 001)", r"\subsection*{Gumbel-softmax with temperature tau}", "by derive's engine"):
        assert forbidden_words(text), text
    for text in ("the derived gradient", r"temperature \(\tau\)", "we take the subgradient 0 at 0", "derivative"):
        assert not forbidden_words(text), text


@pytest.mark.parametrize("fmt", ["tex", "md"])
@pytest.mark.parametrize("kind, path", [(kind, path) for _, kind, path in KINDS], ids=[name for name, _, _ in KINDS])
def test_documents_speak_to_students(kind, path, fmt):
    text = build(kind, path, fmt)
    assert len(text) > 1000
    assert forbidden_words(text) == []


def test_rule_remarks_are_in_the_words_of_a_textbook():
    kinks = next(path for name, kind, path in KINDS if name == "solve-kinks")
    for fmt in ("tex", "md"):
        text = build("solve", kinks, fmt)
        assert "ReLU is not differentiable at 0; we take the subgradient 0 there." in text
        assert "The absolute value is not differentiable at 0; we take the subgradient 0 there." in text
        assert "where arguments tie it is not differentiable, and we pass the gradient to the first of them" in text
