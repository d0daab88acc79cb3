r"""The matrix notation of issue 12, table-driven: each reader rule, through a problem file, against the oracles.

Each row is a problem file using one notation (the identity I, scalar functions of 1x1 forms, entrywise sin,
cos, sqrt and |.|, Hadamard powers, the L1 norm, max(0, M), a bias beside a square product, negative powers of
a matrix). It is read, solved, compared with `sympy.diff` on explicit matrices (the shared oracle) and with
central differences, and its gradient is printed as stated. A handful go through `derive solve` (exit 0, the
check passes); what stays out (Kronecker products, pseudo-inverses, symmetric matrices) is refused by
`derive solve` in one line saying it is not supported.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from sympy import ImmutableMatrix, MatrixBase, MatrixSymbol, Rational, Symbol

from derive.core import matrix_ops as mo
from derive.check.numeric import MatrixEvaluator, NotAnalytic
from derive.core.printing import latex
from derive import Problem

from matrix_oracle import assert_matches_oracle


def problem_text(symbols: str, definitions: list[str], wrt: str) -> str:
    lines = "".join(f"  - {d}\n" for d in definitions)
    return f"symbols: {symbols}\ndefinitions:\n{lines}loss: L\nwrt: {wrt}\n"


# id, symbols, definitions, wrt, {variable: printed gradient} (None: not compared)
NOTATIONS = [
    ("identity in a quadratic form", "{X: [4, 3], y: [4, 1], w: [3, 1], lambda: scalar}",
     [r"L = \frac12 \lVert X w - y \rVert^2 + \frac{1}{2} w^T (X^T X + \lambda I) w"], "[w]",
     {"w": r"(\lambda I + X^T X) w + X^T (X w - y)"}),
    ("identity with its size", "{X: [3, 3], A: [3, 3]}", [r"L = \operatorname{tr}(X^T (A + 3 I_3) X)"], "[X]",
     {"X": r"(6 I + A + A^T) X"}),
    ("bold identity", "{x: [3, 1], A: [3, 3]}", [r"L = x^T (A - \mathbf{I}) x"], "[x]",
     {"x": r"(A + A^T - 2 I) x"}),
    ("square root of x^T x", "{x: [3, 1]}", [r"L = \sqrt{x^T x}"], "[x]", {"x": r"\frac{1}{\sqrt{x^T x}} x"}),
    ("a^T X b to the power 1/2", "{a: [3, 1], X: [3, 3], b: [3, 1]}", [r"L = (a^T X b + 10)^{1/2}"], "[X]",
     {"X": r"\frac{1}{2 \sqrt{a^T X b + 10}} a b^T"}),
    ("Rayleigh quotient", "{x: [3, 1], A: [3, 3]}", [r"L = \frac{x^T A x}{x^T x}"], "[x]",
     {"x": r"\frac{1}{x^T x} \left(A + A^T - \frac{2 x^T A x}{x^T x} I\right) x"}),
    ("x over its norm", "{x: [3, 1], a: [3, 1]}", [r"u = x / \lVert x \rVert", r"L = a^T u"], "[x]", None),
    ("2-norm of a vector", "{x: [3, 1], a: [3, 1]}", [r"L = \lVert x - a \rVert_2"], "[x]",
     {"x": r"\frac{1}{\lVert x - a \rVert_F} (x - a)"}),
    ("square of a 1x1 form", "{x: [3, 1], A: [3, 3]}", [r"L = (x^T A x)^2"], "[x]",
     {"x": r"2 (x^T A x) (A + A^T) x"}),
    ("log of a quadratic form", "{x: [3, 1], A: [3, 3]}", [r"L = \log(x^T A x + 10)"], "[x]",
     {"x": r"\frac{1}{x^T A x + 10} (A + A^T) x"}),
    ("exp of a quadratic form", "{x: [3, 1]}", [r"L = e^{-x^T x}"], "[x]", {"x": r"- 2 e^{- x^T x} x"}),
    ("entrywise sin and cos", "{X: [n, 3], W: [3, 2]}",
     [r"H = \sin(X W) \odot \cos(X W)", r"L = \operatorname{sum}(H)"], "[W]", None),
    ("entrywise square root", "{A: [3, 3]}", [r"L = \operatorname{sum}(\sqrt{A \odot A + 1})"], "[A]",
     {"A": r"(A^{\circ 2} + \mathbf{1})^{\circ - \frac{1}{2}} \odot A"}),
    ("entrywise absolute value", "{X: [n, 3], W: [3, 2]}", [r"L = \operatorname{sum}(|X W|)"], "[W]",
     {"W": r"X^T \Delta^{(1)}"}),
    ("absolute value of a 1x1 form", "{x: [3, 1], a: [3, 1]}", [r"L = |a^T x|"], "[x]",
     {"x": r"\operatorname{sign}(a^T x) a"}),
    ("Hadamard power, real exponent", "{A: [3, 3]}", [r"L = \operatorname{sum}((A \odot A + 1)^{\circ 2.5})"], "[A]",
     None),
    ("Hadamard power, symbolic exponent", "{A: [3, 3], p: scalar}",
     [r"L = \operatorname{sum}((A \odot A + 1)^{\circ p})"], "[A, p]", None),
    ("L1 penalty as a norm", "{X: [n, 3], W: [3, 2], Y: [n, 2], lambda: scalar}",
     [r"L = \frac12 \lVert X W - Y \rVert^2 + \lambda \lVert W \rVert_1"], "[W]",
     {"W": r"\lambda \operatorname{sign}(W) + X^T (X W - Y)"}),
    ("L1 penalty as a sum", "{X: [n, 3], W: [3, 2], Y: [n, 2], lambda: scalar}",
     [r"L = \frac12 \lVert X W - Y \rVert^2 + \lambda \operatorname{sum}(|W|)"], "[W]",
     {"W": r"\lambda \operatorname{sign}(W) + X^T (X W - Y)"}),
    ("max(0, XW) is ReLU", "{X: [n, 3], W: [3, 2]}", [r"H = \max(0, X W)", r"L = \operatorname{sum}(H \odot H)"],
     "[W]", {"W": r"X^T \Delta^{(1)}"}),
    ("column bias on a square product", "{X: [3, 3], W: [3, 3], b: [3, 1], Y: [3, 3]}",
     [r"Z = X W + b", r"L = \frac12 \lVert \sigma(Z) - Y \rVert^2"], "[W, b]",
     {"W": r"X^T \Delta^{(1)}", "b": r"\Delta^{(1)T} \mathbf{1}"}),
    ("row bias on a square product", "{X: [3, 3], W: [3, 3], b: [1, 3], Y: [3, 3]}",
     [r"Z = X W + b", r"L = \frac12 \lVert \sigma(Z) - Y \rVert^2"], "[W, b]",
     {"W": r"X^T \Delta^{(1)}", "b": r"\mathbf{1}^T \Delta^{(1)}"}),
    ("inverse squared", "{X: [2, 2], B: [2, 2]}", [r"L = \operatorname{tr}(B (X + 5 I)^{-2})"], "[X]", None),
    ("inverse cubed", "{X: [2, 2], B: [2, 2]}", [r"L = \operatorname{tr}(B (X + 5 I)^{-3})"], "[X]", None),
]


def solved(row):
    _, symbols, definitions, wrt, _ = row
    return Problem.from_text(problem_text(symbols, definitions, wrt), "p.yaml").solve()


@pytest.mark.parametrize("row", NOTATIONS, ids=[r[0] for r in NOTATIONS])
def test_notation_gives_the_right_gradient(row):
    solution = solved(row)
    assert_matches_oracle(solution, points=1)
    report = solution.check(points=2)
    assert report.passed, report.summary()


@pytest.mark.parametrize("row", [r for r in NOTATIONS if r[4]], ids=[r[0] for r in NOTATIONS if r[4]])
def test_notation_prints_its_gradient(row):
    solution = solved(row)
    printed = {d.wrt.name: latex(d.compact) for d in solution.derivations}
    assert printed == row[4]


def test_a_bias_beside_a_square_product_is_said_to_be_added_to_every_row():
    solution = solved(next(r for r in NOTATIONS if r[0] == "column bias on a square product"))
    document = solution.document(check=False)
    assert r"Z &= X W + \mathbf{1} b^T" in document
    assert "The bias is added to every row" in document


def test_a_bias_beside_a_product_that_is_not_square_gets_no_note():
    text = problem_text("{X: [n, 3], W: [3, 2], b: [2, 1], Y: [n, 2]}",
                        [r"Z = X W + b", r"L = \frac12 \lVert \sigma(Z) - Y \rVert^2"], "[b]")
    document = Problem.from_text(text, "p.yaml").solve().document(check=False)
    assert "The bias is added to every row" not in document


# -- the new nodes: numbers, explicit entries, printing --------------------------------------------------

A = MatrixSymbol("A", 2, 2)


def test_absolute_value_and_l1_norm_record_their_kinks():
    values = {A: np.array([[1e-5, -2.0], [0.5, -0.25]])}
    for expr, expected in ((mo.apply("abs", A), np.abs(values[A])), (mo.norm(A, "1"), 2.75001)):
        evaluator = MatrixEvaluator(values)
        assert np.allclose(evaluator(expr), expected)
        assert evaluator.kink_distance == pytest.approx(1e-5)
        assert mo.kinked(expr)
    with pytest.raises(NotAnalytic):
        MatrixEvaluator(values, dtype=complex)(mo.apply("abs", A))


def test_new_nodes_evaluate_as_their_explicit_entries():
    entries = ImmutableMatrix([[Rational(1, 3), Rational(-2, 5)], [Rational(1, 7), Rational(3, 4)]])
    numbers = np.array(entries.tolist(), dtype=float)
    for expr in (mo.apply("sin", A), mo.apply("cos", A), mo.apply("abs", A), mo.entrywise_class("abs", True)(A),
                 mo.norm(A, "1"), mo.power(A, -2), mo.root(mo.hadamard(A, A)), mo.add(A, mo.identity(2))):
        exact = mo.explicit(expr, {A: entries})
        expected = np.array(exact.evalf().tolist(), dtype=float) if isinstance(exact, MatrixBase) else float(exact)
        assert np.allclose(np.asarray(MatrixEvaluator({A: numbers})(expr), dtype=float), expected), expr


LAMBDA = Symbol("lambda", real=True)


@pytest.mark.parametrize("expr, printed", [
    (mo.power(A, -2), r"A^{-2}"),
    (mo.apply("abs", A), r"\lvert A\rvert"),
    (mo.apply("sin", A), r"\sin(A)"),
    (mo.apply("cos", A), r"\cos(A)"),
    (mo.norm(A, "1"), r"\lVert A \rVert_1"),
    (mo.add(A, mo.matmul(LAMBDA, mo.identity(2))), r"\lambda I + A"),
    (mo.root(A), r"A^{\circ \frac{1}{2}}"),
])
def test_new_nodes_print_and_read_back(expr, printed):
    from derive.read.matrix_parse import parse_matrix_latex

    assert latex(expr) == printed
    assert parse_matrix_latex(printed, {"A": A, "lambda": LAMBDA}) == expr


def test_a_1x1_form_in_front_of_a_product_is_bracketed_and_reads_back_as_a_number():
    from derive.read.matrix_parse import parse_matrix_latex

    x = MatrixSymbol("x", 3, 1)
    gradient = mo.matmul(4, mo.as_scalar(mo.matmul(mo.transpose(x), x)), x)
    assert latex(gradient) == r"4 (x^T x) x"
    assert parse_matrix_latex(latex(gradient), {"x": x}) == gradient


def test_the_derivative_of_abs_prints_as_sign():
    assert latex(mo.entrywise_class("abs", True)(A)) == r"\operatorname{sign}(A)"


# -- through the command line -----------------------------------------------------------------------------

def run_solve(tmp_path, text: str):
    problem = tmp_path / "p.yaml"
    problem.write_text(textwrap.dedent(text).lstrip())
    return subprocess.run([sys.executable, "-m", "derive", "solve", str(problem), "-o", str(tmp_path / "p.md")],
                          capture_output=True, text=True)


CLI_ROWS = ["identity in a quadratic form", "Rayleigh quotient", "L1 penalty as a norm", "max(0, XW) is ReLU",
            "column bias on a square product", "inverse squared", "entrywise absolute value"]


@pytest.mark.parametrize("name", CLI_ROWS)
def test_cli_solves_and_checks(tmp_path, name):
    _, symbols, definitions, wrt, _ = next(r for r in NOTATIONS if r[0] == name)
    done = run_solve(tmp_path, problem_text(symbols, definitions, wrt))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS" in done.stdout


REFUSED = [
    ("Kronecker product", "symbols: {X: [3, 3], A: [3, 3]}\ndefinitions:\n  - L = \\operatorname{sum}(A \\otimes X)\n"
                          "loss: L\nwrt: [X]\n", "Kronecker products"),
    ("pseudo-inverse ^+", "symbols: {X: [3, 3], A: [3, 3]}\ndefinitions:\n  - L = \\operatorname{tr}(A X^+)\n"
                          "loss: L\nwrt: [X]\n", "pseudo-inverses"),
    ("pseudo-inverse dagger", "symbols: {X: [3, 3], A: [3, 3]}\ndefinitions:\n  - L = \\operatorname{tr}(A X^{\\dagger})\n"
                              "loss: L\nwrt: [X]\n", "pseudo-inverses"),
    ("symmetric in the shape", "symbols: {X: [3, 3, symmetric], A: [3, 3]}\ndefinitions:\n"
                               "  - L = \\operatorname{tr}(A X)\nloss: L\nwrt: [X]\n", "symmetric matrices"),
    ("symmetric as a key", "symbols: {X: [3, 3], A: [3, 3]}\nsymmetric: [X]\ndefinitions:\n"
                           "  - L = \\operatorname{tr}(A X)\nloss: L\nwrt: [X]\n", "symmetric matrices"),
]


@pytest.mark.parametrize("name, text, what", REFUSED, ids=[r[0] for r in REFUSED])
def test_cli_refuses_in_one_line(tmp_path, name, text, what):
    done = run_solve(tmp_path, text)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error:"), done.stderr
    assert what in lines[0] and "not supported" in lines[0]
    assert "expected an operand" not in lines[0]


def test_the_complex_step_declines_an_absolute_value_in_one_line(tmp_path):
    _, symbols, definitions, wrt, _ = next(r for r in NOTATIONS if r[0] == "L1 penalty as a norm")
    problem = tmp_path / "p.yaml"
    problem.write_text(problem_text(symbols, definitions, wrt))
    done = subprocess.run([sys.executable, "-m", "derive", "check", str(problem), "--method", "complex-step"],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "absolute value, which is not complex-analytic" in done.stderr
