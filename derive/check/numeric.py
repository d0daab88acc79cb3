"""Turning derive's SymPy expressions into NumPy functions, with numerically stable activations.

Expressions are compiled with `lambdify` (on expression objects derive built, never on strings) with
common subexpressions eliminated; the functions broadcast, so one call evaluates many points. sigmoid and
softplus get overflow-free NumPy versions that keep the input's precision (float64 or float32).
`complex_safe=True` compiles complex-analytic versions instead (sigma(u) = 1 / (1 + e^-u), no comparisons
or absolute values), for the complex-step check; ReLU has none and raises `NotAnalytic`.
`MatrixEvaluator` evaluates matrix networks with NumPy arrays of a chosen dtype, complex included.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import sympy
from sympy import Expr, Symbol
from sympy.matrices.expressions import (  # imported once here: MatrixEvaluator meets them at every node
    Determinant, HadamardPower, HadamardProduct, Identity, Inverse, MatAdd, MatMul, MatPow, MatrixSymbol, OneMatrix,
    Trace, Transpose, ZeroMatrix,
)

from ..core import matrix_ops as mo


class NotAnalytic(ValueError):
    """A complex-analytic evaluation met an operation that has none (ReLU, abs, max, a comparison)."""


def _real(u):
    """`u` as an array of its own floating type (float64 for integers and Python numbers)."""
    u = np.asarray(u)
    return u if u.dtype.kind == "f" else u.astype(float)


def _sigmoid(u):
    u = _real(u)
    e = np.exp(-np.abs(u))
    return np.where(u >= 0, u.dtype.type(1), e) / (1 + e)  # 1 / (1 + e) or e / (1 + e), one division


def _softplus(u):
    u = _real(u)
    return np.logaddexp(u.dtype.type(0), u)


def _relu(u):
    u = _real(u)
    return np.maximum(u, u.dtype.type(0))


def _complex_sigmoid(u):
    return 1 / (1 + np.exp(-u))


def _complex_softplus(u):
    return np.log(1 + np.exp(u))


def _not_analytic(name):
    def refuse(*args):
        raise NotAnalytic(f"{name} is not complex-analytic")
    return refuse


NUMPY_FUNCTIONS = {"sigmoid": _sigmoid, "softplus": _softplus, "relu": _relu}
COMPLEX_FUNCTIONS = {"sigmoid": _complex_sigmoid, "softplus": _complex_softplus, "relu": _not_analytic("ReLU")}


def _one_minus_sigmoid(node):
    """u when node is 1 - sigma(u), else None."""
    from ..core.ops import sigmoid

    if node.is_Add and len(node.args) == 2 and sympy.S.One in node.args:
        other = node.args[0] if node.args[1] == 1 else node.args[1]
        negated = -other
        if isinstance(negated, sigmoid):
            return negated.args[0]
    return None


def stable(expr):
    """`expr` rewritten where floats would lose it: 1 - sigma(u) = sigma(-u), log sigma(u) = -softplus(-u)
    (binary cross-entropy near saturation loses all its digits otherwise)."""
    from ..core.ops import sigmoid, softplus

    if not isinstance(expr, sympy.Basic):
        return expr
    expr = expr.replace(lambda n: _one_minus_sigmoid(n) is not None, lambda n: sigmoid(-_one_minus_sigmoid(n)))
    return expr.replace(lambda n: isinstance(n, sympy.log) and isinstance(n.args[0], sigmoid),
                        lambda n: -softplus(-n.args[0].args[0]))


def compile_expression(expr: Expr | Sequence[Expr], symbols: Sequence[Symbol], complex_safe: bool = False) -> Callable:
    """A NumPy function of `symbols` (positional) computing `expr`, rewritten by `stable` first.

    Arguments may be arrays (the function broadcasts); `complex_safe` gives the complex-analytic version."""
    expr = [stable(e) for e in expr] if isinstance(expr, (list, tuple)) else stable(expr)
    functions = COMPLEX_FUNCTIONS if complex_safe else NUMPY_FUNCTIONS
    return sympy.lambdify(list(symbols), expr, modules=[functions, "numpy"], cse=True)


def evaluate(expr: Expr, values: dict[Symbol, float]):
    """`expr` at `values` as a NumPy float (or array)."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    missing = [s.name for s in symbols if s not in values]
    if missing:
        from ..core.errors import DeriveError

        raise DeriveError(f"no value given for {', '.join(missing)}")
    with np.errstate(all="ignore"):
        result = compile_expression(expr, symbols)(*(values[s] for s in symbols))
    return np.float64(result) if np.ndim(result) == 0 else np.asarray(result, dtype=float)


# -- matrix networks, evaluated as NumPy arrays ---------------------------------------------------------

