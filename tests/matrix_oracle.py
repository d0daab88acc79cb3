"""The independent oracle for matrix gradients: explicit matrices of scalar entries and `sympy.diff`.

`assert_matches_oracle(network, loss, solution)` expands the loss into a scalar expression in the entries
of every input (symbolic dimensions set to a small size), differentiates it with `sympy.diff` entry by entry,
and compares each entry of each derived gradient at random rational points to 40 significant digits.
"""

from __future__ import annotations

import random

import sympy
from sympy import Rational
from sympy.matrices.expressions import MatrixSymbol

from derive.check.gradient_check import explicit_instance


def rational_point(symbols, rng: random.Random) -> dict:
    """A random point with rational coordinates in [-2, 2], none of them 0."""
    point = {}
    for s in symbols:
        value = Rational(rng.randint(-40, 40), rng.randint(11, 23))
        point[s] = value if value != 0 else Rational(1, 7)
    return point


def assert_matches_oracle(solution, size: int = 2, points: int = 2, seed: int = 0, digits: int = 40) -> None:
    network, loss = solution.network, solution.loss
    inputs = sorted(network.inputs.values(), key=lambda s: s.name)
    gradients = {d.wrt: d.expanded() for d in solution.derivations}
    for d in solution.derivations:
        shape = d.wrt.shape if isinstance(d.wrt, MatrixSymbol) else (1, 1)
        result_shape = getattr(d.result, "shape", (1, 1))
        assert tuple(result_shape) == tuple(shape), (d.wrt, result_shape, shape)
    scalar_loss, entries, entry_inputs, owner = explicit_instance(network.expand(loss), gradients, inputs, size,
                                                                  network.one_hot)
    rng = random.Random(seed)
    for _ in range(points):
        point = rational_point(entry_inputs, rng)
        for entry, derived in entries.items():
            truth = sympy.diff(scalar_loss, entry)
            difference = (truth - derived).xreplace(point)
            value = sympy.N(difference, digits)
            scale = max(1, abs(sympy.N(truth.xreplace(point), digits)))
            assert abs(value) < scale * sympy.Float(10) ** (-(digits - 8)), (
                f"d{loss}/d{entry}: derived {derived} differs from sympy.diff by {value} at {point}")
