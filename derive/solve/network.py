"""`Network`, the one users make (`derive.Network`): the core network (inputs and named definitions, in
`derive.core.network`) that also derives its gradients, as `Solution`s, and evaluates its definitions."""

from __future__ import annotations

from typing import Iterable

from sympy import Symbol

from ..check.evaluation import evaluate_in
from ..core import network as core
from ..core.network import expand_definitions, make_symbol  # noqa: F401 (derive 0.1's derive.network)
from .derivation import Solution


class Network(core.Network):
    """Inputs and named definitions, in order: `yhat = net.define("yhat", sigmoid(w*x))`; then
    `net.gradient(L, w)` derives dL/dw step by step."""

    def evaluate(self, name, values: dict):
        """The value of the input or definition `name` (a name, a symbol, or an expression in the network's
        names) at `values` ({name or symbol: number or array} of the inputs): a NumPy array of its shape for a
        matrix, a NumPy float for a scalar. Symbolic sizes (n) are read off the arrays' shapes."""
        target = self.symbol(name) if isinstance(name, str) else name
        return evaluate_in(self, [target], values)[0]

    def gradient(self, loss: Symbol, wrt: Symbol | str):
        """The derivation of d(loss)/d(wrt), step by step."""
        return self.gradients(loss, [wrt]).derivations[0]

    def gradients(self, loss: Symbol, wrt: Iterable[Symbol | str]):
        """The derivations of d(loss)/d(w) for each w, sharing the steps they have in common."""
        return Solution.derive(self, loss, list(wrt))