_ENTRYWISE_NUMPY = {
    ("sigmoid", False): _sigmoid, ("sigmoid", True): lambda u: _sigmoid(u) * _sigmoid(-u),  # no 1 - sigma: it cancels
    ("tanh", False): np.tanh, ("tanh", True): lambda u: 1 / np.cosh(u) ** 2,
    ("relu", False): _relu, ("relu", True): lambda u: (np.asarray(u) > 0).astype(np.asarray(u).dtype),
    ("softplus", False): _softplus, ("softplus", True): _sigmoid,
    ("exp", False): np.exp, ("exp", True): np.exp,
    ("log", False): np.log, ("log", True): lambda u: 1 / np.asarray(u),
    ("sin", False): np.sin, ("sin", True): np.cos,
    ("cos", False): np.cos, ("cos", True): lambda u: -np.sin(u),
    ("abs", False): np.abs, ("abs", True): np.sign,
}
_ENTRYWISE_COMPLEX = {
    **_ENTRYWISE_NUMPY,
    ("sigmoid", False): _complex_sigmoid,
    ("sigmoid", True): lambda u: _complex_sigmoid(u) * _complex_sigmoid(-u),
    ("relu", False): _not_analytic("ReLU"), ("relu", True): _not_analytic("ReLU'"),
    ("softplus", False): _complex_softplus, ("softplus", True): _complex_sigmoid,
    ("abs", False): _not_analytic("abs"), ("abs", True): _not_analytic("sign"),
}


def _softmax_rows(z):
    shifted = z - z.real.max(axis=-1, keepdims=True)  # any shift per row gives the same softmax
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


class MatrixEvaluator:
    """Evaluates derive's matrix expressions with NumPy arrays: `values` maps matrix symbols to 2-d arrays,
    scalar symbols and sizes (n) to numbers. `kink_distance` is how close any ReLU argument came to 0 and
    `kink_signs` the signs of those arguments (the checker stays away from kinks, and its steps do not cross
    them). `dtype` is float (float64), np.float32, or complex (complex-analytic operations for the complex
    step; a ReLU raises `NotAnalytic`). With `batch=True` matrices may carry a leading batch dimension
    (B x rows x cols, or rows x cols shared by the batch) and scalars are B x 1 x 1: one call evaluates B points."""

    def __init__(self, values: dict, dtype=float, batch: bool = False):
        self.values = values
        self.batch = batch
        self.dtype = np.dtype(dtype)
        self.complex = self.dtype.kind == "c"
        self.memo: dict = {}
        self.kink_distance = np.inf
        self.kink_signs: list = []

    def _number(self, value):
        return self.dtype.type(value)

    def _scalar(self, value):
        """A reduction's result: a number, or in batch mode a B x 1 x 1 array (it broadcasts against matrices)."""
        if not self.batch:
            return self._number(value)
        return np.asarray(value, dtype=self.dtype).reshape(-1, 1, 1)

    def __call__(self, expr):
        if expr not in self.memo:
            self.memo[expr] = self._evaluate(expr)
        return self.memo[expr]

    def _size(self, d) -> int:
        d = sympy.sympify(d)
        return int(d.xreplace({k: self.values[k] for k in d.free_symbols if k in self.values}))

    def _evaluate(self, node):
        if node in self.values:
            value = self.values[node]
            if isinstance(node, MatrixSymbol):
                return np.asarray(value, dtype=self.dtype)
            return self._scalar(value) if self.batch and np.ndim(value) else self._number(value)
        if isinstance(node, sympy.MatrixBase):  # an explicit matrix of numbers
            return np.array(node.tolist(), dtype=self.dtype)
        if isinstance(node, OneMatrix):
            return np.ones((self._size(node.shape[0]), self._size(node.shape[1])), dtype=self.dtype)
        if isinstance(node, Identity):
            return np.eye(self._size(node.shape[0]), dtype=self.dtype)
        if isinstance(node, ZeroMatrix):
            return np.zeros((self._size(node.shape[0]), self._size(node.shape[1])), dtype=self.dtype)
        if isinstance(node, MatMul):
            result, is_matrix = self._number(1), False
            for factor in node.args:
                value = self(factor)
                matrix = isinstance(factor, sympy.MatrixExpr) if self.batch else np.ndim(value) == 2
                result = result @ value if is_matrix and matrix else result * value
                is_matrix = is_matrix or matrix
            return result
        if isinstance(node, MatAdd):
            inside = _one_minus_sigmoid_matrix(node)
            if inside is not None:  # 1 - sigma(Z) = sigma(-Z), without cancelling near saturation
                return self._entrywise("sigmoid", False, -self(inside))
            return sum(self(t) for t in node.args)
        if isinstance(node, Transpose):
            return np.swapaxes(self(node.arg), -1, -2)
        if isinstance(node, Inverse):
            return np.linalg.inv(self(node.arg))
        if isinstance(node, MatPow):
            return np.linalg.matrix_power(self(node.base), int(node.exp))
        if isinstance(node, HadamardProduct):
            result = self(node.args[0])
            for factor in node.args[1:]:
                result = result * self(factor)
            return result
        if isinstance(node, HadamardPower):
            return self(node.base) ** self(node.exp)
        if isinstance(node, mo.Entrywise) and node.name == "log" and not node.prime:
            inside = _one_minus_sigmoid_matrix(node.arg)
            if inside is not None:  # log(1 - sigma(Z)) = -softplus(Z)
                return -self._entrywise("softplus", False, self(inside))
            if isinstance(node.arg, mo.Entrywise) and node.arg.name == "sigmoid" and not node.arg.prime:
                return -self._entrywise("softplus", False, -self(node.arg.arg))  # log sigma(Z) = -softplus(-Z)
        if isinstance(node, (mo.entrywise_class("abs"), mo.L1Norm)):  # |A| and ||A||_1 have kinks at 0, as ReLU
            argument = self(node.arg)
            if not self.complex:
                self.kink_distance = min(self.kink_distance, float(np.min(np.abs(argument))))
                self.kink_signs.append(np.sign(argument).ravel())
            absolute = self._entrywise("abs", False, argument)
            return absolute if isinstance(node, mo.Entrywise) else self._scalar(np.sum(absolute, axis=(-2, -1)))
        if isinstance(node, mo.Entrywise):
            argument = self(node.arg)
            if node.name == "relu" and not self.complex:
                self.kink_distance = min(self.kink_distance, float(np.min(np.abs(argument))))
                self.kink_signs.append(np.sign(argument).ravel())
            return self._entrywise(node.name, node.prime, argument)
        if isinstance(node, mo.Softmax):
            return _softmax_rows(self(node.arg))
        if isinstance(node, mo.Diag):
            vector = self(node.arg)
            entries = vector.reshape(vector.shape[:-2] + (-1,))  # a column or a row, with any batch dimension
            return entries[..., :, None] * np.eye(entries.shape[-1], dtype=self.dtype)
        if isinstance(node, Trace):
            return self._scalar(np.trace(self(node.arg), axis1=-2, axis2=-1))
        if isinstance(node, Determinant):
            return self._scalar(np.linalg.det(self(node.arg)))
        if isinstance(node, mo.SumEntries):
            return self._scalar(np.sum(self(node.arg), axis=(-2, -1)))
        if isinstance(node, mo.Mean):
            return self._scalar(np.mean(self(node.arg), axis=(-2, -1)))
        if isinstance(node, mo.FrobeniusNorm):
            a = self(node.arg)  # sqrt(sum a^2) is analytic; np.linalg.norm takes |a|
            norm = np.sqrt(np.sum(a * a, axis=(-2, -1))) if self.complex or self.batch else np.linalg.norm(a)
            return self._scalar(norm)
        if isinstance(node, sympy.MatrixExpr):
            raise TypeError(f"no numeric evaluation for {type(node).__name__}")
        if node.is_Number:
            return self._number(float(node))
        if node.is_Symbol:
            raise KeyError(f"no value for {node}")
        # a scalar node over matrix-valued functions: its operation on the operands' numbers
        symbols = sympy.symbols(f"a0:{len(node.args)}", real=True)
        function = _scalar_operation(node.func, len(node.args), symbols, node, self.complex)
        return function(*(_scalar_value(self(a), self.dtype) for a in node.args))

    def _entrywise(self, name: str, prime: bool, argument):
        return (_ENTRYWISE_COMPLEX if self.complex else _ENTRYWISE_NUMPY)[(name, prime)](argument)


