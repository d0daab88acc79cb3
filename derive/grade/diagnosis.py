"""Saying what is wrong with an answer that differs from the gradient: sign, constant factor, wrong index,
missing or extra factor, sigma for sigma', transpose, reversed product, shape.

Diagnoses compare numerically, as the numeric layer does: the ratio to the truth, the gradient with respect to
another variable, the truth without one of its factors or the answer without one, and so on, each at the
judge's sample points. `Diagnoses` is a part of `verify.Judge` (its sample points, `agrees` and `_value` are the
judge's); deciding whether the answer is wrong at all lives in `verify`.
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction

import numpy as np
import sympy
from sympy import MatrixSymbol, Symbol
from sympy.matrices.expressions import HadamardProduct, MatMul

from ..core import matrix_ops as mo
from ..core.ops import sigmoid
from ..core.printing import latex
from .verdict import MIN_POINTS, Diagnosis, expression_shape, shape_words, symbol_shape


DIAGNOSIS_SECONDS = 5.0  # the search for a usual slip stops after this long (or a quarter of the time limit):
# the answer is incorrect whatever it finds, and a deep network's candidates can take minutes to try
CANDIDATES = 40  # factors tried as missing, or as extra, at most


def diagnosis_budget(time_limit: float | None) -> float:
    """How long the search for a usual slip may take under a time limit on the whole decision."""
    return DIAGNOSIS_SECONDS if time_limit is None else min(DIAGNOSIS_SECONDS, time_limit / 4)


class Diagnoses:
    """The diagnoses of a `verify.Judge`, which has the truth, the other gradients and the sample points.
    `diagnosis_seconds` bounds the search (`diagnosis_budget`); past it the diagnosis says so."""

    diagnosis_seconds: float = DIAGNOSIS_SECONDS
    _diagnosis_ends: float = float("inf")

    def _out_of_time(self) -> bool:
        return time.monotonic() > self._diagnosis_ends

    def _shape_diagnosis(self, answer) -> Diagnosis:
        should, is_ = shape_words(expression_shape(self.truth)), shape_words(expression_shape(answer))
        shaped = latex(getattr(self, 'shaped_as', self.wrt))
        if mo.is_matrix(answer) and expression_shape(mo.transpose(answer)) == expression_shape(self.truth) and \
                self.agrees(mo.transpose(answer)):
            return Diagnosis("transposed", f"your answer is the transpose of the gradient: should be {should}, "
                                           f"is {is_} (the gradient has the shape of {shaped})", (shaped,))
        return Diagnosis("wrong_shape", f"wrong shape: should be {should}, is {is_} (the gradient has the "
                                        f"shape of {shaped})", (shaped,))

    def diagnose(self, written, answer, kinks) -> Diagnosis:
        self._diagnosis_ends = time.monotonic() + self.diagnosis_seconds
        for finder in (self._ratio, self._transposed, self._wrong_index, self._sigma_swap, self._missing_factor,
                       self._extra_factor, self._reordered):
            found = finder(written, answer, kinks)
            if found is not None:
                return found
        if self._out_of_time():
            return Diagnosis("other", "your answer differs from the gradient at the sample points; the search for "
                                      "the usual slips (sign, factor, missing chain-rule factor, sigma for sigma', "
                                      "transpose, index) did not finish in time for an expression this large")
        return Diagnosis("other", "your answer differs from the gradient at the sample points; "
                                  "none of the usual slips (sign, factor, missing chain-rule factor, sigma for "
                                  "sigma', transpose, index) explains it")

    def _ratio(self, written, answer, kinks) -> Diagnosis | None:
        ratios = []
        for values, truth in zip(self.points, self.truth_values):
            if not self._usable(answer, values, kinks):
                continue
            value = self._value(answer, values).reshape(np.shape(truth))
            big = np.abs(truth) > 1e-6 * max(1e-12, float(np.max(np.abs(truth))))
            if not np.any(big):
                continue
            ratios += list((value[big] / truth[big]).ravel()) if np.ndim(truth) else [float(value / truth)]
        if len(ratios) < MIN_POINTS or not np.all(np.isfinite(ratios)):
            return None
        c = float(np.median(ratios))
        if abs(c) < 1e-9 or np.max(np.abs(np.asarray(ratios) - c)) > 1e-6 * max(1.0, abs(c)):
            return None
        if abs(c + 1) < 1e-6:
            return Diagnosis("sign", "sign error: your answer is the negative of the gradient")
        return Diagnosis("factor", f"a constant factor off: your answer is {_number(c)} times the gradient")

    def _transposed(self, written, answer, kinks) -> Diagnosis | None:
        """The transpose of a square gradient has the right shape: it is found by its values."""
        if mo.is_matrix(answer) and expression_shape(answer) is not None and self.agrees(mo.transpose(answer), kinks=kinks):
            return Diagnosis("transposed", "your answer is the transpose of the gradient")
        return None

    def _wrong_index(self, written, answer, kinks) -> Diagnosis | None:
        for other, expanded in self.others.items():
            truths = [self._value(expanded, p) for p in self.points]
            if self.agrees(answer, truths, kinks):
                return Diagnosis("wrong_index", f"wrong index: this is the gradient with respect to "
                                                f"{latex(other)}, not {latex(self.wrt)}", (latex(other), latex(self.wrt)))
        for a, b in self._index_swaps(written):
            if self.agrees(self.network.expand(written.xreplace({a: b, b: a})), kinks=kinks):
                return Diagnosis("wrong_index", f"wrong index: {latex(a)} and {latex(b)} are swapped",
                                 (latex(a), latex(b)))
        return None

    def _index_swaps(self, written):
        """Pairs of same-shaped symbols that differ only in an index (x_1 and x_2, W^{(1)} and W^{(2)})."""
        used = [s for s in written.free_symbols if isinstance(s, (Symbol, MatrixSymbol))]
        names = {s.name: s for s in self.network.inputs.values()} | {s.name: s for s in self.network.definitions}
        pairs = []
        for s in used:
            stem = s.name.split("_")[0].split("^")[0]
            for other in names.values():
                if other != s and other.name.split("_")[0].split("^")[0] == stem and symbol_shape(other) == symbol_shape(s):
                    pairs.append((s, other))
        return pairs[:12]

    def _sigma_swap(self, written, answer, kinks) -> Diagnosis | None:
        for node in _sigmoids(written):
            if self._out_of_time():
                return None
            if self.agrees(self.network.expand(written.xreplace({node: _sigmoid_prime(node)})), kinks=kinks):
                return Diagnosis("sigma_for_sigma_prime", rf"\sigma where \sigma' belongs: {latex(node)} should be "
                                                          rf"its derivative {latex(_sigmoid_prime(node))}",
                                 (r"\sigma", r"\sigma'", latex(node), latex(_sigmoid_prime(node))))
        return None

    def _missing_factor(self, written, answer, kinks) -> Diagnosis | None:
        values = [self._value(answer, p) for p in self.points]
        for factor, without in itertools.chain(_without_factors(self.derivation.result),
                                               _without_factors(_sigma_prime_spelled(self.derivation.result,
                                                                                     self.network))):
            if self._out_of_time():
                return None
            if self.agrees(self.network.expand(without), values):
                return Diagnosis("missing_factor", f"a factor is missing: {latex(factor)}"
                                 + _chain_hint(factor), (latex(factor),))
        return None

    def _extra_factor(self, written, answer, kinks) -> Diagnosis | None:
        for factor, without in _without_factors(written):
            if self._out_of_time():
                return None
            if self.agrees(self.network.expand(without)):
                return Diagnosis("extra_factor", f"an extra factor: {latex(factor)} does not belong in the gradient",
                                 (latex(factor),))
        return None

    def _reordered(self, written, answer, kinks) -> Diagnosis | None:
        for node in written.atoms(MatMul) if mo.is_matrix(written) else ():
            matrices = [f for f in node.args if mo.is_matrix(f)]
            scalars = [f for f in node.args if not mo.is_matrix(f)]
            if self._out_of_time():
                return None
            try:
                swapped = mo.matmul(*scalars, *reversed(matrices))
            except mo.ShapeMismatch:
                continue
            if self.agrees(self.network.expand(written.xreplace({node: swapped}))):
                return Diagnosis("reordered", f"the product {latex(node)} is in the wrong order "
                                              f"(matrix products do not commute)", (latex(node),))
        return None


def _number(c: float) -> str:
    fraction = Fraction(c).limit_denominator(100)
    if abs(float(fraction) - c) < 1e-9 * max(1.0, abs(c)):
        return str(fraction)
    return f"{c:.6g}"


def _sigmoids(expr) -> list:
    found = [n for n in sympy.preorder_traversal(expr) if isinstance(n, sigmoid)]
    found += [n for n in sympy.preorder_traversal(expr)
              if isinstance(n, mo.Entrywise) and n.name == "sigmoid" and not n.prime]
    return list(dict.fromkeys(found))


def _sigmoid_prime(node):
    if isinstance(node, mo.Entrywise):
        return mo.entrywise_class("sigmoid", prime=True)(node.arg)
    return node * (1 - node)


def _sigma_prime_spelled(expr, network):
    """`expr` with each sigma'(Z) written as sigma(Z) (.) (1 - sigma(Z)), as students write it (H (.) (1 - H), in
    the network's names where sigma(Z) has one), so that one of its two factors can be found missing; the
    same expression where it has no sigma'."""
    if not mo.is_matrix(expr):
        return expr
    primes = [n for n in sympy.preorder_traversal(expr)
              if isinstance(n, mo.Entrywise) and n.name == "sigmoid" and n.prime]
    if not primes:
        return expr
    named = {definition: symbol for symbol, definition in getattr(network, "definitions", {}).items()}
    spelled = {}
    for node in primes:
        value = mo.entrywise_class("sigmoid")(node.arg)
        value = named.get(value, value)
        spelled[node] = mo.hadamard(value, mo.add(sympy.S.One, mo.negate(value)))
    return expr.xreplace(spelled)


