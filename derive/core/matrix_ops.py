"""The matrix builders: how parsers and helpers make matrix expressions, with shapes checked.

Networks with shapes are written in SymPy's matrix expressions (`MatrixSymbol`, `MatMul`, `MatAdd`,
`Transpose`, `HadamardProduct`, `Trace`, `Determinant`, `Inverse`, `Identity`, `OneMatrix`) plus derive's
own nodes (`matrix_nodes`: `Entrywise`, `Softmax`, `Diag`, `SumEntries`, `Mean`, `FrobeniusNorm`, `L1Norm`,
`GradientOf`, `ScalarGradientOf`). The builders here (`matmul`, `add`, `hadamard`, `apply`, `norm`, ...)
accept scalars and matrices alike, check shapes and name both operands in a `ShapeMismatch` (printed with
the one printer), broadcast a bias (`XW + b` with b a row becomes `XW + 1 b`) and a scalar in a sum
(`1 - Yhat`), and treat a 1x1 product such as `x^T A x` as the scalar it is. The engine and the rules sum
with `sum_of`, which never broadcasts.

This module also offers the rest of the matrix layer under one name (`derive.matrix_ops`): the nodes, the
unchecked algebra they and the printer rebuild with (`matrix_algebra`: `transpose`, `negate`, `as_scalar`,
...), the matrix-safe |.|, sign, max, min (`matrix_safe`) and the explicit matrices of scalar entries
(`matrix_explicit`: `explicit`, the independent oracle of the checks and the tests).
"""

from __future__ import annotations

import sympy
from sympy import S, Symbol
from sympy.core.sympify import _sympify
from sympy.matrices.expressions import (
    Determinant, HadamardPower, HadamardProduct, Identity, Inverse, MatAdd, MatMul, MatPow, MatrixSymbol, OneMatrix,
    Trace, Transpose,
)

from .errors import ProblemError
from .printing import latex
# The layer's other names, so that `derive.matrix_ops` (mo.Entrywise, mo.transpose, mo.explicit, ...) offers them all:
from .matrix_algebra import (  # noqa: F401
    _as_scalar, _numbers_of_forms, as_scalar, chained_product, is_1x1, is_matrix, is_unit_1x1, negate, same,
    transpose,
)
from .matrix_explicit import dimensions_of, entry_symbols, explicit  # noqa: F401
from .matrix_nodes import (  # noqa: F401
    _ENTRYWISE_CLASSES, ENTRYWISE_FUNCTIONS, KINKED, Diag, Entrywise, FrobeniusNorm, GradientOf, L1Norm, Mean,
    ScalarGradientOf, Softmax, SumEntries, entrywise_class, kinked,
)
from .matrix_safe import (  # noqa: F401
    MATRIX_SAFE, SafeAbs, SafeMax, SafeMin, SafeSign, kept_from_matrices, of_real_numbers, scalars_of_matrices,
)

globals().update({cls.__name__: cls for cls in _ENTRYWISE_CLASSES.values()})  # mo.EntrywiseSigmoid, ... as before


class ShapeMismatch(ProblemError):
    """Two operands whose shapes do not fit the operation; the message names both shapes."""


class InternalError(RuntimeError):
    """A bug in derive, not bad input: the engine or a rule built something that cannot be right (a scalar
    added to a matrix). Loud on purpose: it must never turn into a plausible wrong gradient."""


# -- shape-checked builders ------------------------------------------------------------------------

def shape_text(shape) -> str:
    return f"{sympy.sstr(shape[0])}x{sympy.sstr(shape[1])}"


def describe(x) -> str:
    """'X (nx3)' for error messages; an expression as its LaTeX, as the user wrote it ('W^{(2)T} (\\hat{y} - y)'),
    not SymPy's internal form."""
    if isinstance(x, (MatrixSymbol, Symbol)):
        name = x.name
    else:
        name = latex(x).replace(r"\left", "").replace(r"\right", "")
        name = f"({name})" if " " in name else name
    return f"{name} ({shape_text(x.shape) if is_matrix(x) else 'scalar'})"


def _unresolved(a, b) -> str:
    """Why two sizes could not be matched, when a symbolic size is involved."""
    symbolic = [d for d in (sympy.sympify(a), sympy.sympify(b)) if not d.is_number]
    if not symbolic:
        return ""
    names = " and ".join(sympy.sstr(d) for d in symbolic)
    return f" (the symbolic size {names} cannot be shown equal to {sympy.sstr(b if symbolic[0] == sympy.sympify(a) else a)}; " \
           "declare the same name or number for both)"


def matmul(*factors):
    """The product of scalars and matrices, left to right; matrix factors must chain (cols = next rows)."""
    factors = _numbers_of_forms([_as_scalar(f) for f in factors])
    matrices = [f for f in factors if is_matrix(f)]
    if not matrices:
        return sympy.Mul(*factors)
    for left, right in zip(matrices, matrices[1:]):
        if not same(left.shape[1], right.shape[0]):
            raise ShapeMismatch(
                f"cannot multiply {describe(left)} by {describe(right)}: {sympy.sstr(left.shape[1])} columns "
                f"against {sympy.sstr(right.shape[0])} rows{_unresolved(left.shape[1], right.shape[0])}")
    return chained_product(factors)


