r"""The matrix reader's commands: \frac, \sqrt, norms \|A\|_F and absolute values |x|, wrappers
(\mathbf, \operatorname{...}), and functions applied (\sigma(Z), \sigma'(Z), \tanh^2 x, \log\det A,
\max(0, x); a 1x1 form under a scalar function is the number it is); commands it does not read are refused
by name. `FunctionReader` is one part of the reader.

What does not live here: symbol names (`matrix_names`), sums and products (`matrix_products`).
"""

from __future__ import annotations

import sympy
from sympy import Integer, S

from ..core.errors import LatexError
from ..core.matrix_ops import (
    ENTRYWISE_FUNCTIONS, add, apply, as_scalar, divide, entrywise_class, is_1x1, is_matrix, norm, root,
)
from .matrix_names import _Name
from .matrix_notation import (
    _ALIASES, _COMMANDS, _DECORATIONS, _FRACTIONS, _FUNCTIONS, _GREEK, _NOT_OPERANDS, _NOT_SUPPORTED,
    _OF_A_NUMBER, _ONES_WRAPPERS, _OPEN_TO_CLOSE, _SCALAR_FUNCTIONS, _UNSUPPORTED, _WORDS, _WRAPPERS,
)
from .matrix_tokens import MAX_EXPONENT, Token
from .matrix_unsized import _combine, _concrete, _is_unsized, _negated, _product

_COMPARISONS = {">": 1, "<": -1, "gt": 1, "lt": -1, "geq": 1, "ge": 1, "geqslant": 1, "leq": -1, "le": -1,
                "leqslant": -1}  # a > b: the indicator of a - b; a < b: of b - a


def _derivative(name: str, value):
    """f'(value): entry by entry on a matrix."""
    if is_matrix(value):
        return entrywise_class(name, prime=True)(value)
    u = sympy.Dummy("u")
    return ENTRYWISE_FUNCTIONS[name](u).fdiff(1).xreplace({u: value})


