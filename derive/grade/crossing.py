r"""Points on the other side of an answer's kinks, wherever that side is: the search that stops an answer
right only on the region sampled (`+ \operatorname{ReLU}(w x - 300)`, `+ X^T \operatorname{ReLU}(X W - 100
\mathbf{1})`, `+ \max(w x, 500) - 500`) from being judged correct.

A kink argument (scalar, or a matrix whose entries are the arguments) that keeps one sign at every sample
point is followed along rays from the sample points, p + t d with t = 1, 2, 4, ... up to `FARTHEST`, until
it takes the other sign; the crossing is then found by bisection, and the points handed on lie just past it
(`PAST`), where the kinked term is small enough for the rest of the answer to stay finite, and at the first
ray point that crossed. A kink that never changes sign (`\operatorname{ReLU}(-w^2 - 1)`) yields no points:
the term is zero everywhere and the answer is judged without it.

What does not live here: comparing the answer there (`verify.Judge`), the kink expressions of the registry
(`derive.check.kinks`).
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import sympy
from sympy import MatrixSymbol, preorder_traversal

from ..check.kinks import kink_expressions
from ..core import matrix_ops as mo

FARTHEST = 2.0 ** 30  # rays go out to this many times the sample points' spread
RAYS = 8  # directions tried per kink
BISECTIONS = 40
PAST = (0.05, 0.5, 2.0)  # points at t* (1 + u) beyond the crossing t*
MIN_ENTRY = 1e-3  # an argument entry this close to 0 has no sign (the sample points keep this far from kinks)


def kink_arguments(expr) -> list:
    """The expressions whose sign changes where `expr` has a kink or a jump: the registry's scalar kinks
    (ReLU, |.|, max, min), sign and Heaviside arguments, and the matrices under an entrywise ReLU, |.|, ReLU'
    or an entrywise 1-norm (each entry is an argument)."""
    found = []
    for node in preorder_traversal(expr):
        if isinstance(node, mo.L1Norm) or (isinstance(node, mo.Entrywise) and node.name in mo.KINKED):
            found.append(node.args[0])
        elif isinstance(node, (sympy.sign, sympy.Heaviside)) and not mo.is_matrix(node.args[0]):
            found.append(node.args[0])
    if not mo.is_matrix(expr):
        try:
            found += kink_expressions(expr)
        except Exception:  # an expression the registry does not know has no kinks we can name
            pass
    unique = []
    for argument in found:
        if argument not in unique and not argument.is_number:
            unique.append(argument)
    return unique


def signs_seen(values) -> set:
    """The signs (+1, -1) taken by the entries of `values` (one array per point) that are clear of 0."""
    seen = set()
    for value in values:
        value = np.asarray(value, dtype=float)
        if np.any(value >= MIN_ENTRY):
            seen.add(1)
        if np.any(value <= -MIN_ENTRY):
            seen.add(-1)
    return seen


def beyond(argument, sign: int, starts: list[dict], value: Callable, direction: Callable,
           rng: np.random.Generator) -> Iterator[dict]:
    """Points where some entry of `argument` has sign `sign`, found along rays from the points `starts`
    (`value(expr, point)` evaluates; `direction(point, rng)` draws a direction of the point's shapes)."""
    for ray in range(RAYS):
        start = starts[ray % len(starts)]
        step = direction(start, rng)

        def at(t: float) -> dict:
            return {key: (v + t * step[key] if key in step else v) for key, v in start.items()}

        def reach(t: float) -> float:  # > 0 where an entry has the sign wanted
            with np.errstate(all="ignore"):
                entries = sign * np.asarray(value(argument, at(t)), dtype=float)
            return float(np.max(entries)) if entries.size and np.all(np.isfinite(entries)) else np.nan

        inside, t = 0.0, 1.0
        while t <= FARTHEST:
            r = reach(t)
            if np.isnan(r):
                break
            if r >= MIN_ENTRY:
                break
            inside, t = t, 2 * t
        else:
            continue
        if np.isnan(r):
            continue
        low, high = inside, t
        for _ in range(BISECTIONS):
            middle = (low + high) / 2
            if reach(middle) >= MIN_ENTRY:
                high = middle
            else:
                low = middle
        for past in PAST:
            if high * (1 + past) < t:
                yield at(high * (1 + past))
        yield at(t)


def direction_of(point: dict, inputs, one_hot, rng: np.random.Generator) -> dict:
    """A random direction for `inputs` with the shapes they have at `point`; a one-hot input's rows keep
    their sum (its last column takes the others' negative sum)."""
    step = {}
    for symbol in inputs:
        value = point[symbol]
        if isinstance(symbol, MatrixSymbol):
            d = rng.uniform(-1.0, 1.0, size=np.shape(value))
            if symbol in one_hot:
                d[:, -1] = -d[:, :-1].sum(axis=1)
            step[symbol] = d
        else:
            step[symbol] = float(rng.uniform(-1.0, 1.0))
    return step


__all__ = ["beyond", "direction_of", "kink_arguments", "signs_seen"]
