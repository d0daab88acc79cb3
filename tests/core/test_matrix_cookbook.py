"""The Matrix Cookbook's standard gradients, table-driven: each comes out right and in textbook form.

Each case builds L by hand from the shape-checked builders over small concrete shapes (A, B, X 3x3; a, b,
x 3x1; E 1x1; a regression design matrix n x 3), derives dL/d(wrt) with the matrix engine, checks every entry
against `sympy.diff` (the shared oracle) and central differences, and compares the printed compact form
with the form a textbook gives. Printed forms that are right but not textbook are strict xfails that
quote the printed and the expected strings.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import pytest
from sympy import Rational, Symbol
from sympy.matrices.expressions import MatrixSymbol

from derive.core import matrix_ops as mo
from derive.solve.derivation import Solution
from derive import Network
from derive.core.network import make_symbol
from derive.core.printing import latex

from matrix_oracle import assert_matches_oracle

N = Symbol("n", integer=True, positive=True)
S = {
    "A": MatrixSymbol("A", 3, 3), "B": MatrixSymbol("B", 3, 3), "X": MatrixSymbol("X", 3, 3),
    "a": MatrixSymbol("a", 3, 1), "b": MatrixSymbol("b", 3, 1), "x": MatrixSymbol("x", 3, 1),
    "D": MatrixSymbol("X", N, 3), "w": MatrixSymbol("w", 3, 1), "y": MatrixSymbol("y", N, 1),
    "E": MatrixSymbol("E", 1, 1), "c": make_symbol("c"), "lambda": make_symbol("lambda"),
}
T, mm = mo.transpose, mo.matmul


class Case(NamedTuple):
    """One cookbook identity: L in the symbols S, the variable, the textbook gradient as derive prints it."""

    id: str
    loss: Callable[[dict], object]
    wrt: str
    textbook: str
    not_textbook: str = ""  # the printed form when it is right but not textbook (a strict xfail)


def _regression(s, halved=False):
    residual = mo.subtract(mo.add(mm(s["D"], s["w"]), s["c"]), s["y"])
    return mo.norm(residual) ** 2 / (2 if halved else N)


IDENTITIES = [
    Case("tr(AX)", lambda s: mo.trace(mm(s["A"], s["X"])), "X", r"A^T"),
    Case("tr(XA)", lambda s: mo.trace(mm(s["X"], s["A"])), "X", r"A^T"),
    Case("tr(X^T A)", lambda s: mo.trace(mm(T(s["X"]), s["A"])), "X", r"A"),
    Case("tr(A X^T)", lambda s: mo.trace(mm(s["A"], T(s["X"]))), "X", r"A"),
    Case("tr(AXB)", lambda s: mo.trace(mm(s["A"], s["X"], s["B"])), "X", r"A^T B^T"),
    Case("tr(X A X^T)", lambda s: mo.trace(mm(s["X"], s["A"], T(s["X"]))), "X",
         r"X (A + A^T)"),
    Case("tr(X^T A X)", lambda s: mo.trace(mm(T(s["X"]), s["A"], s["X"])), "X",
         r"(A + A^T) X"),
    Case("tr(X^T X)", lambda s: mo.trace(mm(T(s["X"]), s["X"])), "X", r"2 X"),
    Case("tr(X^2)", lambda s: mo.trace(mo.power(s["X"], 2)), "X", r"2 X^T"),
    Case("x^T a", lambda s: mm(T(s["x"]), s["a"]), "x", r"a"),
    Case("a^T x", lambda s: mm(T(s["a"]), s["x"]), "x", r"a"),
    Case("x^T x", lambda s: mm(T(s["x"]), s["x"]), "x", r"2 x"),
    Case("x^T A x", lambda s: mm(T(s["x"]), s["A"], s["x"]), "x", r"(A + A^T) x"),
    Case("x^T A x / 2", lambda s: Rational(1, 2) * mm(T(s["x"]), s["A"], s["x"]), "x",
         r"\frac{1}{2} (A + A^T) x"),
    Case("a^T X b", lambda s: mm(T(s["a"]), s["X"], s["b"]), "X", r"a b^T"),
    Case("log det X", lambda s: mo.apply("log", mo.det(s["X"])), "X", r"X^{-T}"),
    Case("det X", lambda s: mo.det(s["X"]), "X", r"\det(X) X^{-T}"),
    Case("tr(X^-1 A)", lambda s: mo.trace(mm(mo.inverse(s["X"]), s["A"])), "X",
         r"- X^{-T} A^T X^{-T}"),
    Case("||X||_F^2", lambda s: mo.norm(s["X"]) ** 2, "X", r"2 X"),
    Case("||AX - B||_F^2", lambda s: mo.norm(mo.subtract(mm(s["A"], s["X"]), s["B"])) ** 2, "X",
         r"2 A^T (A X - B)"),
    Case("mean(E o E), E 1x1", lambda s: mo.mean(mo.hadamard(s["E"], s["E"])), "E", r"2 E"),
    Case("least squares", lambda s: Rational(1, 2) * mo.norm(mo.subtract(mm(s["D"], s["w"]), s["y"])) ** 2,
         "w", r"X^T (X w - y)"),
    Case("least squares, y - Xw", lambda s: Rational(1, 2) * mo.norm(mo.subtract(s["y"], mm(s["D"], s["w"]))) ** 2,
         "w", r"- X^T (y - X w)"),
    Case("ridge regression", lambda s: Rational(1, 2) * mo.norm(mo.subtract(mm(s["D"], s["w"]), s["y"])) ** 2
         + s["lambda"] / 2 * mo.norm(s["w"]) ** 2, "w", r"\lambda w + X^T (X w - y)"),
    Case("linear regression (mean), weights", _regression, "w",
         r"\frac{2}{n} X^T (c \mathbf{1} + X w - y)"),
    Case("linear regression, intercept", lambda s: _regression(s, halved=True), "c",
         r"\mathbf{1}^T (c \mathbf{1} + X w - y)"),
    Case("tr(X^3)", lambda s: mo.trace(mo.power(s["X"], 3)), "X", r"3 (X^T)^{2}"),
    Case("tr(X^T B X A)", lambda s: mo.trace(mm(T(s["X"]), s["B"], s["X"], s["A"])), "X", r"B X A + B^T X A^T"),
    Case("tr(A X^-1 B)", lambda s: mo.trace(mm(s["A"], mo.inverse(s["X"]), s["B"])), "X",
         r"- X^{-T} A^T B^T X^{-T}"),
    Case("det(X^-1)", lambda s: mo.det(mo.inverse(s["X"])), "X", r"- \det(X^{-1}) X^{-T}"),
    Case("||X||_F", lambda s: mo.norm(s["X"]), "X", r"\frac{1}{\lVert X \rVert_F} X"),
    Case("sum(X)", lambda s: mo.sum_entries(s["X"]), "X", r"\mathbf{1}\mathbf{1}^T"),
    # a 1x1 product mixed with a scalar function of a matrix
    Case("x^T a + tr(X)", lambda s: mo.add(mm(T(s["x"]), s["a"]), mo.trace(s["X"])), "X", r"I_{3}"),  # I alone: its size is said
    Case("ridge, residual as a quadratic form",
         lambda s: mo.add(mm(T(mo.subtract(s["y"], mm(s["D"], s["w"]))), mo.subtract(s["y"], mm(s["D"], s["w"]))),
                          s["lambda"] * mo.norm(s["w"]) ** 2), "w", r"2 \lambda w - 2 X^T (y - X w)"),
]


def solve(case: Case) -> Solution:
    network = Network(title=case.id)
    expr = case.loss(S)
    for symbol in sorted(expr.free_symbols - {N}, key=lambda s: s.name):
        network.declare(symbol)
    loss = network.define("L", expr)
    return Solution.derive(network, loss, [network.symbol(case.wrt)])


def _textbook_param(case: Case):
    if not case.not_textbook:
        return pytest.param(case, id=case.id)
    reason = (f"right but not textbook: derive prints {case.not_textbook!r}, "
              f"the textbook form is {case.textbook!r}")
    return pytest.param(case, id=case.id, marks=pytest.mark.xfail(reason=reason, strict=True))


@pytest.mark.parametrize("case", IDENTITIES, ids=lambda i: i.id)
def test_identity_is_right(case):
    solution = solve(case)
    assert_matches_oracle(solution, points=1)
    report = solution.check(points=2)
    assert report.passed, report.summary()


@pytest.mark.parametrize("case", [_textbook_param(i) for i in IDENTITIES])
def test_identity_prints_in_textbook_form(case):
    assert latex(solve(case).derivations[0].compact) == case.textbook
