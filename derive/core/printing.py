"""The one LaTeX printer for derive's mathematics: a SymPy `LatexPrinter` subclass.

Notation changes by overriding `_print_<Class>` here, never by editing strings afterwards:
registered functions print under their registry names (sigma, ReLU, softplus), indicator functions for
ReLU's and max's derivatives, sums with a positive term first (`\\hat{y} - y`), products with the
factors nearest the loss first (`(\\hat{y} - y) \\hat{y} (1 - \\hat{y}) x`), and names such as
`Delta^{(1)}` with their superscript kept. Words belong to the templates, not here. The one pass over the
finished TeX is bracket sizing (`sized_brackets`, also used by `read.as_written`): SymPy's methods write
\\left ... \\right around every bracketed part, and only parts taller than a line of text keep it.
"""

from __future__ import annotations

import re

from sympy import Basic, Expr, Mul, Symbol
from sympy.matrices.expressions import (
    HadamardPower, HadamardProduct, Identity, Inverse, MatAdd, MatMul, MatrixSymbol, OneMatrix, Trace, Transpose,
)
from sympy.printing.latex import LatexPrinter

from .matrix_algebra import is_matrix, negate
from .matrix_nodes import Entrywise
from .rules import function_latex_names


class DerivePrinter(LatexPrinter):
    """LaTeX for derive: `ranks` orders factors (higher rank = nearer the loss = printed first)."""

    def __init__(self, ranks: dict[Symbol, int] | None = None, rename: dict[Symbol, Symbol] | None = None,
                 settings: dict | None = None):
        super().__init__({"order": "none", "mul_symbol": None, **(settings or {})})  # settings: SymPy's
        self.ranks = ranks or {}
        self.rename = rename or {}
        self.function_names = function_latex_names()

    def doprint(self, expr) -> str:
        if self.rename and isinstance(expr, Basic):
            expr = expr.xreplace(self.rename)
        self.sized_identity = _scaled_identity(expr)  # I alone (c I) has no neighbour to say its size: I_n
        return sized_brackets(super().doprint(expr))

    def _print_Symbol(self, expr, style="plain"):
        base, caret, superscript = expr.name.partition("^")
        printed = super()._print_Symbol(Symbol(base), style)
        return f"{printed}^{superscript}" if caret else printed

    def _print_MatrixSymbol(self, expr, style="plain"):
        return self._print_Symbol(Symbol(expr.name), style)

    # -- matrices: the notation of the field, not SymPy's defaults -------------------------------------
    def _matrix_operand(self, expr, loose=(MatAdd,)) -> str:
        printed = self._print(expr)
        needs = isinstance(expr, loose) or (isinstance(expr, MatMul) and expr.args[0].could_extract_minus_sign()
                                            if isinstance(expr, MatMul) and not is_matrix(expr.args[0]) else False)
        return rf"\left({printed}\right)" if needs else printed

    def _print_Transpose(self, expr):
        inner = expr.arg
        if isinstance(inner, Inverse):
            return rf"{self._base(inner.arg)}^{{-T}}"
        if isinstance(inner, OneMatrix):
            return r"\mathbf{1}^T"
        if isinstance(inner, MatrixSymbol) and "^" in inner.name:
            base, _, superscript = inner.name.partition("^")
            return rf"{self._print_Symbol(Symbol(base))}^{{{superscript.strip('{}')}T}}"
        return rf"{self._base(inner)}^T"

    def _base(self, expr) -> str:
        """An operand of a power or transpose: parenthesised unless it is a plain symbol."""
        printed = self._print(expr)
        if isinstance(expr, MatrixSymbol) and "^" not in expr.name or _bars(expr):
            return printed
        return rf"\left({printed}\right)"

    def _print_Inverse(self, expr):
        inner = expr.arg
        if isinstance(inner, Transpose):
            return rf"{self._base(inner.arg)}^{{-T}}"
        return rf"{self._base(inner)}^{{-1}}"

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if rows != 1 and cols != 1:
            return r"\mathbf{1}\mathbf{1}^T"
        return r"\mathbf{1}^T" if rows == 1 and cols != 1 else r"\mathbf{1}"

    def _print_Identity(self, expr):
        if getattr(self, "sized_identity", False) and expr.shape != (1, 1):
            return rf"I_{{{self._print(expr.shape[0])}}}"
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_HadamardProduct(self, expr):
        factors = list(expr.args)
        reciprocal = [f for f in factors if isinstance(f, HadamardPower) and f.exp == -1]
        plain = [f for f in factors if f not in reciprocal]
        loose = (MatAdd, MatMul, HadamardProduct)
        printed = r" \odot ".join(self._matrix_operand(f, loose) for f in plain) or r"\mathbf{1}"
        for f in reciprocal:
            printed += rf" \oslash {self._matrix_operand(f.base, loose)}"
        return printed

    def _print_HadamardPower(self, expr):
        return rf"{self._base(expr.base)}^{{\circ {self._print(expr.exp)}}}"

    def _print_MatMul(self, expr):
        scalars = [a for a in expr.args if not is_matrix(a)]
        matrices = [a for a in expr.args if is_matrix(a)]
        if scalars and matrices and all(isinstance(m, (OneMatrix, Identity)) and m.shape == (1, 1) for m in matrices):
            return self._print(Mul(*scalars))  # y 1 with 1 the 1 x 1 matrix of ones is y
        coefficient = Mul(*scalars)
        sign = ""
        if coefficient.could_extract_minus_sign():
            sign, coefficient = "- ", -coefficient
        body = " ".join(self._matrix_operand(m, (MatAdd, HadamardProduct)) for m in matrices)
        if coefficient == 1:
            return sign + body
        printed = self._coefficient(coefficient)
        if coefficient.is_Add:
            printed = rf"\left({printed}\right)"
        return f"{sign}{printed} {body}"

    def _coefficient(self, coefficient) -> str:
        """The scalar in front of a matrix product; a 1x1 form in it in brackets, 4 (x^T x) x, which would
        otherwise read as a product of matrices (x^T x x). Inside a fraction it is set apart already."""
        forms = [f for f in Mul.make_args(coefficient) if isinstance(f, Trace) and f.arg.shape == (1, 1)]
        if not forms or coefficient.as_numer_denom()[1] != 1:
            return self._print(coefficient)
        rest = self._print(Mul(*(f for f in Mul.make_args(coefficient) if f not in forms)))
        bracketed = " ".join(rf"\left({self._print(f)}\right)" for f in forms)
        return bracketed if rest == "1" else f"{rest} {bracketed}"

    def _print_MatAdd(self, expr):
        terms = list(expr.args)
        positive = [t for t in terms if not _negative(t)]
        ordered = positive + [t for t in terms if _negative(t)]
        def term_text(term):  # the all-ones matrix in a sum is 1, as in 1 - Y
            return r"\mathbf{1}" if isinstance(term, OneMatrix) else self._print(term)

        printed = term_text(ordered[0])
        for term in ordered[1:]:
            if _negative(term):
                printed += " - " + term_text(negate(term))
            else:
                printed += " + " + term_text(term)
        return printed

    def _print_Entrywise(self, expr):
        if expr.name == "abs":  # |A| entry by entry, and its derivative sign(A)
            inner = self._print(expr.arg)
            return rf"\operatorname{{sign}}\left({inner}\right)" if expr.prime else rf"\left|{inner}\right|"
        name = _ENTRYWISE_NAMES.get(expr.name) or self.function_names.get(expr.function, expr.name)
        return rf"{name}{chr(39) if expr.prime else ''}\left({self._print(expr.arg)}\right)"

    def _print_Softmax(self, expr):
        return rf"\operatorname{{softmax}}\left({self._print(expr.arg)}\right)"

    def _print_Diag(self, expr):
        return rf"\operatorname{{diag}}\left({self._print(expr.arg)}\right)"

    def _print_SumEntries(self, expr, exp=None):
        return self._powered(rf"\operatorname{{sum}}\left({self._print(expr.arg)}\right)", exp)

    def _print_Mean(self, expr, exp=None):
        return self._powered(rf"\operatorname{{mean}}\left({self._print(expr.arg)}\right)", exp)

    def _print_FrobeniusNorm(self, expr, exp=None):
        return self._powered(rf"\left\lVert {self._print(expr.arg)} \right\rVert_F", exp)

    def _print_L1Norm(self, expr, exp=None):
        return self._powered(rf"\left\lVert {self._print(expr.arg)} \right\rVert_1", exp)

    def _print_MatPow(self, expr):
        """A^{3}; a power of an inverse as a negative power, X^{-2}."""
        base, exponent = expr.args
        if isinstance(base, Inverse) and not isinstance(base.arg, Transpose):
            return rf"{self._base(base.arg)}^{{-{self._print(exponent)}}}"
        if isinstance(base, Inverse):
            return rf"\left({self._print(base)}\right)^{{{self._print(exponent)}}}"
        return super()._print_MatPow(expr)

    def _print_Trace(self, expr, exp=None):
        if expr.arg.shape == (1, 1):  # a 1 x 1 matrix is its one entry: 1^T G, x^T a
            printed = self._print(expr.arg)
            return self._powered(rf"\left({printed}\right)" if exp is not None else printed, exp)
        return self._powered(rf"\operatorname{{tr}}\left({self._print(expr.arg)}\right)", exp)

    def _print_Pow(self, expr):
        """A power of a 1 x 1 form in brackets, (x^T x)^{2}; roots and reciprocals as LaTeX writes them."""
        base, exponent = expr.base, expr.exp
        if isinstance(base, Trace) and base.arg.shape == (1, 1) and not (
                exponent.is_Rational and (exponent.is_negative or (abs(exponent.p) == 1 and exponent.q != 1))):
            return self._print_Trace(base, exp=self._print(exponent))
        return super()._print_Pow(expr)

    def _print_Determinant(self, expr, exp=None):
        return self._powered(rf"\det\left({self._print(expr.arg)}\right)", exp)

    def _print_GradientOf(self, expr):
        loss, variable = expr.args
        return partial(loss, variable, self)

    @staticmethod
    def _powered(printed: str, exp) -> str:
        return rf"{printed}^{{{exp}}}" if exp is not None else printed

    def _print_Function(self, expr, exp=None):
        name = self.function_names.get(type(expr))
        if name is None:
            return super()._print_Function(expr, exp)
        args = ", ".join(self._print(arg) for arg in expr.args)
        printed = rf"{name}\left({args}\right)"
        return rf"{printed}^{{{exp}}}" if exp is not None else printed

    def _print_Heaviside(self, expr, exp=None):
        """The indicator 1[u > 0] (value 0 at u = 0) or 1[u >= 0] (value 1 there); SymPy's theta otherwise."""
        relation = {0: ">", 1: r"\geq"}.get(expr.args[1] if len(expr.args) > 1 else None)
        if relation is None:
            return super()._print_Heaviside(expr, exp)
        printed = rf"\mathbf{{1}}\left[{self._print(expr.args[0])} {relation} 0\right]"
        return rf"{printed}^{{{exp}}}" if exp is not None else printed

    def _print_Derivative(self, expr):
        """An earlier gradient kept as a factor: \\frac{\\partial L}{\\partial h}."""
        (variable, count), = expr.variable_count
        return partial(expr.expr, variable, self) if count == 1 else super()._print_Derivative(expr)

    def _print_sign(self, expr, exp=None):
        printed = rf"\operatorname{{sign}}\left({self._print(expr.args[0])}\right)"
        return rf"{printed}^{{{exp}}}" if exp is not None else printed

    def _print_Add(self, expr, order=None):
        terms = list(expr.as_ordered_terms())
        positive = [t for t in terms if not t.could_extract_minus_sign()]
        negative = [t for t in terms if t.could_extract_minus_sign()]
        if not positive:
            return super()._print_Add(expr, order)
        ordered = positive + negative
        return super()._print_Add(_Unevaluated(ordered), order="none")

    def _print_Mul(self, expr):
        coefficient, factors = expr.as_coeff_mul()
        if len(factors) < 2 or not self.ranks:
            return super()._print_Mul(expr)
        ordered = sorted(factors, key=self._factor_order)
        return super()._print_Mul(_UnevaluatedMul(coefficient, ordered))

    def _unranked(self, symbol: Symbol) -> int:
        """Delta terms sit nearest the loss; other unknown symbols (x_i of a general form) with the inputs."""
        return len(self.ranks) if symbol.name.startswith(("Delta", "delta")) else -1

    def _factor_order(self, factor: Expr) -> tuple:
        symbols = getattr(factor, "free_symbols", set())
        rank = max((self.ranks.get(s, self._unranked(s)) for s in symbols), default=-2)
        return (-rank, -len(symbols), bool(factor.is_Add))


