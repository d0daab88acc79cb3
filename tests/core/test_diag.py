r"""diag(v), the square diagonal matrix of a vector: its shape, its explicit entries, the NumPy evaluator
(plain, batch and complex modes) against those entries, the printer's round trip through the reader, and a
problem file that uses it, differentiated and checked against sympy.diff."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from sympy import MatrixSymbol, Symbol

import derive
from derive.core.matrix_ops import Diag, ShapeMismatch, diag, entry_symbols, explicit, matmul, transpose
from derive.read.matrix_parse import parse_matrix_latex
from derive.check.numeric import MatrixEvaluator
from derive.core.printing import latex

n = Symbol("n", integer=True, positive=True)
v, r, A, X = MatrixSymbol("v", n, 1), MatrixSymbol("r", 1, 3), MatrixSymbol("A", 3, 3), MatrixSymbol("X", n, 3)


def test_the_diag_of_a_column_or_a_row_is_square_and_its_own_transpose():
    assert diag(v).shape == (n, n)
    assert diag(r).shape == (3, 3)
    assert transpose(diag(v)) == diag(v)


def test_the_diag_of_a_matrix_that_is_not_a_vector_is_refused():
    with pytest.raises(ShapeMismatch, match=r"diag needs a vector .* A \(3x3\) is not a vector"):
        diag(A)


def test_explicit_entries_put_the_vector_on_the_diagonal():
    values = {v: entry_symbols(v, (2, 1)), n: 2}
    e = explicit(diag(v), values)
    assert e == sympy.ImmutableMatrix([[Symbol("v[0,0]", real=True), 0], [0, Symbol("v[1,0]", real=True)]])
    assert explicit(diag(r), {r: sympy.ImmutableMatrix([[1, 2, 3]])}) == sympy.diag(1, 2, 3)


@pytest.mark.parametrize("dtype", [float, complex])
def test_the_evaluator_agrees_with_the_explicit_entries(dtype):
    expr = matmul(transpose(X), diag(v), X)
    rng = np.random.default_rng(1)
    xv, vv = rng.normal(size=(4, 3)), rng.normal(size=(4, 1))
    got = MatrixEvaluator({X: xv, v: vv, n: 4}, dtype=dtype)(expr)
    want = np.array(explicit(expr, {X: sympy.ImmutableMatrix(xv), v: sympy.ImmutableMatrix(vv), n: 4}).tolist(),
                    dtype=float)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert np.asarray(got).dtype.kind == np.dtype(dtype).kind


def test_the_batch_evaluator_takes_one_diagonal_per_point():
    expr = matmul(transpose(X), diag(v), X)
    rng = np.random.default_rng(2)
    xs, vs = rng.normal(size=(5, 4, 3)), rng.normal(size=(5, 4, 1))
    batched = MatrixEvaluator({X: xs, v: vs, n: 4}, batch=True)(expr)
    for b in range(5):
        one = MatrixEvaluator({X: xs[b], v: vs[b], n: 4})(expr)
        np.testing.assert_allclose(batched[b], one, rtol=1e-12)


def test_printed_diag_reads_back_as_itself():
    expr = matmul(transpose(X), diag(v))
    printed = latex(expr)
    assert r"\operatorname{diag}(v)" in printed
    assert parse_matrix_latex(printed, {"X": X, "v": v}) == expr
    assert isinstance(parse_matrix_latex(r"\mathrm{diag}(v)", {"v": v}), Diag)


PROBLEM = r"""
title: a weighted least squares
symbols:
  X: [n, 3]
  y: [n, 1]
  c: [n, 1]
  W: [3, 1]
definitions:
  - e = X W - y
  - L = e^T \operatorname{diag}(c) e
loss: L
wrt: [W, c]
"""


def test_a_problem_using_diag_is_differentiated_and_matches_sympy_diff():
    problem = derive.Problem.from_text(PROBLEM)
    solution = problem.solve(["W", "c"])
    network = problem.network
    symbols = {s.name: s for s in network.inputs.values()}
    values = {d: 2 for d in network.dimensions}
    for s in symbols.values():
        values[s] = entry_symbols(s, tuple(int(sympy.sympify(d).xreplace(values)) for d in s.shape))
    loss = explicit(network.expand(problem.loss), values)
    loss = loss[0, 0] if isinstance(loss, sympy.MatrixBase) else loss
    for derivation in solution.derivations:
        got = explicit(derivation.expanded(), values)
        want = values[derivation.wrt].applyfunc(lambda entry: sympy.diff(loss, entry))
        assert sympy.simplify(got - want) == sympy.zeros(*want.shape), derivation.wrt


def test_a_diag_answer_to_that_problem_is_verified():
    problem = derive.Problem.from_text(PROBLEM)
    assert derive.verify(problem, "W", r"2 X^T \operatorname{diag}(c) (X W - y)").outcome == "correct"
    wrong = derive.verify(problem, "W", r"X^T \operatorname{diag}(c) (X W - y)")
    assert wrong.outcome == "incorrect" and wrong.diagnosis.kind == "factor"
