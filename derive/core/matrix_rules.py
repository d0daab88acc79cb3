"""The matrix rule registry: one entry per matrix operation, holding its vector-Jacobian product and its name.

An entry's `vjp(G, node, operands, i)` is the gradient with respect to operand i, in denominator layout
(it has the operand's shape), given the gradient G of a scalar loss with respect to the node's output:
for Z = X W, the entry for W gives X^T G and the one for X gives G W^T. Scalar operations met in a matrix
network (the 1/2 in front of a norm, a log of a determinant) use the scalar registry (`derive.core.rules`):
their VJP is G times the local partial derivative. VJPs sum with `matrix_ops.sum_of`, which never
broadcasts a scalar into a matrix.

`example(s)` builds a small scalar loss that exercises the entry from the test symbols in `s` (`A` 3x3,
`B` 3x3, `X` nx3, `W` 3x2, `x` 3x1, `y` scalar; n = 2): the tests walk the registry with it and compare
every entry of the gradient with `sympy.diff` on explicit matrices. The engine
(`derive.core.matrix_engine`) looks rules up here and never special-cases an op itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from sympy import Expr, Pow, Rational, S, Tuple
from sympy.matrices.expressions import (
    Determinant, HadamardPower, HadamardProduct, Identity, Inverse, MatAdd, MatMul, MatPow, OneMatrix,
    Trace, Transpose,
)

from . import matrix_ops as mo
from .rules import RULES as SCALAR_RULES, lookup


@dataclass(frozen=True, slots=True)
class MatrixRule:
    """How to take one kind of node's vector-Jacobian product."""

    name: str  # "matrix product rule", shown in worked solutions
    op: type
    vjp: Callable  # (G, node, operands, i) -> gradient with respect to operands[i]
    example: Callable[[dict], Expr]  # test symbols -> a scalar loss that needs this rule
    split: Callable[[Expr], tuple] = lambda e: e.args
    applies: Callable[[Expr], bool] = lambda e: True
    note: str = ""


def _matmul_vjp(G, node, operands, i):
    """For c M_1 ... M_k: M_{<i}^T G M_{>i}^T for a matrix factor; <G, rest> = tr(G^T rest) for a scalar factor c."""
    operand = operands[i]
    if not mo.is_matrix(operand):  # <G, rest>, a scalar
        rest = mo.matmul(*(f for j, f in enumerate(operands) if j != i))
        if mo.is_unit_1x1(rest) or not mo.is_matrix(rest):
            return mo.as_scalar(G) * (1 if mo.is_matrix(rest) else rest)
        if isinstance(rest, OneMatrix) and mo.is_matrix(G):  # the sum of G's entries, 1^T G 1
            rows, cols = rest.shape
            return mo.as_scalar(mo.matmul(OneMatrix(1, rows), G, OneMatrix(cols, 1)))
        return Trace(mo.matmul(mo.transpose(G), rest)) if mo.is_matrix(G) else G * mo.as_scalar(rest)
    scalars = [f for f in operands if not mo.is_matrix(f)]
    before = [f for f in operands[:i] if mo.is_matrix(f)]
    after = [f for f in operands[i + 1:] if mo.is_matrix(f)]
    left = [mo.transpose(mo.matmul(*before))] if before else []
    right = [mo.transpose(mo.matmul(*after))] if after else []
    return mo.matmul(*scalars, *left, G, *right)


def _matpow_operands(node) -> tuple:
    """The matrix that a power multiplies by itself: A in A^p, and A^{-1} in A^{-p} (SymPy's .doit() writes
    the power of an inverse (A^{-1})^p that way)."""
    return (node.base,) if node.exp > 0 else (mo.inverse(node.base),)


def _matpow_vjp(G, node, operands, i):
    """For B^p (p a positive integer; B = A^{-1} for A^{-p}): the sum over k of (B^T)^k G (B^T)^(p-1-k)."""
    base, p = operands[0], abs(int(node.exp))
    at = mo.transpose(base)
    return mo.sum_of(*(mo.matmul(*([at] * k), G, *([at] * (p - 1 - k))) for k in range(p)))


