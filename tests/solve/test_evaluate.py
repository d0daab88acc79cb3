"""The library's numbers: `Derivation.evaluate`, `Solution.evaluate` and `Network.evaluate`, for scalar and matrix
networks alike, against HIPS autograd on the same networks written in `autograd.numpy`, against the check's own
values, and their one-line errors for bad values."""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import derive
from derive.builders import mlp, sigmoid_chain
from derive.core.errors import DeriveError

RTOL = 1e-9


# -- the same networks in autograd.numpy (stable primitives: log sigma(z) = -logaddexp(0, -z)) ------------------

def _sigmoid(z):
    return 0.5 * (anp.tanh(z / 2) + 1)


ACTIVATIONS = {"sigmoid": _sigmoid, "tanh": anp.tanh, "relu": lambda z: anp.maximum(z, 0),
               "softplus": lambda z: anp.logaddexp(0, z), "identity": lambda z: z, "exp": anp.exp}


def _log_softmax(z):
    shifted = z - anp.max(z, axis=1, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))


def autograd_loss(options, values, names):
    """The loss of `mlp(**options)` as a function of the parameters (in `names` order), the data fixed."""
    sizes, layers = options["sizes"], len(options["sizes"]) - 1
    hidden = options.get("activations", "sigmoid")
    hidden = [hidden] * (layers - 1) if isinstance(hidden, str) else hidden
    loss = options.get("loss", "squared")
    output = options.get("output") or ("softmax" if loss == "cross-entropy" else "sigmoid")
    X, Y = values["X"], values["Y"]

    def f(*parameters):
        p = dict(zip(names, parameters))
        a, z = X, None
        for l in range(1, layers + 1):
            z = a @ p[f"W^{{({l})}}"]
            if options.get("bias", True):
                z = z + p[f"b^{{({l})}}"].T
            name = output if l == layers else hidden[l - 1]
            a = None if name == "softmax" else ACTIVATIONS[name](z)
        if loss == "squared":
            value = 0.5 * anp.sum((a - Y) ** 2)
        elif loss == "mse":
            value = anp.mean((a - Y) ** 2)
        elif loss == "bce":  # on the logits, as a careful hand would write it
            value = anp.mean(Y * anp.logaddexp(0, -z) + (1 - Y) * anp.logaddexp(0, z))
        else:
            value = -anp.sum(Y * _log_softmax(z)) / X.shape[0]
        if options.get("weight_decay"):
            value = value + values[options["weight_decay"]] / 2 * sum(
                anp.sum(p[f"W^{{({l})}}"] ** 2) for l in range(1, layers + 1))
        return value

    return f


def random_values(options, rows: int, seed: int, scale: float = 1.0) -> dict:
    """Values for every input by name (one-hot rows of Y for the cross-entropy loss)."""
    rng = np.random.default_rng(seed)
    sizes = options["sizes"]
    values = {"X": rng.uniform(-2, 2, (rows, sizes[0])), "Y": rng.uniform(0, 1, (rows, sizes[-1]))}
    if options.get("loss") == "cross-entropy":
        values["Y"] = np.eye(sizes[-1])[rng.integers(0, sizes[-1], rows)]
    for l in range(1, len(sizes)):
        values[f"W^{{({l})}}"] = scale * rng.uniform(-1.5, 1.5, (sizes[l - 1], sizes[l]))
        if options.get("bias", True):
            values[f"b^{{({l})}}"] = scale * rng.uniform(-1, 1, (sizes[l], 1))
    if options.get("weight_decay"):
        values[options["weight_decay"]] = 0.3
    return values


NETWORKS = [
    dict(sizes=[3, 1], loss="squared", bias=True, batch="n"),
    dict(sizes=[2, 4, 1], activations="tanh", loss="bce", bias=True, batch=5),
    dict(sizes=[3, 3, 2], activations="relu", output="identity", loss="mse", bias=False, batch="n"),
    dict(sizes=[2, 3, 3], activations="softplus", loss="cross-entropy", bias=True, batch="n"),
    dict(sizes=[2, 3, 2, 1], activations=["sigmoid", "tanh"], output="tanh", loss="squared", bias=True, batch=4,
         weight_decay="lambda"),
    dict(sizes=[4, 2, 3], activations="exp", output="sigmoid", loss="bce", bias=False, batch="m"),
]


@pytest.mark.parametrize("options", NETWORKS, ids=lambda o: f"{o['loss']}-{o.get('activations', '')}-{o['sizes']}")
def test_matrix_gradients_match_autograd(options):
    net, L, parameters = mlp(**options)
    solution = net.gradients(L, parameters)
    rows = options["batch"] if isinstance(options["batch"], int) else 4
    values = random_values(options, rows, seed=len(options["sizes"]))
    names = [p.name for p in parameters]
    f = autograd_loss(options, values, names)
    at = [values[n] for n in names]
    everything = solution.evaluate(values)
    assert list(everything) == names
    for k, d in enumerate(solution.derivations):
        ours = d.evaluate(values)
        truth = grad(f, k)(*at)
        assert isinstance(ours, np.ndarray) and ours.shape == values[d.wrt.name].shape
        np.testing.assert_allclose(ours, truth, rtol=RTOL, atol=1e-14)
        np.testing.assert_array_equal(everything[d.wrt.name], ours)
    assert np.isclose(net.evaluate("L", values), f(*at), rtol=1e-12)


