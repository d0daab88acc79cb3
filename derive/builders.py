"""Ready-made networks: small families used by the benchmarks, the tests and users trying derive out."""

from __future__ import annotations

from sympy import Rational, Symbol

from .network import Network
from .ops import sigmoid


def sigmoid_chain(depth: int) -> tuple[Network, Symbol, tuple[Symbol, ...]]:
    """h_k = sigma(w_k h_{k-1}) for k = 1..depth (h_0 = x), L = (h_depth - y)^2 / 2: (network, loss, weights)."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, not {depth}")
    net = Network(title=f"A chain of {depth} sigmoid units")
    x, y = net.symbols("x y")
    weights = net.symbols(" ".join(f"w_{k}" for k in range(1, depth + 1)))
    h = x
    for k, w in enumerate(weights, start=1):
        h = net.define(f"h_{k}", sigmoid(w * h))
    return net, net.define("L", Rational(1, 2) * (h - y) ** 2), weights
