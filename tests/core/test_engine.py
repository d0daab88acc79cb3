"""The chain-rule engine on concrete networks: results, steps, accumulation, deltas, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import sympy
from sympy import Rational

import derive
from derive.core import steps as st
from derive.builders import sigmoid_chain

from conftest import agree_at_random_points, elementary


def seed_scalar():
    net = derive.Network(title="seed 003, scalar")
    x, y, w = net.symbols("x y w")
    yhat = net.define("yhat", derive.sigmoid(w * x))
    L = net.define("L", Rational(1, 2) * (y - yhat) ** 2)
    return net, (x, y, w, yhat, L)


def test_seed_scalar_result_in_named_intermediates():
    net, (x, y, w, yhat, L) = seed_scalar()
    d = net.gradient(L, w)
    assert d.result == (yhat - y) * yhat * (1 - yhat) * x
    assert not d.result.has(sympy.exp)


def test_seed_scalar_expanded_matches_sympy_diff():
    net, (x, y, w, yhat, L) = seed_scalar()
    d = net.gradient(L, w)
    oracle = sympy.diff(elementary(net.expand(L)), w)
    agree_at_random_points(elementary(d.expanded()), oracle, [x, y, w])
    assert d.expanded().free_symbols <= {x, y, w}


def test_seed_scalar_steps_follow_the_article():
    net, (x, y, w, yhat, L) = seed_scalar()
    kinds = [type(s).__name__ for s in net.gradient(L, w).steps]
    assert kinds == ["Definition", "Definition", "ChainRule", "LocalDerivative", "LocalDerivative",
                     "Substitution", "Delta", "Final"]
    steps = net.gradient(L, w).steps
    local = next(s for s in steps if isinstance(s, st.LocalDerivative) and s.of == yhat)
    assert "sigmoid rule" in local.rules
    assert local.result == yhat * (1 - yhat) * x  # sigma' in terms of its own output
    delta = next(s for s in steps if isinstance(s, st.Delta))
    assert delta.site == w * x and delta.value == (yhat - y) * yhat * (1 - yhat)
    final = next(s for s in steps if isinstance(s, st.Final))
    assert final.result == delta.symbol * x


def test_steps_are_immutable():
    net, (x, y, w, yhat, L) = seed_scalar()
    step = net.gradient(L, w).steps[-1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        step.result = 0


def test_evaluate_and_check():
    net, (x, y, w, yhat, L) = seed_scalar()
    d = net.gradient(L, w)
    value = d.evaluate({"x": 0.5, "y": 1.0, w: -0.3})
    s = 1 / (1 + np.exp(0.15))
    assert value == pytest.approx((s - 1) * s * (1 - s) * 0.5, rel=1e-12)
    report = d.check(points=4, seed=3)
    assert report.passed and report.verdict == "pass" and len(report.entries) == 4


def test_branch_accumulates_with_its_own_step():
    net = derive.Network()
    x, w, y = net.symbols("x w y")
    a = net.define("a", sympy.sin(w * x))
    b = net.define("b", sympy.exp(w))
    L = net.define("L", (a * b - y) ** 2 + w**2)
    d = net.gradient(L, w)
    acc = [s for s in d.steps if isinstance(s, st.Accumulate)]
    assert len(acc) == 1 and set(acc[0].through) == {a, b, L}
    oracle = sympy.diff(net.expand(L), w)
    agree_at_random_points(d.expanded(), oracle, [x, w, y])
    assert d.check().passed


def test_deep_chain_shares_gradients_between_weights():
    net = derive.Network()
    x, y, w1, w2, w3 = net.symbols("x y w_1 w_2 w_3")
    h1 = net.define("h_1", derive.tanh(w1 * x))
    h2 = net.define("h_2", derive.sigmoid(w2 * h1))
    yhat = net.define("yhat", derive.softplus(w3 * h2))
    L = net.define("L", (yhat - y) ** 2)
    solution = net.gradients(L, [w3, w2, w1])
    for d in solution.derivations:
        agree_at_random_points(elementary(d.expanded()), sympy.diff(elementary(net.expand(L)), d.wrt), [x, y, w1, w2, w3])
    keys = [s.key for s in solution.steps]
    assert len(keys) == len(set(keys))
    assert ("local", L, yhat) in keys
    # the second and third gradients reuse dL/dyhat instead of deriving it again
    assert sum(1 for s in solution.steps if isinstance(s, st.LocalDerivative) and s.of == L) == 1
    assert solution.check().passed


def test_gradient_with_respect_to_an_intermediate():
    net, (x, y, w, yhat, L) = seed_scalar()
    d = net.gradient(L, yhat)
    assert d.result == yhat - y
    assert d.check().passed


def test_loss_that_does_not_depend_on_wrt():
    net = derive.Network()
    x, w, b = net.symbols("x w b")
    L = net.define("L", (w * x) ** 2)
    assert net.gradient(L, b).result == 0


def test_general_form_for_indexed_weights():
    problem = derive.Problem.from_yaml("examples/one_layer_vector.yaml")
    solution = problem.solve()
    general = solution.general_steps()
    assert len(general) == 1
    assert general[0].wrt.name == "w_i"
    assert {s.name for s in general[0].result.free_symbols} == {"x_i", "Delta^{(1)}"}
    for d in solution.derivations:
        agree_at_random_points(elementary(d.expanded()), sympy.diff(elementary(problem.network.expand(problem.loss)), d.wrt),
                               list(problem.network.inputs.values()))


@pytest.mark.parametrize("build, message", [
    (lambda net, x: net.define("a", sympy.Symbol("a", real=True) + x), "uses a itself"),
    (lambda net, x: (net.define("a", x), net.define("a", 2 * x)), "defined twice"),
    (lambda net, x: net.define("x", 2 * x), "already an input"),
])
def test_network_definition_errors(build, message):
    net = derive.Network()
    (x,) = net.symbols("x")
    with pytest.raises(derive.ProblemError, match=message):
        build(net, x)


def test_non_scalar_loss_and_unknown_wrt():
    net = derive.Network()
    x, w = net.symbols("x w")
    L = net.define("L", sympy.Matrix([[x * w], [w]]))
    with pytest.raises(derive.ProblemError, match="not scalar: it is a 2x1 matrix"):
        net.gradient(L, w)
    M = net.define("M", x * w)
    with pytest.raises(derive.ProblemError, match="no symbol q in this network"):
        net.gradient(M, sympy.Symbol("q"))


def test_activations_apply_elementwise_and_print():
    u = sympy.Symbol("u")
    m = sympy.Matrix([[u, 0]])
    assert derive.sigmoid(m) == sympy.Matrix([[derive.sigmoid(u), Rational(1, 2)]])
    assert derive.relu(sympy.Matrix([-2, 3])) == sympy.Matrix([0, 3])
    assert derive.tanh(m)[0] == sympy.tanh(u)
    from derive.core.printing import latex
    assert latex(derive.sigmoid(u)) == r"\sigma(u)"
    assert latex(derive.relu(u)) == r"\operatorname{ReLU}(u)"
    assert latex(derive.softplus(u)) == r"\operatorname{softplus}(u)"
    assert latex(derive.tanh(u)) == r"\tanh(u)"


def test_repr_latex_for_jupyter():
    net, (x, y, w, yhat, L) = seed_scalar()
    d = net.gradient(L, w)
    text = d._repr_latex_()
    assert text.startswith(r"\begin{align}") and r"\tag{" in text and r"\label" not in text
    assert r"\Delta x" in d.latex()


def test_worked_solution_grows_linearly_with_depth():
    """Earlier gradients are referred to by name, so each step has a bounded size (a size, not a time)."""
    sizes = {}
    for depth in (8, 16):
        net, loss, weights = sigmoid_chain(depth)
        sizes[depth] = len(net.gradients(loss, weights).latex())
    assert sizes[16] / sizes[8] <= 2.2


def test_deep_chain_results_stay_correct_when_steps_refer_by_name():
    net, loss, weights = sigmoid_chain(5)
    solution = net.gradients(loss, weights)
    for d in solution.derivations:
        assert not d.result.has(sympy.Derivative)
        oracle = sympy.diff(elementary(net.expand(loss)), d.wrt)
        agree_at_random_points(elementary(d.expanded()), oracle, list(net.inputs.values()))
    assert solution.check().passed


def test_solution_finds_a_derivation_by_name():
    net, loss, weights = sigmoid_chain(2)
    solution = net.gradients(loss, weights)
    assert solution.derivation("w_2") is solution.derivations[1]
    assert solution.derivation(weights[0]).wrt == weights[0]
    with pytest.raises(ValueError, match="at least 1"):
        sigmoid_chain(0)