def _hadamard_power_vjp(G, node, operands, i):
    """For A^(o p): G (.) p A^(o p-1) for A; for the exponent p, the sum of the entries of G (.) A^(o p) (.) log A."""
    base, exponent = operands
    if i == 0:
        return mo.hadamard(G, mo.matmul(exponent, mo.hadamard_power(base, exponent - 1)))
    return mo.SumEntries(mo.hadamard(G, node, mo.apply("log", base)))


def _hadamard_vjp(G, node, operands, i):
    return mo.hadamard(G, *(f for j, f in enumerate(operands) if j != i))


_ENTRYWISE_DERIVATIVES = {  # f'(A) in its usual name, where it has one; otherwise f'(A) itself (sigma'(A))
    "log": lambda node, A: HadamardPower(A, -1),  # printed G / A entrywise
    "exp": lambda node, A: node,
    "sin": lambda node, A: mo.apply("cos", A),
    "cos": lambda node, A: mo.negate(mo.apply("sin", A)),
}


def _entrywise_vjp(G, node, operands, i):
    """G (.) f'(A): for log G (.) A^(o-1), for exp G (.) exp(A), for sin G (.) cos(A), for abs G (.) sign(A)."""
    derivative = _ENTRYWISE_DERIVATIVES.get(node.name)
    if derivative is not None:
        return mo.hadamard(G, derivative(node, operands[0]))
    return mo.hadamard(G, mo.entrywise_class(node.name, prime=True)(operands[0]))


def _softmax_vjp(G, node, operands, i):
    """S (.) (G - ((G (.) S) 1) 1^T), S = softmax(Z) row by row."""
    rows, cols = node.shape
    row_sums = mo.matmul(mo.hadamard(G, node), OneMatrix(cols, 1), OneMatrix(1, cols))
    return mo.hadamard(node, mo.sum_of(G, mo.negate(row_sums)))


def _diag_vjp(G, node, operands, i):
    """For diag(v): the diagonal of G, (G (.) I) 1, as a column, or as a row for a row v."""
    size = node.shape[0]
    diagonal = mo.matmul(mo.hadamard(G, Identity(size)), OneMatrix(size, 1))
    return diagonal if mo.same(operands[0].shape[1], 1) else mo.transpose(diagonal)


def _inverse_vjp(G, node, operands, i):
    return mo.negate(mo.matmul(mo.transpose(node), G, mo.transpose(node)))


def _scalar_of_matrix(factor):
    """VJP for a scalar-valued function of one matrix: G times the derivative matrix `factor(node, A)`."""
    def vjp(G, node, operands, i):
        return mo.matmul(mo.as_scalar(G), factor(node, operands[0]))
    return vjp


@lru_cache(maxsize=256)  # once per node, not once per operand: a sum of k terms asks k times
def _partials(rule, node, operands: tuple) -> tuple:
    """The scalar rule's local partials, computed as of real numbers (`matrix_ops.of_real_numbers`): the
    operands are often made of matrices (tr(x^T A x)), which SymPy's own evaluation must not reach."""
    return tuple(mo.of_real_numbers(lambda node, *operands: Tuple(*rule.partials(node, operands)), node, *operands))


def _scalar_entry(rule) -> MatrixRule:
    """A scalar rule used on scalar nodes of a matrix network: G times the local partial."""
    return MatrixRule(
        rule.name, rule.op,
        lambda G, node, operands, i: mo.as_scalar(G) * _partials(rule, node, tuple(operands))[i],
        lambda s: _SCALAR_EXAMPLES.get(rule.name, lambda s: rule.example(mo.SumEntries(s["x"]), s["y"]))(s),
        split=rule.split, applies=lambda e: not mo.is_matrix(e) and rule.applies(e), note=rule.note,
    )


def _is_square_broadcast(e) -> bool:
    """1 b^T or 1 b whose result is square: a bias beside X W when the batch size equals the width, where
    only the declared orientation of b says that it is added to every row."""
    if not (isinstance(e, MatMul) and len(e.args) == 2 and isinstance(e.args[0], OneMatrix)):
        return False
    ones, vector = e.args
    return ones.shape[1] == 1 and vector.shape[0] == 1 and e.shape[0] == e.shape[1]  # n and 3 are not the same


