r"""Table-driven tests for `parse_matrix_latex`: each LaTeX right-hand side against the expression built
directly with the `matrix_ops` builders, the canonical symbol names, and the errors (what and where)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sympy
from sympy import MatrixSymbol, Rational, Symbol
from sympy.matrices.expressions import HadamardPower, Identity, MatPow, Trace

from derive.core.errors import LatexError
from derive.core.matrix_ops import (
    ENTRYWISE_FUNCTIONS, ShapeMismatch, add, apply, det, diag, divide, entrywise_class, hadamard, inverse, matmul,
    maximum, mean, minimum, negate, norm, ones, power, softmax, subtract, sum_entries, trace, transpose,
)
from derive.read.matrix_parse import MAX_DEPTH, MAX_LENGTH, parse_matrix_latex

n = Symbol("n", integer=True, positive=True)
X, W, b, Y = MatrixSymbol("X", n, 3), MatrixSymbol("W", 3, 1), MatrixSymbol("b", 1, 1), MatrixSymbol("Y", n, 1)
A, x, Delta = MatrixSymbol("A", 3, 3), MatrixSymbol("x", 3, 1), MatrixSymbol("Delta", n, 1)
Z, Q = MatrixSymbol("Z", n, 3), MatrixSymbol("Q", 4, 1)
lam, y, w, yhat = (Symbol(s, real=True) for s in ("lambda", "y", "w", "yhat"))
W2 = MatrixSymbol("W^{(2)}", 3, 1)

SYMBOLS = {s.name: s for s in (X, W, b, Y, A, x, Delta, Z, Q, lam, y, w, yhat, W2)}


def sigma(u):
    return apply("sigmoid", u)


def prime(name, u):
    if isinstance(u, sympy.MatrixExpr):
        return entrywise_class(name, prime=True)(u)
    return ENTRYWISE_FUNCTIONS[name](u).fdiff(1)


half = Rational(1, 2)

PARSES = [
    # diag of a column or a row is the square diagonal matrix
    (r"X^T \operatorname{diag}(\sigma'(X W)) (Y - X W)",
     matmul(transpose(X), diag(prime("sigmoid", matmul(X, W))), subtract(Y, matmul(X, W)))),
    (r"\mathrm{diag}(x) A", matmul(diag(x), A)),
    (r"\operatorname{diag}\left(x^T\right)", diag(transpose(x))),
    (r"\operatorname{diag}(y)", y),
    # products keep their order and check shapes
    (r"X W", matmul(X, W)),
    (r"X \cdot W", matmul(X, W)),
    (r"X * W", matmul(X, W)),
    (r"X^T \Delta", matmul(transpose(X), Delta)),
    (r"\Delta^T X", matmul(transpose(Delta), X)),
    (r"x^T A x", matmul(transpose(x), A, x)),
    (r"(X W)^T", transpose(matmul(X, W))),
    (r"{X W}^{T}", transpose(matmul(X, W))),
    (r"2 X W", matmul(2, X, W)),
    (r"X W / 2", divide(matmul(X, W), sympy.Integer(2))),
    (r"\frac{X W}{2}", divide(matmul(X, W), sympy.Integer(2))),
    (r"\lambda \times w", lam * w),
    # sums, broadcasting, unary signs
    (r"X W + b", add(matmul(X, W), b)),
    (r"Y - X W", subtract(Y, matmul(X, W))),
    (r"-X W", matmul(negate(X), W)),
    (r"- y^2", -y ** 2),
    (r"y - -w", y + w),
    # Hadamard binds looser than the matrix product
    (r"\Delta W^T \odot \sigma'(Z)", hadamard(matmul(Delta, transpose(W)), prime("sigmoid", Z))),
    (r"\sigma(Z) \circ (1 - \sigma(Z))", hadamard(sigma(Z), subtract(1, sigma(Z)))),
    # transposes, inverses, powers
    (r"W^\top", transpose(W)),
    (r"W^{\top}", transpose(W)),
    (r"W^\intercal", transpose(W)),
    (r"W^{\mathsf T}", transpose(W)),
    (r"W^{\mathsf{T}}", transpose(W)),
    (r"A^{-1}", inverse(A)),
    (r"A^{-T}", transpose(inverse(A))),
    (r"(X^T X)^{-1} X^T Y", matmul(inverse(matmul(transpose(X), X)), transpose(X), Y)),
    (r"A^2 x", matmul(power(A, 2), x)),
    (r"y^{-1}", 1 / y),
    (r"y^{n}", y ** n),
    (r"y^{100}", y ** 100),
    # numbers, fractions, roots
    (r"2.5 y", Rational(5, 2) * y),
    (r".5", half),
    (r"\frac12 (y - \hat{y})^2", half * (y - yhat) ** 2),
    (r"\tfrac{1}{2} y", half * y),
    (r"\dfrac{y}{w}", y / w),
    (r"\frac{1}{n}", 1 / n),
    (r"\sqrt{y}", sympy.sqrt(y)),
    (r"\sqrt[3]{y}", y ** Rational(1, 3)),
    (r"e^{-y}", sympy.exp(-y)),
    (r"e^{Z}", apply("exp", Z)),
    # groups, sizing and spacing
    (r"\left( y + w \right)^2", (y + w) ** 2),
    (r"\bigl[ y \bigr] \Big( w \Big)", y * w),
    (r"\{ y \} \, w \; \! \quad y ~ w", y ** 2 * w ** 2),
    (r"\left. y \right.", y),
    # functions
    (r"\sigma(w y)", sigma(w * y)),
    (r"\sigma(X W + b)", sigma(add(matmul(X, W), b))),
    (r"\sigma\left(Z\right)^T", transpose(sigma(Z))),
    (r"\operatorname{sigmoid}(Z)", sigma(Z)),
    (r"\tanh(Z)", apply("tanh", Z)),
    (r"\exp(y)", sympy.exp(y)),
    (r"\log y", sympy.log(y)),
    (r"\ln(y)", sympy.log(y)),
    (r"\operatorname{ReLU}(Z)", apply("relu", Z)),
    (r"\mathrm{relu}(y)", apply("relu", y)),
    (r"relu(Z)", apply("relu", Z)),
    (r"\operatorname{softplus}(y)", apply("softplus", y)),
    (r"\text{softplus}(Z)", apply("softplus", Z)),
    (r"\Bigl( \sigma(Z) \biggr)", sigma(Z)),
    (r"\operatorname{softmax}(Z)", softmax(Z)),
    (r"\operatorname{sum}(Y \odot Y)", sum_entries(hadamard(Y, Y))),
    (r"Y^{\circ 2}", sympy.HadamardPower(Y, 2)),  # the Hadamard power, as derive's printer writes it
    (r"(X W)^{\circ -1}", sympy.HadamardPower(matmul(X, W), -1)),
    (r"Y^{\circ 1}", Y),
    (r"y^{\circ 2}", y ** 2),
    (r"\operatorname{mean}(Y)", mean(Y)),
    (r"\operatorname{tr}(A^T A)", trace(matmul(transpose(A), A))),
    (r"\operatorname{trace}(A)", trace(A)),
    (r"\mathrm{tr}\, A", trace(A)),
    (r"\tr A", trace(A)),
    (r"\det A", det(A)),
    (r"\log\det A", sympy.log(det(A))),
    (r"\log \det(A)", sympy.log(det(A))),
    (r"\max(0, y)", maximum(0, y)),
    (r"\min\{y, w\}", minimum(y, w)),
    (r"\tanh^2 y", sympy.tanh(y) ** 2),
    # derivatives of activations
    (r"\sigma'(Z)", prime("sigmoid", Z)),
    (r"\sigma^{\prime}(Z)", prime("sigmoid", Z)),
    (r"\sigma^\prime(y)", prime("sigmoid", y)),
    (r"\tanh'(Z)", prime("tanh", Z)),
    (r"\operatorname{ReLU}'(Z)", prime("relu", Z)),
    (r"\tanh'(y)", prime("tanh", y)),
    # norms
    (r"\frac{1}{2}\lVert Y - \sigma(X W + b)\rVert^2",
     matmul(half, power(norm(subtract(Y, sigma(add(matmul(X, W), b)))), 2))),
    (r"\|A\|_F^2", power(norm(A), 2)),
    (r"\left\| x \right\|_2", norm(x)),
    (r"\Vert A \Vert", norm(A)),
    (r"\lambda \lVert W \rVert_{F}^{2}", lam * power(norm(W), 2)),
    (r"|y - w|", norm(y - w)),
    (r"\|x\| \|W\|", norm(x) * norm(W)),
    # the all-ones vector, sized by a subscript or by its neighbours
    (r"X W + \mathbf{1} b^T", add(matmul(X, W), matmul(ones(n, 1), transpose(b)))),
    (r"\mathbf{1}^T A \mathbf{1}", matmul(transpose(ones(3, 1)), A, ones(3, 1))),
    (r"\Delta^T \mathbf{1}", matmul(transpose(Delta), ones(n, 1))),
    (r"\mathbb{1}^T Z", matmul(transpose(ones(n, 1)), Z)),
    (r"Z \boldsymbol{1}", matmul(Z, ones(3, 1))),
    (r"- \mathbf{1}^T Y", negate(matmul(transpose(ones(n, 1)), Y))),
    (r"Y \odot \mathbf{1}", hadamard(Y, ones(n, 1))),
    (r"\mathbf{1}_n", ones(n, 1)),
    (r"\mathbf{1}_3^T x", matmul(transpose(ones(3, 1)), x)),
    (r"\frac{\mathbf{1}^T Y}{n}", divide(matmul(transpose(ones(n, 1)), Y), n)),
    # layer indices and wrappers
    (r"W^{(2)T}", transpose(W2)),
    (r"W^{(2)\top} x", matmul(transpose(W2), x)),
    (r"\mathbf{X}\mathbf{W}", matmul(X, W)),
    (r"\boldsymbol{x}^T A", matmul(transpose(x), A)),
    (r"\mathbf{X W}", matmul(X, W)),
    # the identity, when no symbol I is declared: sized from its neighbours, or by a subscript
    (r"X^T X + \lambda I", add(matmul(transpose(X), X), matmul(lam, Identity(3)))),
    (r"A - I", subtract(A, Identity(3))),
    (r"(\lambda I) x", matmul(lam, x)),
    (r"I_3 x", x),
    (r"\mathbf{I} A", A),
    (r"\mathbb{I}_n Z + Z", add(Z, Z)),
    (r"\mathbf{I}_n", Identity(n)),
    (r"(A + I)^{-1}", inverse(add(A, Identity(3)))),
    # scalar functions of 1x1 forms
    (r"\sqrt{x^T x}", sympy.sqrt(Trace(matmul(transpose(x), x)))),
    (r"(x^T A x)^{1/2}", sympy.sqrt(Trace(matmul(transpose(x), A, x)))),
    (r"\frac{x^T A x}{x^T x}", Trace(matmul(transpose(x), A, x)) / Trace(matmul(transpose(x), x))),
    (r"x / \lVert x \rVert", matmul(1 / norm(x), x)),
    (r"\log(x^T A x)", sympy.log(Trace(matmul(transpose(x), A, x)))),
    (r"\exp(x^T x + 1)", sympy.exp(Trace(matmul(transpose(x), x)) + 1)),
    (r"e^{-x^T x}", sympy.exp(-Trace(matmul(transpose(x), x)))),
    (r"|x^T A x|", norm(Trace(matmul(transpose(x), A, x)))),
    (r"\max(0, x^T x)", maximum(0, Trace(matmul(transpose(x), x)))),
    # entrywise functions and powers
    (r"\sin(Z)", apply("sin", Z)),
    (r"\cos Z", apply("cos", Z)),
    (r"\operatorname{sin}(y)", sympy.sin(y)),
    (r"\sqrt{A}", HadamardPower(A, half)),
    (r"|A|", apply("abs", A)),
    (r"\lvert Z \rvert", apply("abs", Z)),
    (r"A^{\circ \lambda}", HadamardPower(A, lam)),
    (r"A^{\circ -0.5}", HadamardPower(A, -half)),
    (r"\lVert A \rVert_1", norm(A, "1")),
    (r"\operatorname{sum}(|A|)", sum_entries(apply("abs", A))),
    (r"\max(0, X W)", apply("relu", matmul(X, W))),
    (r"\max(Z, 0)", apply("relu", Z)),
    # negative powers of a square matrix
    (r"A^{-2}", MatPow(inverse(A), 2)),
    (r"A^{-3} x", matmul(MatPow(inverse(A), 3), x)),
    # a bias beside a square product: by its declared orientation, added to every row
    (r"A + x", add(A, matmul(ones(3, 1), transpose(x)))),
    (r"A + x^T", add(A, matmul(ones(3, 1), transpose(x)))),
    # the indicator is ReLU' of the difference, entry by entry on a matrix
    (r"\mathbf{1}[X W > 0]", prime("relu", matmul(X, W))),
    (r"\mathbb{1}[0 < X W]", prime("relu", matmul(X, W))),
    (r"\mathbf{1}_{\{Z \geq X\}}", prime("relu", subtract(Z, X))),
    (r"\mathbf{1}\left[w \le y\right]", prime("relu", y - w)),
    (r"\mathbf{1}_n", ones(n, 1)),
    # c 1 in a sum takes the sum's shape, as 1 does
    (r"Z - 5 \mathbf{1}", subtract(Z, matmul(5, ones(n, 3)))),
]


@pytest.mark.parametrize("latex, expected", PARSES, ids=[p[0] for p in PARSES])
def test_parses_to_the_builder_expression(latex, expected):
    assert parse_matrix_latex(latex, SYMBOLS) == expected


DIFFERENT = [
    (r"X W", r"W^T X^T"),
    (r"X^T \Delta", r"\Delta^T X"),
    (r"x^T A x", r"x^T A^T x"),
    (r"X W + b", r"X W - b"),
]


@pytest.mark.parametrize("left, right", DIFFERENT, ids=[f"{a} vs {b}" for a, b in DIFFERENT])
def test_order_and_transposes_matter(left, right):
    assert parse_matrix_latex(left, SYMBOLS) != parse_matrix_latex(right, SYMBOLS)


def test_transposed_products_have_transposed_shapes():
    assert parse_matrix_latex(r"X^T \Delta", SYMBOLS).shape == (3, 1)
    assert parse_matrix_latex(r"\Delta^T X", SYMBOLS).shape == (1, 3)


NAMES = [
    (r"W_1", "W_1"), (r"w_{12}", "w_12"), (r"x", "x"), (r"\hat{y}", "yhat"), (r"\hat y", "yhat"),
    (r"\hat{Y}", "Yhat"), (r"\bar{y}", "ybar"), (r"\tilde y", "ytilde"), (r"\Delta", "Delta"),
    (r"\lambda", "lambda"), (r"\delta", "delta"), (r"\theta", "theta"), (r"\mathbf{X}", "X"),
    (r"\boldsymbol{x}", "x"), (r"\mathrm{X}", "X"), (r"W^{(1)}", "W^{(1)}"), (r"W^{[1]}", "W^{(1)}"),
    (r"W^{(l)}", "W^{(l)}"), (r"\hat{y}^{(2)}", "yhat^{(2)}"), (r"W_1^{(2)}", "W_1^{(2)}"),
    (r"W^{(2)}_1", "W_1^{(2)}"), (r"\mathbf{W}^{(1)}", "W^{(1)}"), (r"\mathbf{W}_1", "W_1"),
    (r"W_{\text{out}}", "W_out"), (r"lr", "lr"), (r"\hat{\theta}", "thetahat"),
]


@pytest.mark.parametrize("latex, name", NAMES, ids=[n_[0] for n_ in NAMES])
def test_canonical_names(latex, name):
    symbols = {name: Symbol(name, real=True), "l": Symbol("l", real=True)}
    assert parse_matrix_latex(latex, symbols) == symbols[name]


def test_names_are_case_sensitive_and_letters_side_by_side_multiply():
    assert parse_matrix_latex("y w", SYMBOLS) == y * w
    assert parse_matrix_latex("yw", SYMBOLS) == y * w
    with pytest.raises(LatexError, match="unknown symbol y .*'yw' reads as a product"):
        parse_matrix_latex("yw", {"Y": Symbol("Y"), "W": Symbol("W")})


def test_a_declared_I_is_a_symbol_not_the_identity():
    I = MatrixSymbol("I", 3, 3)
    assert parse_matrix_latex("A + I", {"A": A, "I": I}) == add(A, I)
    assert parse_matrix_latex(r"\mathbf{I}", {"A": A, "I": I}) == I


def test_a_declared_e_is_a_symbol_not_the_exponential():
    e = Symbol("e", real=True)
    assert parse_matrix_latex("e^{y}", {"e": e, "y": y}) == e ** y


ERRORS = [
    # what is unknown, by name
    (r"X V", LatexError, ["unknown symbol V", "declared: A, Delta", "position 2"]),
    (r"W^{(3)}", LatexError, ["unknown symbol W^{(3)}"]),
    (r"\foo(y)", LatexError, [r"undefined function \foo", "position 0"]),
    (r"\operatorname{foo}(y)", LatexError, [r"undefined function \operatorname{foo}"]),
    (r"\mathbf{1}_m", LatexError, ["unknown dimension m", "n"]),
    # shapes, from the builders, naming both
    (r"X Q", ShapeMismatch, ["nx3", "4x1"]),
    (r"X \odot Q", ShapeMismatch, ["nx3", "4x1"]),
    (r"Y^{\circ W}", LatexError, ["at position 1", "an exponent must be a scalar"]),
    (r"Y^{\circ 2", LatexError, ["expected '}' to close the exponent"]),
    (r"X^{-1}", ShapeMismatch, ["nx3", "square"]),
    (r"\frac{y}{x}", ShapeMismatch, ["divide by the matrix x (3x1)"]),
    (r"X^{1/2}", ShapeMismatch, ["nx3", r"A^{\circ p}"]),  # \sqrt{X} is entrywise; a power of a matrix is not
    (r"\operatorname{softmax}(y)", ShapeMismatch, ["softmax"]),
    (r"\operatorname{diag}(A)", ShapeMismatch, ["diag needs a vector", "A (3x3) is not a vector"]),
    (r"\operatorname{diag}(x) X", ShapeMismatch, ["cannot multiply", "3x3", "nx3"]),
    (r"\operatorname{diag}'(x)", LatexError, ["prime"]),
    # syntax, with the position
    (r"y + )", LatexError, ["at position 4", "expected an operand"]),
    (r"\sigma(Z \odot )", LatexError, ["at position 15", "expected an operand"]),
    (r"(y + w", LatexError, ["at the end", "expected ')'", "position 0"]),
    (r"y)", LatexError, ["at position 1", "never opened"]),
    (r"y = w", LatexError, ["at position 2", "relation"]),
    (r"y \le w", LatexError, ["relation"]),
    (r"y w +", LatexError, ["at the end", "expected an operand"]),
    (r"y'", LatexError, ["position 1", "prime"]),
    (r"\sigma''(Z)", LatexError, ["second"]),
    (r"\det'(A)", LatexError, ["prime"]),
    (r"\int y", LatexError, [r"\int is not supported"]),
    (r"\sum y", LatexError, [r"\sum is not supported", r"\operatorname{sum}"]),
    (r"\frac{1}{0}", LatexError, ["division by zero"]),
    (r"\log 0", LatexError, ["undefined"]),
    (r"\lVert A \rVert_2", LatexError, ["spectral"]),
    (r"\max(X, y)", ShapeMismatch, ["max of X (nx3), y (scalar) is not supported", "max(0, M)"]),
    (r"\min(0, X)", LatexError, [r"\min of a matrix is not supported", "position 0"]),
    # understood, and not supported
    (r"A \otimes A", LatexError, [r"Kronecker products (\otimes) are not supported", "position 2"]),
    (r"\operatorname{kron}(A, A)", LatexError, ["Kronecker products", "not supported"]),
    (r"A^+", LatexError, ["pseudo-inverses", "not supported", "position 1"]),
    (r"A^{+} x", LatexError, ["pseudo-inverses", "not supported"]),
    (r"A^\dagger", LatexError, ["pseudo-inverses", "not supported"]),
    (r"A^{\dagger}", LatexError, ["pseudo-inverses", "not supported"]),
    (r"\operatorname{pinv}(A)", LatexError, ["pseudo-inverses", "not supported"]),
    (r"\lVert A \rVert_3", LatexError, ["unknown norm _3", "_1"]),
    (r"1.", LatexError, ["position 1"]),
    (r"σ(y)", LatexError, ["unexpected character"]),
    (r"__import__('os')", LatexError, ["position 0"]),
    ("", LatexError, ["empty"]),
    ("   ", LatexError, ["empty"]),
    ("\tanh(y)", LatexError, ["control character", "single quotes"]),
    # limits
    ("y" * (MAX_LENGTH + 1), LatexError, [f"limit is {MAX_LENGTH}"]),
    ("(" * (MAX_DEPTH + 1) + "y" + ")" * (MAX_DEPTH + 1), LatexError, [f"more than {MAX_DEPTH} deep"]),
    (r"\log" * (MAX_DEPTH + 1) + " y", LatexError, [f"more than {MAX_DEPTH} deep"]),
    (r"y^{101}", LatexError, ["exponent 101"]),
    (r"y^{-101}", LatexError, ["exponent -101"]),
    ("1" * 31, LatexError, ["more than 30 digits"]),
    (r"(9^{100})^{100}", LatexError, ["digits"]),
    # the all-ones vector with nothing to size it
    (r"\mathbf{1}", LatexError, [r"cannot tell the size of \mathbf{1}", r"\mathbf{1}_n"]),
    (r"\mathbf{1}^T \mathbf{1}", LatexError, [r"cannot tell the size of \mathbf{1}"]),
    (r"\sigma(\mathbf{1})", LatexError, [r"cannot tell the size of \mathbf{1}"]),
    # the identity likewise, and its size by name
    (r"2 I", LatexError, ["cannot tell the size of I", "I_n"]),
    (r"I_m", LatexError, ["unknown dimension m in I_m", "n"]),
    (r"A + I_4", ShapeMismatch, ["3x3", "4x4"]),
    (r"\mathbf{1}[X W]", LatexError, ["expected a comparison", "indicator at position 0"]),
    (r"\mathbf{1}[X W > 0", LatexError, ["expected ']' to close the indicator at position 0"]),
]


@pytest.mark.parametrize("latex, error, fragments", ERRORS, ids=[e[0][:40] for e in ERRORS])
def test_errors_say_what_and_where(latex, error, fragments):
    with pytest.raises(error) as caught:
        parse_matrix_latex(latex, SYMBOLS)
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_adding_mismatched_shapes_names_both():
    with pytest.raises(ShapeMismatch, match="nx3.*4x1"):
        parse_matrix_latex(r"X + Q", SYMBOLS)


def test_limits_are_inclusive():
    assert parse_matrix_latex("(" * MAX_DEPTH + "y" + ")" * MAX_DEPTH, SYMBOLS) == y
    assert parse_matrix_latex("1" * 30, {}) == sympy.Integer("1" * 30)
    assert parse_matrix_latex("y" + " " * (MAX_LENGTH - 1), SYMBOLS) == y


def test_the_text_is_never_evaluated():
    modules = sorted(Path(__file__).parents[2].joinpath("derive", "read").glob("matrix*.py"))  # the matrix reader
    assert modules
    for module in modules:
        assert not re.search(r"\b(eval|exec|sympify|parse_expr|latex2sympy|parse_latex)\s*\(", module.read_text()), module
