"""Seed 001's table of gradient-estimation methods, measured on the problem at hand.

At one point every method runs (forward, central and Richardson differences, the complex step, the
directional check, forward mode, derive's derived gradient) and is compared with the exact gradient there
(`sympy.diff`, 60 digits; for large instances the complex step or Richardson extrapolation, named), with its
number of loss evaluations. Rows are `derive.check.ComparisonRow`s; `gradient_check.with_comparison`
attaches them to a report.
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import MatrixSymbol

from ..core.errors import CheckError, MissingRuleError
from . import methods as m
from .exact_method import _scalar_instance
from .kinks import not_analytic_reason
from .options import METHOD_TITLES
from .problems import MatrixProblem, ScalarProblem
from .report import ComparisonRow


EXACT_REFERENCE_LIMIT = 60  # coordinates: beyond this sympy.diff of the explicit loss is too slow to be the reference


def compare_methods(loss, gradients, inputs, prec: m.Precision, seed: int = 0, one_hot=(), size: int = 2,
                    objective=None, probes: int = 3):
    """Seed 001's table for the problem at hand: each method at one point, its max error against the exact
    gradient (sympy.diff at that point, 60 digits) and its number of loss evaluations."""
    matrix = any(isinstance(s, MatrixSymbol) for s in inputs)
    if objective is None:
        problem = (MatrixProblem(loss, gradients, inputs, prec, size, one_hot) if matrix
                   else ScalarProblem(loss, gradients, inputs, prec))
        objective = problem.draw(np.random.default_rng(seed))[0]
    theta, k = objective.theta, objective.theta.size
    analytic = objective.analytic(prec.dtype)
    truth, reference = _reference(loss, gradients, inputs, objective, prec, one_hot, size)
    floor = prec.eps * float(np.max(np.abs(truth), initial=0.0))  # entries below the gradient's own rounding
    rows = []

    def row(name, estimate, evaluations, note=""):
        if estimate is None:
            rows.append(ComparisonRow(name, None, None, evaluations, note))
            return
        error = np.abs(np.asarray(estimate, dtype=float) - truth)
        scale = np.maximum(np.maximum(np.abs(truth), np.abs(estimate)), floor)
        rows.append(ComparisonRow(name, float(np.max(error)), float(np.max(error / scale)), evaluations, note))

    for method in m.DIFFERENCES:
        h = m.steps_for(theta, prec.default_step(method), prec, method)
        estimate, count = m.differences(method, objective.loss, theta, h, prec)
        row(METHOD_TITLES[method], estimate, f"{count} loss evaluations",
            {"forward": r"$O(h)$, $h = \sqrt{\varepsilon}$", "central": r"$O(h^2)$, $h = \sqrt[3]{\varepsilon}$",
             "richardson": "$O(h^4)$"}[method])
    reason = not_analytic_reason(loss)
    if reason:
        row("complex step", None, "-", f"not applied: {reason}")
    else:
        h = prec.default_step("complex step")
        estimate, count = m.complex_step(objective.loss, theta, h, prec)
        row("complex step", estimate, f"{count} complex loss evaluations",
            (r"$h = 10^{-20}$" if h == 1e-20 else f"$h = {h:.0e}$") + ", no cancellation")
    directions = m.unit_directions(np.random.default_rng(seed), probes, k)
    scale = max(1.0, float(np.max(np.abs(theta))))
    estimates, count = m.directional(objective.loss, theta, directions, prec.default_step("directional") * scale, prec)
    projected_truth = directions @ truth
    error = np.abs(estimates - projected_truth)
    rows.append(ComparisonRow(f"directional, {probes} directions", float(np.max(error)),
                              float(np.max(error / np.maximum(np.abs(projected_truth), floor))),
                              f"{count} loss evaluations", r"checks $\delta^T \nabla L$, not each entry"))
    _forward_mode_row(row, loss, objective, matrix)
    row("derived (the chain rule = reverse mode / backprop)", analytic, "1 gradient evaluation",
        f"symbolic, evaluated in {prec.name}")
    rows.append(ComparisonRow("exact (sympy.diff at rational points)", 0.0 if reference.startswith("sympy") else None,
                              0.0 if reference.startswith("sympy") else None, "symbolic",
                              "the reference" if reference.startswith("sympy") else "too large to use here"))
    return tuple(rows), reference


def _forward_mode_row(row, loss, objective, matrix: bool) -> None:
    """Seed 001's forward-mode row: tangents through the registry's local derivatives, one pass per input."""
    from .forward_mode import forward_mode_gradient

    name = "forward mode (tangents from the local derivatives)"
    if matrix:
        row(name, None, "-", "not applied: the matrix gradients are derived in reverse mode only")
        return
    try:
        estimate, passes = forward_mode_gradient(loss, objective.problem.inputs, objective.problem.wrts, objective.values)
    except MissingRuleError as error:
        row(name, None, "-", f"not applied: {error}")
        return
    row(name, estimate, f"{passes} forward pass{'es' if passes > 1 else ''}", "one per parameter")


def _reference(loss, gradients, inputs, objective, prec, one_hot, size):
    """The exact gradient at the objective's point (sympy.diff, 60 digits) where the instance is small enough;
    else the complex step (analytic losses) or Richardson extrapolation, named."""
    from .exact import compare_exactly

    if objective.theta.size <= EXACT_REFERENCE_LIMIT:
        scalar_loss, entries, entry_inputs, _ = _scalar_instance(loss, gradients, inputs, one_hot, size)
        named = objective.named_point()
        point = {s: sympy.Rational(named[s.name]) for s in entry_inputs if s.name in named}
        try:
            comparisons = compare_exactly(scalar_loss, entries, point)
            return np.array([float(c.truth) for c in comparisons.values()]), "sympy.diff at the same point, 60 digits"
        except CheckError:
            pass
    if not_analytic_reason(loss) is None:
        h = prec.default_step("complex step")
        return m.complex_step(objective.loss, objective.theta, h, prec)[0], "the complex step (exact reference too large)"
    h = m.steps_for(objective.theta, prec.default_step("richardson"), prec, "richardson")
    return m.differences("richardson", objective.loss, objective.theta, h, prec)[0], "Richardson extrapolation (no exact reference)"
