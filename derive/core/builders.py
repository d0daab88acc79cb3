"""Ready-made networks: small families used by the benchmarks, the tests and users trying derive out.

Each builder takes the class of network to make; `derive.builders` (`derive.solve.builders`) makes
`derive.Network`s, which derive their own gradients."""

from __future__ import annotations

import re

import sympy
from sympy import Rational, Symbol

from .network import Network
from .ops import sigmoid


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def sigmoid_chain(depth: int, network_class: type = Network) -> tuple[Network, Symbol, tuple[Symbol, ...]]:
    """h_k = sigma(w_k h_{k-1}) for k = 1..depth (h_0 = x), L = (h_depth - y)^2 / 2: (network, loss, weights)."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    net = network_class(title=f"A chain of {depth} sigmoid units")
    x, y = net.symbols("x y")
    weights = net.symbols(" ".join(f"w_{k}" for k in range(1, depth + 1)))
    h = x
    for k, w in enumerate(weights, start=1):
        h = net.define(f"h_{k}", sigmoid(w * h))
    return net, net.define("L", Rational(1, 2) * (h - y) ** 2), weights


LOSSES = ("squared", "mse", "bce", "cross-entropy")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "softplus", "identity", "exp")


def mlp(sizes, activations="sigmoid", output=None, loss="squared", bias=True, batch="n",
        weight_decay=None, title: str = "", network_class: type = Network):
    """An L-layer perceptron as a network: Z^(l) = A^(l-1) W^(l) [+ 1 b^(l)T], A^(l) = f_l(Z^(l)), A^(0) = X.

    `sizes` = [inputs, hidden..., outputs] (L = len(sizes) - 1 layers); `activations` is one name or one per
    hidden layer ("sigmoid", "tanh", "relu", "softplus", "identity", "exp"); `output` the last layer's
    (default sigmoid, softmax for the cross-entropy loss). `loss`: "squared" (1/2 ||Yhat - Y||_F^2), "mse"
    (the mean of the squared errors), "bce" (binary cross-entropy, mean over entries) or "cross-entropy"
    (softmax cross-entropy, mean over the batch). `batch` is the number of rows of X, a number or a name;
    `weight_decay` a name (lambda) adds lambda/2 times the sum of the squared weights. Returns
    (network, loss, parameters) with parameters W^(1), b^(1), ..., in layer order; the network is a
    `network_class` (`derive.builders.mlp` makes the `derive.Network` that derives its gradients).
    """
    from sympy import MatrixSymbol

    from . import matrix_ops as mo
    from .errors import ProblemError
    from .network import make_symbol

    if not isinstance(sizes, (list, tuple)):
        raise ProblemError(f"sizes must be a list [inputs, hidden..., outputs], not {sizes!r}")
    sizes = list(sizes)
    layers = len(sizes) - 1
    if layers < 1 or any(not _positive_int(s) for s in sizes):
        raise ProblemError(f"an MLP needs at least two positive integer sizes (inputs, ..., outputs), not {sizes}")
    reserved = {"X", "Y", "Yhat", "L"} | {f"{stem}^{{({l})}}" for l in range(1, layers + 1) for stem in "WbZA"}
    if not (_positive_int(batch) or (isinstance(batch, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", batch))):
        raise ProblemError(f"batch must be a positive integer or a name such as n, not {batch!r}")
    if isinstance(batch, str) and batch in reserved:
        raise ProblemError(f"batch {batch} is the name of a matrix of the network; use another name, such as n")
    if weight_decay is not None and not (isinstance(weight_decay, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", weight_decay)):
        raise ProblemError(f"weight_decay must be the name of the decay coefficient, such as lambda, not {weight_decay!r}")
    if weight_decay in reserved or (weight_decay is not None and weight_decay == batch):
        raise ProblemError(f"weight_decay {weight_decay} is already a name in the network; use another name")
    if not isinstance(bias, bool):
        raise ProblemError(f"bias must be true or false, not {bias!r}")
    if loss not in LOSSES:
        raise ProblemError(f"unknown loss '{loss}' (known: {', '.join(LOSSES)})")
    hidden = [activations] * (layers - 1) if isinstance(activations, str) else list(activations)
    if len(hidden) != layers - 1:
        raise ProblemError(f"{layers - 1} hidden layer(s) need {layers - 1} activation(s), not {len(hidden)}")
    output = output or ("softmax" if loss == "cross-entropy" else "sigmoid")
    for name in [*hidden, output]:
        if name not in ACTIVATIONS + ("softmax",) or (name == "softmax" and name is not output):
            raise ProblemError(f"unknown activation '{name}' (known: {', '.join(ACTIVATIONS)}; softmax on the output)")
    if loss == "cross-entropy" and output != "softmax":
        raise ProblemError("the cross-entropy loss needs the softmax output")
    rows = Symbol(batch, integer=True, positive=True) if isinstance(batch, str) else int(batch)
    net = network_class(title=title or f"A {layers}-layer perceptron")
    X = net.declare(MatrixSymbol("X", rows, sizes[0]))
    Y = net.declare(MatrixSymbol("Y", rows, sizes[-1]))
    parameters, weights = [], []
    a = X
    for l in range(1, layers + 1):
        W = net.declare(MatrixSymbol(f"W^{{({l})}}", sizes[l - 1], sizes[l]))
        parameters.append(W)
        weights.append(W)
        z = mo.matmul(a, W)
        if bias:
            b = net.declare(MatrixSymbol(f"b^{{({l})}}", sizes[l], 1))
            parameters.append(b)
            z = mo.add(z, mo.matmul(mo.ones(rows, 1), mo.transpose(b)))
        z = net.define(f"Z^{{({l})}}", z)
        f = output if l == layers else hidden[l - 1]
        a = net.define("Yhat" if l == layers else f"A^{{({l})}}", mo.softmax(z) if f == "softmax" else mo.apply(f, z))
    error = mo.subtract(a, Y)
    if loss == "squared":
        value = Rational(1, 2) * mo.norm(error) ** 2
    elif loss == "mse":
        value = mo.mean(mo.hadamard(error, error))
    elif loss == "bce":
        value = -mo.mean(mo.add(mo.hadamard(Y, mo.apply("log", a)),
                                mo.hadamard(mo.subtract(1, Y), mo.apply("log", mo.subtract(1, a)))))
    else:
        net.one_hot.add(Y)  # each row of Y is a one-hot target: Y 1 = 1
        value = -mo.sum_entries(mo.hadamard(Y, mo.apply("log", a))) / rows
    if weight_decay:
        lam = net.declare(make_symbol(weight_decay))
        value = value + lam / 2 * sympy.Add(*(mo.norm(W) ** 2 for W in weights))
    return net, net.define("L", value), tuple(parameters)