def scale(c, m):
    """c times m, c a scalar."""
    return matmul(c, m)


def add(*terms):
    """A sum as a user writes it (the reader and the builders): a scalar added to a matrix is that scalar
    times the all-ones matrix (1 - Yhat); a row b (1 x k) or a column b (k x 1) added to an n x k matrix is
    broadcast as 1 b or 1 b^T (a bias, added to every row). The engine and the rules never broadcast: they
    use `sum_of`."""
    terms = [_as_scalar(t) for t in terms]
    matrices = [t for t in terms if is_matrix(t)]
    if not matrices:
        return sympy.Add(*terms)
    rows, cols = max(matrices, key=lambda m: (m.shape[0] != 1, m.shape[1] != 1)).shape
    out = []
    for t in terms:
        if not is_matrix(t):
            out.append(scale(t, OneMatrix(rows, cols)) if t != 0 else None)
        elif same(t.shape[0], rows) and same(t.shape[1], cols):
            out.append(t)
        elif same(t.shape[0], 1) and same(t.shape[1], cols):
            out.append(MatMul(OneMatrix(rows, 1), t))
        elif same(t.shape[1], 1) and same(t.shape[0], cols):  # also when rows = cols: as declared, a column
            out.append(MatMul(OneMatrix(rows, 1), Transpose(t)))
        else:
            big = next(m for m in matrices if m.shape == (rows, cols))
            raise ShapeMismatch(f"cannot add {describe(big)} and {describe(t)}: the shapes differ")
    out = [t for t in out if t is not None]
    total = out[0] if len(out) == 1 else MatAdd(*out).doit(deep=False)
    return matmul(*total.args) if isinstance(total, MatMul) else total


def sum_of(*terms):
    """A sum of terms of one kind, as the engine and the rules build it: scalars, or matrices of one shape.

    Nothing is broadcast: a scalar beside a matrix, or two shapes that differ, is a bug in derive (a factor
    taken out of a sum that left a scalar where c I belongs), raised as an `InternalError` naming both. Only
    1x1 matrices go with scalars: they are numbers (the gradient of q = x^T A x comes back as a scalar
    along one path and as (c I_1) along another), and the sum is the number."""
    terms = [_as_scalar(t) for t in terms]
    matrices = [t for t in terms if is_matrix(t)]
    if not matrices:
        return sympy.Add(*terms)
    if len(matrices) < len(terms) and all(is_1x1(m) for m in matrices):
        return sympy.Add(*(as_scalar(t) for t in terms))
    for t in terms:
        if not is_matrix(t):
            raise InternalError(f"a sum of the scalar {describe(t)} and the matrix {describe(matrices[0])}")
        if not (same(t.shape[0], matrices[0].shape[0]) and same(t.shape[1], matrices[0].shape[1])):
            raise InternalError(f"a sum of {describe(matrices[0])} and {describe(t)}, whose shapes differ")
    total = matrices[0] if len(matrices) == 1 else MatAdd(*matrices).doit(deep=False)
    return matmul(*total.args) if isinstance(total, MatMul) else total


def subtract(a, b):
    return add(a, negate(b))


def hadamard(*factors):
    """The entrywise product; a scalar factor scales it."""
    factors = [_as_scalar(f) for f in factors]
    matrices = [f for f in factors if is_matrix(f)]
    scalars = [f for f in factors if not is_matrix(f)]
    if not matrices:
        return sympy.Mul(*factors)
    for m in matrices[1:]:
        if not (same(m.shape[0], matrices[0].shape[0]) and same(m.shape[1], matrices[0].shape[1])):
            raise ShapeMismatch(f"cannot take the entrywise product of {describe(matrices[0])} and {describe(m)}: "
                             "the shapes differ")
    product = matrices[0] if len(matrices) == 1 else HadamardProduct(*matrices)
    return matmul(*scalars, product) if scalars else product


def _square(x, what: str):
    if not is_matrix(x):
        return
    if not same(x.shape[0], x.shape[1]):
        raise ShapeMismatch(f"{what} needs a square matrix; {describe(x)} is not square")


def inverse(x):
    if not is_matrix(x):
        return 1 / x
    _square(x, "the inverse")
    return Inverse(x)


def power(base, exponent):
    """base^exponent. A 1x1 form ((x^T x)^{1/2}) is the scalar it is; for a square matrix, a positive integer
    is a repeated product, -1 the inverse and -k the k-th power of the inverse (X^{-2} = (X^{-1})^2)."""
    exponent = _sympify(exponent)
    if is_1x1(base):
        base = as_scalar(base)
    if not is_matrix(base):
        return _scalar_power(base, exponent)
    if exponent == -1:
        return inverse(base)
    if exponent.is_Integer and exponent != 0:
        _square(base, f"the power {exponent}")
        if exponent == 1:
            return base
        return MatPow(base, exponent) if exponent > 0 else MatPow(inverse(base), -exponent)
    raise ShapeMismatch(f"cannot raise the matrix {describe(base)} to the power {exponent}; "
                        r"for an entrywise power write A^{\circ p}")