def _without_factors(expr) -> list:
    """(factor, expr without it) for each factor of a product and each pair (for the sigma' of a chain rule:
    yhat (1 - yhat)), of a scalar product or of a Hadamard product inside a matrix expression, and for each
    scalar factor of a matrix product; the first `CANDIDATES` of them (a 100-factor product has 5050 pairs)."""
    return list(itertools.islice(_factors_left_out(expr), CANDIDATES))


def _factors_left_out(expr):
    if isinstance(expr, sympy.Mul):
        args = expr.args
        for k in (1, 2):
            for chosen in itertools.combinations(range(len(args)), k):
                factor = sympy.Mul(*(args[i] for i in chosen))
                rest = sympy.Mul(*(a for i, a in enumerate(args) if i not in chosen))
                yield factor, rest
    for node in sympy.preorder_traversal(expr) if mo.is_matrix(expr) else ():
        if isinstance(node, HadamardProduct):
            for k in (1, 2):
                for chosen in itertools.combinations(range(len(node.args)), k):
                    rest = [a for j, a in enumerate(node.args) if j not in chosen]
                    if not rest:
                        continue
                    factor = node.args[chosen[0]] if k == 1 else mo.hadamard(*(node.args[i] for i in chosen))
                    yield factor, expr.xreplace({node: rest[0] if len(rest) == 1 else mo.hadamard(*rest)})
        elif isinstance(node, MatMul):
            for i, factor in enumerate(node.args):
                if not mo.is_matrix(factor):
                    rest = [a for j, a in enumerate(node.args) if j != i]
                    yield factor, expr.xreplace({node: mo.matmul(*rest) if len(rest) > 1 else rest[0]})


def _chain_hint(factor) -> str:
    text = sympy.sstr(factor)
    if "SigmoidPrime" in text or ("yhat" in text and "1 - " in text) or "sigmoid" in text:
        return r" (the derivative of the sigmoid, from the chain rule)"
    return ""