def _is_squared_norm(e) -> bool:
    return isinstance(e.base, mo.FrobeniusNorm) and e.exp == 2


_SCALAR_EXAMPLES = {
    "sum rule": lambda s: Trace(s["A"]) + s["y"] * mo.SumEntries(s["x"]),
    "product rule": lambda s: s["y"] * Trace(s["A"]) * mo.SumEntries(s["x"]),
}

_ENTRYWISE_NOTES = {
    "sigmoid": r"Here $\sigma'(u) = \sigma(u)\,(1 - \sigma(u))$, applied entry by entry.",
    "tanh": r"Here $\tanh'(u) = 1 - \tanh^2(u)$, applied entry by entry.",
    "relu": r"Here $\operatorname{ReLU}'(u) = \mathbf{1}[u > 0]$, applied entry by entry; ReLU is not "
            "differentiable at 0, and we take the subgradient 0 there.",
    "softplus": r"Here $\operatorname{softplus}'(u) = \sigma(u)$, applied entry by entry.",
    "exp": r"Here $\exp'(u) = \exp(u)$, applied entry by entry.",
    "log": r"Here $\log'(u) = 1/u$, applied entry by entry.",
    "sin": r"Here $\sin'(u) = \cos(u)$, applied entry by entry.",
    "cos": r"Here $\cos'(u) = -\sin(u)$, applied entry by entry.",
    "abs": r"Here $|u|' = \operatorname{sign}(u)$, applied entry by entry; $|u|$ is not differentiable at 0, "
           "and we take the subgradient 0 there.",
}


_DISPLAY = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "softplus": "softplus", "exp": "exponential",
            "log": "logarithm", "sin": "sine", "cos": "cosine", "abs": "absolute value"}


def _entrywise_rule(name: str) -> MatrixRule:
    cls = mo.entrywise_class(name)
    return MatrixRule(
        f"entrywise {_DISPLAY[name]} rule",
        cls, _entrywise_vjp,
        lambda s, name=name: mo.SumEntries(mo.apply(name, mo.add(mo.matmul(s["X"], s["W"]), 3 if name == "log" else 0)))
        if name != "log" else mo.SumEntries(mo.apply("log", mo.apply("exp", mo.matmul(s["X"], s["W"])))),
        note=_ENTRYWISE_NOTES.get(name, ""),
    )


_BROADCAST_NOTE = (r"The bias is added to every row, as $\mathbf{1} b^T$ for a column $b$ (or $\mathbf{1} b$ for a "
                   "row): here the number of rows equals the width, and the bias's declared shape decides how it "
                   "is broadcast. Its gradient sums the rows of the gradient beside it.")

