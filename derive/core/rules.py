"""The rule registry: one entry per operation, holding its local derivative, its rule name and its LaTeX.

An entry's `partials(out, operands)` gives the derivative of the op's output `out` with respect to each
operand, and may use `out` itself (sigmoid' = sigma(1 - sigma), exp' = exp): the shape of JAX's
`defjvp2`. `split` takes an expression apart into the operands the partials refer to (a quotient is
taken apart as numerator and denominator). `kinks` lists expressions that vanish where the op is not
differentiable (ReLU at 0, ties in max), for the checker to stay away from. `example` builds a small
expression in two symbols that exercises the rule: the tests walk the registry with it.

The engine (`derive.core.engine`) looks rules up here and never special-cases an op itself; the printer
(`derive.core.printing`) takes function names from here. Adding an op means adding one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import sympy
from sympy import Abs, Add, Expr, Heaviside, Max, Min, Mul, Pow, cos, exp, log, sign, sin

from .errors import MissingRuleError
from .ops import relu, sigmoid, softplus

Partials = Callable[[Expr, tuple], tuple]


@dataclass(frozen=True, slots=True)
class Rule:
    """How to differentiate one kind of SymPy node."""

    name: str  # "sigmoid rule", shown in worked solutions
    op: type  # the SymPy class this entry differentiates
    partials: Partials  # (out, operands) -> d out / d operand, one per operand
    example: Callable[[Expr, Expr], Expr]  # (x, y) -> an expression that needs this rule
    latex_name: str | None = None  # how the op itself prints, for functions: r"\sigma"
    split: Callable[[Expr], tuple] = lambda e: e.args
    applies: Callable[[Expr], bool] = lambda e: True
    kinks: Callable[[tuple], tuple] = lambda operands: ()
    note: str = ""  # the key of a remark said once in a worked solution that uses the rule (words: templates/macros.j2)
    linear: bool = False  # linear in each operand (to the first power): a sum, a product


def _others(operands: tuple, i: int) -> Expr:
    return Mul(*(f for j, f in enumerate(operands) if j != i))


def _numerator_denominator(expr: Expr) -> tuple[Expr, Expr]:
    numerator, denominator = [], []
    for factor in expr.args:
        base, power = factor.as_base_exp()
        if power.is_number and power.is_negative and not base.is_number:
            denominator.append(Pow(base, -power))
        else:
            numerator.append(factor)
    return Mul(*numerator), Mul(*denominator)


def _is_quotient(expr: Expr) -> bool:
    return _numerator_denominator(expr)[1] != 1


def _routes(operands, sign):
    """1 for the operand that wins (largest for max, sign=1; smallest for min, sign=-1), 0 for the others.

    At a tie (a kink) the first of the tied operands wins: a valid subgradient, as in argmax.
    """
    return tuple(
        Mul(*(Heaviside(sign * (a - b), 1 if i < j else 0) for j, b in enumerate(operands) if j != i))
        for i, a in enumerate(operands)
    )


def _max_partials(out, operands):
    return _routes(operands, 1)


def _min_partials(out, operands):
    return _routes(operands, -1)


def _ties(operands):
    return tuple(a - b for i, a in enumerate(operands) for b in operands[i + 1 :])


RULES: tuple[Rule, ...] = (
    Rule("sum rule", Add, lambda out, ops: (sympy.S.One,) * len(ops), lambda x, y: x + 3 * y + x * y, linear=True),
    Rule(
        "quotient rule",
        Mul,
        lambda out, ops: (1 / ops[1], -ops[0] / ops[1] ** 2),
        lambda x, y: (x + y) / (1 + x**2),
        split=_numerator_denominator,
        applies=_is_quotient,
    ),
    Rule(
        "product rule",
        Mul,
        lambda out, ops: tuple(_others(ops, i) for i in range(len(ops))),
        lambda x, y: 2 * x * y * sin(x),
        linear=True,
    ),
    Rule(
        "power rule",
        Pow,
        lambda out, ops: (ops[1] * ops[0] ** (ops[1] - 1), out * log(ops[0])),
        lambda x, y: (x**2 + 1) ** (y + x),
    ),
    Rule("exponential rule", exp, lambda out, ops: (out,), lambda x, y: exp(x * y)),
    Rule("logarithm rule", log, lambda out, ops: (1 / ops[0],), lambda x, y: log(x**2 + y**2 + 1)),
    Rule("sine rule", sin, lambda out, ops: (cos(ops[0]),), lambda x, y: sin(x * y)),
    Rule("cosine rule", cos, lambda out, ops: (-sin(ops[0]),), lambda x, y: cos(x + y**2)),
    Rule(
        "tanh rule", sympy.tanh, lambda out, ops: (1 - out**2,), lambda x, y: sympy.tanh(x * y), r"\tanh"
    ),
    Rule(
        "sigmoid rule",
        sigmoid,
        lambda out, ops: (out * (1 - out),),
        lambda x, y: sigmoid(x * y),
        sigmoid.latex_name,
    ),
    Rule(
        "ReLU rule",
        relu,
        lambda out, ops: (Heaviside(ops[0], 0),),
        lambda x, y: relu(x * y),
        relu.latex_name,
        kinks=lambda ops: (ops[0],),
        note="relu kink",
    ),
    Rule(
        "softplus rule",
        softplus,
        lambda out, ops: (sigmoid(ops[0]),),
        lambda x, y: softplus(x * y),
        softplus.latex_name,
    ),
    Rule(
        "absolute value rule",
        Abs,
        lambda out, ops: (sign(ops[0]),),
        lambda x, y: Abs(x * y),
        kinks=lambda ops: (ops[0],),
        note="abs kink",
    ),
    Rule(
        "max rule",
        Max,
        _max_partials,
        lambda x, y: Max(x, y),
        r"\max",
        kinks=_ties,
        note="max ties",
    ),
    Rule(
        "min rule",
        Min,
        _min_partials,
        lambda x, y: Min(x, y),
        r"\min",
        kinks=_ties,
        note="min ties",
    ),
)


def lookup(registry, expr):
    """The entry of `registry` (scalar or matrix) for `expr`'s top-level operation; a named error if none."""
    for rule in registry:
        if isinstance(expr, rule.op) and rule.applies(expr):
            return rule
    op = f"{expr.name}'" if getattr(expr, "prime", False) else type(expr).__name__  # sigma' rather than a class name
    raise MissingRuleError(
        f"no derivative rule for the operation {op} (in {sympy.sstr(expr)}); "
        f"derive knows: {', '.join(dict.fromkeys(r.name for r in registry))}"
    )


def rule_for(expr: Expr) -> Rule:
    """The registry entry that differentiates `expr`'s top-level operation; a named error if none."""
    return lookup(RULES, expr)


def function_latex_names() -> dict[type, str]:
    """How each registered function prints, keyed by its SymPy class."""
    return {rule.op: rule.latex_name for rule in RULES if rule.latex_name}
