"""Where a loss is not differentiable (`kink_expressions`: the registry's kinks, expressions vanishing there)
and why it is not complex-analytic (`not_analytic_reason`: ReLU, abs, max, ... refuse the complex step)."""

from __future__ import annotations

import sympy
from sympy import Expr, preorder_traversal

from ..core import matrix_ops as mo
from ..core.errors import MissingRuleError
from ..core.rules import rule_for


def kink_expressions(expr: Expr) -> list[Expr]:
    """Expressions that vanish where `expr` is not differentiable (from the registry's kinks)."""
    kinks = []
    for node in preorder_traversal(expr):
        if node.is_Atom:
            continue
        try:
            rule = rule_for(node)
        except MissingRuleError:
            continue
        kinks += rule.kinks(rule.split(node))
    return kinks


def not_analytic_reason(expr) -> str | None:
    """Why the complex step cannot be used on `expr` (it has ReLU, abs, max, ...), or None if it can."""
    from ..core.ops import relu

    for node in preorder_traversal(expr):
        if isinstance(node, relu) or (isinstance(node, mo.Entrywise) and node.name == "relu"):
            return "it contains ReLU, which is not complex-analytic"
        if mo.kinked(node):  # |A| and ||A||_1, entry by entry
            return "it contains an absolute value, which is not complex-analytic"
        if isinstance(node, (sympy.Abs, sympy.Max, sympy.Min, sympy.Heaviside, sympy.sign, sympy.Piecewise)):
            return f"it contains {type(node).__name__}, which is not complex-analytic"
    return None
