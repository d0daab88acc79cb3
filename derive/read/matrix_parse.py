r"""Reading one LaTeX right-hand side in the matrix notation of deep learning into a shape-checked expression.

`parse_matrix_latex` tokenizes the text by hand and reads it by recursive descent, making every node with
the builders in `matrix_ops`, so shapes are checked while reading and a `ShapeMismatch` names both shapes.
The text is untrusted (student answers go through it): nothing here evaluates it (no eval, no sympify or
parse_expr of strings), and its length, nesting, exponents and numbers are bounded.

Precedence, loosest first: `+ -`; Hadamard (`\odot`, `\circ`); products (juxtaposition, `\cdot`, `\times`,
`*`, `/`); unary signs; postfix (`^T`, `^{-1}`, `^2`, the Hadamard power `^{\circ 3}`). An all-ones vector written without a size
(`\mathbf{1}`), or the identity `I` (when no symbol I is declared), is held as an `_Unsized` value until a
neighbour in a product, sum or Hadamard product fixes its size. A 1x1 form under a scalar function
(`\log(x^T A x)`, `\sqrt{x^T x}`, a quotient) is the number it is. Notation that is understood but not
supported (Kronecker products, pseudo-inverses) is refused by name.

What does not live here: the scalar LaTeX reader (`parse.py`), differentiation, printing.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Callable

import sympy
from sympy import Integer, Rational, S
from sympy.matrices.expressions import HadamardPower

from ..core.errors import LatexError
from ..core.matrix_ops import (
    ENTRYWISE_FUNCTIONS, add, apply, as_scalar, det, diag, dimensions_of, divide, entrywise_class, hadamard,
    hadamard_power,
    identity, is_1x1, is_matrix, matmul, maximum, mean, minimum, negate, norm, ones, power, root, softmax, sum_entries,
    trace, transpose,
)

MAX_LENGTH = 4000
MAX_DEPTH = 50
MAX_EXPONENT = 100
MAX_DIGITS = 30
MAX_POWER_DIGITS = 4000  # a power of numbers, (9^{100})^{100}, may not grow past about this many digits
MAX_NAME = 40

# -- notation tables -------------------------------------------------------------------------------

_IGNORED = {",", ";", ":", "!", " ", "quad", "qquad", "enspace", "thinspace", "medspace", "thickspace",
            "negthinspace", "displaystyle", "textstyle"}
_SIZING = {"left", "right"} | {f"{size}{side}" for size in ("big", "Big", "bigg", "Bigg")
                               for side in ("", "l", "r", "m")}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
          "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma", "tau", "upsilon",
          "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
          "Upsilon", "Phi", "Psi", "Omega", "ell"}
_DECORATIONS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
                "widetilde": "tilde"}
_WRAPPERS = {"mathbf", "boldsymbol", "bm", "mathrm", "mathit", "mathsf", "text", "textrm", "textbf",
             "textit", "rm", "operatorname", "mathbb"}
_ONES_WRAPPERS = {"mathbf", "boldsymbol", "bm", "mathbb"}
_UPRIGHT = {"mathsf", "mathrm", "rm", "text", "textrm", "textsf", "mathit"}  # around the T of a transpose
_FRACTIONS = {"frac", "tfrac", "dfrac", "cfrac"}
_CONSTANTS = {"e": sympy.E, "pi": sympy.pi}  # used only when not declared as symbols
_RELATIONS = {"le", "leq", "ge", "geq", "neq", "ne", "approx", "equiv", "sim", "propto", "to", "in",
              "coloneqq", "mapsto", "Rightarrow", "iff", "ll", "gg"}
_UNSUPPORTED = {"int", "iint", "oint", "sum", "prod", "lim", "partial", "nabla", "infty", "mathcal",
                "forall", "exists", "cdots", "ldots", "dots", "begin", "end"}
_NOT_SUPPORTED = {  # notation that is understood, and refused in one line
    "otimes": r"Kronecker products (\otimes) are not supported",
    "kron": r"Kronecker products (\operatorname{kron}) are not supported",
    "dagger": r"pseudo-inverses (A^\dagger, A^+) are not supported",
    "pinv": r"pseudo-inverses (\operatorname{pinv}) are not supported",
}
_NOT_OPERANDS = {"odot", "circ", "oslash", "cdot", "times", "}", "rVert", "rvert", "top", "intercal", "prime"} | _RELATIONS
_OPEN_TO_CLOSE = {("char", "("): ("char", ")"), ("char", "["): ("char", "]"), ("char", "{"): ("char", "}"),
                  ("cmd", "{"): ("cmd", "}")}


def _entrywise(name: str) -> Callable:
    return lambda x: apply(name, x)


# word -> builder, for one-argument functions; the entrywise ones also take a prime (sigma'(Z))
_FUNCTIONS: dict[str, Callable] = {
    "sigmoid": _entrywise("sigmoid"), "tanh": _entrywise("tanh"), "relu": _entrywise("relu"),
    "softplus": _entrywise("softplus"), "exp": _entrywise("exp"), "log": _entrywise("log"),
    "sin": _entrywise("sin"), "cos": _entrywise("cos"),
    "softmax": softmax, "sum": sum_entries, "mean": mean, "tr": trace, "det": det, "diag": diag,
}
_OF_A_NUMBER = {"exp", "log", "sin", "cos"}  # of a 1x1 form (x^T A x) the scalar function, not entry by entry
_SCALAR_FUNCTIONS = {"max": maximum, "min": minimum}  # any number of scalar arguments; max(0, M) is ReLU(M)
_ALIASES = {"sigma": "sigmoid", "ln": "log", "trace": "tr"}
_WORDS = set(_FUNCTIONS) | set(_SCALAR_FUNCTIONS) | set(_ALIASES)  # \operatorname{word}, compared in lower case
_COMMANDS = {"tanh", "exp", "log", "ln", "det", "max", "min", "tr", "Tr", "trace", "sigmoid", "relu", "ReLU",
             "softplus", "softmax", "mean", "sin", "cos"}  # \word; \sigma is the sigmoid when sigma is not declared


# -- tokens ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Token:
    """One piece of the text: "letter" and "digit" (one character each), "cmd" (a backslash command,
    named without its backslash), "char" (punctuation) or "end"."""

    kind: str
    text: str
    pos: int


_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)
_CHARS = set("()[]{}^_'+-*/|,=<>.")


def _tokenize(text: str, fail: Callable) -> list[Token]:
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in " \n\r~":
            i += 1
        elif ch == "\\":
            match = _COMMAND.match(text, i)
            if match is None:
                raise fail(i, "a backslash with no command after it")
            name, i = match.group(1), match.end()
            if name in _SIZING:
                i = _after_invisible_delimiter(text, i)
            elif name not in _IGNORED:
                tokens.append(Token("cmd", name, match.start()))
        elif ch in "0123456789" or (ch.isascii() and ch.isalpha()):
            tokens.append(Token("digit" if ch.isdigit() else "letter", ch, i))
            i += 1
        elif ch in _CHARS:
            tokens.append(Token("char", ch, i))
            i += 1
        else:
            raise fail(i, f"unexpected character {ch!r}")
    tokens.append(Token("end", "", len(text)))
    return tokens


def _after_invisible_delimiter(text: str, i: int) -> int:
    r"""Past the '.' of \left. or \right., which sizes nothing."""
    j = i
    while j < len(text) and text[j] == " ":
        j += 1
    return j + 1 if text[j:j + 1] == "." else i


# -- values whose shape is not known yet --------------------------------------------------------------

class _NoSize(Exception):
    r"""A \mathbf{1} or an I whose size nothing fixed (the argument says which)."""


@dataclass(frozen=True, slots=True)
class _Unsized:
    r"""\mathbf{1} or I with no size, or an expression built from one: `rows`/`cols` are the dimensions
    known so far (None if not), `build(rows, cols)` makes the expression once both are known. A `square`
    value (the identity) has one size: knowing its rows is knowing its columns."""

    rows: object
    cols: object
    build: Callable
    square: bool = False
    what: str = r"\mathbf{1}"

    def fix(self, rows=None, cols=None):
        """This value with its unknown dimensions set where given; dimensions already known stay."""
        new_rows = self.rows if self.rows is not None else rows
        new_cols = self.cols if self.cols is not None else cols
        if self.square:
            new_rows = new_cols = new_rows if new_rows is not None else new_cols
        if (new_rows, new_cols) == (self.rows, self.cols):
            return self
        return _unsized(new_rows, new_cols, self.build, self.square, self.what)

    def like(self, rows, cols, build):
        """An expression of this value, with its squareness and its name (for a message)."""
        return _Unsized(rows, cols, build, self.square, self.what)


def _unsized(rows, cols, build, square=False, what=r"\mathbf{1}"):
    if rows is not None and cols is not None:
        return build(rows, cols)
    return _Unsized(rows, cols, build, square, what)


def _is_unsized(value) -> bool:
    return isinstance(value, _Unsized)


def _shape(value):
    """(rows, cols) of a matrix or an unsized value (None for unknown parts); None for a scalar."""
    if _is_unsized(value):
        return value.rows, value.cols
    return value.shape if is_matrix(value) else None


def _fixed(value, rows=None, cols=None):
    return value.fix(rows, cols) if _is_unsized(value) else value


def _concrete(value):
    if _is_unsized(value):
        raise _NoSize(value.what)
    return value


def _negated(value):
    if _is_unsized(value):
        return value.like(value.rows, value.cols, lambda r, c: negate(value.fix(r, c)))
    return negate(value)


def _transposed(value):
    if _is_unsized(value):
        return value.like(value.cols, value.rows, lambda r, c: transpose(value.fix(c, r)))
    return transpose(value)


def _size_from_neighbours(factors: list) -> None:
    """Fix the inner dimensions of unsized factors from their nearest matrix neighbours, until nothing changes."""
    changed = True
    while changed:
        changed = False
        shaped = [i for i, f in enumerate(factors) if _shape(f) is not None]
        for left, right in zip(shaped, shaped[1:]):
            a, b = factors[left], factors[right]
            inner_a, inner_b = _shape(a)[1], _shape(b)[0]
            new_a = _fixed(a, cols=inner_b) if inner_b is not None else a
            new_b = _fixed(b, rows=inner_a) if inner_a is not None else b
            if new_a is not a or new_b is not b:
                factors[left], factors[right] = new_a, new_b
                changed = True


def _product(factors: list):
    """matmul over the factors, left to right; an unsized factor takes its length from its neighbours."""
    factors = list(factors)
    _size_from_neighbours(factors)
    if not any(_is_unsized(f) for f in factors):
        return matmul(*factors)
    shaped = [i for i, f in enumerate(factors) if _shape(f) is not None]
    first, last = shaped[0], shaped[-1]

    def build(rows, cols):
        sized = list(factors)
        sized[first] = _fixed(sized[first], rows=rows)
        sized[last] = _fixed(sized[last], cols=cols)
        _size_from_neighbours(sized)
        return matmul(*[_concrete(f) for f in sized])

    alone = factors[first] if first == last and _is_unsized(factors[first]) else None  # c I is square as I is
    if alone is not None:
        return alone.like(alone.rows, alone.cols, build)
    return _unsized(_shape(factors[first])[0], _shape(factors[last])[1], build)


def _reciprocal(matrix):
    """The entrywise reciprocal B^(o -1)."""
    return HadamardPower(matrix, -1)


def _combine(builder: Callable, items: list):
    """`add` or `hadamard` over the items; an unsized item takes the shape of the matrices beside it."""
    if not any(_is_unsized(i) for i in items):
        return builder(*items)
    matrices = [i for i in items if is_matrix(i)]
    if matrices:
        rows, cols = builder(*matrices).shape
        return builder(*[_fixed(i, rows, cols) for i in items])
    unsized = [i for i in items if _is_unsized(i)]
    rows = next((u.rows for u in unsized if u.rows is not None), None)
    cols = next((u.cols for u in unsized if u.cols is not None), None)
    square = all(u.square for u in unsized)
    return _unsized(rows, cols, lambda r, c: builder(*[_fixed(i, r, c) for i in items]), square, unsized[0].what)


def _derivative(name: str, value):
    """f'(value): entry by entry on a matrix."""
    if is_matrix(value):
        return entrywise_class(name, prime=True)(value)
    u = sympy.Dummy("u")
    return ENTRYWISE_FUNCTIONS[name](u).fdiff(1).xreplace({u: value})


