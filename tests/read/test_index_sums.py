r"""Scalar index sums in problem definitions, as students write a neuron: \sum_{i=1}^{3} w_i x_i."""

from __future__ import annotations

import pytest
import sympy
import yaml

import derive
from derive.core.errors import DeriveError
from derive.core.ops import sigmoid


def problem(definition: str, symbols=("w_1", "w_2", "w_3", "x_1", "x_2", "x_3", "y")):
    text = yaml.safe_dump({"symbols": list(symbols), "definitions": [definition, r"L = (y - \hat{y})^2 / 2"],
                           "loss": "L", "wrt": ["w_1"]})
    return derive.Problem.from_text(text, "neuron.yaml")


@pytest.mark.parametrize("definition", [r"\hat y = \sigma(\sum_{i=1}^{3} w_i x_i)", r"\hat y = \sigma(\sum_i w_i x_i)",
                                        r"\hat{y} = \sigma\left(\sum_{i} w_{i} x_{i}\right)"])
def test_an_index_sum_is_written_out_over_the_declared_names(definition):
    network = problem(definition).network
    w, x = [[network.symbol(f"{name}_{i}") for i in (1, 2, 3)] for name in ("w", "x")]
    yhat = network.symbol("yhat")
    assert sympy.simplify(network.definitions[yhat] - sigmoid(sum(a * b for a, b in zip(w, x)))) == 0


def test_the_sum_prints_as_written_and_the_gradient_is_right():
    solution = problem(r"\hat y = \sigma(\sum_{i=1}^{3} w_i x_i)").solve()
    assert r"\hat{y} &= \sigma\left(\sum_{i=1}^{3} w_{i} x_{i}\right)" in solution.latex()
    assert solution.check().passed


def test_a_sum_over_undeclared_names_is_refused_in_the_users_words():
    with pytest.raises(DeriveError) as caught:
        problem(r"\hat y = \sigma(\sum_{i=1}^{4} w_i x_i)")
    message = str(caught.value)
    assert "line 2, definition of yhat" in message and "unknown symbol w_{4}" in message
