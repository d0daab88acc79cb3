"""Property test: random perceptrons from `derive.builders.mlp`, every gradient against two oracles.

Each case draws a depth (1-4 layers), layer sizes (1-3), hidden activations, a loss with an output that
suits it, a bias, a batch (1-3 rows or the symbolic n) and sometimes weight decay; every parameter's
gradient must agree with `sympy.diff` of the explicit loss and with central differences, have its
parameter's shape, and render.

The `sympy.diff` oracle here is `matrix_oracle.assert_matches_oracle` with two changes, both needed for
random networks: one-hot targets are drawn as one-hot (rows summing to 1, as the numeric check draws
them), and both sides are evaluated with memoised mpmath arithmetic instead of `sympy.N`, which walks a
deep network's shared subexpressions as a tree and took minutes for one 3-layer case.
`test_fixed_mlps_match_matrix_oracle` runs the unchanged oracle on small fixed cases.
"""

from __future__ import annotations

import os
import random

import mpmath
import pytest
import sympy
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as hs
from sympy import Heaviside
from sympy.matrices.expressions import MatrixSymbol

from derive.builders import mlp
from derive.check.gradient_check import explicit_instance
from derive.solve.derivation import Solution
from derive.core.ops import relu, sigmoid, softplus

from matrix_oracle import assert_matches_oracle, rational_point

EXAMPLES = int(os.environ.get("DERIVE_HYPOTHESIS_EXAMPLES", 15))
HIDDEN = ("sigmoid", "tanh", "relu", "softplus", "identity")
REGRESSION_OUTPUTS = ("sigmoid", "tanh", "identity")
DIGITS = 40


@hs.composite
def perceptrons(draw):
    """Keyword arguments for `mlp`: a random perceptron with a loss and an output that suit each other."""
    depth = draw(hs.integers(1, 4))
    sizes = draw(hs.lists(hs.integers(1, 3), min_size=depth + 1, max_size=depth + 1))
    loss = draw(hs.sampled_from(("squared", "mse", "bce", "cross-entropy")))
    output = {"bce": "sigmoid", "cross-entropy": "softmax"}.get(loss) or draw(hs.sampled_from(REGRESSION_OUTPUTS))
    return dict(
        sizes=sizes,
        activations=draw(hs.lists(hs.sampled_from(HIDDEN), min_size=depth - 1, max_size=depth - 1)),
        output=output,
        loss=loss,
        bias=draw(hs.booleans()),
        batch=draw(hs.one_of(hs.integers(1, 3), hs.just("n"))),
        weight_decay=draw(hs.sampled_from((None, "lambda"))),
    )


def _evaluator(point: dict):
    """Evaluate an expression in the entry symbols at `point` with mpmath, each distinct subexpression once."""
    memo: dict = {}

    def ev(e):
        if e not in memo:
            memo[e] = _node(e, ev, point)
        return memo[e]

    return ev


def _node(e, ev, point):
    if e in point:
        return mpmath.mpf(point[e].p) / point[e].q
    if e.is_Rational:
        return mpmath.mpf(e.p) / e.q
    if e.is_Add:
        return mpmath.fsum(ev(a) for a in e.args)
    if e.is_Mul:
        return mpmath.fprod(ev(a) for a in e.args)
    if e.is_Pow:
        return ev(e.base) ** ev(e.exp)
    u = [ev(a) for a in e.args]
    functions = {sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.tanh: mpmath.tanh,
                 sigmoid: lambda v: 1 / (1 + mpmath.exp(-v)), softplus: lambda v: mpmath.log(1 + mpmath.exp(v)),
                 relu: lambda v: max(mpmath.mpf(0), v)}
    if type(e) in functions:
        return functions[type(e)](u[0])
    if isinstance(e, Heaviside):  # ReLU's derivative: its second argument is the value at 0
        return mpmath.mpf(1 if u[0] > 0 else 0) if u[0] != 0 else u[1]
    if isinstance(e, sympy.Max):
        return max(u)
    raise TypeError(f"the test's evaluator cannot evaluate {type(e).__name__}: {e}")


class ExplicitInstance:
    """The loss and gradients for concrete sizes (dimensions 2, as the check sets them), in entry symbols,
    one-hot targets drawn one-hot; `truth(entry)` is sympy.diff of the explicit loss, computed once."""

    def __init__(self, solution, size: int = 2):
        network = solution.network
        inputs = sorted(network.inputs.values(), key=lambda s: s.name)
        gradients = {d.wrt: d.expanded() for d in solution.derivations}
        self.loss, self.entries, self.inputs, _ = explicit_instance(network.expand(solution.loss), gradients,
                                                                     inputs, size, network.one_hot)
        self._truths: dict = {}

    def truth(self, entry):
        if entry not in self._truths:
            self._truths[entry] = sympy.diff(self.loss, entry)
        return self._truths[entry]


def assert_matches_sympy_diff(instance: ExplicitInstance, seed: int = 0) -> None:
    """Every entry of every gradient equals sympy.diff of the explicit loss at one random rational point."""
    point = rational_point(instance.inputs, random.Random(seed))
    with mpmath.workdps(DIGITS + 20):
        ev = _evaluator(point)
        for entry, derived in instance.entries.items():
            truth, value = ev(instance.truth(entry)), ev(sympy.sympify(derived))
            assert abs(truth - value) <= mpmath.mpf(10) ** (8 - DIGITS) * max(1, abs(truth)), (
                f"d/d{entry}: derived {value} but sympy.diff gives {truth} at {point}")