# -- names ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Name:
    r"""A symbol name as written: base (W, yhat, Delta), subscript (1), layer index ((2)), and whether a
    T followed the index (W^{(2)T})."""

    base: str
    sub: str | None = None
    index: str | None = None
    transposed: bool = False

    @property
    def canonical(self) -> str:
        sub = f"_{self.sub}" if self.sub else ""
        index = f"^{{({self.index})}}" if self.index else ""
        return self.base + sub + index


# -- the parser ----------------------------------------------------------------------------------------

class _Parser:
    """Recursive descent over the tokens, one method per level of precedence, building as it reads."""

    def __init__(self, text: str, symbols: dict):
        self.text = text
        self.symbols = symbols
        self.dimensions = {d.name: d for value in symbols.values() for d in dimensions_of(value)}
        self.tokens = _tokenize(text, self.fail)
        self.index = 0
        self.depth = 0
        self.open_bars = 0  # inside |...| or \|...\|, a bar closes rather than opens

    # -- tokens and errors

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def at(self, kind: str, *texts: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == kind and (not texts or token.text in texts)

    def take(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, pos: int, reason: str) -> LatexError:
        near = self.text[pos:pos + 12].rstrip()
        where = f"at position {pos} near '{near}'" if near else "at the end"
        return LatexError(f"cannot read '{_shown(self.text)}' {where}: {reason}")

    def located(self, pos: int) -> str:
        return f"at position {pos} of '{_shown(self.text)}'"

    @contextmanager
    def nested(self, pos: int):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(pos, f"brackets, braces and function calls are nested more than {MAX_DEPTH} deep")
        try:
            yield
        finally:
            self.depth -= 1

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
        return power(base, exponent)

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
            hint = r" (for the sum of all entries write \operatorname{sum}(A))" if name == "sum" else ""
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

    # -- symbols

    def letters(self):
        r"""Letters side by side: a declared name spelled out (lr, W1), a function word (relu(Z)), or a
        product of one-letter symbols."""
        pos = self.peek().pos
        run = self.run_text()
        if len(run) > 1:
            found = self.try_symbol()
            if found is not None:
                return found
            if run.lower() in _WORDS and (self.at("char", "(", "'", offset=len(run))):
                self.index += len(run)
                return self.function(run.lower(), pos)
        return self.symbol(run)

    def run_text(self) -> str:
        """The letters and digits written together from here (at most MAX_NAME characters: no name is longer)."""
        text, i = "", self.index
        while len(text) < MAX_NAME and self.tokens[i].kind in (("letter", "digit") if text else ("letter",)):
            if text and self.tokens[i].pos != self.tokens[i - 1].pos + 1:
                break
            text += self.tokens[i].text
            i += 1
        return text

    def try_symbol(self):
        """The declared symbol whose name is spelled here, whole; None (and nothing read) if there is none."""
        start = self.index
        name = self.read_name(whole_run=True)
        value = self.known(name) if name is not None else None
        if value is None:
            self.index = start
            return None
        return _transposed(value) if name.transposed else value

    def symbol(self, run: str = ""):
        pos = self.peek().pos
        name = self.read_name(whole_run=False)
        if name is None:
            raise self.fail(pos, "expected a symbol name")
        if name.base == "I" and name.index is None and "I" not in self.symbols and self.known(name) is None:
            return self.identity(pos, name.sub)
        value = self.lookup(name, pos, run)
        return _transposed(value) if name.transposed else value

    def known(self, name: _Name):
        key = name.canonical
        if key in self.symbols:
            return self.symbols[key]
        return self.dimensions.get(key, _CONSTANTS.get(key))

    def lookup(self, name: _Name, pos: int, run: str = ""):
        value = self.known(name)
        if value is None:
            declared = ", ".join(sorted(self.symbols)) or "none"
            spelled = f"; '{run}' reads as a product of one-letter symbols" if len(run) > 1 else ""
            raise LatexError(f"unknown symbol {name.canonical} (declared: {declared}{spelled}), "
                             f"{self.located(pos)}")
        return value

    def read_name(self, whole_run: bool) -> _Name | None:
        core = self.name_core(whole_run)
        return self.name_suffixes(core) if core is not None else None

    def name_core(self, whole_run: bool) -> _Name | None:
        r"""The start of a name: letters, a Greek letter, \hat{...}, or \mathbf{...} around a name."""
        token = self.peek()
        if token.kind == "letter":
            text = self.run_text() if whole_run else token.text
            self.index += len(text)
            return _Name(text)
        if token.kind == "cmd" and token.text in _GREEK:
            self.take()
            return _Name(token.text)
        if token.kind == "cmd" and token.text in _DECORATIONS:
            return self.decorated()
        if token.kind == "cmd" and token.text in _WRAPPERS - {"operatorname", "mathbb"}:
            return self.wrapped_name()
        return None

    def decorated(self) -> _Name:
        token = self.take()
        with self.nested(token.pos):
            if self.at("char", "{"):
                self.take()
                inner = self.name_core(whole_run=True)
                inner = self.name_suffixes(inner) if inner is not None else None
                if inner is None or not self.at("char", "}"):
                    raise self.fail(token.pos, f"expected one symbol name inside \\{token.text}{{...}}")
                self.take()
            else:
                inner = self.name_core(whole_run=False)
                if inner is None:
                    raise self.fail(token.pos, f"expected a symbol name after \\{token.text}")
        return replace(inner, base=inner.base + _DECORATIONS[token.text])

    def wrapped_name(self) -> _Name | None:
        token = self.take()
        if self.at("letter"):
            return _Name(self.take().text)
        if not self.at("char", "{"):
            return None
        self.take()
        with self.nested(token.pos):
            inner = self.name_core(whole_run=True)
            inner = self.name_suffixes(inner) if inner is not None else None
        if inner is None or not self.at("char", "}"):
            return None
        self.take()
        return inner

    def name_suffixes(self, name: _Name) -> _Name:
        """A subscript and a layer index, in either order, after a name."""
        while not name.transposed:
            if self.at("char", "_") and name.sub is None:
                name = replace(name, sub=self.subscript_text("a subscript"))
            elif self.at("char", "^") and name.index is None and (found := self.layer_index()) is not None:
                name = replace(name, index=found[0], transposed=found[1])
            else:
                break
        return name

    def subscript_text(self, what: str) -> str:
        r"""The letters and digits of a subscript: _1, _{12}, _{\text{out}}."""
        pos = self.take().pos
        if self.at("letter") or self.at("digit"):
            return self.take().text
        if not self.at("char", "{"):
            raise self.fail(pos, f"expected {what} after _")
        self.take()
        text, depth = "", 1
        while depth:
            token = self.take()
            if token.kind in ("letter", "digit"):
                text += token.text
            elif token.kind == "char" and token.text in "{}":
                depth += 1 if token.text == "{" else -1
            elif not (token.kind == "cmd" and token.text in _UPRIGHT):
                raise self.fail(token.pos, "a subscript holds letters and digits only")
        if not text:
            raise self.fail(pos, "an empty subscript")
        return text

    def layer_index(self) -> tuple[str, bool] | None:
        r"""(index, transposed) for a layer or example index ^{(1)}, ^{[l]}, ^{(2)T}; None if this is
        not one (a power such as ^{(1/2)} is read later as a power)."""
        if not (self.at("char", "{", offset=1) and self.at("char", "(", "[", offset=2)):
            return None
        start = self.index
        closer = ")" if self.peek(2).text == "(" else "]"
        self.index += 3
        text = ""
        while self.at("letter") or self.at("digit") or self.at("char", "+", "-"):
            text += self.take().text
        if text and self.at("char", closer):
            self.take()
            transposed = self.transpose_length(braced=False)
            self.index += transposed
            if self.at("char", "}"):
                self.take()
                return text, bool(transposed)
        self.index = start
        return None

    # -- wrappers, the all-ones vector, functions

    def wrapped(self):
        r"""\mathbf{X}, \mathrm{tr}, \operatorname{ReLU}, \mathbf{1}_n, or a bold group \mathbf{W x}."""
        token = self.peek()
        if token.text in _ONES_WRAPPERS and self.ones_length():
            self.index += self.ones_length()
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

    def ones_length(self) -> int:
        if self.at("digit", "1", offset=1):
            return 2
        if self.at("char", "{", offset=1) and self.at("digit", "1", offset=2) and self.at("char", "}", offset=3):
            return 4
        return 0

    def all_ones(self):
        if not self.at("char", "_"):
            return _Unsized(None, S.One, lambda rows, cols: ones(rows, S.One))
        pos = self.peek().pos
        return ones(self.size(self.subscript_text("a size"), r"\mathbf{1}", pos), S.One)

    def identity(self, pos: int, size: str | None = None):
        r"""The identity I, I_n, \mathbf{I}_3 (when no symbol I is declared), sized from its neighbours as
        \mathbf{1} is when no size is written."""
        if size is None and self.at("char", "_"):
            pos = self.peek().pos
            size = self.subscript_text("a size")
        if size is None:
            return _Unsized(None, None, lambda rows, cols: identity(rows), square=True, what="I")
        return identity(self.size(size, "I", pos))

    def size(self, size: str, what: str, pos: int):
        """A size written as a subscript: a positive whole number or one of the declared dimensions."""
        if size.isdigit() and int(size) > 0 and len(size) <= MAX_DIGITS:
            return Integer(int(size))
        if size not in self.dimensions:
            known = ", ".join(sorted(self.dimensions)) or "none"
            raise LatexError(rf"unknown dimension {size} in {what}_{size} (the declared shapes use: "
                             f"{known}), {self.located(pos)}")
        return self.dimensions[size]

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


# -- messages -----------------------------------------------------------------------------------------

def _digits(number: Rational) -> float:
    """About how many decimal digits a rational number takes to write (without making the string)."""
    return (abs(number.p).bit_length() + number.q.bit_length()) * 0.30103 + 1


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _hint(token: Token) -> str:
    if token.kind == "end":
        return ", but the text ended"
    if token.kind == "char" and token.text in ")]}":
        return f", not '{token.text}'"
    return ""


def _unexpected(token: Token) -> str:
    if token.kind == "char" and token.text in "=<>" or token.kind == "cmd" and token.text in _RELATIONS:
        return "a right-hand side is one expression, not a relation"
    if token.kind == "char" and token.text in ")]}" or token.kind == "cmd" and token.text in ("}", "rVert"):
        return f"'{token.text}' closes a bracket that was never opened"
    return f"unexpected '{token.text}' after a complete expression"


def _check_text(text) -> None:
    if not isinstance(text, str):
        raise LatexError(f"a right-hand side must be text, not {type(text).__name__}")
    if not text.strip():
        raise LatexError("the right-hand side is empty")
    if len(text) > MAX_LENGTH:
        raise LatexError(f"the right-hand side is {len(text)} characters long; the limit is {MAX_LENGTH}")
    control = re.search(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]", text)
    if control:
        raise LatexError(f"the right-hand side contains the control character {control.group()!r} at position "
                         f"{control.start()}: YAML turns \\t in double quotes into a tab, so write LaTeX "
                         "unquoted or in single quotes ('\\tanh(x)')")


# -- public --------------------------------------------------------------------------------------------

def parse_matrix_latex(text: str, symbols: dict):
    r"""The expression a LaTeX right-hand side denotes, over the declared `symbols` (canonical name ->
    Symbol or MatrixSymbol), built with the shape-checked builders of `matrix_ops`.

    Raises `LatexError` for text it cannot read (saying what and where) and lets `ShapeMismatch` through.
    """
    _check_text(text)
    parser = _Parser(text, symbols)
    try:
        value = _concrete(parser.parse())
    except _NoSize as unsized:
        what = unsized.args[0]
        raise LatexError(rf"cannot tell the size of {what} in '{_shown(text)}': write {what}_n") from None
    except RecursionError:
        raise LatexError(f"'{_shown(text)}' is nested too deeply to read") from None
    if value.has(S.ComplexInfinity, S.NaN, S.Infinity, S.NegativeInfinity):
        raise LatexError(f"'{_shown(text)}' divides by zero or is otherwise undefined")
    if any(_digits(r) > MAX_POWER_DIGITS for r in value.atoms(Rational)):
        raise LatexError(f"'{_shown(text)}' makes a number with more than {MAX_POWER_DIGITS} digits")
    return value
