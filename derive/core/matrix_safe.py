"""Scalar functions of matrix forms, evaluated without SymPy reaching inside the matrices.

SymPy's own scalar evaluation must never reach inside matrices (it rewrites x - a as -1 * (a - x) to look at
signs, and takes tr(x^T x) for a complex number): |.|, sign, max and min are made matrix-safe (`SafeAbs`,
`SafeSign`, `SafeMax`, `SafeMin`), and other scalar functions of forms are evaluated `of_real_numbers`, with
each scalar made of matrices standing in as a real number. The matrix nodes live in `matrix_nodes`, the
builders in `matrix_ops`.
"""

from __future__ import annotations

import sympy
from sympy.core.sympify import _sympify

from .matrix_algebra import _matrix_in_disguise, is_matrix


def scalars_of_matrices(expr) -> set:
    """The scalars in `expr` that are made of matrices, outermost ones: tr(x^T A x), det X, ||x - a||, dL/dc."""
    found = set()

    def visit(node):
        if not is_matrix(node) and any(is_matrix(a) for a in node.args):
            found.add(node)
            return
        for a in node.args:
            visit(a)

    visit(expr)
    return found


def _real_stand_ins(args) -> dict:
    """A real number standing in for each scalar made of matrices in `args` (nonnegative for a norm)."""
    found = set().union(*(scalars_of_matrices(a) for a in args))
    return {node: sympy.Dummy(real=True, nonnegative=node.is_nonnegative or None) for node in found}


def of_real_numbers(function, *args):
    """function(*args) as SymPy evaluates it of real numbers, with each scalar made of matrices standing in
    as the real number it is; SymPy never evaluates inside the matrices. Without it (u^2)^{1/2} of u =
    tr(x^T A x) goes through arg(u) and crashes on the matrices, and |e^{-u}| becomes e^{-re(u)}."""
    args = [_sympify(a) for a in args]
    stand_ins = _real_stand_ins(args)
    if not stand_ins:
        return kept_from_matrices(function(*args))
    value = function(*(_plain(a.xreplace(stand_ins)) for a in args))
    return _put_back(value, {d: node for node, d in stand_ins.items()})


class _MatrixSafe:
    """A SymPy function (|.|, sign, max, min) whose evaluation never looks inside matrices.

    SymPy's |.| writes x - a as -1 * (a - x) to look at signs, inside x^T A (x - a) too, which a matrix
    product cannot hold; max factors x - y through the matrices. These evaluate `of_real_numbers` whenever
    they are built (also when a name is replaced by its definition later: so the reader always makes
    these), and a rewriting of their arguments that reaches the matrices (signsimp, under abs()) is undone
    where a matrix belongs. Printed and named in messages as the SymPy function. Made by `_matrix_safe`."""

    base: type = None

    def __new__(cls, *args, **options):
        args = [_sympify(a) for a in args]
        stand_ins = _real_stand_ins(args)
        standing = [_plain(a.xreplace(stand_ins)) for a in args]
        value = cls.base(*standing, **options)
        if type(value) is cls.base and set(value.args) == set(standing):  # it stays itself
            return cls.base.__new__(cls, *args, evaluate=False)
        return _put_back(value, {d: node for node, d in stand_ins.items()})

    def _eval_Abs(self):  # abs() of this node: evaluated the same way, never by SymPy's own |.|
        return self if self.base is sympy.Abs else SafeAbs(self)

    def _xreplace(self, rule):
        if self in rule:
            return rule[self], True
        args = [_matrix_safe_xreplace(a, rule) for a in self.args]
        if all(new is old for new, old in zip(args, self.args)):
            return self, False
        return self.func(*args), True


def _matrix_safe_xreplace(node, rule):
    """node.xreplace(rule), except that what would put a scalar product where a matrix belongs (SymPy's
    -1 * (a - x) for x - a) puts back the matrix it stands for."""
    if node in rule:
        return rule[node]
    if not node.args:
        return node
    args = [_matrix_safe_xreplace(a, rule) for a in node.args]
    args = [_matrix_in_disguise(new) if is_matrix(old) and not is_matrix(new) else new
            for new, old in zip(args, node.args)]
    return node if all(new is old for new, old in zip(args, node.args)) else node.func(*args)


def _matrix_safe(base: type, name: str) -> type:
    """The `_MatrixSafe` version of one SymPy function, with its name (printers know it by that)."""
    cls = type(base.__name__, (_MatrixSafe, base), {"base": base, "__module__": __name__, "__qualname__": name})
    globals()[name] = cls  # importable by its own name, so expressions pickle
    return cls


SafeAbs = _matrix_safe(sympy.Abs, "SafeAbs")
SafeSign = _matrix_safe(sympy.sign, "SafeSign")
SafeMax = _matrix_safe(sympy.Max, "SafeMax")
SafeMin = _matrix_safe(sympy.Min, "SafeMin")
MATRIX_SAFE = {sympy.Abs: SafeAbs, sympy.sign: SafeSign, sympy.Max: SafeMax, sympy.Min: SafeMin}


def _plain(expr):
    """`expr`, free of matrices, with SymPy's own |.|, sign, max and min (as SymPy evaluates them)."""
    if not expr.args:
        return expr
    args = [_plain(a) for a in expr.args]
    if isinstance(expr, _MatrixSafe):
        return expr.base(*args)
    return expr if all(new is old for new, old in zip(args, expr.args)) else expr.func(*args)


def _put_back(expr, stand_ins: dict):
    """`expr` with the stand-ins replaced by what they stand for, each |.|, sign, max and min matrix-safe.
    Sums, products and powers are not evaluated again (they were, of the stand-ins): SymPy's (b^2)^{1/2}
    of a b it cannot show real takes arg(b) apart, with abs() of what it finds."""
    if expr in stand_ins:
        return stand_ins[expr]
    if not expr.args:
        return expr
    args = [_put_back(a, stand_ins) for a in expr.args]
    if isinstance(expr, (sympy.Add, sympy.Mul, sympy.Pow)):
        return expr.func(*args, evaluate=False)
    return MATRIX_SAFE.get(type(expr), expr.func)(*args)


def kept_from_matrices(expr):
    """`expr` with each |.|, sign, max and min in its matrix-safe form (a rule's sign(u) for |u|, which SymPy
    takes apart with abs() when it asks whether a product is an integer)."""
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    args = [kept_from_matrices(a) for a in expr.args]
    func = MATRIX_SAFE.get(type(expr), expr.func)
    if func is expr.func and all(new is old for new, old in zip(args, expr.args)):
        return expr
    return func(*args)
