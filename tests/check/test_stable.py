"""Saturated activations: the forward pass keeps stable forms (sigma(-z) beside a sigmoid output, log-sigmoid by
softplus, log-softmax shifted, sigma' = sigma(z) sigma(-z), tanh' = sech^2), so that factors that cancel on paper
cancel in floats too. Oracles: closed forms in 50-digit mpmath, sympy.diff of the loss written out in its entries
(60 digits, `derive.check.exact`), and autograd on the logits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import autograd.numpy as anp
import mpmath
import numpy as np
import pytest
import sympy
from autograd import grad

import derive
from derive.builders import mlp
from derive.check.gradient_check import _scalar_instance
from derive.check.exact import compare_exactly
from derive.core.ops import sigmoid

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-9
POINTS = [  # the two points: 0.528 instead of 0.49999999, and an error of 1.1e-4
    ({"X": [[1], [0.5]], "Y": [[0], [1]], "W^{(1)}": [[35]]}),
    ({"X": [[-1.934], [0.991]], "Y": [[1], [0]], "W^{(1)}": [[29.28]]}),
]


def bce_truth(point) -> float:
    """dL/dW of the mean binary cross-entropy of sigma(X W), in closed form: mean((sigma(x W) - y) x), 50 digits."""
    with mpmath.workdps(50):
        W = mpmath.mpf(point["W^{(1)}"][0][0])
        terms = [(1 / (1 + mpmath.exp(-mpmath.mpf(x[0]) * W)) - y[0]) * mpmath.mpf(x[0])
                 for x, y in zip(point["X"], point["Y"])]
        return float(mpmath.fsum(terms) / len(terms))


def saturated_unit():
    net, L, (W,) = mlp([1, 1], loss="bce", bias=False, batch=2)
    return net, L, W


@pytest.mark.parametrize("point", POINTS)
def test_saturated_sigmoid_under_bce_evaluates_to_the_true_gradient(point):
    net, L, W = saturated_unit()
    value = net.gradient(L, W).evaluate(point)
    assert value.shape == (1, 1)
    assert value[0, 0] == pytest.approx(bce_truth(point), rel=RTOL)


@pytest.mark.parametrize("point", POINTS)
def test_saturated_sigmoid_under_bce_passes_the_check_from_the_command_line(tmp_path, point):
    problem = tmp_path / "unit.yaml"
    problem.write_text("mlp: {sizes: [1, 1], loss: bce, bias: false, batch: 2}\n")
    at = ", ".join(f"{name}={json.dumps(value)}" for name, value in point.items())
    run = subprocess.run([sys.executable, "-m", "derive", "check", str(problem), "--at", at, "--format", "json"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    (entry,) = json.loads(run.stdout)["entries"]
    assert entry["analytic"] == pytest.approx(bce_truth(point), rel=RTOL)
    assert entry["relative_error"] < 1e-9


def test_a_scalar_sigmoid_unit_under_bce_at_saturation():
    net = derive.Network()
    w, x, y = net.symbols("w x y")
    yhat = net.define("yhat", sigmoid(w * x))
    L = net.define("L", -(y * sympy.log(yhat) + (1 - y) * sympy.log(1 - yhat)))
    d = net.gradient(L, w)
    for point in ({"w": 40.0, "x": 1.0, "y": 0.0}, {"w": 40.0, "x": 1.0, "y": 1.0}, {"w": -30.0, "x": 1.2, "y": 1.0}):
        with mpmath.workdps(50):
            z = mpmath.mpf(point["w"]) * mpmath.mpf(point["x"])
            truth = float((1 / (1 + mpmath.exp(-z)) - point["y"]) * mpmath.mpf(point["x"]))
        assert d.evaluate(point) == pytest.approx(truth, rel=RTOL)
        assert net.evaluate("L", point) == pytest.approx(
            float(mpmath.log(1 + mpmath.exp(-z)) if point["y"] else mpmath.log(1 + mpmath.exp(z))), rel=RTOL)
        assert d.check(points=point, sweep=False).passed


def _agrees_with_autograd_bce(solution, X, Y, W, b):
    """derive's gradients of a one-layer BCE-on-logits network against autograd's, written stably."""
    def f(W, b):
        z = X @ W + b.T
        return anp.mean(Y * anp.logaddexp(0, -z) + (1 - Y) * anp.logaddexp(0, z))

    values = solution.evaluate({"X": X, "Y": Y, "W^{(1)}": W, "b^{(1)}": b})
    np.testing.assert_allclose(values["W^{(1)}"], grad(f, 0)(W, b), rtol=RTOL, atol=0)
    np.testing.assert_allclose(values["b^{(1)}"], grad(f, 1)(W, b), rtol=RTOL, atol=0)


def test_bce_on_logits_matches_autograd_at_saturated_random_points():
    options = dict(sizes=[3, 2], loss="bce", bias=True, batch=6)
    net, L, parameters = mlp(**options)
    solution = net.gradients(L, parameters)
    rng = np.random.default_rng(5)
    for _ in range(5):
        X, Y = rng.uniform(-2, 2, (6, 3)), rng.integers(0, 2, (6, 2)).astype(float)
        W, b = rng.uniform(-15, 15, (3, 2)), rng.uniform(-10, 10, (2, 1))
        _agrees_with_autograd_bce(solution, X, Y, W, b)


@pytest.mark.parametrize("options", [
    dict(sizes=[2, 2, 1], activations="tanh", loss="bce", bias=True, batch=2),
    dict(sizes=[2, 2, 2], activations="sigmoid", output="sigmoid", loss="bce", bias=False, batch=2),
    dict(sizes=[2, 3], loss="cross-entropy", bias=True, batch=2),
    dict(sizes=[2, 2, 1], activations="sigmoid", output="tanh", loss="squared", bias=False, batch=2),
], ids=["tanh-bce", "sigmoid-bce", "softmax-ce", "sigmoid-tanh-squared"])
def test_saturated_networks_match_sympy_diff_to_sixty_digits(options):
    """Weights large enough that every unit saturates (|z| up to about 40): each entry to 1e-9 relative."""
    net, L, parameters = mlp(**options)
    solution = net.gradients(L, parameters)
    inputs = sorted(net.inputs.values(), key=lambda s: s.name)
    rng = np.random.default_rng(11)
    values = {"X": rng.uniform(-2, 2, (2, options["sizes"][0]))}
    values["Y"] = (np.eye(options["sizes"][-1])[[0, 2]] if options["loss"] == "cross-entropy"
                   else rng.integers(0, 2, (2, options["sizes"][-1])).astype(float))
    for p in parameters:
        values[p.name] = rng.choice([-1, 1], p.shape) * rng.uniform(8, 14, p.shape)
    last = [d for d in net.definitions if d.name.startswith("Z")][-1]
    logits = net.evaluate(last, values)
    extreme = logits.flat[np.argmax(np.abs(logits))]
    for p in parameters[-(1 + options["bias"]):]:  # the largest output logit to 25: an output near 1, where
        values[p.name] = values[p.name] * (25 / extreme)  # 1 - Yhat cancels unless the pass keeps sigma(-Z)
    assert np.max(net.evaluate(last, values)) == pytest.approx(25)
    ours = solution.evaluate(values)
    gradients = {d.wrt: d.expanded() for d in solution.derivations}
    scalar_loss, entries, entry_inputs, labels = _scalar_instance(net.expand(L), gradients, inputs, net.one_hot, 2)
    named = {}
    for name, value in values.items():
        for (i, j), v in np.ndenumerate(np.asarray(value)):
            named[f"{name}[{i},{j}]"] = v
    point = {s: sympy.Rational(named[s.name]) for s in entry_inputs}
    truths = compare_exactly(scalar_loss, entries, point)
    for symbol, comparison in truths.items():
        variable, index = labels[symbol]
        truth = float(comparison.truth)
        assert ours[variable][index] == pytest.approx(truth, rel=RTOL, abs=1e-300), (variable, index)


def test_log_softmax_stays_finite_where_softmax_underflows():
    net, L, parameters = mlp([1, 2], loss="cross-entropy", bias=False, batch=1)
    values = {"X": [[1.0]], "Y": [[0.0, 1.0]], "W^{(1)}": [[400.0, -400.0]]}  # softmax entry e^-800 = 0 in floats
    assert net.evaluate("L", values) == pytest.approx(800.0, rel=1e-12)
    np.testing.assert_allclose(net.gradient(L, parameters[0]).evaluate(values), [[1.0, -1.0]], rtol=1e-12)


def test_the_fused_bce_delta_keeps_its_digits_where_every_output_saturates_towards_its_label():
    """(Yhat - Y) / n with Yhat near its label Y everywhere: evaluated as sigma(Z)(1 - Y) - sigma(-Z) Y, not
    by subtracting from 1 (which lost about 3e-5 relative)."""
    net, L, parameters = mlp(sizes=[3, 2], loss="bce", bias=True, batch=6)
    solution = net.gradients(L, parameters)
    rng = np.random.default_rng(3)
    for _ in range(20):
        X, W, b = rng.uniform(-2, 2, (6, 3)), rng.uniform(-24, 24, (3, 2)), rng.uniform(-15, 15, (2, 1))
        Y = (X @ W + b.T > 0).astype(float)
        _agrees_with_autograd_bce(solution, X, Y, W, b)


@pytest.mark.parametrize("y", [1.0, 0.0, 0.25])
def test_the_scalar_fused_bce_delta_at_saturation(y):
    net = derive.Network()
    w, x, t = net.symbols("w x y")
    yhat = net.define("yhat", sigmoid(w * x))
    L = net.define("L", -(t * sympy.log(yhat) + (1 - t) * sympy.log(1 - yhat)))
    d = net.gradient(L, w)
    assert "yhat" in {s.name for s in d.result.free_symbols}  # written in the output: (yhat - y) x
    f = grad(lambda w, x: y * anp.logaddexp(0, -w * x) + (1 - y) * anp.logaddexp(0, w * x))
    for point in ({"w": 30.0, "x": 1.1}, {"w": -25.0, "x": -1.3}, {"w": 18.0, "x": 2.0}):
        assert d.evaluate({**point, "y": y}) == pytest.approx(f(point["w"], point["x"]), rel=RTOL, abs=0)


@pytest.mark.parametrize("z", [[40.0, 0.0, 0.0], [0.0, -745.0, 3.0], [700.0, 699.0, -5.0]])
def test_one_minus_softmax_is_the_sum_of_the_other_entries(z):
    """1 - softmax(z) as kept beside a softmax output: exact to round-off where an entry is nearly 1 (1 - softmax
    would keep a few digits of 2 e^-40, or none)."""
    from mpmath import mp, mpf, exp as mexp

    from derive.check.stable_forms import STABLE_FORMS

    mp.dps = 50
    floats, complexes = STABLE_FORMS["softmax complement"]
    got = floats(np.array([z]))[0]
    total = sum(mexp(mpf(v)) for v in z)
    for k in range(3):
        exact = float(sum(mexp(mpf(v)) for j, v in enumerate(z) if j != k) / total)
        assert got[k] == pytest.approx(exact, rel=1e-14, abs=0)
    np.testing.assert_allclose(complexes(np.array([z], dtype=complex))[0].real, got, rtol=1e-15)
