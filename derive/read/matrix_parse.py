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

The reader is split along its grammar: `matrix_tokens` (the tokens and limits), `matrix_products` (sums,
products, powers, transposes), `matrix_functions` (commands and functions), `matrix_names` (symbols,
subscripts, \mathbf{1} and I), `matrix_unsized` (values whose size a neighbour fixes) and `matrix_notation`
(the tables); `_Parser` here combines the parts.

What does not live here: the scalar LaTeX reader (`parse.py`), differentiation, printing.
"""

from __future__ import annotations

from sympy import Rational, S

from ..core.errors import LatexError
from ..core.matrix_ops import dimensions_of
from .matrix_functions import FunctionReader
from .matrix_names import NameReader
from .matrix_products import ProductReader
from .matrix_tokens import (
    MAX_DEPTH, MAX_DIGITS, MAX_EXPONENT, MAX_LENGTH, MAX_NAME, MAX_POWER_DIGITS, TokenCursor, _check_text,
    _digits, _shown, _tokenize,
)
from .matrix_unsized import _NoSize, _concrete

__all__ = ["parse_matrix_latex", "MAX_LENGTH", "MAX_DEPTH", "MAX_EXPONENT", "MAX_DIGITS", "MAX_POWER_DIGITS",
           "MAX_NAME"]  # the limits are read from here


class _Parser(ProductReader, FunctionReader, NameReader, TokenCursor):
    """Recursive descent over the tokens, one method per level of precedence, building as it reads."""

    def __init__(self, text: str, symbols: dict, max_size: int | None = None):
        self.text = text
        self.max_size = max_size  # the largest size a subscript may give (None: MAX_DIGITS digits)
        self.symbols = symbols
        self.dimensions = {d.name: d for value in symbols.values() for d in dimensions_of(value)}
        self.tokens = _tokenize(text, self.fail)
        self.index = 0
        self.depth = 0
        self.open_bars = 0  # inside |...| or \|...\|, a bar closes rather than opens


# -- public --------------------------------------------------------------------------------------------

def parse_matrix_latex(text: str, symbols: dict, max_size: int | None = None):
    r"""The expression a LaTeX right-hand side denotes, over the declared `symbols` (canonical name ->
    Symbol or MatrixSymbol), built with the shape-checked builders of `matrix_ops`.

    Raises `LatexError` for text it cannot read (saying what and where) and lets `ShapeMismatch` through.
    `max_size` bounds the sizes written as subscripts (\mathbf{1}_{16000}, I_{500}).
    """
    _check_text(text)
    parser = _Parser(text, symbols, max_size)
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
