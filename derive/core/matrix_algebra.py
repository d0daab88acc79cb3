"""The algebra the matrix layer rebuilds expressions with: products, sums, transposes and negation in
derive's normal form (inverses cancelled, units dropped, a 1x1 form beside a matrix it does not chain with
taken as the number it is), and the tests `is_matrix`, `is_1x1`, `same`.

Everything here takes expressions that exist already, whose shapes SymPy checked when it built them: the
factors of a product, the terms of a sum, the argument of a node. So nothing here checks shapes or names
operands in a message; the builders that take what a user wrote and check it (`matmul`, `add`, ...) live in
`matrix_ops`, which builds its products with `chained_product` once it has checked the chain. The printer
and the nodes (`matrix_nodes`) rebuild with this module, never with `matrix_ops`.
"""

from __future__ import annotations

import sympy
from sympy import S, Trace
from sympy.core.sympify import _sympify
from sympy.matrices.expressions import Identity, Inverse, MatAdd, MatMul, MatrixExpr, OneMatrix, Transpose, ZeroMatrix


def is_matrix(x) -> bool:
    return isinstance(x, MatrixExpr)



def same(a, b) -> bool:
    """Dimensions known to be equal (structurally: n and 3 are different)."""
    a, b = sympy.sympify(a), sympy.sympify(b)
    return sympy.simplify(a - b) == 0 if (a != b and not (a.is_number and b.is_number)) else a == b



def _as_scalar(x):
    """A 1x1 matrix expression kept as a matrix; callers decide. Plain numbers are sympified."""
    return _sympify(x)



def product(*factors):
    """The product of scalars and matrices whose matrix factors chain (the factors of an existing product,
    reversed and transposed, or a coefficient and one matrix): `matmul` without its shape check."""
    factors = _numbers_of_forms([_as_scalar(f) for f in factors])
    if not any(is_matrix(f) for f in factors):
        return sympy.Mul(*factors)
    return chained_product(factors)


def chained_product(factors: list):
    """The product of `factors` (scalars and matrices that chain, 1x1 forms already taken as numbers where
    they do not chain): flattened, neighbouring inverses cancelled, units dropped, the coefficient in front."""
    flat = []
    for f in factors:
        flat += list(f.args) if isinstance(f, MatMul) else [f]
    coefficient = sympy.Mul(*(f for f in flat if not is_matrix(f)))
    matrices = [f for f in flat if is_matrix(f)]
    matrices = _cancel_inverses(matrices)
    units = [m for m in matrices if is_unit_1x1(m) or isinstance(m, Identity)]
    if units:  # A I = A, A [1] = A, I I = I
        matrices = [m for m in matrices if not (is_unit_1x1(m) or isinstance(m, Identity))] or units[:1]
    if coefficient == 0:
        return ZeroMatrix(matrices[0].shape[0], matrices[-1].shape[1])
    if coefficient == 1 and len(matrices) == 1:
        return matrices[0]
    return MatMul(*([coefficient] if coefficient != 1 else []), *matrices)


def _numbers_of_forms(factors: list) -> list:
    """A 1x1 factor beside a matrix it does not chain with is the number it is: (x^T x) x, 2 (a^T x) A."""
    matrices = [i for i, f in enumerate(factors) if is_matrix(f)]
    out = list(factors)
    for k, i in enumerate(matrices):
        if not is_1x1(factors[i]):
            continue
        left = factors[matrices[k - 1]] if k > 0 else None
        right = factors[matrices[k + 1]] if k + 1 < len(matrices) else None
        if (left is not None and not same(left.shape[1], 1)) or (right is not None and not same(right.shape[0], 1)):
            out[i] = as_scalar(factors[i])
    return out


def _cancel_inverses(matrices: list) -> list:
    """A A^{-1} = A^{-1} A = I, for neighbouring factors."""
    out: list = []
    for m in matrices:
        if out and ((isinstance(m, Inverse) and m.arg == out[-1]) or (isinstance(out[-1], Inverse) and out[-1].arg == m)):
            identity = Identity(out[-1].shape[0])
            out.pop()
            out.append(identity)
        else:
            out.append(m)
    return out


def is_unit_1x1(m) -> bool:
    """The 1x1 matrix [1] (SymPy writes it as a 1x1 identity or all-ones matrix)."""
    return isinstance(m, (OneMatrix, Identity)) and m.shape == (1, 1)


def is_1x1(x) -> bool:
    """A matrix expression of shape 1 x 1 (x^T A x, a^T X b): a scalar in all but name."""
    return is_matrix(x) and tuple(x.shape) == (1, 1)


def as_scalar(x):
    """A scalar for a scalar, or for a 1x1 matrix expression (its one entry, written as its trace): sums term
    by term and coefficients outside (x^T A x + 10 is the scalar 10 + tr(x^T A x))."""
    if not is_matrix(x):
        return x
    if is_unit_1x1(x):
        return S.One
    if isinstance(x, MatAdd):
        return sympy.Add(*(as_scalar(t) for t in x.args))
    if isinstance(x, MatMul):
        coefficient = sympy.Mul(*(f for f in x.args if not is_matrix(f)))
        rest = [f for f in x.args if is_matrix(f)]
        if all(is_unit_1x1(f) for f in rest):
            return coefficient
        if coefficient != 1:
            return coefficient * as_scalar(product(*rest))
    return Trace(x)



def negate(x):
    return product(S.NegativeOne, x) if is_matrix(x) else -x



def transpose(x):
    """x^T, products and sums factor by factor ((A B)^T = B^T A^T), so that the result is built by these
    builders (inverses cancelled, units dropped) rather than left to SymPy's canonical form. The terms of a
    sum have one shape, so their transposes do: nothing is broadcast."""
    if not is_matrix(x):
        return x
    if isinstance(x, MatMul):
        scalars = [f for f in x.args if not is_matrix(f)]
        return product(*scalars, *(transpose(f) for f in reversed(x.args) if is_matrix(f)))
    if isinstance(x, MatAdd):
        return same_shape_sum([transpose(t) for t in x.args])
    return Transpose(x).doit(deep=False)



def same_shape_sum(terms: list):
    """The sum of matrices of one shape (the terms of an existing sum, transposed), a product among them in
    normal form."""
    total = terms[0] if len(terms) == 1 else MatAdd(*terms).doit(deep=False)
    return product(*total.args) if isinstance(total, MatMul) else total


def _matrix_in_disguise(arg):
    """A matrix that SymPy's own rewriting left as a scalar product, rebuilt as the matrix it is, or `arg`.

    signsimp (under abs(), and in simplify) writes x - a as the unevaluated Mul -1 * (a - x) while it looks at
    signs, and rebuilds every node above it with that Mul: negation distributes back over the sum (x - a
    again, so the node comes through unchanged), any other coefficient makes a matrix product."""
    if not isinstance(arg, sympy.Mul) or isinstance(arg, MatMul):
        return arg
    matrices = [f for f in arg.args if is_matrix(f)]
    if not matrices:
        return arg
    coefficient = sympy.Mul(*(f for f in arg.args if not is_matrix(f)))
    if coefficient == -1 and len(matrices) == 1 and isinstance(matrices[0], MatAdd):
        return MatAdd(*(negate(t) for t in matrices[0].args)).doit(deep=False)
    return product(coefficient, *matrices)
