r"""The matrix reader's levels of precedence, loosest first: `+ -`; Hadamard (`\odot`, `\circ`,
`\oslash`); products (juxtaposition, `\cdot`, `\times`, `*`, `/`), kept in the order written; unary
signs; postfix superscripts (`^T`, `^{-1}`, `^{-T}`, `^2`, the Hadamard power `^{\circ 3}`); atoms
(numbers and brackets). `ProductReader` is one part of the reader.

What does not live here: commands and functions (`matrix_functions`), symbol names (`matrix_names`).
"""

from __future__ import annotations

import sympy
from sympy import Integer, Rational, S
from sympy.matrices.expressions import HadamardPower

from ..core.errors import LatexError
from ..core.matrix_ops import (
    ShapeMismatch, add, apply, as_scalar, divide, hadamard, hadamard_power, is_1x1, is_matrix, power,
)
from .matrix_notation import _NOT_OPERANDS, _NOT_SUPPORTED, _OPEN_TO_CLOSE, _UPRIGHT
from .matrix_tokens import MAX_DIGITS, MAX_EXPONENT, MAX_POWER_DIGITS, _digits, _hint, _unexpected
from .matrix_unsized import _combine, _concrete, _negated, _product, _transposed


def _reciprocal(matrix):
    """The entrywise reciprocal B^(o -1)."""
    return HadamardPower(matrix, -1)


