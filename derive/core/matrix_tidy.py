"""Matrix gradients in textbook form: `tidy` takes common left or right factors and common scalars out of
sums ((A + A^T) x rather than A x + A^T x, c (A - B)), and drops all-ones factors under a Hadamard product.
The chain rule that produces the gradients lives in `matrix_engine`.
"""

from __future__ import annotations

from sympy import Basic, Mul, S, preorder_traversal
from sympy.matrices.expressions import (
    HadamardPower, HadamardProduct, Identity, MatAdd, MatMul, MatrixExpr, MatrixSymbol, OneMatrix, ZeroMatrix,
)

from . import matrix_ops as mo


def tidy(expr):
    """Textbook form: common left or right factors taken out of sums ((A + A^T) x), products with the
    all-ones matrix under a Hadamard product dropped."""
    if not isinstance(expr, Basic) or expr.is_Atom or isinstance(expr, MatrixSymbol):
        return expr
    if not isinstance(expr, MatrixExpr):  # a scalar: its matrix parts, sum(1 1^T (.) A) = sum(A)
        if not expr.has(MatrixSymbol):
            return expr
        args = [tidy(a) for a in expr.args]
        return expr.func(*args) if args != list(expr.args) else expr
    args = [tidy(a) if isinstance(a, MatrixExpr) else a for a in expr.args]
    if isinstance(expr, HadamardProduct):
        return _tidy_hadamard(args)
    if isinstance(expr, MatAdd):
        return _collect(args)
    if isinstance(expr, MatMul):
        coefficient, rest = _split_scalar(mo.matmul(*args))
        if coefficient == -1 and isinstance(rest, MatAdd):  # -(y - yhat) = yhat - y
            return mo.sum_of(*(mo.negate(t) for t in rest.args))
        return mo.matmul(*args)
    return expr.func(*args) if args != list(expr.args) else expr


def _split_scalar(term):
    """(c, M) with term = c M, c a scalar."""
    if isinstance(term, MatMul) and not mo.is_matrix(term.args[0]):
        scalars = [a for a in term.args if not mo.is_matrix(a)]
        return Mul(*scalars), mo.matmul(*(a for a in term.args if mo.is_matrix(a)))
    return S.One, term


def _tidy_hadamard(factors):
    """Scalars pulled out, all-ones factors dropped, A (.) A^(o-1) cancelled: (c 1) (.) A = c A."""
    coefficient, matrices = S.One, []
    for factor in factors:
        c, m = _split_scalar(factor)
        coefficient *= c
        if isinstance(m, HadamardProduct):
            matrices += list(m.args)
        elif not isinstance(m, OneMatrix) and not mo.is_unit_1x1(m):
            matrices.append(m)
    for m in list(matrices):
        if isinstance(m, HadamardPower) and m.exp == -1 and m in matrices and m.base in matrices:
            matrices.remove(m)
            matrices.remove(m.base)
    for i, m in enumerate(matrices):  # A (.) (B (/) A + c 1) = B + c A: distribute where something cancels
        others = matrices[:i] + matrices[i + 1:]
        if isinstance(m, MatAdd) and any(HadamardPower(o, -1) in _hadamard_factors(t) for o in others for t in m.args):
            terms = [_tidy_hadamard([*others, t]) for t in m.args]
            return mo.matmul(coefficient, _collect(terms)) if coefficient != 1 else _collect(terms)
    if not matrices:
        shape = factors[0].shape
        return mo.matmul(coefficient, OneMatrix(*shape))
    product = matrices[0] if len(matrices) == 1 else HadamardProduct(*matrices)
    return product if coefficient == 1 else mo.matmul(coefficient, product)


def _hadamard_factors(term) -> list:
    _, m = _split_scalar(term)
    return list(m.args) if isinstance(m, HadamardProduct) else [m]


def _collect(terms):
    """Take a factor common to every term out of a sum, on the right (A x + A^T x) or the left, and a
    scalar common to every term (c A - c B = c (A - B)). What is left of a term that was only the common
    factor (2 x in 2 x + A x) is c I, never the scalar c: (2 I + A) x."""
    coefficients = [_split_scalar(t)[0] for t in terms]
    magnitude = abs(coefficients[0]) if len(terms) > 1 and all(map(_plain_number, coefficients)) else None
    if magnitude not in (None, 1) and all(abs(c) == magnitude for c in coefficients):
        return mo.matmul(magnitude, _collect([mo.matmul(c / magnitude, _split_scalar(t)[1])
                                              for c, t in zip(coefficients, terms)]))
    common = _common_scalar(coefficients) if len(terms) > 1 else S.One
    if common != 1:
        return mo.matmul(common, _collect([mo.matmul(c / common, _split_scalar(t)[1]) for c, t in zip(coefficients, terms)]))
    for side in (-1, 0):  # the right first: (A + A^T) x
        common = _common_factor(terms, side)
        if common is not None:
            rest = [_without(t, common, side) for t in terms]
            return mo.matmul(common, _collect(rest)) if side == 0 else mo.matmul(_collect(rest), common)
    for side in (-1, 0):  # some of the terms: 3 a + (2 I + A + A^T) x
        for term in terms:
            end = _matrix_factors(term)[1][side]
            group = [t for t in terms if _matrix_factors(t)[1][side] == end]
            if 1 < len(group) < len(terms) and _common_factor(group, side) is not None:
                return mo.sum_of(*(t for t in terms if t not in group), _collect(group))
    return mo.sum_of(*terms)


