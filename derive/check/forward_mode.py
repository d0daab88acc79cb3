"""Forward-mode differentiation of a scalar network for the comparison of methods (seed 001's "forward mode
automatic" row): each node's tangent dot(v) = sum_i d v / d operand_i * dot(operand_i), from the rule
registry's local derivatives, one pass per input for a whole gradient.

The tangent is built as an expression once (each distinct subexpression once) and compiled with `lambdify`
(common subexpressions eliminated); seeding the tangent of one input with 1 gives that input's partial
derivative, and the seeds of every input are evaluated in one vectorised call. Matrix networks are not
covered: the matrix registry holds vector-Jacobian products (reverse mode).
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Expr, Symbol

from .numeric import compile_expression
from ..core.rules import rule_for


def tangent(expr: Expr, seeds: dict[Symbol, Expr]) -> Expr:
    """dot(expr) given dot(x) = seeds[x] for the inputs (0 for the others), by the registry's rules."""
    memo: dict = {}
    stack = [expr]
    while stack:  # post-order without recursion
        node = stack[-1]
        if node in memo:
            stack.pop()
            continue
        if node.is_Symbol or node.is_Number or node.is_NumberSymbol:
            memo[node] = seeds.get(node, sympy.S.Zero)
            stack.pop()
            continue
        rule = rule_for(node)
        operands = rule.split(node)
        pending = [o for o in operands if o not in memo]
        if pending:
            stack.extend(pending)
            continue
        partials = rule.partials(node, tuple(operands))
        memo[node] = sympy.Add(*(p * memo[o] for p, o in zip(partials, operands) if memo[o] != 0))
        stack.pop()
    return memo[expr]


def forward_mode_gradient(loss: Expr, inputs: list, wrts: list, values: np.ndarray) -> tuple[np.ndarray, int]:
    """(the gradient of `loss` with respect to `wrts` at `values` of `inputs`, forward passes used: one per wrt)."""
    seeds = {w: Symbol(f"dot_{k}", real=True) for k, w in enumerate(wrts)}
    dots = list(seeds.values())
    function = compile_expression(tangent(loss, seeds), list(inputs) + dots)
    identity = np.eye(len(wrts))
    arguments = [np.full(len(wrts), v) for v in values] + [identity[:, k] for k in range(len(wrts))]
    with np.errstate(all="ignore"):
        result = np.broadcast_to(np.asarray(function(*arguments), dtype=float), (len(wrts),))
    return np.array(result), len(wrts)