class ProductReader:
    """Recursive descent over sums, products, powers and transposes, one method per level of precedence."""

    # -- levels of precedence

    def parse(self):
        value = self.terms()
        token = self.peek()
        if token.kind != "end":
            raise self.fail(token.pos, _unexpected(token))
        return value

    def terms(self):
        terms = [self.entrywise_product()]
        while self.at("char", "+", "-"):
            sign = self.take().text
            term = self.entrywise_product()
            terms.append(_negated(term) if sign == "-" else term)
        return terms[0] if len(terms) == 1 else _combine(add, terms)

    def entrywise_product(self):
        factors = [self.product()]
        while self.at("cmd", "odot", "circ", "oslash"):
            divide = self.take().text == "oslash"
            factor = self.product()
            if divide:  # A (/) B, entrywise division, as derive prints it: A (.) B^(o -1)
                factor = _reciprocal(factor) if is_matrix(factor) else 1 / factor
            factors.append(factor)
        return factors[0] if len(factors) == 1 else _combine(hadamard, factors)

    def product(self):
        factors = [self.unary()]
        while True:
            if self.at("cmd", "cdot", "times") or self.at("char", "*"):
                self.take()
                factors.append(self.unary())
            elif self.at("char", "/"):
                pos = self.take().pos
                factors.append(divide(S.One, self.divisor(self.unary(), pos)))
            elif self.starts_operand():
                factors.append(self.unary())
            else:
                return factors[0] if len(factors) == 1 else _product(factors)

    def unary(self):
        negative = False
        while self.at("char", "+", "-"):
            negative ^= self.take().text == "-"
        value = self.postfix()
        return _negated(value) if negative else value

    def postfix(self):
        value = self.atom()
        while self.at("char", "^"):
            value = self.superscript(value)
        if self.at("char", "'"):
            raise self.fail(self.peek().pos, r"a prime ' only follows a function name, as in \sigma'(Z)")
        if self.at("char", "_"):
            raise self.fail(self.peek().pos, r"a subscript only follows a symbol name, \mathbf{1} or a norm")
        return value

    def starts_operand(self) -> bool:
        """Whether the next token begins an operand, so that juxtaposition is a product."""
        token = self.peek()
        if token.kind in ("digit", "letter"):
            return True
        if token.kind == "char":
            return token.text in "([{" or (token.text == "|" and not self.open_bars) or (
                token.text == "." and self.at("digit", offset=1))
        if token.kind == "cmd" and token.text in ("|", "Vert", "vert"):
            return not self.open_bars
        return token.kind == "cmd" and token.text not in _NOT_OPERANDS

    # -- postfix superscripts

    def superscript(self, value):
        pos = self.take().pos
        if self.pseudo_inverse_mark():
            raise LatexError(f"{_NOT_SUPPORTED['dagger']}, {self.located(pos)}")
        length = self.transpose_length()
        if length:
            self.index += length
            return _transposed(value)
        if self.at("char", "{") and self.at("char", "-", offset=1):
            length = self.transpose_length(offset=2)
            if length and self.at("char", "}", offset=2 + length):  # ^{-T}: inverse transpose
                self.index += 3 + length
                return _transposed(self.raised(value, S.NegativeOne, pos))
        if self.at("char", "{") and self.at("cmd", "circ", offset=1):  # ^{\circ k}: the Hadamard power
            return self.hadamard_power(value, pos)
        return self.raised(value, self.argument("an exponent"), pos)

    def pseudo_inverse_mark(self) -> bool:
        r"""Whether a superscript here is +, \dagger, {+} or {\dagger} (a pseudo-inverse)."""
        marks = (("char", "+"), ("cmd", "dagger"))
        if any(self.at(*mark) for mark in marks):
            return True
        return self.at("char", "{") and any(self.at(*mark, offset=1) for mark in marks) and self.at("char", "}", offset=2)

    def hadamard_power(self, base, pos: int):
        r"""A^{\circ k}, each entry raised to the power k, as derive's printer writes it."""
        opener = self.take()
        self.take()
        with self.nested(opener.pos):
            exponent = _concrete(self.terms())
        if not self.at("char", "}"):
            raise self.fail(self.peek().pos, f"expected '}}' to close the exponent at position {opener.pos}")
        self.take()
        base = _concrete(base)
        if is_matrix(exponent):
            raise self.fail(pos, "an exponent must be a scalar")
        if not is_matrix(base):
            return self.raised(base, exponent, pos)
        if exponent.is_Integer and abs(exponent) > MAX_EXPONENT:
            raise self.fail(pos, f"the exponent {exponent} is larger than {MAX_EXPONENT} in size")
        return hadamard_power(base, exponent)

    def transpose_length(self, offset: int = 0, braced: bool = True) -> int:
        r"""How many tokens a transpose mark (T, \top, \intercal, \mathsf{T}, {T}) takes here; 0 if none."""
        token = self.peek(offset)
        if (token.kind, token.text) in (("letter", "T"), ("cmd", "top"), ("cmd", "intercal")):
            return 1
        if token.kind == "cmd" and token.text in _UPRIGHT:
            if self.at("letter", "T", offset=offset + 1):
                return 2
            if self.at("char", "{", offset=offset + 1) and self.at("letter", "T", offset=offset + 2) and self.at(
                    "char", "}", offset=offset + 3):
                return 4
        if braced and token.kind == "char" and token.text == "{":
            inner = self.transpose_length(offset + 1, braced=False)
            if inner and self.at("char", "}", offset=offset + 1 + inner):
                return inner + 2
        return 0

    def raised(self, base, exponent, pos: int):
        base, exponent = _concrete(base), _concrete(exponent)
        if base == sympy.E:  # e^{x}, and e^{Z} entry by entry (e^{x^T x} is a number)
            return apply("exp", as_scalar(exponent) if is_1x1(exponent) else exponent)
        if is_matrix(exponent):
            raise self.fail(pos, "an exponent must be a scalar")
        if exponent.is_Integer and abs(exponent) > MAX_EXPONENT:
            raise self.fail(pos, f"the exponent {exponent} is larger than {MAX_EXPONENT} in size")
        if not is_matrix(base) and base.is_Rational and exponent.is_Integer:
            if _digits(base) * abs(int(exponent)) > MAX_POWER_DIGITS:
                raise self.fail(pos, f"the number would have more than {MAX_POWER_DIGITS} digits")
        if exponent == 1:  # (A)^{1} is A, whatever its shape
            return base
        try:
            raised = power(base, exponent)
        except ShapeMismatch as error:  # (Yhat - Y)^2 of an n x 2 matrix: the entrywise square was meant
            fix = (f"; for each entry to the power {exponent}, write the Hadamard power ^{{\\circ {exponent}}}"
                   if is_matrix(base) and exponent.is_Integer and exponent > 0 else "")
            message, note, symbolic = error.message.partition(" (the symbolic size")  # the note stays last
            raise ShapeMismatch(f"{message}{fix}, {self.located(pos)}{note}{symbolic}", error.where) from None
        if isinstance(raised, (sympy.Pow, sympy.MatPow)) and not raised.base.is_Rational and \
                raised.exp.is_Integer and abs(raised.exp) > MAX_EXPONENT:  # x^{100}^{100} is x^{10000}
            raise self.fail(pos, f"the power of a power makes the exponent {raised.exp}, larger than "
                                 f"{MAX_EXPONENT} in size")
        return raised

    def divisor(self, value, pos: int):
        value = _concrete(value)
        if not is_matrix(value) and value == 0:
            raise self.fail(pos, "division by zero")
        return value

    # -- atoms

    def atom(self):
        token = self.peek()
        if token.kind == "digit" or (token.kind == "char" and token.text == "." and self.at("digit", offset=1)):
            return self.number()
        if token.kind == "letter":
            return self.letters()
        if (token.kind, token.text) in _OPEN_TO_CLOSE:
            return self.group()
        if token.kind == "char" and token.text == "|":
            return self.absolute()
        if token.kind == "cmd":
            return self.command()
        raise self.fail(token.pos, "expected an operand" + _hint(token))

    def number(self):
        pos = self.peek().pos
        whole = self.digits()
        fraction = ""
        if self.at("char", ".") and self.at("digit", offset=1):
            self.take()
            fraction = self.digits()
        if len(whole) + len(fraction) > MAX_DIGITS:
            raise self.fail(pos, f"a number has more than {MAX_DIGITS} digits")
        return Integer(int(whole or "0")) + Rational(int(fraction or "0"), 10 ** len(fraction))

    def digits(self) -> str:
        text = ""
        while self.at("digit") and len(text) <= MAX_DIGITS:
            text += self.take().text
        return text

    def group(self):
        opener = self.take()
        closer = _OPEN_TO_CLOSE[(opener.kind, opener.text)]
        bars, self.open_bars = self.open_bars, 0
        with self.nested(opener.pos):
            value = self.terms()
        self.open_bars = bars
        shown = ("\\" if closer[0] == "cmd" else "") + closer[1]
        if not self.at(*closer):
            raise self.fail(self.peek().pos, f"expected '{shown}' to close the bracket at position {opener.pos}")
        self.take()
        return value
