"""Issue 15's textbook forms: fused deltas (binary cross-entropy on a sigmoid output, as softmax cross-entropy),
no nested double negations, a step stated once (no delta that renames a name, a family derived once at w_i),
annotations naming the rules of their own line, and each operator said where it first appears."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from derive import Problem
from derive.builders import mlp
from derive.core import steps as st
from derive.core import matrix_ops as mo
from derive.core.printing import latex


def problem(text: str) -> Problem:
    return Problem.from_text(text, "p.yaml")


def deltas(solution) -> list:
    return [s for s in solution.steps if isinstance(s, st.Delta)]


@pytest.mark.parametrize("outputs", [1, 3])
def test_binary_cross_entropy_on_a_sigmoid_output_fuses(outputs):
    """(1/(n k)) ((1 - Y) / (1 - Yhat) - Y / Yhat) (.) sigma'(Z) is (Yhat - Y) / (n k), with the identity said."""
    network, loss, parameters = mlp([2, outputs], loss="bce", bias=True, batch="n")
    solution = network.gradients(loss, [p.name for p in parameters])
    (delta,) = deltas(solution)
    n = network.symbol("X").shape[0]
    Yhat, Y, Z = network.symbol("Yhat"), network.symbol("Y"), network.symbol("Z^{(1)}")
    assert delta.simplified == mo.matmul(sympy.Rational(1, outputs) / n, mo.subtract(Yhat, Y))
    assert delta.identities == ((mo.entrywise_class("sigmoid", prime=True)(Z), mo.hadamard(Yhat, mo.subtract(1, Yhat))),)
    assert r"since \(\sigma'(Z^{(1)}) = \hat{Y} \odot (\mathbf{1} - \hat{Y})\)" in solution.document(False)


def test_the_fused_delta_is_what_is_evaluated_and_it_is_right():
    """At a saturated output (Z = 800, sigma(-Z) = 0 in float64) the quotient form gives nan; the fused one the
    true gradient, X^T (Yhat - Y) / n, against central differences of the loss in extended precision."""
    network, loss, parameters = mlp([1, 1], loss="bce", bias=False, batch=2)
    solution = network.gradients(loss, ["W^{(1)}"])
    X, Y = np.array([[400.0], [-1.0]]), np.array([[0.0], [1.0]])
    got = solution.evaluate({"X": X, "Y": Y, "W^{(1)}": np.array([[2.0]])})["W^{(1)}"]
    yhat = 1 / (1 + np.exp(-X * 2.0))
    assert np.allclose(got, X.T @ (yhat - Y) / 2, rtol=1e-12)


def test_mean_squared_error_on_an_identity_output_is_yhat_minus_y_over_n():
    network, loss, parameters = mlp([2, 2], output="identity", loss="mse", bias=False, batch="n")
    solution = network.gradients(loss, ["W^{(1)}"])
    W = solution.derivation("W^{(1)}")
    X = network.symbol("X")
    n = X.shape[0]
    assert W.compact == mo.matmul(mo.transpose(X), mo.matmul(1 / n, mo.subtract(network.symbol("Yhat"), network.symbol("Y"))))


SIGMOID_BCE = """
symbols: [x_1, x_2, y, w_1, w_2]
definitions:
  - \\hat{y} = \\sigma(w_1 x_1 + w_2 x_2)
  - L = -(y \\log(\\hat{y}) + (1 - y) \\log(1 - \\hat{y}))
loss: L
wrt: [w_1, w_2]
"""


def test_a_sigmoid_unit_with_binary_cross_entropy_fuses_to_yhat_minus_y():
    solution = problem(SIGMOID_BCE).solve()
    (delta,) = deltas(solution)
    yhat, y = solution.network.symbol("yhat"), solution.network.symbol("y")
    assert delta.simplified == yhat - y
    for i in (1, 2):
        assert solution.derivation(f"w_{i}").result == (yhat - y) * solution.network.symbol(f"x_{i}")
    assert "cancelling common factors" in solution.document(False)


SCALAR_BCE = """
symbols: [x, y, w, b]
definitions:
  - \\hat{y} = \\sigma(w x + b)
  - L = -(y \\log \\hat{y} + (1 - y) \\log(1 - \\hat{y}))
loss: L
wrt: [w, b]
"""


