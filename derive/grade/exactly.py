r"""Exact comparison of an answer with the gradient at a point: its values there carried to many digits
(rationals evaluated as Floats of `digits` digits, never symbolically), the differences past rounding, and
the point in a few words for a message. Used by `verify.Judge`'s exact layer and its kink search.

What does not live here: choosing the points, deciding (`verify`).
"""

from __future__ import annotations

import sympy
from sympy import Symbol

from ..core.matrix_explicit import explicit
from ..read.matrix_tokens import _digits

EXACT_DIGITS = 50  # an answer that passes the float tolerance is evaluated again exactly, to at least these digits


def expression_size(expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


def exact_precision(answer) -> int:
    """Digits to evaluate to before a difference counts as zero: well past the smallest difference the
    answer's own numbers can make (10^{-60}: 60 digits), and never fewer than `EXACT_DIGITS`."""
    digits = max((_digits(r) for r in answer.atoms(sympy.Rational)), default=1.0)
    return int(3 * digits) + EXACT_DIGITS


def exact_gaps(answer, truth, point, digits, reference: float = 1.0):
    """([|difference| of each entry that is not zero], size of the gradient) at an exact point, each value
    evaluated to `digits` digits (a difference below 10^{-(digits - 15)} of the gradient's size there, or of
    `reference` where that is larger, is rounding);
    (None, 0) when a value there is not a finite real number."""
    def floats(key, value):  # the exact rationals, carried to `digits` digits (not symbolic: fast)
        if isinstance(value, sympy.MatrixBase):
            return value.applyfunc(lambda u: sympy.Float(u, digits))
        return value if isinstance(key, Symbol) and key.is_integer else sympy.Float(value, digits)

    point = {key: floats(key, value) for key, value in point.items()}
    answer_value, truth_value = explicit(answer, point), explicit(truth, point)  # Floats of `digits` digits
    answers = list(answer_value) if isinstance(answer_value, sympy.MatrixBase) else [answer_value]
    truths = list(truth_value) if isinstance(truth_value, sympy.MatrixBase) else [truth_value]
    answers = [sympy.N(a, digits) for a in answers]
    truths = [sympy.N(t, digits) for t in truths]
    if not all(v.is_real and v.is_finite for v in answers + truths):
        return None, 0
    scale = max(abs(t) for t in truths)
    rounding = max(scale, reference) * sympy.Float(10, digits) ** (15 - digits)
    gaps = [abs(a - t) for a, t in zip(answers, truths) if abs(a - t) > rounding]
    return gaps, scale


def shown_point(point) -> str:
    """The point in a few words (a long one cut short: the evidence has it in full)."""
    shown = ", ".join(f"{getattr(s, 'name', s)} = {v.tolist() if isinstance(v, sympy.MatrixBase) else v}"
                      for s, v in point.items() if not (isinstance(s, Symbol) and s.is_integer))
    return shown if len(shown) <= 160 else shown[:157] + "..."


__all__ = ["EXACT_DIGITS", "exact_gaps", "exact_precision", "expression_size", "shown_point"]
