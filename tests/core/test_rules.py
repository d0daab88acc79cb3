"""Table-driven tests over the rule registry: each rule against sympy.diff and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from derive import RULES, MissingRuleError, differentiate
from derive.check.gradient_check import kink_expressions
from derive.core.network import make_symbol
from derive.check.numeric import compile_expression
from derive.core.rules import rule_for

from conftest import agree_at_random_points, elementary

x, y = make_symbol("x"), make_symbol("y")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_example_uses_its_own_rule(rule):
    assert rule_for(rule.example(x, y)) is rule


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
@pytest.mark.parametrize("var", [x, y], ids=["x", "y"])
def test_rule_agrees_with_sympy_diff(rule, var):
    expr = rule.example(x, y)
    derived, used = differentiate(expr, var)
    assert rule.name in used
    oracle = sympy.diff(elementary(expr), var)
    points_seed = RULES.index(rule)
    agree_at_random_points(elementary(derived), oracle, [x, y], seed=points_seed)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_agrees_with_central_differences(rule):
    expr = rule.example(x, y)
    f = compile_expression(expr, [x, y])
    grads = [compile_expression(differentiate(expr, v)[0], [x, y]) for v in (x, y)]
    rng = np.random.default_rng(1)
    kinks = kink_expressions(expr)
    checked = 0
    while checked < 5:
        p = rng.uniform(0.2, 1.5, size=2) * rng.choice([-1, 1], size=2)
        if kinks and min(abs(float(k.subs({x: p[0], y: p[1]}))) for k in kinks) < 1e-2:
            continue
        for i, g in enumerate(grads):
            h = 1e-6
            up, down = p.copy(), p.copy()
            up[i] += h
            down[i] -= h
            numeric = (f(*up) - f(*down)) / (2 * h)
            assert float(g(*p)) == pytest.approx(numeric, rel=1e-6, abs=1e-8), (rule.name, p, i)
        checked += 1


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_rule_partials_use_the_output_when_declared(rule):
    """Rules written in terms of their own output (sigmoid, tanh, exp) give that output back."""
    expr = rule.example(x, y)
    partials = rule.partials(expr, rule.split(expr))
    assert len(partials) == len(rule.split(expr))


def test_sigmoid_rule_is_in_terms_of_its_output():
    u = make_symbol("u")
    s = next(r for r in RULES if r.name == "sigmoid rule")
    out = s.example(u, sympy.Integer(1))
    assert s.partials(out, s.split(out)) == (out * (1 - out),)


def test_missing_rule_names_the_operation():
    with pytest.raises(MissingRuleError, match="gamma"):
        differentiate(sympy.gamma(x) + x, x)


def test_every_registered_op_prints_and_differentiates_under_sympy():
    """Gaps list: every registry op also differentiates under plain sympy.diff (users expect it)."""
    for rule in RULES:
        assert sympy.diff(rule.example(x, y), x) is not None


def test_kinks_are_declared_for_nonsmooth_ops():
    names = {r.name for r in RULES if r.kinks((x, y)[: len(r.split(r.example(x, y)))])}
    assert names == {"ReLU rule", "absolute value rule", "max rule", "min rule"}
