"""Problem files that would exhaust time, memory or the stack are refused in one line: alias bombs, deep
nesting, a 400-layer mlp, a 2000-definition chain, a FIFO as the problem file; `syntax: sympy` warns."""

from __future__ import annotations

import os
import time

import pytest

from derive.core.errors import ProblemError
from derive.read.problem import (MAX_CHAIN, MAX_YAML_DEPTH, Problem, SympySyntaxWarning, load_yaml,
                                 read_problem_file)

TAIL = "symbols: [x, y, w]\ndefinitions:\n  - \\hat{y} = \\sigma(w x)\n  - L = \\frac{1}{2} (y - \\hat{y})^2\nloss: L\nwrt: [w]\n"


def test_a_billion_laughs_title_is_refused_at_once():
    anchors = ["description:", '  - &l0 "lol"'] + [f"  - &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]"
                                                  for i in range(1, 10)]
    start = time.perf_counter()
    with pytest.raises(ProblemError, match="aliases"):
        Problem.from_text("\n".join(anchors) + "\ntitle: *l9\n" + TAIL, "bomb.yaml")
    assert time.perf_counter() - start < 5  # was over 90 s and 1.5 GB


def test_a_few_aliases_are_fine():
    data, _ = load_yaml("a: &s [n, 3]\nb: *s\n")
    assert data == {"a": ["n", 3], "b": ["n", 3]}


@pytest.mark.parametrize("text", ["title: " + "[" * 5000 + "]" * 5000 + "\n",
                                  "title:\n" + "".join("  " * i + "-\n" for i in range(200)),
                                  "title: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n"])
def test_deep_nesting_is_refused_in_one_line(text):
    with pytest.raises(ProblemError, match=f"nested more than {MAX_YAML_DEPTH} levels") as error:
        Problem.from_text(text + TAIL, "deep.yaml")
    assert "\n" not in str(error.value) and "line" in str(error.value)


def test_a_400_layer_mlp_is_refused():
    with pytest.raises(ProblemError, match="400 layers"):
        Problem.from_text("mlp: {sizes: [" + ", ".join(["2"] * 401) + "]}\n", "mlp.yaml")


def test_a_2000_definition_chain_is_refused_before_reading_it():
    defs = ["  - h_{0} = w x"] + [f"  - h_{{{i}}} = \\sigma(h_{{{i - 1}}})" for i in range(1, 2000)]
    text = "symbols: [x, y, w]\ndefinitions:\n" + "\n".join(defs) + "\n  - L = (y - h_{1999})^2\nloss: L\nwrt: [w]\n"
    start = time.perf_counter()
    with pytest.raises(ProblemError, match="2001 definitions"):
        Problem.from_text(text, "chain.yaml")
    assert time.perf_counter() - start < 5


def test_a_chain_deeper_than_the_engine_takes_is_refused_with_its_line():
    defs = ["  - h_{0} = w + x"] + [f"  - h_{{{i}}} = h_{{{i - 1}}} + x" for i in range(1, MAX_CHAIN + 1)]
    text = "symbols: [x, y, w]\ndefinitions:\n" + "\n".join(defs) + "\nloss: h_{0}\nwrt: [w]\n"
    with pytest.raises(ProblemError, match=f"chain of {MAX_CHAIN + 1} definitions") as error:
        Problem.from_text(text, "chain.yaml")
    assert f"line {MAX_CHAIN + 3}" in str(error.value)


def test_a_fifo_as_problem_file_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "p.yaml")
    with pytest.raises(ProblemError, match="not a regular file"):
        read_problem_file(tmp_path / "p.yaml")


def test_syntax_sympy_warns_and_is_refused_untrusted():
    text = "symbols: [x, y, w]\nsyntax: sympy\ndefinitions:\n  - yhat = 1/(1+exp(-w*x))\n  - L = (y - yhat)**2/2\nloss: L\nwrt: [w]\n"
    with pytest.warns(SympySyntaxWarning, match="evaluates Python"):
        Problem.from_text(text, "s.yaml")
    with pytest.raises(ProblemError, match="--trust-problem"):
        Problem.from_text(text, "s.yaml", trust=False)
