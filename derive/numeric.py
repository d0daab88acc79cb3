"""Turning derive's SymPy expressions into NumPy functions, with numerically stable activations.

Expressions are compiled with `lambdify` (on expression objects derive built, never on strings) with
common subexpressions eliminated. sigmoid and softplus get overflow-free NumPy versions.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import sympy
from sympy import Expr, Symbol


def _sigmoid(u):
    u = np.asarray(u, dtype=float)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _softplus(u):
    return np.logaddexp(0.0, u)


def _relu(u):
    return np.maximum(u, 0.0)


NUMPY_FUNCTIONS = {"sigmoid": _sigmoid, "softplus": _softplus, "relu": _relu}


def _one_minus_sigmoid(node):
    """u when node is 1 - sigma(u), else None."""
    from .ops import sigmoid

    if node.is_Add and len(node.args) == 2 and sympy.S.One in node.args:
        other = node.args[0] if node.args[1] == 1 else node.args[1]
        negated = -other
        if isinstance(negated, sigmoid):
            return negated.args[0]
    return None


def stable(expr):
    """`expr` rewritten where floats would lose it: 1 - sigma(u) = sigma(-u), log sigma(u) = -softplus(-u)
    (binary cross-entropy near saturation loses all its digits otherwise)."""
    from .ops import sigmoid, softplus

    if not isinstance(expr, sympy.Basic):
        return expr
    expr = expr.replace(lambda n: _one_minus_sigmoid(n) is not None, lambda n: sigmoid(-_one_minus_sigmoid(n)))
    return expr.replace(lambda n: isinstance(n, sympy.log) and isinstance(n.args[0], sigmoid),
                        lambda n: -softplus(-n.args[0].args[0]))


def compile_expression(expr: Expr | Sequence[Expr], symbols: Sequence[Symbol]) -> Callable:
    """A NumPy function of `symbols` (positional) computing `expr`, rewritten by `stable` first."""
    expr = [stable(e) for e in expr] if isinstance(expr, (list, tuple)) else stable(expr)
    return sympy.lambdify(list(symbols), expr, modules=[NUMPY_FUNCTIONS, "numpy"], cse=True)


def evaluate(expr: Expr, values: dict[Symbol, float]):
    """`expr` at `values` as a NumPy float (or array)."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    missing = [s.name for s in symbols if s not in values]
    if missing:
        from .errors import DeriveError

        raise DeriveError(f"no value given for {', '.join(missing)}")
    with np.errstate(all="ignore"):
        result = compile_expression(expr, symbols)(*(values[s] for s in symbols))
    return np.float64(result) if np.ndim(result) == 0 else np.asarray(result, dtype=float)
