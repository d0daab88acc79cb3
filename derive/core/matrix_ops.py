"""Matrix operations for derive: SymPy matrix expressions, the few nodes SymPy lacks, and shape-checked builders.

Networks with shapes are written in SymPy's matrix expressions (`MatrixSymbol`, `MatMul`, `MatAdd`,
`Transpose`, `HadamardProduct`, `Trace`, `Determinant`, `Inverse`, `Identity`, `OneMatrix`) plus the nodes
defined here: a function applied entry by entry (`Entrywise`: sigma(Z), tanh(Z), ReLU(Z), softplus(Z),
exp(Z), log(Z), sin(Z), cos(Z), |Z|, and their derivatives sigma'(Z), sign(Z), ...), the row-wise
`Softmax`, the square diagonal matrix `Diag` of a vector, the scalar-valued `SumEntries`, `Mean`,
`FrobeniusNorm` and `L1Norm`, and the placeholders dL/dV (`GradientOf`, `ScalarGradientOf`). SymPy's own
scalar evaluation must never reach inside matrices (it rewrites x - a as -1 * (a - x) to look at signs, and
takes tr(x^T x) for a complex number): |.|, sign, max and min are made matrix-safe (`SafeAbs`, ...), scalar
functions of forms are evaluated `of_real_numbers`, and the nodes here rebuild a matrix SymPy disguised.

The builders (`matmul`, `add`, `hadamard`, `apply`, ...) are how parsers and helpers make expressions:
they accept scalars and matrices alike, check shapes and name both in a `ShapeMismatch`, broadcast a bias
(`XW + b` with b a row becomes `XW + 1 b`) and a scalar in a sum (`1 - Yhat`), and treat a 1x1 product
such as `x^T A x` as the scalar it is. The engine and the rules sum with `sum_of`, which never broadcasts.
`explicit` turns an expression into an explicit SymPy matrix of scalar entries for concrete sizes: the
independent oracle used by the checks and the tests.
"""

from __future__ import annotations

import sympy
from sympy import Derivative, Expr, S, Symbol
from sympy.core.kind import NumberKind
from sympy.core.sympify import _sympify
from sympy.matrices import ImmutableMatrix, MatrixBase
from sympy.matrices.expressions import (
    Determinant, HadamardPower, HadamardProduct, Identity, Inverse, MatAdd, MatMul, MatPow, MatrixExpr,
    MatrixSymbol, OneMatrix, Trace, Transpose, ZeroMatrix,
)

from .errors import ProblemError
from .ops import relu, sigmoid, softplus


class ShapeMismatch(ProblemError):
    """Two operands whose shapes do not fit the operation; the message names both shapes."""


class InternalError(RuntimeError):
    """A bug in derive, not bad input: the engine or a rule built something that cannot be right (a scalar
    added to a matrix). Loud on purpose: it must never turn into a plausible wrong gradient."""


# -- nodes SymPy lacks -----------------------------------------------------------------------------

