"""The stable forms: the values the forward pass keeps beside an activation's output so that gradients stay exact.

Where a definition is a sigmoid s = sigma(u), the pass keeps the complement sigma(-u) beside s, and `1 - s`
anywhere is that complement (so that in a gradient written (1 - y) / (1 - s) * s (1 - s) the same float
cancels); log s is -softplus(-u) and log(1 - s) is -softplus(u); sigma'(u) is s sigma(-u); log of a softmax
output is the shifted log-softmax of its argument; 1 - t^2 for a tanh output t is sech^2 of its argument;
s - y for a target y (binary cross-entropy's fused delta) is s (1 - y) - sigma(-u) y, and S - Y for a softmax
output S (softmax cross-entropy's fused delta) is S (1 - Y) - (1 - S) Y with 1 - S the sum of each row's
other entries.
Here: what a stable form is (`StableForm`), its float and complex functions (`STABLE_FORMS`), and which
definitions are activations (`_activation`). The rewriting of expressions into these forms is the
`forward_pass.Program`'s; a sigmoid written inline gets the same forms (`numeric.stable`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy
from sympy import Expr, Symbol

from ..core import matrix_ops as mo
from ..core.ops import sigmoid
from .numeric import _complex_sigmoid, _complex_softplus, _sigmoid, _softplus


def _log_softmax_rows(z):
    shifted = z - z.real.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax_others_rows(z):
    """1 - softmax(z) entry by entry, as the sum of the row's other entries (all positive: no cancellation where
    one entry is nearly 1, which 1 - softmax would round to a few digits or to 0)."""
    shifted = z - z.real.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    width = z.shape[-1]
    others = e @ (np.ones((width, width)) - np.eye(width))
    return others / e.sum(axis=-1, keepdims=True)


def _sech_squared(u):
    return 1 / np.cosh(u) ** 2


# kind -> (float function, complex-analytic function) of the activation's argument u
STABLE_FORMS = {
    "complement": (lambda u: _sigmoid(-u), lambda u: _complex_sigmoid(-u)),  # 1 - sigma(u) = sigma(-u)
    "log sigmoid": (lambda u: -_softplus(-u), lambda u: -_complex_softplus(-u)),  # log sigma(u)
    "log complement": (lambda u: -_softplus(u), lambda u: -_complex_softplus(u)),  # log(1 - sigma(u))
    "log softmax": (_log_softmax_rows, _log_softmax_rows),
    "tanh complement": (_sech_squared, _sech_squared),  # 1 - tanh(u)^2
    "softmax complement": (_softmax_others_rows, _softmax_others_rows),  # 1 - softmax(u), entry by entry
}


@dataclass(frozen=True)
class StableForm:
    """A value the forward pass keeps beside an activation's output: `kind` (of STABLE_FORMS) of `argument`."""

    kind: str
    argument: Expr
    of: Symbol  # the activation's output it belongs to


def _activation(rhs) -> tuple[str, Expr] | None:
    """("sigmoid" | "softmax" | "tanh", argument) when a definition's right-hand side is one of them."""
    if isinstance(rhs, sigmoid):
        return "sigmoid", rhs.args[0]
    if isinstance(rhs, sympy.tanh):
        return "tanh", rhs.args[0]
    if isinstance(rhs, mo.Softmax):
        return "softmax", rhs.arg
    if isinstance(rhs, mo.Entrywise) and not rhs.prime and rhs.name in ("sigmoid", "tanh"):
        return rhs.name, rhs.arg
    return None
