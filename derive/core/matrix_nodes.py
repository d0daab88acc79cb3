"""The matrix layer's nodes SymPy lacks: what the printer, the evaluator and the rules dispatch on.

A function applied entry by entry (`Entrywise`: sigma(Z), tanh(Z), ReLU(Z), softplus(Z), exp(Z), log(Z),
sin(Z), cos(Z), |Z|, and their derivatives sigma'(Z), sign(Z), ...; one subclass per function, made by
`entrywise_class`), the row-wise `Softmax`, the square diagonal matrix `Diag` of a vector, the scalar-valued
`SumEntries`, `Mean`, `FrobeniusNorm` and `L1Norm`, and the placeholders dL/dV (`GradientOf`,
`ScalarGradientOf`). A node rebuilds a matrix SymPy disguised as a scalar product (`matrix_algebra`).
The builders that check shapes and make these nodes live in `matrix_ops`; the matrix-safe |.|, sign, max
and min in `matrix_safe`.
"""

from __future__ import annotations

import sympy
from sympy import Derivative, Expr, S
from sympy.core.kind import NumberKind
from sympy.core.sympify import _sympify
from sympy.matrices.expressions import MatrixExpr

from .matrix_algebra import _matrix_in_disguise, transpose
from .matrix_safe import SafeAbs
from .ops import relu, sigmoid, softplus


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