def test_a_scalar_sigmoid_unit_with_binary_cross_entropy_cancels_once_in_its_delta():
    """The fusion yhat - y is stated once, in the delta's step with its reason; dL/dw and dL/db are substituted,
    then reduce to Delta x and Delta (issue 15, "no restating"). Both against sympy.diff of the expanded loss."""
    solution = problem(SCALAR_BCE).solve()
    network = solution.network
    yhat, y, x = (network.symbol(n) for n in ("yhat", "y", "x"))
    (delta,) = deltas(solution)
    assert delta.simplified == yhat - y
    assert not [s for s in solution.steps if isinstance(s, st.Substitution) and s.simplified is not None]
    text = solution.document(False)
    assert text.count("cancelling common factors") == 1
    assert r"\frac{\partial L}{\partial w} &= \Delta x" in text and r"\frac{\partial L}{\partial b} &= \Delta" in text
    loss = network.expand(solution.loss)
    for name, textbook in (("w", (yhat - y) * x), ("b", yhat - y)):
        wrt = network.symbol(name)
        assert solution.derivation(name).result == textbook
        truth = sympy.diff(loss, wrt)
        derived = network.expand(solution.derivation(name).result)
        point = {network.symbol("x"): sympy.Rational(3, 7), y: sympy.Rational(1, 3),
                 network.symbol("w"): sympy.Rational(-5, 4), network.symbol("b"): sympy.Rational(2, 9)}
        assert abs(float((derived - truth).subs(point).evalf(30))) < 1e-25
        assert sympy.simplify((derived - truth).rewrite(sympy.exp)) == 0


def test_a_delta_that_only_renames_a_name_is_not_stated():
    """L = e^{-ywx}: dL/dw = -L x y; Delta = L and -Delta x y would restate it."""
    solution = problem("symbols: [x, y, w]\ndefinitions:\n  - L = e^{-y w x}\nloss: L\nwrt: [w]\n").solve()
    assert not deltas(solution)
    assert r"\Delta" not in solution.document(False)


def test_a_family_derived_alike_is_derived_once_at_w_i():
    """w_1 and w_2 of a sigmoid unit: one section at w_i (the delta, shared, stated once), no 'in general' after."""
    solution = problem(SIGMOID_BCE).solve()
    part = solution.part(False)
    assert [wrt.name for wrt, _ in part.sections] == ["w_i"]
    assert part.sections[0][1][0].members == tuple(solution.network.symbol(f"w_{i}") for i in (1, 2))
    assert not [g for g in part.general if isinstance(g, st.General)]
    text = solution.document(False)
    assert r"with respect to \(w_{1}\) and \(w_{2}\)." in text
    assert r"\frac{\partial L}{\partial w_{i}} &= \Delta x_{i}" in text
    assert r"\frac{\partial L}{\partial w_{2}}" not in text
    assert text.count(r"\Delta &= ") == 1


def test_no_double_negation_in_the_softmax_delta():
    network, loss, parameters = mlp([3, 4, 3], activations="tanh", loss="cross-entropy", bias=True, batch="n")
    solution = network.gradients(loss, [p.name for p in parameters])
    softmax = next(d for d in deltas(solution) if d.rules == ("softmax rule",))
    assert latex(softmax.shown) == (r"\frac{1}{n} (\hat{Y} \odot (Y \mathbf{1}\mathbf{1}^T) - Y)")


def test_a_pullback_names_the_rules_of_its_own_line():
    """dL/dW = X^T Delta is by the matrix product rule; the sigmoid's rule is the delta's."""
    solution = Problem.from_yaml("examples/one_layer_batch.yaml").solve()
    pullback = solution.builder.steps[("gradient", solution.loss, solution.network.symbol("W"))]
    assert pullback.rules == ("matrix product rule",)
    assert deltas(solution)[0].rules == ("entrywise sigmoid rule",)


def test_each_operator_is_said_once_where_it_first_appears():
    text = Problem.from_yaml("examples/mlp_softmax.yaml").solve().document(False)
    for sign in (r"\(\odot\) for", r"\(\oslash\) for", r"\(\mathbf{1}\) for"):
        assert text.count(sign) == 1
    assert text.index(r"\(\oslash\) for") < text.index(r"\oslash \hat{Y}")
    assert "odot" not in text[text.index("denominator layout"):text.index("We write")]