def false_alarm(instance: ExplicitInstance, report, index: int) -> bool:
    """Whether the check's failing comparison `index` is an error of its central difference, not of the gradient:
    the derived value it reports equals sympy.diff of the loss evaluated exactly at the check's own point.

    The report lists, point by point, one comparison per gradient entry in the order of `instance.entries`."""
    compared = report.entries[index]
    entry = list(instance.entries)[index % len(instance.entries)]
    point = {s: sympy.Rational(compared.point[s.name]) for s in instance.inputs}  # floats are exact rationals
    with mpmath.workdps(DIGITS):
        truth = _evaluator(point)(instance.truth(entry))
    return abs(compared.analytic - truth) <= 1e-6 * abs(truth) + 1e-12


def shape_of(expr) -> tuple:
    return tuple(getattr(expr, "shape", (1, 1)))


def derive_and_check(options: dict):
    network, loss, parameters = mlp(**options)
    solution = Solution.derive(network, loss, parameters)
    assert [d.wrt for d in solution.derivations] == list(parameters)
    for d in solution.derivations:
        expected = shape_of(d.wrt) if isinstance(d.wrt, MatrixSymbol) else (1, 1)
        assert shape_of(d.result) == expected, (d.wrt, d.result)
        assert shape_of(d.compact) == expected, (d.wrt, d.compact)
    return solution


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(perceptrons(), hs.integers(0, 10**6))
def test_random_mlps_match_sympy_diff_and_central_differences(options, seed):
    solution = derive_and_check(options)
    instance = ExplicitInstance(solution)
    assert_matches_sympy_diff(instance, seed=seed)
    report = solution.check()
    failing = [i for i, e in enumerate(report.entries) if e.band not in ("good", "acceptable")]
    # The check's float64 central differences raise false alarms (see the strict xfails below): excused only
    # where the derived value the check computed is exactly right at the check's own point.
    assert all(false_alarm(instance, report, i) for i in failing), report.summary()
    if failing:
        event("the numeric check failed on a right gradient (a float64 central-difference false alarm)")
    solution.report = report
    document = solution.document()
    assert document.startswith("\\documentclass") and document.rstrip().endswith("\\end{document}")
    for d in solution.derivations:
        assert d.latex()


@pytest.mark.parametrize("options", [
    dict(sizes=[2, 1], activations=[], output="sigmoid", loss="squared", bias=True, batch="n"),
    dict(sizes=[3, 2], activations=[], output="identity", loss="mse", bias=False, batch=3, weight_decay="lambda"),
    dict(sizes=[2, 2, 1], activations="tanh", output="sigmoid", loss="bce", bias=True, batch=1),
    dict(sizes=[1, 2, 1], activations="relu", output="tanh", loss="squared", bias=False, batch=2),
], ids=["squared-sigmoid", "mse-identity-decay", "bce-tanh-hidden", "relu-hidden"])
def test_fixed_mlps_match_matrix_oracle(options):
    """The shared oracle, unchanged, on cases small enough for sympy.N (no one-hot targets: it draws none)."""
    assert_matches_oracle(derive_and_check(options), points=1)


def test_evaluator_agrees_with_sympy_n():
    """The memoised evaluator the property test uses gives what sympy.N gives, ReLU's kink convention included."""
    x, y = sympy.symbols("x y", real=True)
    point = {x: sympy.Rational(-3, 7), y: sympy.Rational(5, 11)}
    expr = sigmoid(x * y) * softplus(y) + sympy.log(1 + x ** 2) * sympy.tanh(y) ** 2 / sympy.exp(x) + relu(y - x)
    with mpmath.workdps(60):
        assert abs(_evaluator(point)(expr) - mpmath.mpf(str(sympy.N(expr.xreplace(point), 60)))) < mpmath.mpf(10) ** -50
        assert _evaluator({x: sympy.Integer(0)})(Heaviside(x, 0)) == 0
        assert _evaluator(point)(relu(x)) == 0


BCE_CANCELLATION = dict(sizes=[2, 2, 2, 3, 3], activations=["relu", "relu", "relu"], output="sigmoid", loss="bce",
                        bias=False, batch=1, weight_decay="lambda")
SMALL_ENTRY = dict(sizes=[3, 3, 1, 3], activations=["tanh", "sigmoid"], output="tanh", loss="squared", bias=True,
                   batch="n", weight_decay="lambda")


@pytest.mark.parametrize("options", [BCE_CANCELLATION, SMALL_ENTRY], ids=["bce-cancellation", "small-entry"])
def test_former_false_alarms_are_right_and_pass(options):
    """Two right gradients the check once failed: log(1 - sigma(z)) of the BCE loss cancelling in float64 (now
    evaluated as -softplus(z)), and a 7e-8 entry judged on its own scale (now on the scale FLOOR)."""
    solution = derive_and_check(options)
    assert_matches_sympy_diff(ExplicitInstance(solution))
    report = solution.check()
    assert report.passed, report.summary()