def _scalar_power(base, exponent):
    """base^exponent of scalars, which are real in derive: (b^{2k})^e = |b|^{2k e}, so ((log u)^2)^{1/2} = |log u|.
    SymPy, unable to show b real, keeps the power of a power, and takes arg(b) apart the next time it
    multiplies it, with abs() of what it finds, on the matrices inside b."""
    if isinstance(base, sympy.Pow) and base.exp.is_even and not exponent.is_integer:
        return of_real_numbers(sympy.Pow, SafeAbs(base.base), base.exp * exponent)
    return of_real_numbers(sympy.Pow, base, exponent)


def divide(a, b):
    """a / b for a scalar b, or a 1x1 form b (x^T A x / x^T x is a quotient of scalars)."""
    if is_1x1(b):
        a, b = as_scalar(a) if is_1x1(a) else a, as_scalar(b)
    if is_matrix(b):
        raise ShapeMismatch(f"cannot divide by the matrix {describe(b)}")
    return scale(S.One / b, a) if is_matrix(a) else _sympify(a) / b


def hadamard_power(base, exponent):
    """Each entry of a matrix raised to a power, A^(o p): A itself for p = 1, all ones for p = 0."""
    exponent = _sympify(exponent)
    if not is_matrix(base):
        return _scalar_power(base, exponent)
    if exponent == 1:
        return base
    if exponent == 0:
        return OneMatrix(*base.shape)
    return HadamardPower(base, exponent)


def root(x, degree=2):
    """The square (or degree-th) root: of a scalar or a 1x1 form, the number's; of a matrix, entry by entry
    (sqrt(A) = A^(o 1/2)), never a matrix square root."""
    if is_matrix(x) and not is_1x1(x):
        return hadamard_power(x, S.One / degree)
    return power(x, S.One / degree)


def maximum(*args):
    """max of scalars; max(0, M) = max(M, 0) of a matrix M is ReLU(M), entry by entry."""
    args = [as_scalar(a) if is_1x1(a) else a for a in args]
    matrices = [a for a in args if is_matrix(a)]
    if not matrices:
        return SafeMax(*args)
    if len(args) == 2 and len(matrices) == 1 and S.Zero in args:
        return apply("relu", matrices[0])
    raise ShapeMismatch(f"the entrywise max of {', '.join(describe(a) for a in args)} is not supported; "
                        "max(0, M) of one matrix M (the ReLU) is")


def minimum(*args):
    """min of scalars (1x1 forms among them); of a matrix it is refused (no entrywise min is supported)."""
    args = [as_scalar(a) if is_1x1(a) else a for a in args]
    matrices = [a for a in args if is_matrix(a)]
    if matrices:
        raise ShapeMismatch(f"the entrywise min of {', '.join(describe(a) for a in args)} is not supported; "
                            "max(0, M) of one matrix M (the ReLU) is")
    return SafeMin(*args)


def apply(name: str, x):
    """A scalar function by name ("sigmoid", "tanh", "relu", "softplus", "exp", "log", "sin", "cos", "abs",
    "identity"), entry by entry on a matrix."""
    if name == "identity":
        return x
    if is_matrix(x):
        return entrywise_class(name)(x)
    return SafeAbs(x) if name == "abs" else of_real_numbers(ENTRYWISE_FUNCTIONS[name], x)


def softmax(x):
    if not is_matrix(x):
        raise ShapeMismatch(f"softmax needs a matrix (applied to each row), not the scalar {x}")
    return Softmax(x)


def diag(x):
    """The square diagonal matrix of a vector (n x 1 or 1 x n); a scalar stays itself. A matrix that is not
    a vector is refused: diag of a square matrix means its diagonal in some libraries, a block in others."""
    if not is_matrix(x):
        return x
    if not (same(x.shape[1], 1) or same(x.shape[0], 1)):
        raise ShapeMismatch(f"diag needs a vector (n x 1 or 1 x n); {describe(x)} is not a vector")
    return Diag(x)


def trace(x):
    _square(x, "the trace")
    return Trace(x) if is_matrix(x) else x


def det(x):
    _square(x, "the determinant")
    return Determinant(x) if is_matrix(x) else x


def norm(x, kind: str = "F"):
    """||x||: Frobenius ("F", also "2" of a vector), or "1" entry by entry (the sum of absolute values)."""
    if not is_matrix(x):
        return SafeAbs(x)
    return L1Norm(x) if kind == "1" else FrobeniusNorm(x)


def sum_entries(x):
    return SumEntries(x) if is_matrix(x) else x


def mean(x):
    return Mean(x) if is_matrix(x) else x


def ones(rows, cols):
    return OneMatrix(rows, cols)


def identity(size):
    return Identity(size)
