"""Reading hostile and unusual answers (issue 14): each becomes one line (an `AnswerError`) or a reading, never
a RecursionError, OverflowError, MemoryError or a slow parse; a BOM, a trailing \\, and (A)^{1} read as meant;
two answers on consecutive lines are told apart from one."""

from __future__ import annotations

from pathlib import Path

import pytest

import derive
from derive.grade.batch import split_answers
from derive.grade.verify import verify
from derive.read.answers import AnswerError, _second_reading, answer_symbols, clean, left_side_variable, read_answer
from derive.core.errors import ProblemError
from derive.read.parse import symbol_name

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def scalar():
    return derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")


@pytest.fixture(scope="module")
def batch():
    return derive.Problem.from_yaml(EXAMPLES / "one_layer_batch.yaml")


def read(problem, text, wrt):
    return read_answer(text, problem.network, problem.loss, problem.network.symbol(wrt))


def test_a_bom_and_trailing_spaces_are_not_part_of_the_answer():
    assert clean("\ufeff x \\,") == "x"
    assert clean(r"x.\;") == "x"
    assert clean(r"x \quad") == "x"
    assert clean(r"x \\") == r"x \\"  # a line break is not a space


def test_a_power_one_is_the_matrix_itself_whatever_its_shape(batch):
    line, = read(batch, r"(X)^{1}", "W")
    assert line.expr == batch.network.symbol("X")


def test_two_answers_on_consecutive_lines_are_told_to_be_separated(batch):
    text = "\\frac{\\partial L}{\\partial W} = X^T(\\hat y - y)\n\\frac{\\partial L}{\\partial W} = X^T(\\hat y - y)"
    with pytest.raises(AnswerError, match="separate answers with a blank line"):
        read(batch, text, "W")


def test_a_left_hand_side_of_1200_layer_indices_is_one_line_not_a_recursion_error(scalar):
    text = r"\frac{\partial L}{\partial w" + "^{(1)}" * 1200 + "} = x"
    with pytest.raises(AnswerError):
        split_answers(text, ["w"])
    with pytest.raises(AnswerError):
        left_side_variable(r"\frac{\partial L}{\partial w" + "^{(1)}" * 300 + "}")
    with pytest.raises(AnswerError):
        read(scalar, text, "w")
    with pytest.raises(ProblemError):
        symbol_name("w" + "^{(1)}" * 1200)
    with pytest.raises(ProblemError, match="layer indices"):
        symbol_name("w" + "^{(1)}" * 3)


def test_names_keep_their_layer_indices():
    assert symbol_name("W^{[2]}") == "W^{(2)}"
    assert symbol_name(r"\hat{y}^{(1)}") == "yhat^{(1)}"


def test_a_power_of_a_power_past_the_exponent_bound_is_refused_not_an_overflow(scalar):
    with pytest.raises(AnswerError, match="exponent"):
        verify(scalar, "w", r"x^{100}^{100}")


def test_a_size_larger_than_the_problems_is_refused_not_a_memory_error(batch):
    with pytest.raises(AnswerError, match="larger than any size in the problem"):
        verify(batch, "W", r"X^T (\hat y - y) \mathbf{1}_{1000000000}^T\mathbf{1}_{1000000000}")
    with pytest.raises(AnswerError, match="larger than any size"):
        verify(batch, "W", r"X^T y (\mathbf{1}_{16000}^T \operatorname{diag}(\mathbf{1}_{16000}) \mathbf{1}_{16000})")


def test_the_second_reader_is_not_run_on_deeply_nested_or_long_text(scalar):
    symbols = answer_symbols(scalar.network, scalar.loss)
    x = symbols["x"]
    deep = "(" * 45 + "x/2" + ")" * 45
    assert _second_reading(deep, symbols, x / 2) is None
    assert _second_reading("x/2 + " * 60 + "x", symbols, x) is None
    assert _second_reading("(x/2)", symbols, x / 2) == x / 2  # short text is still read twice
    verdict = verify(scalar, "w", deep)
    assert verdict.outcome == "incorrect"


def test_one_unsized_ones_in_a_sum_takes_the_whole_shape():
    problem = derive.Problem.from_yaml(EXAMPLES / "two_layer_batch.yaml")
    line, = read(problem, r"H \odot (\mathbf{1} - H)", "W^{(1)}")
    assert tuple(line.expr.shape) == tuple(problem.network.symbol("H").shape)
    line, = read(problem, r"X^T \mathbf{1}", "W^{(1)}")  # in a product it is still a column
    assert tuple(line.expr.shape) == (3, 1)
