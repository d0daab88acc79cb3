"""The check's exact method: every gradient entry against `sympy.diff` of the loss at rational points
(`exact_check`, a `CheckReport`), and a matrix network for concrete sizes as scalar expressions in its
entries (`explicit_instance`, also the tracer's and the tests' instance).

The oracle itself (exact and 60-digit arithmetic) is `exact`; the float methods are in `gradient_check`.
"""

from __future__ import annotations

import random

import numpy as np
import sympy
from sympy import Expr, MatrixSymbol, Symbol
from sympy.matrices import MatrixBase

from ..core.errors import CheckError
from ..core.matrix_ops import dimensions_of, entry_symbols, explicit
from .kinks import kink_expressions
from .options import METHOD_TITLES
from .problems import _dims
from .report import CheckEntry, CheckReport, relative_error


def _scalar_instance(loss, gradients, inputs, one_hot, size):
    """(loss, {coordinate symbol: gradient}, inputs, {coordinate: (variable, index)}) in scalar symbols."""
    if not any(isinstance(s, MatrixSymbol) for s in inputs):
        return loss, dict(gradients), list(inputs), {w: (w.name, None) for w in gradients}
    scalar_loss, entries, entry_inputs, _ = explicit_instance(loss, gradients, inputs, size, one_hot)
    labels = {}
    for w in gradients:
        if isinstance(w, MatrixSymbol):
            rows, cols = (int(sympy.sympify(d).xreplace({x: size for x in _dims(inputs)})) for d in w.shape)
            for i in range(rows):
                for j in range(cols):
                    labels[Symbol(f"{w.name}[{i},{j}]", real=True)] = (w.name, (i, j))
        else:
            labels[w] = (w.name, None)
    return scalar_loss, entries, entry_inputs, labels


def exact_check(loss, gradients: dict, inputs: list, points=3, seed: int = 0, one_hot=(), size: int = 2) -> CheckReport:
    """Every gradient entry against sympy.diff of the loss at random rational points (or given ones, read as
    the exact rationals their floats are), in exact arithmetic where no transcendental function is met."""
    from .exact import compare_exactly, rational_point

    scalar_loss, entries, entry_inputs, labels = _scalar_instance(loss, gradients, inputs, one_hot, size)
    kinks = kink_expressions(sympy.sympify(scalar_loss))
    rng, truths, found, redrawn = random.Random(seed), {}, [], 0
    given = None if isinstance(points, (int, np.integer)) else ([points] if isinstance(points, dict) else list(points))
    for number in range(1, (len(given) if given else int(points)) + 1):
        for tries in range(200):
            point = (_rational_given(given[number - 1], entry_inputs, rng, number) if given
                     else rational_point(entry_inputs, rng))
            try:
                at_kink = any(sympy.sympify(k).xreplace(point) == 0 for k in kinks)
                comparisons = None if at_kink else compare_exactly(scalar_loss, entries, point, truths)
            except (CheckError, ZeroDivisionError):
                comparisons = None
            if comparisons is not None or given:
                break
            redrawn += 1
        else:
            raise CheckError("no rational point in [-2, 2] was away from kinks and inside the loss's domain after 200 tries")
        if comparisons is None:
            raise CheckError(f"point {number} is at a kink or outside the loss's domain: the exact check needs a differentiable point")
        named = {s.name: float(v) for s, v in point.items()}
        for symbol, c in comparisons.items():
            variable, index = labels[symbol]
            a, t = float(c.derived), float(c.truth)
            error = 0.0 if c.equal and c.exact else float(abs(c.derived - c.truth))
            rel = 0.0 if c.equal else relative_error(a, t)
            kind = ("exact" if c.exact else "good") if c.equal else "wrong"  # no floats: any difference is an error
            found.append(CheckEntry(variable, named, a, t, error, rel, kind, index, number))
    notes = ["rational arithmetic where the values are rational, 60-digit arithmetic after exp, log or tanh "
             "(agreement to 40 digits counts as equal)"]
    if redrawn:
        notes.append(f"{redrawn} rational point(s) were redrawn (at a kink, or outside the loss's domain)")
    if any(isinstance(s, MatrixSymbol) for s in inputs) and _dims(inputs):
        notes.append(f"matrix dimensions {', '.join(sorted(str(d) for d in _dims(inputs)))} set to {size}")
    return CheckReport(METHOD_TITLES["exact"], tuple(found), tuple(notes), "exact")


def _rational_given(point, entry_inputs, rng, number):
    from .exact import rational_point

    named = {}
    for key, value in (point or {}).items():
        name = key if isinstance(key, str) else key.name
        array = np.asarray(value, dtype=float)
        if array.ndim == 2:
            named.update({f"{name}[{i},{j}]": float(array[i, j]) for i in range(array.shape[0]) for j in range(array.shape[1])})
        else:
            named[name] = float(array)
    drawn = rational_point(entry_inputs, rng)
    return {s: sympy.Rational(named[s.name]) if s.name in named else drawn[s] for s in entry_inputs}


def explicit_instance(loss: Expr, gradients: dict, inputs: list, size: int = 2, one_hot=()):
    """The loss and gradients of a matrix network for concrete sizes, as scalar expressions in the entries.

    Every symbolic dimension (n, m, ...) becomes `size`; every matrix input becomes an explicit matrix of
    entry symbols (X[0,1], ...). Returns (loss, {entry symbol: gradient entry}, entry inputs, {entry: matrix name}).
    """
    dims = set()
    for symbol in inputs:
        dims |= dimensions_of(symbol)
    values: dict = {d: size for d in dims}
    entry_inputs, owner = [], {}
    for symbol in inputs:
        if isinstance(symbol, MatrixSymbol):
            shape = tuple(int(sympy.sympify(d).xreplace(values)) for d in symbol.shape)
            matrix = entry_symbols(symbol, shape)
            free = list(matrix)
            if symbol in one_hot:
                free = [matrix[i, j] for i in range(matrix.rows) for j in range(matrix.cols - 1)]
                matrix = sympy.Matrix(matrix)
                for i in range(matrix.rows):
                    matrix[i, matrix.cols - 1] = 1 - sympy.Add(*(matrix[i, j] for j in range(matrix.cols - 1)))
                matrix = matrix.as_immutable()
            values[symbol] = matrix
            entry_inputs += free
            owner.update({e: symbol.name for e in free})
        else:
            entry_inputs.append(symbol)
            owner[symbol] = symbol.name
    scalar_loss = _scalar(explicit(loss, values))
    entries = {}
    for wrt, gradient in gradients.items():
        value = explicit(gradient, values)
        if isinstance(wrt, MatrixSymbol):
            for entry, g in zip(values[wrt], value if isinstance(value, MatrixBase) else [value]):
                entries[entry] = g
        else:
            entries[wrt] = _scalar(value)
    return scalar_loss, entries, entry_inputs, owner


def _scalar(value):
    return value[0, 0] if isinstance(value, MatrixBase) else value
