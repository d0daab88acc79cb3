"""The library's numbers: a network's expressions evaluated at the values a user gives (`evaluate_in`).

Behind `derive.Network.evaluate` and `Derivation.evaluate`: the values are read by name or symbol, symbolic
sizes (n) are bound from the arrays' shapes or given, vectors given flat are read in their declared
orientation, and a bad value is a one-line `DeriveError` naming it. The evaluation itself is the forward pass
(`forward_pass.Program`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import sympy
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol

from ..core.errors import DeriveError
from .forward_pass import Program


def evaluate_in(network, exprs: Sequence, values: dict) -> list:
    """The values of `exprs` (expressions in `network`'s names) at `values` ({name or symbol: number or
    array}): NumPy arrays of the expressions' shapes for matrices, NumPy floats (or arrays of them, evaluated
    elementwise) for scalars. Symbolic sizes (n) come from the arrays' shapes or may be given; a value given
    for a definition holds it (its definition is not evaluated). Bad values are one-line `DeriveError`s."""
    given, sizes = _read_values(network, values)
    leaves = list(network.inputs.values()) + [s for s in given if s in network.definitions]
    program = Program.of(network.definitions.items(), leaves)
    exprs = [sympy.sympify(e) for e in exprs]
    missing = program.missing(exprs, given)
    if missing:
        raise DeriveError(f"no value given for {', '.join(s.name for s in missing)}")
    leaf_values = {s: given[s] for s in program.leaves if s in given}
    with np.errstate(all="ignore"):
        if not program.matrix:
            arguments = [np.asarray(leaf_values.get(s, np.nan), dtype=float) for s in program.leaves]
            results = program.function(exprs)(*arguments)
        else:
            shaped = _with_shapes(leaf_values, sizes)
            results, _ = program.evaluate({**shaped, **sizes}, exprs)
    return [_plain(r, e, sizes) for r, e in zip(results, exprs)]


def _read_values(network, values: dict) -> tuple[dict, dict]:
    """({symbol: value}, {size symbol: int}) from the user's mapping, names or symbols as keys."""
    if not isinstance(values, dict):
        raise DeriveError(f"the values must be a mapping of names to numbers or arrays, not {type(values).__name__}")
    dimensions = {d.name: d for d in network.dimensions}
    given, sizes = {}, {}
    for key, value in values.items():
        name = key if isinstance(key, str) else getattr(key, "name", str(key))
        if name in dimensions:
            sizes[dimensions[name]] = _size_value(name, value)
            continue
        symbol = network.symbol(name)  # a one-line error naming the symbols when there is none
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise DeriveError(f"the value of {name} is not a number or an array of numbers: {value!r}") from None
        given[symbol] = array
    return given, _infer_sizes(given, sizes)


def _size_value(name, value) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise DeriveError(f"the size {name} must be a positive integer, not {value!r}")


def _shape_text(shape) -> str:
    return "x".join(str(d) for d in shape) if shape else "a scalar"


def _infer_sizes(given: dict, sizes: dict) -> dict:
    """The symbolic sizes bound by the given matrices' shapes; a shape that disagrees is named with both."""
    source = {d: "given" for d in sizes}
    for symbol, array in given.items():
        if not isinstance(symbol, MatrixSymbol):
            if array.size != 1 and array.ndim > 1:
                raise DeriveError(f"{symbol.name} is a scalar, but the value given has shape {_shape_text(array.shape)}")
            continue
        declared = tuple(sympy.sympify(d) for d in symbol.shape)
        if array.ndim < 2:  # a vector given flat: its length is its one size other than 1
            long = [_resolved(d, sizes) for d in declared if d != 1]
            if len(long) == 1 and long[0].is_Symbol and long[0] not in sizes:
                sizes[long[0]], source[long[0]] = int(array.size), symbol.name
            continue
        if array.ndim != 2:
            raise DeriveError(f"{symbol.name} is a {_declared_text(declared)} matrix, but the value given has "
                              f"shape {_shape_text(array.shape)}")
        for d, actual in zip(declared, array.shape):
            d = _resolved(d, sizes)
            if d.is_Symbol and d not in sizes:
                sizes[d], source[d] = int(actual), symbol.name
            elif d.is_Integer and int(d) != actual:
                expected = tuple(_resolved(x, sizes) for x in symbol.shape)
                bound = ", ".join(f"{s} = {sizes[s]} from {source[s]}" for s in _size_symbols(symbol) if s in sizes)
                raise DeriveError(f"{symbol.name} must be {_shape_text(expected)}"
                                  f"{f' ({bound})' if bound else ''}, but the value given is {_shape_text(array.shape)}")
    return sizes


def _resolved(d, sizes: dict):
    """A declared size with the known sizes put in (an Integer once they are known)."""
    return sympy.sympify(d).xreplace({k: sympy.Integer(v) for k, v in sizes.items()})


def _declared_text(declared) -> str:
    return "x".join(sympy.sstr(d) for d in declared)


def _size_symbols(symbol) -> list:
    return sorted({s for d in symbol.shape for s in getattr(d, "free_symbols", ())}, key=lambda s: s.name)


def _with_shapes(values: dict, sizes: dict) -> dict:
    """Each matrix value as a 2-d array of its declared shape (vectors given flat read in their declared
    orientation); a shape that cannot be read so is a one-line error."""
    shaped = {}
    for symbol, array in values.items():
        if not isinstance(symbol, MatrixSymbol):
            shaped[symbol] = float(array.reshape(-1)[0]) if array.size == 1 else array
            continue
        expected = tuple(_resolved(d, sizes) for d in symbol.shape)
        unresolved = [d for d in expected if not d.is_Integer]
        if unresolved:
            raise DeriveError(f"the size {sympy.sstr(unresolved[0])} of {symbol.name} is not known: give a matrix "
                              f"that has it, or its value ({sympy.sstr(unresolved[0])}=...)")
        expected = tuple(int(d) for d in expected)
        if array.ndim < 2 and array.size == int(np.prod(expected)) and 1 in expected:
            array = array.reshape(expected)
        if array.shape != expected:
            raise DeriveError(f"{symbol.name} must be {_shape_text(expected)}, but the value given is "
                              f"{_shape_text(array.shape)}")
        shaped[symbol] = array
    return shaped


def _plain(value, expr, sizes: dict):
    """A matrix value as a float array of the expression's shape, a scalar as a NumPy float (or float array)."""
    if isinstance(expr, MatrixExpr):
        shape = tuple(int(_resolved(d, sizes)) for d in expr.shape)
        return np.broadcast_to(np.asarray(value, dtype=float), shape).copy()
    array = np.asarray(value, dtype=float)
    return np.float64(array.reshape(-1)[0]) if array.size == 1 and array.ndim <= 2 else array