_ENTRYWISE_NAMES = {"exp": r"\exp", "log": r"\log", "sin": r"\sin", "cos": r"\cos"}


class _Unevaluated(Expr):
    """A sum kept in the given order, for printing only."""

    is_Add = True

    def __new__(cls, terms):
        obj = Expr.__new__(cls)
        obj._terms = terms
        return obj

    @property
    def args(self):
        return tuple(self._terms)

    def as_ordered_terms(self, order=None):
        return list(self._terms)


class _UnevaluatedMul(Mul):
    """A product kept in the given order, for printing only."""

    def __new__(cls, coefficient, factors):
        args = ([coefficient] if coefficient != 1 else []) + list(factors)
        obj = Expr.__new__(cls, *args)
        obj.is_commutative = True
        return obj

    def as_ordered_factors(self, order=None):
        return list(self.args)

    def _eval_is_commutative(self):
        return True


def _bars(expr) -> bool:
    """|A|, set apart by its bars already."""
    return isinstance(expr, Entrywise) and expr.name == "abs" and not expr.prime


def _scaled_identity(expr) -> bool:
    """I, or c I: an identity that nothing beside it sizes."""
    if isinstance(expr, MatMul):
        matrices = [a for a in expr.args if is_matrix(a)]
        return len(matrices) == 1 and isinstance(matrices[0], Identity)
    return isinstance(expr, Identity)