ENTRYWISE_FUNCTIONS = {"sigmoid": sigmoid, "tanh": sympy.tanh, "relu": relu, "softplus": softplus,
                       "exp": sympy.exp, "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "abs": sympy.Abs}
KINKED = {"relu", "abs"}  # not differentiable where an entry is 0 (derive uses the subgradient 0 there)


class _OfOneMatrix:
    """A node with one matrix argument, `arg`."""

    def __new__(cls, arg):
        arg = _sympify(arg)
        if not isinstance(arg, MatrixExpr):
            arg = _matrix_in_disguise(arg)
        if not isinstance(arg, MatrixExpr):
            raise TypeError(f"{cls.__name__} applies to a matrix expression, not {arg}")
        return super().__new__(cls, arg)

    @property
    def arg(self) -> MatrixExpr:
        return self.args[0]


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
    return matmul(coefficient, *matrices)


class _SameShape(_OfOneMatrix, MatrixExpr):
    """A matrix-valued node of one matrix argument, with that argument's shape."""

    @property
    def shape(self):
        return self.arg.shape


class Entrywise(_SameShape):
    """A scalar function applied to every entry of a matrix: sigma(Z), or its derivative sigma'(Z) (prime=True).

    Subclasses fix `function` (the SymPy scalar function) and `prime`; make them with `entrywise_class`.
    """

    function: type = None
    prime: bool = False

    def scalar(self, u: Expr) -> Expr:
        """The scalar function this node applies, at u."""
        if not self.prime:
            return self.function(u)
        stand_in = sympy.Dummy("u", real=True)
        return self.function(stand_in).fdiff(1).xreplace({stand_in: u})

    def _entry(self, i, j, **kwargs):
        return self.scalar(self.arg._entry(i, j, **kwargs))

    def _eval_transpose(self):
        return type(self)(transpose(self.arg))


_ENTRYWISE_CLASSES: dict[tuple[str, bool], type] = {}


def entrywise_class(name: str, prime: bool = False) -> type:
    """The Entrywise subclass for one function ("sigmoid", "tanh", "relu", "softplus", "exp", "log")."""
    key = (name, prime)
    if key not in _ENTRYWISE_CLASSES:
        class_name = f"Entrywise{name.capitalize()}{'Prime' if prime else ''}"
        cls = type(class_name, (Entrywise,), {"function": ENTRYWISE_FUNCTIONS[name], "prime": prime,
                                               "__module__": __name__, "name": name})
        globals()[class_name] = cls  # importable by name, so expressions pickle
        _ENTRYWISE_CLASSES[key] = cls
    return _ENTRYWISE_CLASSES[key]


for _name in ENTRYWISE_FUNCTIONS:
    entrywise_class(_name)
    entrywise_class(_name, prime=True)


class Softmax(_SameShape):
    """softmax applied to each row: S_ij = exp(Z_ij) / sum_k exp(Z_ik)."""

    def _entry(self, i, j, **kwargs):
        row = [sympy.exp(self.arg._entry(i, k, **kwargs)) for k in range(self.arg.shape[1])]
        return row[j] / sympy.Add(*row)


class Diag(_OfOneMatrix, MatrixExpr):
    """diag(v): the n x n matrix with the entries of the vector v (n x 1 or 1 x n) on its diagonal."""

    @property
    def shape(self):
        length = self.arg.shape[0] if self.arg.shape[1] == 1 else self.arg.shape[1]
        return length, length

    def entry_of_arg(self, k, **kwargs):
        """The k-th entry of the vector, whether it is a column or a row."""
        return self.arg._entry(k, 0, **kwargs) if self.arg.shape[1] == 1 else self.arg._entry(0, k, **kwargs)

    def _entry(self, i, j, **kwargs):
        return self.entry_of_arg(i, **kwargs) if i == j else S.Zero

    def _eval_transpose(self):
        return self


class _ScalarOfMatrix(_OfOneMatrix, Expr):
    """A scalar-valued function of one matrix (sum of entries, mean, Frobenius norm)."""

    is_commutative = True
    is_real = True

    def _eval_Abs(self):  # SymPy writes sqrt(s^2) as |s| for a real s: never through its own |.| (_MatrixSafe)
        return self if self.is_nonnegative else SafeAbs(self)


class SumEntries(_ScalarOfMatrix):
    """The sum of all entries, 1^T A 1."""


class Mean(_ScalarOfMatrix):
    """The mean of all entries."""


class FrobeniusNorm(_ScalarOfMatrix):
    """||A||_F = sqrt(sum of squared entries)."""

    is_nonnegative = True


class L1Norm(_ScalarOfMatrix):
    """||A||_1 taken entry by entry: the sum of the absolute values of the entries (the L1 penalty)."""

    is_nonnegative = True


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


def kinked(node) -> bool:
    """A node that is not differentiable where an entry of its argument is 0: ReLU(Z), |A|, ||A||_1."""
    return isinstance(node, L1Norm) or (isinstance(node, Entrywise) and not node.prime and node.name in KINKED)


class ScalarGradientOf(Derivative):
    """dL/de for a scalar intermediate e, kept as a factor in a derivation (printed as a fraction).

    Inert: L and e are symbols, so a plain `Derivative(L, e).doit()` is 0, and SymPy calls `doit` and
    `transpose` on the factors of a matrix product it transposes or evaluates. This one stays itself."""

    def __new__(cls, loss, variable):
        return Derivative.__new__(cls, loss, variable, evaluate=False)

    def _eval_is_commutative(self):  # a scalar, also for a 1x1 loss and intermediate (MatrixSymbols)
        return True

    @property
    def kind(self):
        return NumberKind

    def doit(self, **hints):
        return self

    def _eval_transpose(self):
        return self

    def _eval_adjoint(self):
        return self

    def _eval_conjugate(self):
        return self


class GradientOf(MatrixExpr):
    """dL/dV for a matrix V, kept as a factor in a derivation (printed as a fraction); the shape of V."""

    def __new__(cls, loss, variable):
        return MatrixExpr.__new__(cls, loss, variable)

    @property
    def shape(self):
        return self.args[1].shape


# -- shape-checked builders ------------------------------------------------------------------------

def is_matrix(x) -> bool:
    return isinstance(x, MatrixExpr)


def shape_text(shape) -> str:
    return f"{sympy.sstr(shape[0])}x{sympy.sstr(shape[1])}"


def describe(x) -> str:
    """'X (nx3)' for error messages; an expression as its LaTeX, as the user wrote it ('W^{(2)T} (\\hat{y} - y)'),
    not SymPy's internal form."""
    if isinstance(x, (MatrixSymbol, Symbol)):
        name = x.name
    else:
        from .printing import latex  # the printer builds on this module

        name = latex(x).replace(r"\left", "").replace(r"\right", "")
        name = f"({name})" if " " in name else name
    return f"{name} ({shape_text(x.shape) if is_matrix(x) else 'scalar'})"


def same(a, b) -> bool:
    """Dimensions known to be equal (structurally: n and 3 are different)."""
    a, b = sympy.sympify(a), sympy.sympify(b)
    return sympy.simplify(a - b) == 0 if (a != b and not (a.is_number and b.is_number)) else a == b


def _unresolved(a, b) -> str:
    """Why two sizes could not be matched, when a symbolic size is involved."""
    symbolic = [d for d in (sympy.sympify(a), sympy.sympify(b)) if not d.is_number]
    if not symbolic:
        return ""
    names = " and ".join(sympy.sstr(d) for d in symbolic)
    return f" (the symbolic size {names} cannot be shown equal to {sympy.sstr(b if symbolic[0] == sympy.sympify(a) else a)}; " \
           "declare the same name or number for both)"


def _as_scalar(x):
    """A 1x1 matrix expression kept as a matrix; callers decide. Plain numbers are sympified."""
    return _sympify(x)


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
            return coefficient * as_scalar(matmul(*rest))
    return Trace(x)


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


def negate(x):
    return scale(S.NegativeOne, x) if is_matrix(x) else -x


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


def transpose(x):
    """x^T, products and sums factor by factor ((A B)^T = B^T A^T), so that the result is built by these
    builders (inverses cancelled, units dropped) rather than left to SymPy's canonical form."""
    if not is_matrix(x):
        return x
    if isinstance(x, MatMul):
        scalars = [f for f in x.args if not is_matrix(f)]
        return matmul(*scalars, *(transpose(f) for f in reversed(x.args) if is_matrix(f)))
    if isinstance(x, MatAdd):
        return add(*(transpose(t) for t in x.args))
    return Transpose(x).doit(deep=False)


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


# -- explicit matrices of scalar entries -------------------------------------------------------------

def entry_symbols(symbol: MatrixSymbol, shape) -> ImmutableMatrix:
    """The explicit matrix [[X[0,0], X[0,1]], ...] of real scalar symbols standing for symbol's entries."""
    rows, cols = (int(d) for d in shape)
    return ImmutableMatrix(rows, cols, lambda i, j: Symbol(f"{symbol.name}[{i},{j}]", real=True))


def dimensions_of(expr) -> set[Symbol]:
    """The symbolic dimensions (n, m, ...) the shapes in `expr` mention."""
    found = set()
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, MatrixSymbol):
            for d in node.shape:
                found |= getattr(d, "free_symbols", set())
    return found


