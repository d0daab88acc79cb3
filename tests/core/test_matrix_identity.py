"""The identity matrix in the matrix engine: a factor taken out of a sum leaves c I, never a scalar.

The class of bug: the terms of a gradient share a factor x and one term is a scalar times x (2 x + A x +
A^T x); taking x out left the scalar 2, and a sum that broadcast scalars wrote 2 1 1^T where 2 I belongs.
Each case is checked against `sympy.diff` on explicit matrices (the shared oracle) and central differences,
and printed in textbook form. The engine's sum refuses a scalar beside a matrix, so the class stays loud.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Callable, NamedTuple

import pytest
from sympy import Rational, Symbol, Transpose
from sympy.matrices.expressions import Identity, MatMul, MatrixSymbol

from derive.core import matrix_ops as mo
from derive.solve.derivation import Solution
from derive.core.matrix_tidy import tidy
from derive import Network
from derive.core.network import make_symbol
from derive.core.printing import latex

from matrix_oracle import assert_matches_oracle

A, B, X = MatrixSymbol("A", 3, 3), MatrixSymbol("B", 3, 3), MatrixSymbol("X", 3, 3)
x, a = MatrixSymbol("x", 3, 1), MatrixSymbol("a", 3, 1)
g = make_symbol("g")
T, mm = mo.transpose, mo.matmul


class Case(NamedTuple):
    id: str
    loss: Callable[[], object]
    wrt: object
    textbook: str


CASES = [
    Case("x^T A x + x^T x", lambda: mo.add(mm(T(x), A, x), mm(T(x), x)), x, r"(2 I + A + A^T) x"),
    Case("tr(X^T A X) + g ||X||_F^2", lambda: mo.add(mo.trace(mm(T(X), A, X)), g * mo.norm(X) ** 2), X,
         r"(2 g I + A + A^T) X"),
    Case("tr(X A X^T) + g ||X||_F^2 (a left factor)", lambda: mo.add(mo.trace(mm(X, A, T(X))), g * mo.norm(X) ** 2),
         X, r"X (2 g I + A + A^T)"),
    Case("1/2 ||A X||_F^2 + g/2 ||X||_F^2", lambda: Rational(1, 2) * mo.norm(mm(A, X)) ** 2 + g / 2 * mo.norm(X) ** 2,
         X, r"(g I + A^T A) X"),
    Case("det X + tr(A X^{-1})", lambda: mo.det(X) + mo.trace(mm(A, mo.inverse(X))), X,
         r"(\det(X) I - X^{-T} A^T) X^{-T}"),
    Case("the Rayleigh quotient x^T A x / x^T x", lambda: mo.as_scalar(mm(T(x), A, x)) / mo.as_scalar(mm(T(x), x)), x,
         r"\frac{1}{x^T x} \left(A + A^T - \frac{2 x^T A x}{x^T x} I\right) x"),
    Case("x^T A x + 3 a^T x + x^T x", lambda: mo.add(mm(T(x), A, x), 3 * mo.as_scalar(mm(T(a), x)), mm(T(x), x)), x,
         r"3 a + (2 I + A + A^T) x"),
    Case("tr(X^T X B) + tr(X^T X)", lambda: mo.add(mo.trace(mm(T(X), X, B)), mo.trace(mm(T(X), X))), X,
         r"X (2 I + B + B^T)"),
]


def solve(case: Case) -> Solution:
    network = Network(title=case.id)
    expr = case.loss()
    for symbol in sorted(expr.free_symbols, key=lambda s: s.name):
        network.declare(symbol)
    loss = network.define("L", expr)
    return Solution.derive(network, loss, [case.wrt])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient_is_right(case):
    solution = solve(case)
    assert_matches_oracle(solution, points=1)
    report = solution.check(points=2)
    assert report.passed, report.summary()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_gradient_prints_with_the_identity(case):
    printed = latex(solve(case).derivations[0].compact)
    assert printed == case.textbook
    assert r"\mathbf{1}" not in printed


def test_the_engines_sum_refuses_a_scalar_beside_a_matrix_naming_both():
    with pytest.raises(mo.InternalError, match=r"scalar 2 .*matrix \(A x\) \(3x1\)"):
        mo.sum_of(2, mm(A, x))
    with pytest.raises(mo.InternalError, match=r"x \(3x1\) and a \(3x1\)|shapes differ"):
        mo.sum_of(x, mm(T(a), A))


def test_the_users_sum_still_broadcasts_a_scalar():
    """1 - Yhat in a problem file means 1 1^T - Yhat: a convenience of the reader and the builders only."""
    assert latex(mo.add(1, mo.negate(A))) == r"\mathbf{1} - A"


def test_a_factor_taken_out_leaves_c_identity():
    collected = tidy(mo.sum_of(mm(2, x), mm(A, x)))
    assert collected == MatMul(mo.sum_of(mm(2, Identity(3)), A), x)


def test_products_with_the_identity_simplify():
    assert mm(A, Identity(3)) == A
    assert mm(3, Identity(3), x) == MatMul(3, x)
    assert mm(Identity(3), Identity(3)) == Identity(3)


def test_the_scalar_placeholder_is_inert():
    """dL/de for a scalar e: L and e are symbols, so a plain Derivative would doit() to 0."""
    loss, e = Symbol("L"), Symbol("e")
    placeholder = mo.ScalarGradientOf(loss, e)
    assert placeholder.doit() == placeholder
    assert placeholder.func(*placeholder.args) == placeholder
    product = MatMul(placeholder, x, T(a))
    assert Transpose(product).doit() == MatMul(placeholder, a, T(x))
    assert latex(placeholder) == r"\frac{\partial L}{\partial e}"


PROBLEM = """
symbols: {x: [3, 1], A: [3, 3]}
definitions:
  - L = x^T A x + x^T x
loss: L
wrt: [x]
"""


def test_cli_solves_a_quadratic_form_plus_a_squared_norm(tmp_path):
    problem = tmp_path / "p.yaml"
    problem.write_text(textwrap.dedent(PROBLEM).lstrip())
    out = tmp_path / "p.md"
    done = subprocess.run([sys.executable, "-m", "derive", "solve", str(problem), "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout
    document = out.read_text()
    assert r"(2 I + A + A^T) x" in document
    assert r"\mathbf{1}\mathbf{1}^T" not in document
