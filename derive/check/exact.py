"""The exact check: each derived gradient against `sympy.diff` of the loss at random rational points.

No floats: derive's activations are rewritten to elementary functions (sigma(u) = 1/(1 + e^-u),
ReLU(u) = max(0, u), softplus(u) = log(1 + e^u)) for an independent oracle, both sides are evaluated
bottom-up with each distinct subexpression once, in exact rational arithmetic (Python `Fraction`) as long
as no transcendental function is met, and with 60-digit mpmath arithmetic from there on. A result says
which it was: "exact" (rational, equal) or the number of digits the two agree to. NumPy-free.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy
from sympy import Heaviside

from ..core.errors import CheckError
from ..core.ops import relu, sigmoid, softplus

DIGITS = 60
AGREE = 40  # digits two transcendental values must share


def elementary(expr):
    """`expr` with derive's activations rewritten to SymPy's elementary functions (the oracle's input)."""
    return expr.replace(sigmoid, lambda u: 1 / (1 + sympy.exp(-u))).replace(
        relu, lambda u: sympy.Max(0, u)).replace(softplus, lambda u: sympy.log(1 + sympy.exp(u)))


def rational_point(symbols, rng: random.Random) -> dict:
    """A random rational in [-2, 2] for each symbol (denominators 5..11, as a hand-checker would pick)."""
    return {s: sympy.Rational(rng.randint(-19, 19), rng.randint(5, 11)) for s in symbols}


def _mpf(value):
    return mpmath.mpf(value.numerator) / value.denominator if isinstance(value, Fraction) else value


class ExactEvaluator:
    """Evaluates expressions at a rational point: Fractions while exact, mpmath numbers after."""

    def __init__(self, point: dict):
        self.point = {s: Fraction(int(v.p), int(v.q)) for s, v in point.items()}
        self.memo: dict = {}

    def __call__(self, expr):
        with mpmath.workdps(DIGITS):
            return self._value(expr)

    def _value(self, node):
        if node in self.memo:
            return self.memo[node]
        stack = [node]
        while stack:  # post-order without recursion: deep networks nest hundreds of levels
            current = stack[-1]
            pending = [a for a in current.args if a not in self.memo] if not current.is_Atom else []
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if current not in self.memo:
                self.memo[current] = self._node(current)
        return self.memo[node]

    def _node(self, e):
        if e in self.point:
            return self.point[e]
        if e.is_Rational:
            return Fraction(int(e.p), int(e.q))
        if e.is_Number:
            return mpmath.mpf(sympy.Float(e, DIGITS))
        if e.is_NumberSymbol:
            return mpmath.mpf(sympy.N(e, DIGITS))
        if e.is_Symbol:
            raise CheckError(f"no value for {e} in the exact check")
        args = [self.memo[a] for a in e.args]
        exact = all(isinstance(a, Fraction) for a in args)
        if e.is_Add:
            return sum(args, Fraction(0)) if exact else mpmath.fsum(_mpf(a) for a in args)
        if e.is_Mul:
            result = Fraction(1) if exact else mpmath.mpf(1)
            for a in args:
                result = result * (a if exact else _mpf(a))
            return result
        if e.is_Pow:
            base, power = args
            if exact and power.denominator == 1 and (base != 0 or power >= 0):
                return base ** int(power)
            return _mpf(base) ** _mpf(power)
        if isinstance(e, Heaviside):
            u = args[0]
            h0 = args[1] if len(args) > 1 else Fraction(1, 2)
            return Fraction(1) if u > 0 else Fraction(0) if u < 0 else h0
        if isinstance(e, (sympy.Max, sympy.Min)):
            return (max if isinstance(e, sympy.Max) else min)(args, key=lambda a: _mpf(a))
        if isinstance(e, sympy.Abs):
            return abs(args[0])
        if isinstance(e, sympy.sign):
            u = args[0]
            return Fraction((u > 0) - (u < 0))
        functions = {sympy.exp: mpmath.exp, sympy.log: mpmath.log, sympy.sin: mpmath.sin, sympy.cos: mpmath.cos,
                     sympy.tanh: mpmath.tanh}
        for kind, function in functions.items():
            if isinstance(e, kind):
                u = _mpf(args[0])
                if kind is sympy.log and u <= 0:
                    raise CheckError(f"log of {mpmath.nstr(u, 6)} in {sympy.sstr(e)} at the rational point")
                return function(u)
        raise CheckError(f"the exact check cannot evaluate {type(e).__name__} (in {sympy.sstr(e)})")


@dataclass(frozen=True, slots=True)
class ExactComparison:
    """One gradient entry at one rational point: derive's value against sympy.diff's."""

    derived: object  # Fraction or mpf
    truth: object
    exact: bool  # both rational: compared exactly

    @property
    def equal(self) -> bool:
        if self.exact:
            return self.derived == self.truth
        return abs(_mpf(self.derived) - _mpf(self.truth)) <= mpmath.mpf(10) ** (-AGREE) * max(1, abs(_mpf(self.truth)))

    @property
    def digits(self) -> float:
        """Significant digits the two share (DIGITS when they are equal to working precision)."""
        difference = abs(_mpf(self.derived) - _mpf(self.truth))
        if difference == 0:
            return float(DIGITS)
        return float(min(DIGITS, -mpmath.log10(difference / max(1, abs(_mpf(self.truth))))))


def compare_exactly(loss, gradients: dict, point: dict, truths: dict | None = None) -> dict:
    """{variable: ExactComparison} of each derived gradient with sympy.diff(loss, variable) at `point`.

    `truths` caches the sympy.diff results between points."""
    truths = {} if truths is None else truths
    oracle = elementary(loss)
    evaluator = ExactEvaluator(point)
    result = {}
    for variable, derived in gradients.items():
        if variable not in truths:
            truths[variable] = sympy.diff(oracle, variable)
        with mpmath.workdps(DIGITS):
            a, t = evaluator(elementary(sympy.sympify(derived))), evaluator(truths[variable])
        result[variable] = ExactComparison(a, t, isinstance(a, Fraction) and isinstance(t, Fraction))
    return result