def _negative(term) -> bool:
    if isinstance(term, MatMul):
        coefficient = Mul(*(a for a in term.args if not is_matrix(a)))
        return coefficient.could_extract_minus_sign()
    return False


def latex(expr, ranks: dict[Symbol, int] | None = None, rename: dict[Symbol, Symbol] | None = None) -> str:
    """LaTeX for one expression in derive's notation."""
    return DerivePrinter(ranks, rename).doprint(expr)


def partial(of: Symbol, wrt: Symbol, printer: DerivePrinter | None = None, explicit: bool = False) -> str:
    r"""\frac{\partial of}{\partial wrt}; `explicit` marks the direct dependence only (others held fixed)."""
    printer = printer or DerivePrinter()
    below = printer.doprint(wrt)
    plain = wrt.is_Atom or getattr(wrt, "is_Function", False) or isinstance(wrt, MatrixSymbol)
    below = below if plain else sized_brackets(rf"\left({below}\right)")
    fraction = rf"\frac{{\partial {printer.doprint(of)}}}{{\partial {below}}}"
    return rf"\left.{fraction}\right|_{{\text{{explicit}}}}" if explicit else fraction


# -- bracket sizing ---------------------------------------------------------------------------------------
# SymPy's printer writes \left ... \right around every bracketed part (in many of its methods); a reader
# expects brackets sized by what they hold: plain ( ) around a line of text's height, \left( \right) only
# around something taller. One pass over the printed TeX decides it, for every method alike.
_TALL = re.compile(r"\\(?:d?frac|tfrac|cfrac|over|atop|choose|d?binom|sqrt|sum|prod|coprod|i{1,3}nt|oint|lim|"
                   r"begin|displaystyle|overset|underset|stackrel|substack|overbrace|underbrace|middle|"
                   r"(?:big|Big|bigg|Bigg)[lrm]?|big(?:cup|cap|oplus|otimes|odot|vee|wedge|uplus|sqcup))"
                   r"(?![a-zA-Z])|\\(?:max|min|sup|inf|arg\s*max|arg\s*min)\s*_|\\\\")
