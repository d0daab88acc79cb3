"""The one LaTeX printer for derive's mathematics: a SymPy `LatexPrinter` subclass.

Notation changes by overriding `_print_<Class>` here, never by editing strings afterwards:
registered functions print under their registry names (sigma, ReLU, softplus), indicator functions for
ReLU's and max's derivatives, sums with a positive term first (`\\hat{y} - y`), products with the
factors nearest the loss first (`(\\hat{y} - y) \\hat{y} (1 - \\hat{y}) x`), and names such as
`Delta^{(1)}` with their superscript kept. Words belong to the templates, not here.
"""

from __future__ import annotations

from sympy import Expr, Mul, Symbol
from sympy.printing.latex import LatexPrinter

from .rules import function_latex_names


class DerivePrinter(LatexPrinter):
    """LaTeX for derive: `ranks` orders factors (higher rank = nearer the loss = printed first)."""

    def __init__(self, ranks: dict[Symbol, int] | None = None, rename: dict[Symbol, Symbol] | None = None):
        super().__init__({"order": "none", "mul_symbol": None})
        self.ranks = ranks or {}
        self.rename = rename or {}
        self.function_names = function_latex_names()

    def doprint(self, expr) -> str:
        if self.rename and isinstance(expr, Expr):
            expr = expr.xreplace(self.rename)
        return super().doprint(expr)

    def _print_Symbol(self, expr, style="plain"):
        base, caret, superscript = expr.name.partition("^")
        printed = super()._print_Symbol(Symbol(base), style)
        return f"{printed}^{superscript}" if caret else printed

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


def latex(expr, ranks: dict[Symbol, int] | None = None, rename: dict[Symbol, Symbol] | None = None) -> str:
    """LaTeX for one expression in derive's notation."""
    return DerivePrinter(ranks, rename).doprint(expr)


def partial(of: Symbol, wrt: Symbol, printer: DerivePrinter | None = None, explicit: bool = False) -> str:
    r"""\frac{\partial of}{\partial wrt}; `explicit` marks the direct dependence only (others held fixed)."""
    printer = printer or DerivePrinter()
    below = printer.doprint(wrt)
    below = below if wrt.is_Atom or wrt.is_Function else rf"\left({below}\right)"
    fraction = rf"\frac{{\partial {printer.doprint(of)}}}{{\partial {below}}}"
    return rf"\left.{fraction}\right|_{{\text{{explicit}}}}" if explicit else fraction