MATRIX_RULES: tuple[MatrixRule, ...] = (
    MatrixRule("bias broadcast rule", MatMul, _matmul_vjp,
               lambda s: mo.SumEntries(mo.apply("tanh", mo.add(mo.matmul(s["A"], s["B"]), s["x"]))),
               applies=_is_square_broadcast, note=_BROADCAST_NOTE),
    MatrixRule("matrix product rule", MatMul, _matmul_vjp,
               lambda s: mo.SumEntries(mo.matmul(s["X"], s["A"], s["W"])) + Trace(mo.matmul(s["y"], s["A"], s["B"]))),
    MatrixRule("matrix power rule", MatPow, _matpow_vjp,
               lambda s: Trace(mo.matmul(s["B"], mo.power(s["A"], 3)))
               + Trace(mo.matmul(s["B"], mo.power(mo.add(mo.diag(s["x"]), mo.matmul(4, Identity(3))), -2))),
               split=_matpow_operands,
               applies=lambda e: e.exp.is_Integer and e.exp != 0 and not isinstance(e, Inverse)),  # A^{-1} is a MatPow
    MatrixRule("sum rule", MatAdd, lambda G, node, operands, i: G,
               lambda s: mo.SumEntries(mo.add(mo.matmul(s["X"], s["W"]), mo.matmul(s["X"], s["A"], s["W"])))),
    MatrixRule("transpose rule", Transpose, lambda G, node, operands, i: mo.transpose(G),
               lambda s: mo.SumEntries(mo.matmul(mo.transpose(s["W"]), s["A"]))),
    MatrixRule("Hadamard product rule", HadamardProduct, _hadamard_vjp,
               lambda s: mo.SumEntries(mo.hadamard(mo.matmul(s["X"], s["W"]), mo.matmul(s["X"], s["A"], s["W"])))),
    MatrixRule("Hadamard power rule", HadamardPower, _hadamard_power_vjp,
               lambda s: mo.SumEntries(HadamardPower(mo.matmul(s["X"], s["W"]), 3))
               + mo.SumEntries(HadamardPower(mo.add(mo.hadamard(s["A"], s["A"]), 1), mo.add(s["y"], Rational(1, 2))))),
    *(_entrywise_rule(name) for name in mo.ENTRYWISE_FUNCTIONS),
    MatrixRule("softmax rule", mo.Softmax, _softmax_vjp,
               lambda s: mo.SumEntries(mo.hadamard(mo.matmul(s["X"], s["A"]), mo.softmax(mo.matmul(s["X"], s["B"]))))),
    MatrixRule("diag rule", mo.Diag, _diag_vjp,
               lambda s: mo.SumEntries(mo.matmul(s["X"], mo.diag(mo.matmul(s["A"], s["x"])), s["B"]))
               + Trace(mo.matmul(s["A"], mo.diag(mo.matmul(mo.transpose(s["x"]), s["B"]))))),
    MatrixRule("inverse rule", Inverse, _inverse_vjp,
               lambda s: Trace(mo.matmul(s["B"], mo.inverse(mo.add(s["A"], mo.matmul(4, Identity(3))))))),
    MatrixRule("trace rule", Trace, _scalar_of_matrix(lambda node, A: Identity(A.shape[0])),
               lambda s: Trace(mo.matmul(s["A"], s["B"], s["A"]))),
    MatrixRule("determinant rule", Determinant,
               _scalar_of_matrix(lambda node, A: mo.matmul(node, mo.transpose(mo.inverse(A)))),
               lambda s: Determinant(mo.matmul(s["A"], s["B"]))),
    MatrixRule("sum of entries rule", mo.SumEntries, _scalar_of_matrix(lambda node, A: OneMatrix(*A.shape)),
               lambda s: mo.SumEntries(mo.matmul(s["X"], s["W"]))),
    MatrixRule("mean rule", mo.Mean,
               _scalar_of_matrix(lambda node, A: mo.matmul(S.One / (A.shape[0] * A.shape[1]), OneMatrix(*A.shape))),
               lambda s: mo.Mean(mo.matmul(s["X"], s["W"]))),
    MatrixRule("squared Frobenius norm rule", Pow, _scalar_of_matrix(lambda node, A: mo.matmul(2, A)),
               lambda s: mo.FrobeniusNorm(mo.matmul(s["X"], s["W"])) ** 2,
               split=lambda e: (e.base.arg,), applies=_is_squared_norm),
    MatrixRule("L1 norm rule", mo.L1Norm,
               _scalar_of_matrix(lambda node, A: mo.entrywise_class("abs", prime=True)(A)),
               lambda s: mo.norm(mo.matmul(s["X"], s["W"]), "1"),
               note=r"Here $\partial \lVert A \rVert_1 / \partial A = \operatorname{sign}(A)$, entry by entry; "
                    "the absolute value is not differentiable at 0, and we take the subgradient 0 there."),
    MatrixRule("Frobenius norm rule", mo.FrobeniusNorm, _scalar_of_matrix(lambda node, A: mo.matmul(1 / node, A)),
               lambda s: mo.FrobeniusNorm(mo.add(mo.matmul(s["X"], s["W"]), 1))),
    *(_scalar_entry(rule) for rule in SCALAR_RULES),
)


def matrix_rule_for(expr) -> MatrixRule:
    """The registry entry for `expr`'s top-level operation; a named error if none."""
    return lookup(MATRIX_RULES, expr)