def test_intermediates_and_the_gradient_with_respect_to_one():
    options = dict(sizes=[2, 3, 1], activations="tanh", loss="squared", bias=True, batch="n")
    net, L, parameters = mlp(**options)
    values = random_values(options, 5, seed=3)
    Z1 = values["X"] @ values["W^{(1)}"] + values["b^{(1)}"].T
    np.testing.assert_allclose(net.evaluate("Z^{(1)}", values), Z1, rtol=1e-14)
    np.testing.assert_allclose(net.evaluate("A^{(1)}", values), np.tanh(Z1), rtol=1e-14)

    def rest(z):  # the loss from Z^(1) on, everything else fixed
        a = _sigmoid(anp.tanh(z) @ values["W^{(2)}"] + values["b^{(2)}"].T)
        return 0.5 * anp.sum((a - values["Y"]) ** 2)

    d = net.gradient(L, "Z^{(1)}")
    np.testing.assert_allclose(d.evaluate(values), grad(rest)(Z1), rtol=RTOL)
    held = {**values, "Z^{(1)}": Z1 + 0.25}  # a value given for an intermediate holds it
    np.testing.assert_allclose(d.evaluate(held), grad(rest)(Z1 + 0.25), rtol=RTOL)


def test_scalar_networks_give_floats_and_broadcast_over_arrays_of_points():
    net, L, weights = sigmoid_chain(6)
    solution = net.gradients(L, weights)
    point = {"x": 0.7, "y": -0.2, **{w.name: 0.3 * (k - 2.5) for k, w in enumerate(weights)}}

    def f(ws, x, y):
        h = x
        for w in ws:
            h = _sigmoid(w * h)
        return 0.5 * (h - y) ** 2

    truth = grad(f)([point[w.name] for w in weights], point["x"], point["y"])
    values = solution.evaluate(point)
    for w, t in zip(weights, truth):
        assert isinstance(values[w.name], np.floating)
        assert values[w.name] == pytest.approx(t, rel=RTOL)
    assert solution.derivation("w_1").evaluate({**point, net.symbol("x"): 0.7}) == values["w_1"]  # symbols as keys
    many = {**point, "x": np.array([0.7, -1.0, 2.0])}
    column = solution.derivation("w_3").evaluate(many)
    assert column.shape == (3,) and column[0] == pytest.approx(values["w_3"], rel=1e-14)


ONE_BY_ONE = """
symbols: {X: [2, 1], W: [1, 1], y: [2, 1], c: scalar}
definitions:
  - L = \\frac{c}{2} \\lVert X W - y \\rVert^2
loss: L
wrt: [W, c]
"""


def test_a_variable_declared_one_by_one_gives_a_one_by_one_array_and_a_scalar_a_float():
    solution = derive.Problem.from_text(ONE_BY_ONE).solve()
    values = {"X": np.array([[1.0], [2.0]]), "W": np.array([[0.5]]), "y": np.array([[1.0], [0.0]]), "c": 2.0}

    def f(W, c):
        return c / 2 * anp.sum((anp.dot(values["X"], W) - values["y"]) ** 2)

    dW = solution.derivation("W").evaluate(values)
    assert isinstance(dW, np.ndarray) and dW.shape == (1, 1)
    np.testing.assert_allclose(dW, grad(f, 0)(values["W"], 2.0), rtol=RTOL)
    dc = solution.derivation("c").evaluate(values)
    assert isinstance(dc, np.floating) and dc == pytest.approx(grad(f, 1)(values["W"], 2.0), rel=RTOL)
    everything = solution.evaluate(values)
    assert everything["W"].shape == (1, 1) and isinstance(everything["c"], np.floating)


def test_the_check_evaluates_the_same_numbers():
    """The check's analytic values at a given point are `Derivation.evaluate` there."""
    options = NETWORKS[1]
    net, L, parameters = mlp(**options)
    solution = net.gradients(L, parameters)
    values = random_values(options, 5, seed=1)
    report = solution.check(points=values, sweep=False)
    assert report.passed
    for d in solution.derivations:
        ours = d.evaluate(values)
        for e in (e for e in report.entries if e.variable == d.wrt.name):
            assert e.analytic == ours[e.index]


def test_sizes_are_read_off_the_arrays_and_vectors_may_be_flat():
    net, L, parameters = mlp([3, 2], loss="squared", bias=True, batch="n")
    d = net.gradient(L, "b^{(1)}")
    values = random_values(dict(sizes=[3, 2]), 7, seed=2)
    column = d.evaluate(values)
    assert column.shape == (2, 1)
    flat = {**values, "b^{(1)}": values["b^{(1)}"].ravel()}
    np.testing.assert_array_equal(d.evaluate(flat), column)
    np.testing.assert_array_equal(d.evaluate({**values, "n": 7}), column)


@pytest.mark.parametrize("change, message", [
    (lambda v: v.pop("Y"), "no value given for Y"),
    (lambda v: v.update(Y=np.zeros((6, 2))), r"Y must be 7x2 \(n = 7 from X\), but the value given is 6x2"),
    (lambda v: v.update({"W^{(1)}": np.zeros((2, 3))}), r"W\^\{\(1\)\} must be 3x2, but the value given is 2x3"),
    (lambda v: v.update(Q=1.0), "no symbol Q in this network"),
    (lambda v: v.update(n=2.5), "the size n must be a positive integer"),
    (lambda v: v.update(X="three"), "the value of X is not a number"),
])
def test_bad_values_are_one_line_errors(change, message):
    net, L, parameters = mlp([3, 2], loss="squared", bias=True, batch="n")
    values = random_values(dict(sizes=[3, 2]), 7, seed=2)
    change(values)
    with pytest.raises(DeriveError, match=message) as caught:
        net.gradient(L, "W^{(1)}").evaluate(values)
    assert "\n" not in str(caught.value)


def test_scalar_missing_input_is_named():
    net = derive.Network()
    x, w = net.symbols("x w")
    L = net.define("L", (w * x - 1) ** 2)
    with pytest.raises(DeriveError, match="no value given for x"):
        net.gradient(L, w).evaluate({"w": 1.0})
