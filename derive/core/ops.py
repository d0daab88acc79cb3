"""The activation functions derive adds to SymPy: sigmoid, ReLU, softplus, and an elementwise tanh.

Each applies elementwise to a matrix, evaluates at numbers, differentiates under plain `sympy.diff`
(so SymPy users get what they expect) and rewrites to elementary functions (`expr.rewrite(exp)`),
which is what the tests use as an independent oracle. How an op prints and how the engine
differentiates it live in its registry entry (`derive.core.rules`), not here.
"""

from __future__ import annotations

import sympy
from sympy import Function, Heaviside, Max, S, exp, log
from sympy.matrices import MatrixBase


class _Elementwise(Function):
    """A one-argument function that maps over the entries of a matrix argument."""

    nargs = 1

    @classmethod
    def eval(cls, arg):
        if isinstance(arg, MatrixBase):
            return arg.applyfunc(cls)
        return cls._eval_at(arg)

    @classmethod
    def _eval_at(cls, arg):
        return None

    def _eval_is_real(self):
        return self.args[0].is_real

    def _eval_evalf(self, prec):
        """Numbers through the elementary form: N(sigmoid(1)) = 0.7310..."""
        return self.rewrite(exp)._eval_evalf(prec)

    latex_name = ""  # how the op prints (r"\sigma"); its rule in `derive.core.rules` prints it so

    def _latex(self, printer, exp=None):
        """Plain `sympy.latex` prints the op under its name too (sigma, ReLU, softplus)."""
        name = type(self).latex_name
        printed = rf"{name}\left({printer._print(self.args[0])}\right)"
        return rf"{printed}^{{{exp}}}" if exp is not None else printed


class sigmoid(_Elementwise):
    """The logistic sigmoid, sigma(u) = 1 / (1 + e^{-u})."""

    latex_name = r"\sigma"

    @classmethod
    def _eval_at(cls, arg):
        if arg.is_zero:
            return S.Half
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return 1 / (1 + exp(-arg))


class relu(_Elementwise):
    """The rectified linear unit, max(0, u); its derivative at the kink u = 0 is taken as 0."""

    latex_name = r"\operatorname{ReLU}"

    @classmethod
    def _eval_at(cls, arg):
        if arg.is_number and arg.is_real:
            return Max(S.Zero, arg)
        return None

    def fdiff(self, argindex=1):
        return Heaviside(self.args[0], 0)

    def _eval_rewrite_as_Max(self, arg, **kwargs):
        return Max(S.Zero, arg)

    _eval_rewrite_as_exp = _eval_rewrite_as_Max


class softplus(_Elementwise):
    """The softplus, log(1 + e^u), a smooth ReLU whose derivative is the sigmoid."""

    latex_name = r"\operatorname{softplus}"

    @classmethod
    def _eval_at(cls, arg):
        if arg.is_zero:
            return log(2)
        return None

    def fdiff(self, argindex=1):
        return sigmoid(self.args[0])

    def _eval_rewrite_as_exp(self, arg, **kwargs):
        return log(1 + exp(arg))


def tanh(arg):
    """SymPy's tanh, mapped over the entries when the argument is a matrix."""
    arg = sympy.sympify(arg)
    if isinstance(arg, MatrixBase):
        return arg.applyfunc(sympy.tanh)
    return sympy.tanh(arg)