def _one_minus_sigmoid_matrix(node):
    """Z when node is 1 - sigma(Z) (the all-ones matrix minus an entrywise sigmoid), else None."""
    if not isinstance(node, MatAdd) or len(node.args) != 2:
        return None
    ones = [t for t in node.args if isinstance(t, OneMatrix)]
    others = [t for t in node.args if not isinstance(t, OneMatrix)]
    if len(ones) != 1 or len(others) != 1 or not isinstance(others[0], MatMul):
        return None
    factors = others[0].args
    if len(factors) == 2 and factors[0] == -1 and isinstance(factors[1], mo.Entrywise) \
            and factors[1].name == "sigmoid" and not factors[1].prime:
        return factors[1].arg
    return None


_SCALAR_OPERATIONS: dict = {}


def _scalar_operation(func, arity, symbols, node, complex_safe=False):
    """A NumPy function applying `node`'s operation to plain numbers (compiled once per kind of node)."""
    key = (func, arity, tuple(a if a.is_Number else None for a in node.args), complex_safe)  # numbers are part of it
    if key not in _SCALAR_OPERATIONS:
        stand_ins = [a if a.is_Number else s for a, s in zip(node.args, symbols)]
        _SCALAR_OPERATIONS[key] = compile_expression(func(*stand_ins), list(symbols), complex_safe)
    return _SCALAR_OPERATIONS[key]


def _scalar_value(value, dtype=np.dtype(float)):
    array = np.asarray(value, dtype=dtype)
    return array.reshape(-1)[0] if array.size == 1 else array
