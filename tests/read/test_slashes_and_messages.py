"""Slashes read as a person means them, and messages that quote only what the user wrote."""

from __future__ import annotations

import re

import pytest
import sympy
import yaml

import derive

from derive.core.errors import LatexError, ProblemError
from derive.core.ops import sigmoid
from derive.read.parse import parse_latex
from derive.read.slashes import refuse_ambiguous_slash

x, y, w, yhat, a, b = sympy.symbols("x y w yhat a b")
SCALARS = {s.name: s for s in (x, y, w, yhat, a, b)}

READINGS = [  # a common way of writing it, and what it means
    (r"(y - \hat{y})^2 / 2", (y - yhat) ** 2 / 2),
    ("w^2/2", w ** 2 / 2),
    ("w^2 / 2 + 1", w ** 2 / 2 + 1),
    ("w_ 2/2", None),  # w_2 is not declared: refused, not read as w_{2/2}
    ("1/2 (y - x)^2", (y - x) ** 2 / 2),
    ("-1/2 x", -x / 2),
    ("3/4", sympy.Rational(3, 4)),
    ("x / (2 w)", x / (2 * w)),
    ("a b / 2", a * b / 2),
    (r"x / 2 \cdot w", x * w / 2),
    (r"x / \sigma(w)", x / sigmoid(w)),
    (r"\frac{x}{2} / w", x / (2 * w)),
    ("x^{2}/2", x ** 2 / 2),
]


@pytest.mark.parametrize("text, meaning", READINGS)
def test_a_slash_is_read_as_meant(text, meaning):
    if meaning is None:
        with pytest.raises(LatexError):
            parse_latex(text, SCALARS)
    else:
        assert sympy.simplify(parse_latex(text, SCALARS) - meaning) == 0


def quoted(message: str) -> list[str]:
    return re.findall(r"'([^']*)'", message)


AMBIGUOUS = ["x^2 / 4 w", "x/2 w", r"x / \sigma(w) a", "y / 2^{3} w", r"(y - \hat y)^2 / 2 y", r"x / |w| a",
             r"x / \lVert w \rVert a"]
NOT_AMBIGUOUS = [r"x / \lVert w \rVert", r"x / \left| w \right| + a", r"\frac{x}{2} w", "x / 2 + w", r"x / 2 \cdot w",
                 "1/2 w", "(x / 2)", r"x^{1/2} w"]


def problem_text(definition: str) -> str:
    return yaml.safe_dump({"symbols": ["x", "y", "w", "a"], "definitions": [definition], "loss": "L", "wrt": ["w"]})


@pytest.mark.parametrize("text", AMBIGUOUS)
def test_a_slash_read_two_ways_is_refused_in_the_users_words(text):
    with pytest.raises(LatexError, match="can be read two ways") as caught:
        refuse_ambiguous_slash(text)
    assert f"'{text}'" in str(caught.value) and r"\frac" in str(caught.value)
    for piece in quoted(str(caught.value)):
        assert piece in text


@pytest.mark.parametrize("text", NOT_AMBIGUOUS)
def test_a_slash_with_one_meaning_is_not_refused(text):
    refuse_ambiguous_slash(text)


def test_a_problem_file_refuses_an_ambiguous_slash_naming_its_line():
    with pytest.raises(LatexError) as caught:
        derive.Problem.from_text(problem_text("L = x^2 / 4 w"), "p.yaml")
    assert str(caught.value).startswith("p.yaml, line 2, definition of L: 'x^2 / 4 w' can be read two ways at "
                                        "position 4 ('/ 4 w')")


@pytest.mark.parametrize("loss", [r"(y - w x)^2 / 2", "w^2/2", r"(y - w x)^2 / 2 + w^2/2"])
def test_a_problem_file_reads_a_loss_over_a_number(loss):
    network = derive.Problem.from_text(problem_text(f"L = {loss}"), "p.yaml").network
    assert network.definitions[network.symbol("L")].has(sympy.Rational(1, 2))


UNREADABLE = [  # text the scalar reader refuses; each message must quote the user's own text only
    r"(y - \hat{y})^2 / 2 +", r"\sigma(w x", "(x +", r"\hat{y} + \frac{2}{", r"\hat z + y", r"w_{3} x",
    r"\tilde{q} \cdot x", r"\frac12 ((y - x)^2", r"\log(1 - \hat y", r"x \cdot", r"\hat{y}_{1}",
    r"\frac{1}{2} (y - \hat y)^2 \cdot )",
]


@pytest.mark.parametrize("text", UNREADABLE)
def test_messages_quote_the_users_own_text(text):
    with pytest.raises((LatexError, ProblemError)) as caught:
        parse_latex(text, SCALARS)
    message = str(caught.value)
    assert quoted(message), message
    for piece in quoted(message):
        assert piece in text, (piece, message)
    assert r"\frac{2}{2}" not in message and "\\text{" not in message and "arcsinh" not in message
    position = re.search(r"position (\d+)", message)
    if position:
        assert int(position.group(1)) <= len(text)


def test_an_unknown_decorated_symbol_is_named_as_written():
    with pytest.raises(LatexError) as caught:
        parse_latex(r"\hat z + y", SCALARS)
    assert str(caught.value).startswith(r"unknown symbol \hat z (declared:")
    assert "position 0 of" in str(caught.value)