def _plain_number(c) -> bool:
    """A number whose sign abs() can take: no matrix inside. abs() of anything else runs SymPy's sign
    rewriting over every matrix node in it (1 / ||x - a|| or tr(x^T (x - a)) break under it)."""
    return c.is_number and not any(isinstance(node, MatrixExpr) for node in preorder_traversal(c))


def _common_scalar(coefficients):
    """The symbolic factor every coefficient has, to its smallest power (1 / (x^T x) in
    (1 / (x^T x)) A - (2 x^T A x / (x^T x)^2) I), or 1. Numbers and signs stay inside: c A - c B = c (A - B)."""
    powers = [{b: e for b, e in c.as_powers_dict().items() if not b.is_number and e.is_number} for c in coefficients]
    common = S.One
    for base, exponent in powers[0].items():
        exponents = [p.get(base) for p in powers]
        if all(e is not None and (e > 0) == (exponent > 0) for e in exponents):
            common *= base ** min(exponents, key=abs)
    return common


def _matrix_factors(term) -> tuple:
    """(c, [M_1, ..., M_k]) with term = c M_1 ... M_k."""
    coefficient, rest = _split_scalar(term)
    return coefficient, list(rest.args) if isinstance(rest, MatMul) else [rest]


def _common_factor(terms, side: int):
    """The matrix that every term ends with (side -1) or starts with (side 0), if taking it out leaves
    something in at least one term; None otherwise. The identity is never taken out (it is no factor)."""
    if len(terms) < 2:
        return None
    factors = [_matrix_factors(t)[1] for t in terms]
    ends = {f[side] for f in factors}
    if len(ends) != 1 or not any(len(f) > 1 for f in factors):
        return None
    common = ends.pop()
    return None if isinstance(common, (Identity, ZeroMatrix)) else common


def _without(term, common, side: int):
    """`term` with the factor `common` taken off its end (side -1) or its start (side 0): c M_1 ... M_{k-1},
    and c I when nothing else is left, the identity of the size the factor leaves (so c x gives c I)."""
    coefficient, factors = _matrix_factors(term)
    rest = factors[:-1] if side == -1 else factors[1:]
    size = common.shape[0] if side == -1 else common.shape[1]
    return mo.matmul(coefficient, *rest) if rest else mo.matmul(coefficient, Identity(size))


def expanded(expr):
    """`expr` with its entrywise products multiplied out over sums and like terms collected, or None when it is
    not made of sums, scalar multiples and entrywise products (powers included) of matrices of one shape:
    Yhat (.) (1 - Y) - (1 - Yhat) (.) Y = Yhat - Y. Factors that are neither (Y 1 1^T, sigma'(Z)) stay whole."""
    if not isinstance(expr, MatrixExpr):
        return None
    monomials: dict[tuple, object] = {}
    for coefficient, factors in _monomials(expr):
        key = tuple(sorted(factors.items(), key=lambda item: (str(item[0]), str(item[1]))))
        monomials[key] = monomials.get(key, S.Zero) + coefficient
    terms = []
    for key, coefficient in monomials.items():
        if coefficient == 0:
            continue
        factors = [base if exponent == 1 else HadamardPower(base, exponent) for base, exponent in key]
        product = OneMatrix(*expr.shape) if not factors else factors[0] if len(factors) == 1 else HadamardProduct(*factors)
        terms.append(product if coefficient == 1 else mo.matmul(coefficient, product))
    if not terms:
        return ZeroMatrix(*expr.shape)
    return tidy(mo.sum_of(*terms))


def _monomials(expr) -> list[tuple]:
    """[(c, {base: exponent})]: expr as a sum of c times entrywise products of powers of its bases."""
    if isinstance(expr, MatAdd):
        return [m for term in expr.args for m in _monomials(term)]
    if isinstance(expr, OneMatrix):
        return [(S.One, {})]
    if isinstance(expr, MatMul):
        coefficient, rest = _split_scalar(expr)
        if coefficient != 1 and not (isinstance(rest, MatMul)):
            return [(coefficient * c, f) for c, f in _monomials(rest)]
        return [(coefficient, {rest: S.One})]
    if isinstance(expr, HadamardProduct):  # like bases first: (1 - A) (.) (1 - A)^(o-1) is 1, not expanded
        powers: dict = {}
        for factor in expr.args:
            base, exponent = (factor.base, factor.exp) if isinstance(factor, HadamardPower) else (factor, S.One)
            powers[base] = powers.get(base, S.Zero) + exponent
        product = [(S.One, {})]
        for base, exponent in powers.items():
            if exponent != 0:
                factor = base if exponent == 1 else HadamardPower(base, exponent)
                product = [(c1 * c2, _times(f1, f2)) for c1, f1 in product for c2, f2 in _monomials(factor)]
        return product
    if isinstance(expr, HadamardPower) and expr.exp.is_Integer and expr.exp > 0 and isinstance(expr.base, MatAdd):
        return _monomials(HadamardProduct(*([expr.base] * int(expr.exp))))
    if isinstance(expr, HadamardPower) and expr.exp.is_number:
        return [(S.One, {expr.base: expr.exp})]
    return [(S.One, {expr: S.One})]


def _times(left: dict, right: dict) -> dict:
    """The entrywise product of two products of powers: exponents add, and a base to the power 0 is gone."""
    out = dict(left)
    for base, exponent in right.items():
        out[base] = out.get(base, S.Zero) + exponent
        if out[base] == 0:
            del out[base]
    return out