def explicit(expr, values: dict):
    """`expr` with each matrix symbol replaced by its explicit value in `values` (ImmutableMatrix), computed
    bottom-up into an explicit matrix (or a scalar). Dimensions in `values` (n -> 2) are substituted too."""
    memo: dict = {}

    def ev(node):
        if node in memo:
            return memo[node]
        result = _explicit_node(node, ev, values)
        memo[node] = result
        return result

    return ev(expr)


def _dims(node, values):
    return tuple(int(sympy.sympify(d).xreplace({k: v for k, v in values.items() if isinstance(k, Symbol)}))
                 for d in node.shape)


def _explicit_node(node, ev, values):
    if node in values:
        return values[node]
    if isinstance(node, MatrixSymbol):
        raise KeyError(f"no explicit value for the matrix {node.name}")
    if isinstance(node, OneMatrix):
        rows, cols = _dims(node, values)
        return ImmutableMatrix.ones(rows, cols)
    if isinstance(node, Identity):
        return ImmutableMatrix.eye(_dims(node, values)[0])
    if isinstance(node, ZeroMatrix):
        return ImmutableMatrix.zeros(*_dims(node, values))
    if isinstance(node, MatMul):
        result = S.One
        for factor in node.args:
            value = ev(factor)
            result = result * value
        return result
    if isinstance(node, MatAdd):
        values_ = [ev(t) for t in node.args]
        total = values_[0]
        for v in values_[1:]:
            total = total + v
        return total
    if isinstance(node, Transpose):
        return ev(node.arg).T
    if isinstance(node, MatPow):
        return ev(node.base) ** int(node.exp)
    if isinstance(node, Inverse):
        return ev(node.arg).inv()
    if isinstance(node, HadamardProduct):
        result = ev(node.args[0])
        for factor in node.args[1:]:
            result = result.multiply_elementwise(ev(factor))
        return result
    if isinstance(node, HadamardPower):
        base, exponent = ev(node.base), ev(node.exp)
        return base.applyfunc(lambda u: u ** exponent)
    if isinstance(node, Entrywise):
        return ev(node.arg).applyfunc(lambda u: node.scalar(u))
    if isinstance(node, Softmax):
        z = ev(node.arg)
        rows = []
        for i in range(z.rows):
            e = [sympy.exp(z[i, k]) for k in range(z.cols)]
            total = sympy.Add(*e)
            rows.append([v / total for v in e])
        return ImmutableMatrix(rows)
    if isinstance(node, Diag):
        v = ev(node.arg)
        return ImmutableMatrix.diag(*list(v))
    if isinstance(node, Trace):
        return ev(node.arg).trace()
    if isinstance(node, Determinant):
        return ev(node.arg).det()
    if isinstance(node, SumEntries):
        return sympy.Add(*ev(node.arg))
    if isinstance(node, Mean):
        a = ev(node.arg)
        return sympy.Add(*a) / (a.rows * a.cols)
    if isinstance(node, FrobeniusNorm):
        a = ev(node.arg)
        return sympy.sqrt(sympy.Add(*[u ** 2 for u in a]))
    if isinstance(node, L1Norm):
        return sympy.Add(*[sympy.Abs(u) for u in ev(node.arg)])
    if isinstance(node, MatrixExpr):
        raise TypeError(f"no explicit form for {type(node).__name__}")
    if node.is_Atom:
        return node
    args = [ev(a) for a in node.args]
    if any(isinstance(a, MatrixBase) for a in args):
        args = [a[0, 0] if isinstance(a, MatrixBase) and a.shape == (1, 1) else a for a in args]
    return node.func(*args)
