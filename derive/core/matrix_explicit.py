"""Explicit matrices of scalar entries: `explicit` turns a matrix expression into an explicit SymPy matrix
(or a scalar) for concrete sizes, the independent oracle used by the checks and the tests; `entry_symbols`
names a matrix's entries, `dimensions_of` lists the symbolic sizes an expression mentions.
"""

from __future__ import annotations

import sympy
from sympy import S, Symbol
from sympy.matrices import ImmutableMatrix, MatrixBase
from sympy.matrices.expressions import (
    Determinant, HadamardPower, HadamardProduct, Identity, Inverse, MatAdd, MatMul, MatPow, MatrixExpr,
    MatrixSymbol, OneMatrix, Trace, Transpose, ZeroMatrix,
)

from .matrix_nodes import Diag, Entrywise, FrobeniusNorm, L1Norm, Mean, Softmax, SumEntries


def entry_symbols(symbol: MatrixSymbol, shape) -> ImmutableMatrix:
    """The explicit matrix [[X[0,0], X[0,1]], ...] of real scalar symbols standing for symbol's entries."""
    rows, cols = (int(d) for d in shape)
    return ImmutableMatrix(rows, cols, lambda i, j: Symbol(f"{symbol.name}[{i},{j}]", real=True))


def dimensions_of(expr) -> set[Symbol]:
    """The symbolic dimensions (n, m, ...) the shapes in `expr` mention."""
    found = set()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, MatrixSymbol):
            for d in node.shape:
                found |= getattr(d, "free_symbols", set())
    return found


def explicit(expr, values: dict):
    """`expr` with each matrix symbol replaced by its explicit value in `values` (ImmutableMatrix), computed
    bottom-up into an explicit matrix (or a scalar). Dimensions in `values` (n -> 2) are substituted too."""
    memo: dict = {}

    def ev(node):
        if node in memo:
            return memo[node]
        result = _explicit_node(node, ev, values)
        memo[node] = result
        return result

    return ev(expr)


def _dims(node, values):
    return tuple(int(sympy.sympify(d).xreplace({k: v for k, v in values.items() if isinstance(k, Symbol)}))
                 for d in node.shape)


def _explicit_node(node, ev, values):
    if node in values:
        return values[node]
    if isinstance(node, MatrixSymbol):
        raise KeyError(f"no explicit value for the matrix {node.name}")
    if isinstance(node, OneMatrix):
        rows, cols = _dims(node, values)
        return ImmutableMatrix.ones(rows, cols)
    if isinstance(node, Identity):
        return ImmutableMatrix.eye(_dims(node, values)[0])
    if isinstance(node, ZeroMatrix):
        return ImmutableMatrix.zeros(*_dims(node, values))
    if isinstance(node, MatMul):
        result = S.One
        for factor in node.args:
            value = ev(factor)
            result = result * value
        return result
    if isinstance(node, MatAdd):
        values_ = [ev(t) for t in node.args]
        total = values_[0]
        for v in values_[1:]:
            total = total + v
        return total
    if isinstance(node, Transpose):
        return ev(node.arg).T
    if isinstance(node, MatPow):
        return ev(node.base) ** int(node.exp)
    if isinstance(node, Inverse):
        return ev(node.arg).inv()
    if isinstance(node, HadamardProduct):
        result = ev(node.args[0])
        for factor in node.args[1:]:
            result = result.multiply_elementwise(ev(factor))
        return result
    if isinstance(node, HadamardPower):
        base, exponent = ev(node.base), ev(node.exp)
        return base.applyfunc(lambda u: u ** exponent)
    if isinstance(node, Entrywise):
        return ev(node.arg).applyfunc(lambda u: node.scalar(u))
    if isinstance(node, Softmax):
        z = ev(node.arg)
        rows = []
        for i in range(z.rows):
            e = [sympy.exp(z[i, k]) for k in range(z.cols)]
            total = sympy.Add(*e)
            rows.append([v / total for v in e])
        return ImmutableMatrix(rows)
    if isinstance(node, Diag):
        v = ev(node.arg)
        return ImmutableMatrix.diag(*list(v))
    if isinstance(node, Trace):
        return ev(node.arg).trace()
    if isinstance(node, Determinant):
        return ev(node.arg).det()
    if isinstance(node, SumEntries):
        return sympy.Add(*ev(node.arg))
    if isinstance(node, Mean):
        a = ev(node.arg)
        return sympy.Add(*a) / (a.rows * a.cols)
    if isinstance(node, FrobeniusNorm):
        a = ev(node.arg)
        return sympy.sqrt(sympy.Add(*[u ** 2 for u in a]))
    if isinstance(node, L1Norm):
        return sympy.Add(*[sympy.Abs(u) for u in ev(node.arg)])
    if isinstance(node, MatrixExpr):
        raise TypeError(f"no explicit form for {type(node).__name__}")
    if node.is_Atom:
        return node
    args = [ev(a) for a in node.args]
    if any(isinstance(a, MatrixBase) for a in args):
        args = [a[0, 0] if isinstance(a, MatrixBase) and a.shape == (1, 1) else a for a in args]
    return node.func(*args)