_SIZED = re.compile(r"\\(left|right)(?![a-zA-Z])\s*(\\[a-zA-Z]+|\\.|[^\s\\])")
_TEXT = re.compile(r"\\(?:text|textrm|textit|textbf|textsf|texttt|textnormal|mbox)\s*\{")
# a delimiter \left or \right may size -> as it is written plain (opening, closing); "." has no plain form
_PLAIN = {"(": ("(", ")"), ")": ("(", ")"), "[": ("[", "]"), "]": ("[", "]"), r"\{": (r"\{", r"\}"),
          r"\}": (r"\{", r"\}"), r"\lbrace": (r"\{", r"\}"), r"\rbrace": (r"\{", r"\}"),
          "|": (r"\lvert", r"\rvert"), r"\vert": (r"\lvert", r"\rvert"), r"\lvert": (r"\lvert", r"\rvert"),
          r"\rvert": (r"\lvert", r"\rvert"), r"\|": (r"\lVert", r"\rVert"), r"\Vert": (r"\lVert", r"\rVert"),
          r"\lVert": (r"\lVert", r"\rVert"), r"\rVert": (r"\lVert", r"\rVert"),
          r"\langle": (r"\langle", r"\rangle"), r"\rangle": (r"\langle", r"\rangle")}


def sized_brackets(tex: str) -> str:
    r"""`tex` with each \left ... \right pair written plain (`(x^{2})`, `[a]`, `\lVert x \rVert`, `\lvert x
    \rvert`) unless what it holds is taller than a line of text: a fraction, a sum or product operator, an
    environment, a root, a line break, or a bracket still sized (innermost pairs first). Pairs match by
    nesting, whatever their delimiters; one with a `.` side (`\left. \frac{a}{b} \right|_{x=0}`) or a
    delimiter without a plain form stays sized, as do unmatched halves; nothing inside \text{} is read."""
    events = []  # (start, end, side, delimiter) of each \left / \right outside text
    i = 0
    while i < len(tex):
        text = _TEXT.match(tex, i)
        if text:
            i = _group_end(tex, text.end())
            continue
        sized = _SIZED.match(tex, i) if tex.startswith("\\", i) else None
        if sized:
            events.append((sized.start(), sized.end(), sized.group(1), sized.group(2)))
            i = sized.end()
        else:
            i += 2 if tex.startswith("\\", i) else 1
    plain: dict[int, str] = {}  # start of a \left or \right -> what replaces it
    opened: list[list] = []  # [event, whether something sized is inside]
    for event in events:
        if event[2] == "left":
            opened.append([event, False])
            continue
        if not opened:
            continue  # a \right with no \left here (a line of a split equation) stays
        (start, inner, _, opening), tall_inside = opened.pop()
        closing = event[3]
        drop = (opening in _PLAIN and closing in _PLAIN and not tall_inside
                and not _TALL.search(tex, inner, event[0]))
        if drop:
            plain[start] = _PLAIN[opening][0]
            plain[event[0]] = _PLAIN[closing][1]
        elif opened:
            opened[-1][1] = True
    if not plain:
        return tex
    out, position = [], 0
    for start, end, _, _ in events:
        if start in plain:
            out.append(tex[position:start])
            replacement = plain[start]
            if replacement[-1].isalpha() and end < len(tex) and tex[end].isalpha():
                replacement += " "  # \lvert x, not \lvertx
            out.append(replacement)
            position = end
    out.append(tex[position:])
    return "".join(out)


def _group_end(tex: str, i: int) -> int:
    """The index after the brace that closes the group whose text starts at `i`."""
    depth = 1
    while i < len(tex) and depth:
        if tex[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(tex[i], 0)
        i += 1
    return i