class FunctionReader:
    """Commands, wrappers and function calls, read by recursive descent."""

    # -- commands

    def command(self):
        token = self.peek()
        name = token.text
        if name == "{":
            return self.group()
        if name in ("|", "Vert", "lVert"):
            return self.norm_bars()
        if name in ("vert", "lvert"):
            return self.absolute()
        if name in _FRACTIONS:
            return self.fraction()
        if name == "sqrt":
            return self.root()
        if name in _WRAPPERS:
            return self.wrapped()
        if name == "sigma" and "sigma" not in self.symbols or name in _COMMANDS:
            self.take()
            return self.function(name.lower(), token.pos)
        if name in _DECORATIONS or name in _GREEK:
            return self.symbol()
        raise self.unknown_command(token)

    def unknown_command(self, token: Token) -> LatexError:
        name = token.text
        if name in _NOT_SUPPORTED:
            return LatexError(f"{_NOT_SUPPORTED[name]}, {self.located(token.pos)}")
        if name in _UNSUPPORTED:
            hint = _FIXES.get(name, "")
            return LatexError(f"\\{name} is not supported in a right-hand side{hint}, {self.located(token.pos)}")
        if name in _NOT_OPERANDS:
            return self.fail(token.pos, f"expected an operand, not \\{name}")
        if not name.isalpha():
            return self.fail(token.pos, f"unexpected '\\{name}'")
        return LatexError(f"undefined function \\{name}, {self.located(token.pos)}")

    def fraction(self):
        pos = self.take().pos
        numerator = self.argument(r"the numerator of \frac")
        denominator = self.divisor(self.argument(r"the denominator of \frac"), pos)
        if _is_unsized(numerator):
            return _product([numerator, divide(S.One, denominator)])
        return divide(numerator, denominator)

    def root(self):
        pos = self.take().pos
        degree = Integer(2)
        if self.at("char", "["):
            degree = _concrete(self.group())
            if not (degree.is_Integer and 2 <= degree <= MAX_EXPONENT):
                raise self.fail(pos, f"the degree of a root must be a whole number from 2 to {MAX_EXPONENT}")
        return root(_concrete(self.argument(r"the argument of \sqrt")), degree)

    def argument(self, what: str):
        """One LaTeX argument: a braced group, or a single digit, letter or Greek letter."""
        token = self.peek()
        if token.kind == "char" and token.text == "{":
            return self.group()
        if token.kind == "digit":
            return Integer(int(self.take().text))
        if token.kind == "letter" or (token.kind == "cmd" and token.text in _GREEK):
            self.take()
            return self.lookup(_Name(token.text), token.pos)
        raise self.fail(token.pos, f"expected {what}")

    def norm_bars(self):
        opener = self.take()
        with self.nested(opener.pos):
            self.open_bars += 1
            inner = self.terms()
            self.open_bars -= 1
        if not self.at("cmd", "|", "Vert", "rVert"):
            raise self.fail(self.peek().pos, rf"expected \rVert or \| to close the norm at position {opener.pos}")
        self.take()
        kind = self.subscript_text("F, 2 or 1") if self.at("char", "_") else "F"
        inner = _concrete(inner)
        if kind not in ("F", "2", "1"):
            raise self.fail(opener.pos, f"unknown norm _{kind}: write _F (Frobenius), _2 (of a vector) or _1 "
                                        "(the sum of the absolute values of the entries)")
        if kind == "2" and is_matrix(inner) and 1 not in inner.shape:
            raise self.fail(opener.pos, "the spectral norm _2 of a matrix is not supported; write _F (Frobenius)")
        return norm(inner, kind)

    def absolute(self):
        opener = self.take()
        with self.nested(opener.pos):
            self.open_bars += 1
            inner = _concrete(self.terms())
            self.open_bars -= 1
        if not (self.at("char", "|") or self.at("cmd", "vert", "rvert")):
            raise self.fail(self.peek().pos, f"expected '|' to close the one at position {opener.pos}")
        self.take()
        if is_1x1(inner):  # |a^T x|, a number
            return norm(as_scalar(inner))
        return apply("abs", inner) if is_matrix(inner) else norm(inner)

    # -- wrappers and functions

    def wrapped(self):
        r"""\mathbf{X}, \mathrm{tr}, \operatorname{ReLU}, \mathbf{1}_n, or a bold group \mathbf{W x}."""
        token = self.peek()
        if token.text in _ONES_WRAPPERS and self.ones_length():
            self.index += self.ones_length()
            if self.at("char", "[") or (self.at("char", "_") and self.at("char", "{", offset=1) and self.conditional()):
                return self.indicator(token.pos)
            return self.all_ones()
        word = self.braced_word()
        if word and word.lower() in _WORDS:
            self.index += len(word) + 3
            return self.function(word.lower(), token.pos)
        found = self.try_symbol()
        if found is not None:
            return found
        if token.text in _ONES_WRAPPERS and "I" not in self.symbols and (self.at("letter", "I", offset=1) or word == "I"):
            self.index += 2 if word != "I" else 4
            return self.identity(token.pos)
        if token.text == "operatorname":
            raise self.undefined_wrapped(token, word)
        if token.text == "mathbb":
            raise self.fail(token.pos, r"\mathbb is only read in \mathbb{1}, the all-ones vector, and \mathbb{I}")
        self.take()
        return self.argument(f"an argument for \\{token.text}")

    def conditional(self) -> bool:
        """Whether the braces after `_` hold a comparison (\\mathbf{1}_{w x > 0}), not a size (\\mathbf{1}_n)."""
        depth, offset = 0, 1
        while not self.at("end", offset=offset):
            token = self.peek(offset)
            depth += (token.kind == "char" and token.text == "{") - (token.kind == "char" and token.text == "}")
            if depth == 0:
                return False
            if (token.kind == "char" and token.text in "<>") or (token.kind == "cmd" and token.text in _COMPARISONS):
                return True
            offset += 1
        return False

    def indicator(self, pos: int):
        r"""The indicator \mathbf{1}[a > b] (also \mathbb{1}, \geq, <, \leq, and \mathbf{1}_{a > b}, \mathbf{1}_{\{a > b\}}):
        1 where the condition holds and 0 elsewhere, entry by entry on a matrix; it is ReLU'(a - b), and a
        non-strict comparison differs from it only where a = b."""
        if self.at("char", "_"):
            self.take()
        opener = self.take()
        closer = _OPEN_TO_CLOSE[(opener.kind, opener.text)]
        set_braces = self.at("cmd", "{")
        if set_braces:
            self.take()
        with self.nested(opener.pos):
            left = self.terms()
        token = self.peek()
        if not (token.kind in ("char", "cmd") and token.text in _COMPARISONS):
            raise self.fail(token.pos, rf"expected a comparison (>, <, \geq, \leq) in the indicator at position {pos}")
        self.take()
        with self.nested(opener.pos):
            right = self.terms()
        for close in ((("cmd", "}"),) if set_braces else ()) + (closer,):
            if not self.at(*close):
                raise self.fail(self.peek().pos, f"expected '{close[1]}' to close the indicator at position {pos}")
            self.take()
        larger, smaller = (left, right) if _COMPARISONS[token.text] > 0 else (right, left)
        difference = _combine(add, [larger, _negated(smaller)])
        return _derivative("relu", _concrete(difference))

    def undefined_wrapped(self, token: Token, word: str) -> LatexError:
        if word.lower() in _NOT_SUPPORTED:
            return LatexError(f"{_NOT_SUPPORTED[word.lower()]}, {self.located(token.pos)}")
        shown = f"\\operatorname{{{word}}}" if word else "\\operatorname"
        return LatexError(f"undefined function {shown}, {self.located(token.pos)}")

    def braced_word(self) -> str:
        r"""The letters of {word} right after the current command (\operatorname{word}); '' if none."""
        if not self.at("char", "{", offset=1):
            return ""
        word, offset = "", 2
        while self.at("letter", offset=offset):
            word += self.peek(offset).text
            offset += 1
        return word if self.at("char", "}", offset=offset) else ""

    def function(self, word: str, pos: int):
        r"""A function applied: \sigma(Z), \sigma'(Z), \tanh^2 x, \log\det A, \max(0, x)."""
        word = _ALIASES.get(word, word)
        prime = self.prime(word, pos)
        exponent = None if prime else self.function_power(word, pos)
        value = self.call(word, self.call_arguments(word, pos), prime, pos)
        return self.raised(value, exponent, pos) if exponent is not None else value

    def prime(self, word: str, pos: int) -> bool:
        r"""Whether a prime (', ^\prime, ^{\prime}) follows a function name."""
        patterns = ([("char", "'")], [("char", "^"), ("cmd", "prime")],
                    [("char", "^"), ("char", "{"), ("cmd", "prime"), ("char", "}")])
        primes = 0
        while found := next((p for p in patterns if all(self.at(*t, offset=i) for i, t in enumerate(p))), None):
            self.index += len(found)
            primes += 1
        if primes > 1:
            raise self.fail(pos, "second and higher derivatives are not supported")
        if primes and word not in ENTRYWISE_FUNCTIONS:
            raise self.fail(pos, f"only the activations {', '.join(ENTRYWISE_FUNCTIONS)} take a prime")
        return bool(primes)

    def function_power(self, word: str, pos: int):
        r"""The n of \tanh^n x, or None."""
        if not self.at("char", "^"):
            return None
        self.take()
        exponent = _concrete(self.argument("an exponent"))
        if not (exponent.is_Integer and 0 < exponent <= MAX_EXPONENT):
            raise self.fail(pos, f"a power on a function name must be a positive whole number; for others "
                                 f"write ({word} x)^{{...}}")
        return exponent

    def call_arguments(self, word: str, pos: int) -> list:
        token = self.peek()
        if (token.kind, token.text) not in _OPEN_TO_CLOSE:
            if word in _SCALAR_FUNCTIONS:
                raise self.fail(token.pos, f"expected '(' after \\{word}")
            with self.nested(pos):
                return [self.postfix()]  # \log x, \det A, \log\det A: one atom with its postfixes
        self.take()
        closer = _OPEN_TO_CLOSE[(token.kind, token.text)]
        bars, self.open_bars = self.open_bars, 0
        with self.nested(token.pos):
            arguments = [self.terms()]
            while word in _SCALAR_FUNCTIONS and self.at("char", ","):
                self.take()
                arguments.append(self.terms())
        self.open_bars = bars
        if not self.at(*closer):
            raise self.fail(self.peek().pos, f"expected '{closer[1]}' to close the argument of {word} at "
                                             f"position {token.pos}")
        self.take()
        return arguments

    def call(self, word: str, arguments: list, prime: bool, pos: int):
        values = [_concrete(a) for a in arguments]
        if word == "min" and any(is_matrix(v) and not is_1x1(v) for v in values):  # min(1, a^T x) is a number
            raise LatexError(rf"\min of a matrix is not supported (\max(0, M) is the ReLU), {self.located(pos)}")
        if word in _SCALAR_FUNCTIONS:
            return _SCALAR_FUNCTIONS[word](*values)
        if prime:
            return _derivative(word, values[0])
        if word in _OF_A_NUMBER and is_1x1(values[0]):
            return _FUNCTIONS[word](as_scalar(values[0]))
        return _FUNCTIONS[word](values[0])


_FIXES = {  # how to write what a refused command meant
    "sum": r" (for the sum of all entries write \operatorname{sum}(A); \sum_{i=1}^{3} w_i x_i is read over "
           "names w_1 .. w_3 and x_1 .. x_3)",
    "cdots": r" (write the terms out, or \operatorname{sum}(A) for the sum of a matrix's entries)",
    "ldots": r" (write the terms out, or \operatorname{sum}(A) for the sum of a matrix's entries)",
    "dots": r" (write the terms out, or \operatorname{sum}(A) for the sum of a matrix's entries)",
    "partial": " (write it out in the problem's symbols: derivatives are what derive works out)",
    "nabla": " (write it out in the problem's symbols: derivatives are what derive works out)",
    "mathcal": r" (name the value with a letter, such as L, and declare it)",
    "prod": " (write the factors out)",
}
