"""The numeric check: each derived gradient against numerical derivatives of the loss (`check_gradients`).

Reads derivations, never builds them. Methods (`METHODS`): forward, central (the default) and Richardson-
extrapolated differences on every entry, the complex step (analytic losses only: a loss with ReLU, abs,
max or min is refused with the reason), seed 001's directional check (random unit directions, for many
parameters), and the exact check (`exact_method`: sympy.diff at random rational points). Steps are
step * max(1, |x|) with the dtype's default (`formulas.Precision`): cbrt(eps) for central, ...; a
step below the dtype's resolution is refused. An entry passes when the derived and numerical values differ
by no more than the numerical value's error budget (`error_budget.judge`: round-off, truncation, the
derived value's rounding); its band shows its relative error |a - n| / max(|a|, |n|) (float64: within the
budget good < 1e-7 <= acceptable; beyond it suspicious < 1e-2 <= wrong).

Points are drawn at random (seeded) in [-2, 2], or given. Random points where the loss or a gradient is
not finite, or that lie near a kink (ReLU at 0, a tie in max), are drawn again and the report says how
many. At a given point steps shrink so as not to cross a kink; at a kink itself the one-sided derivatives
are measured and the entry is "not differentiable" when the derived value lies between them (a
subgradient), "wrong" when it does not. A sweep of the steps over decades gives each difference's
observed convergence order; a comparison (`comparison`) runs every method at one point against the
exact gradient.

Here: `check_gradients` and the runs of each method at a point (entries, kinks, directions, the sweep). The
report is in `report`, the problems and their points in `problems` and `objectives`, the exact method in
`exact_method`; their names are imported here too (`from derive.check.gradient_check import CheckReport`).
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Expr, MatrixSymbol, Symbol

from ..core.errors import CheckError
from ..core.network import expand_definitions
from . import methods as m
from .exact_method import _scalar_instance, exact_check, explicit_instance  # noqa: F401
from .formulas import _rows
from .kinks import kink_expressions, not_analytic_reason  # noqa: F401
from .objectives import LazyPoint, MatrixObjective, ScalarObjective  # noqa: F401
from .options import METHOD_TITLES, METHODS, CheckOptionError, method_name  # noqa: F401
from .problems import MatrixProblem, ScalarProblem, parse_point  # noqa: F401
from .report import (  # noqa: F401
    BAND_RANK, BANDS, PASSING, CheckEntry, CheckReport, ComparisonRow, band, judged_band, relative_error,
)


# -- running a check ------------------------------------------------------------------------------------

def check_gradients(loss, gradients: dict, inputs: list, method: str = "central", points=3, seed: int = 0,
                    dtype="float64", step: float | None = None, probes: int = 3, sweep: bool = True,
                    compare: bool = False, one_hot=(), size: int = 2, definitions=()) -> CheckReport:
    """Check each gradient against `method`'s derivative of `loss`.

    `loss` and the gradients are expressions in `inputs` and the symbols of `definitions` ((symbol, right-hand
    side) pairs in order, evaluated as a forward pass), e.g. the loss's symbol and gradients in the named
    intermediates. `points`: how many random points (seeded by `seed`), or a point ({input name: value}, a
    matrix as nested lists) or a list of points; inputs a point leaves out are drawn at random. `step`: the
    relative step (default: the method's, for the dtype). `probes`: directions per point for "directional".
    `sweep`: also measure the error over decades of steps at the first point; `compare`: also run every method
    there."""
    method = method_name(method)
    prec = m.precision(dtype)
    if step is not None and not (np.isfinite(step) and step > 0):
        raise CheckOptionError(f"the step must be a positive number, not {step}")
    matrix = any(isinstance(s, MatrixSymbol) for s in inputs)
    definitions = [(s, rhs) for s, rhs in definitions if s not in set(inputs)]  # an input held as a leaf
    if method == "exact":  # sympy.diff needs the loss in the inputs: every definition substituted
        loss, gradients = _in_inputs(loss, gradients, definitions)
        report = exact_check(loss, gradients, inputs, points, seed, one_hot, size)
        return report if not compare else with_comparison(report, loss, gradients, inputs, prec, seed, one_hot, size)
    problem = (MatrixProblem(loss, gradients, inputs, prec, size, one_hot, definitions) if matrix
               else ScalarProblem(loss, gradients, inputs, prec, definitions))
    if method == "complex step":
        reason = next(filter(None, (not_analytic_reason(e) for e in problem.expressions())), None)
        if reason:
            raise CheckError(f"the complex step cannot check this loss: {reason}; use the central or richardson method")
    rng = np.random.default_rng(seed)
    objectives, notes = _objectives(problem, points, rng, seed)
    entries, runs = [], []
    for number, objective in enumerate(objectives, start=1):
        found, more_notes = _entries_at(objective, method, prec, step, probes, rng, number)
        entries += found
        runs += more_notes
    notes += list(dict.fromkeys(runs))
    notes += _unresolved_words(entries, method)
    if matrix and problem.dims:
        notes.append(f"matrix dimensions {', '.join(sorted(str(d) for d in problem.dims))} set to {size}")
    notes += [f"the rows of {y.name} were drawn to sum to 1" for y in one_hot] if matrix else []
    series, skipped = _sweep(objectives[0], prec, rng) if sweep else ((), 0)
    if sweep and not series:
        notes.append("no step sweep: every step would cross a kink at point 1")
    elif skipped:
        notes.append(f"{skipped} step(s) of the sweep left out: they would cross a kink")
    report = CheckReport(METHOD_TITLES[method], tuple(entries), tuple(notes), prec.name, series, step=step)
    if not compare:
        return report
    loss, gradients = _in_inputs(loss, gradients, definitions)
    return with_comparison(report, loss, gradients, inputs, prec, seed, one_hot, size, objectives[0])


def _in_inputs(loss, gradients: dict, definitions) -> tuple:
    """The loss and gradients with every definition substituted (for sympy.diff and the comparison's oracles)."""
    if not definitions:
        return loss, gradients
    expanded = expand_definitions(definitions)
    return loss.xreplace(expanded), {w: sympy.sympify(g).xreplace(expanded) for w, g in gradients.items()}


def _unresolved_words(entries, method: str) -> list[str]:
    """A note on the entries smaller than their error budget (the check cannot tell them from 0)."""
    small = [e for e in entries if e.unresolved]
    if not small:
        return []
    better = "" if method == "complex step" else "; the complex step, which subtracts nothing, resolves smaller values"
    return [f"the {METHOD_TITLES[method]} cannot resolve {len(small)} of {len(entries)} entries: they are smaller "
            f"than the error it carries there, so these are not tested (e.g. {small[0].label}, derived "
            f"{small[0].analytic:.1e}){better}"]


def _objectives(problem, points, rng, seed: int):
    """The objective at each point (drawn or given) and the notes on how they were found."""
    notes = []
    if isinstance(points, (int, np.integer)) and not isinstance(points, bool):
        if points < 1:
            raise CheckOptionError(f"points must be at least 1, not {points}")
        drawn = [problem.draw(rng) for _ in range(points)]
        redrawn = sum(tries for _, tries in drawn)
        if redrawn:
            notes.append(f"{redrawn} sample point(s) were redrawn (not finite, or near a kink)")
        return [o for o, _ in drawn], notes
    given = [points] if isinstance(points, dict) else list(points)
    if not given:
        raise CheckOptionError("no points given")
    objectives = []
    for number, point in enumerate(given, start=1):
        objective, drawn = problem.given(point, rng, number)
        objectives.append(objective)
        if drawn:
            notes.append(f"point {number}: {', '.join(drawn)} drawn at random (seed {seed})")
    return objectives, notes


def _entries_at(objective, method: str, prec: m.Precision, step, probes: int, rng, number: int):
    analytic = objective.analytic(prec.dtype)
    point = objective.named_point()
    if method == "directional":
        return _directional_entries(objective, analytic, prec, step, probes, rng, number, point)
    notes, kinked, theta = [], {}, objective.theta
    if method == "complex step":
        h = np.full(theta.size, step or prec.default_step(method))
    else:
        h = m.steps_for(theta, step or prec.default_step(method), prec, method)
        if objective.has_kinks:
            h, kinked, shrunk = _steer_clear(objective, h, prec)
            if shrunk:
                notes.append(f"point {number}: steps shrunk for {shrunk} entr{'y' if shrunk == 1 else 'ies'} to stay clear of a kink")
    smooth = np.array([k for k in range(theta.size) if k not in kinked], dtype=int)
    quotients = m.Quotients(method, objective.loss, theta, h[smooth], prec, axes=smooth)
    numeric, budgets = m.judge(quotients, analytic[smooth], prec, _wide_analytic(objective, prec, smooth),
                               climb=step is None and method != "complex step" and not objective.has_kinks,
                               smooth=not objective.has_kinks, top=m.ladder_top(h[smooth], np.abs(theta[smooth])),
                               seed=number)
    judged = dict(zip(smooth.tolist(), zip(numeric, budgets)))
    entries = []
    for k, (variable, index) in enumerate(objective.labels):
        if k in kinked:
            entries.append(_kink_entry(variable, index, point, analytic[k], *kinked[k], prec, number))
        else:
            entries.append(_entry(variable, index, point, analytic[k], *judged[k], prec, number))
    return entries, notes


def _wide_analytic(objective, prec: m.Precision, coordinates=None, directions=None):
    """The derived gradient in the next wider float type (None where there is none), restricted to
    `coordinates` or projected on `directions`: how much of the derived value is its own rounding."""
    def reference():
        wide = None if prec.wider is None else m.in_wider(lambda: np.asarray(objective.analytic(prec.wider), dtype=float))
        if wide is None:
            return None
        wide = wide if coordinates is None else wide[coordinates]
        return wide if directions is None else directions @ wide
    return reference


def _entry(variable, index, point, analytic, numeric, budget, prec, number) -> CheckEntry:
    """An entry judged by its error budget; its band shows its relative error."""
    analytic, numeric = float(analytic), float(numeric)
    error = abs(analytic - numeric)
    rel = relative_error(analytic, numeric)
    within = bool(error <= budget.total) and np.isfinite(analytic) and np.isfinite(numeric)
    return CheckEntry(variable, point, analytic, numeric, error, rel, judged_band(rel, within, prec.bands), index,
                      number, budget=budget)


def _steer_clear(objective, h: np.ndarray, prec: m.Precision, shrinks: int = 6):
    """Steps that do not cross a kink: each step whose +h and -h sides differ in a kink's sign is divided by 10
    (at most `shrinks` times, not below the resolution). Returns (steps, {k: (left, right)} for coordinates
    still straddling one, i.e. at a kink, number shrunk)."""
    h = h.copy()
    theta = objective.theta
    k = np.arange(theta.size)
    floor = 10 * prec.eps * np.maximum(1.0, np.abs(theta))
    crossing = _crossing(objective, theta, k, h)
    shrunk = set(np.flatnonzero(crossing))
    for _ in range(shrinks):
        if not crossing.any():
            break
        h[crossing] = np.maximum(h[crossing] / 10, floor[crossing])
        crossing[crossing] = _crossing(objective, theta, k[crossing], h[crossing])
    kinked = {int(i): _one_sided(objective, int(i), prec) for i in np.flatnonzero(crossing)}
    return h, kinked, len(shrunk - set(kinked))


def _crossing(objective, theta, coordinates, h) -> np.ndarray:
    plus = objective.signature(_rows(theta, coordinates, h, float))
    minus = objective.signature(_rows(theta, coordinates, -h, float))
    return np.any(plus != minus, axis=1) if plus.size else np.zeros(len(coordinates), dtype=bool)


def _one_sided(objective, k: int, prec: m.Precision) -> tuple[float, float, float]:
    """(left, right) derivatives along coordinate k: one-sided differences, Richardson-extrapolated (O(h^2)),
    and their round-off budget."""
    theta = objective.theta
    h = prec.default_step("central") * max(1.0, abs(theta[k]))
    shifts = np.array([0.0, h, h / 2, -h, -h / 2])
    values = m.evaluate_rows(objective.loss, theta, np.full(5, k), shifts, prec.dtype).astype(float)
    return _sides(values, h, prec)


def _sides(values, h: float, prec: m.Precision) -> tuple[float, float, float]:
    """(left, right, round-off) from the loss at 0, h, h/2, -h, -h/2: (4 f(h/2) - f(h) - 3 f(0)) / h to the
    right, its mirror to the left; each sums three evaluations with weights (4, -1, -3) / h."""
    f0, p, p2, q, q2 = values
    right = 2 * (p2 - f0) / (h / 2) - (p - f0) / h
    left = 2 * (f0 - q2) / (h / 2) - (f0 - q) / h
    rounding = m.ROUND_OFF_DEVIATIONS * 26 ** 0.5 * prec.eps * float(np.max(np.abs(values))) / h
    return float(left), float(right), rounding


def _kink_entry(variable, index, point, analytic, left, right, round_off, prec, number) -> CheckEntry:
    """At a kink: if the one-sided derivatives agree (within the acceptable band and their round-off) the
    function is smooth along this entry after all; otherwise the derived value must lie between them (a
    subgradient)."""
    analytic = float(analytic)
    scale = max(abs(left), abs(right))
    tolerance = prec.bands[1][0] * scale + round_off
    if abs(left - right) <= tolerance:
        budget = m.Budget(round_off, prec.bands[1][0] * scale, m.DERIVED_ULPS * prec.eps * abs(analytic))
        return _entry(variable, index, point, analytic, (left + right) / 2, budget, prec, number)
    low, high = min(left, right), max(left, right)
    inside = low - tolerance <= analytic <= high + tolerance
    nearest = low if abs(analytic - low) < abs(analytic - high) else high
    gap = 0.0 if inside else abs(analytic - nearest)
    return CheckEntry(variable, point, analytic, (left + right) / 2, gap, relative_error(analytic, nearest) if gap else 0.0,
                      "not differentiable" if inside else "wrong", index, number, left, right)


def _directional_entries(objective, analytic, prec, step, probes, rng, number, point):
    """Seed 001's check: delta^T grad f against (f(x + h delta) - f(x - h delta)) / 2h, delta uniform on the
    unit sphere, each judged by its error budget like an entry."""
    theta = objective.theta
    scale = max(1.0, float(np.max(np.abs(theta))))
    h = m.steps_for(np.array([scale]), step or prec.default_step("directional"), prec, "directional")[0]
    directions = m.unit_directions(rng, probes, theta.size)
    projected = directions @ analytic
    entries, notes = {}, []
    for i, d in enumerate(directions):
        if objective.has_kinks and _direction_crosses(objective, theta, d, h):
            left, right, rounding = _one_sided_along(objective, d, h, prec)
            entries[i] = _kink_entry("direction", (i + 1,), point, projected[i], left, right, rounding, prec, number)
            notes.append(f"point {number}: direction {i + 1} crosses a kink within the step")
    smooth = np.array([i for i in range(probes) if i not in entries], dtype=int)
    quotients = m.Quotients("directional", objective.loss, theta, np.full(smooth.size, h), prec,
                            directions=directions[smooth])
    numeric, budgets = m.judge(quotients, projected[smooth], prec, _wide_analytic(objective, prec, directions=directions[smooth]),
                               climb=step is None and not objective.has_kinks, smooth=not objective.has_kinks,
                               top=m.ladder_top(np.array([h]), np.array([scale])),
                               magnitude=np.abs(directions[smooth]) @ np.abs(analytic), seed=number)
    for i, n, b in zip(smooth, numeric, budgets):
        entries[int(i)] = _entry("direction", (int(i) + 1,), point, projected[i], n, b, prec, number)
    return [entries[i] for i in range(probes)], notes


def _direction_crosses(objective, theta, d, h) -> bool:
    signs = objective.signature(np.stack([theta + h * d, theta - h * d]))
    return bool(signs.size and np.any(signs[0] != signs[1]))


def _one_sided_along(objective, d, h, prec) -> tuple[float, float, float]:
    t = np.array([0.0, h, h / 2, -h, -h / 2])
    values = objective.loss((objective.theta[None, :] + t[:, None] * d[None, :]).astype(prec.dtype)).astype(float)
    return _sides(values, h, prec)


def _sweep(objective, prec: m.Precision, rng) -> tuple[tuple, int]:
    """The error of forward, central and Richardson differences along one random unit direction, over decades
    of steps, against the derived directional derivative; steps that would cross a kink are left out (and
    counted). Where an order is not as expected, the derived value's rounding is measured in a wider float
    type and errors below it are not counted as truncation."""
    theta = objective.theta
    d = m.unit_directions(np.random.default_rng(rng.integers(1 << 31)), 1, theta.size)[0]
    analytic = objective.analytic(prec.dtype)
    reference = float(d @ analytic)

    def g(t):
        rows = (theta[None, :] + np.asarray(t, dtype=float)[:, None] * d[None, :]).astype(prec.dtype)
        return np.concatenate([objective.loss(rows[i:i + 64]) for i in range(0, len(rows), 64)]).astype(float)

    scale = float(np.max(np.abs(theta)))
    steps = m.sweep_steps(prec, scale)
    kept = [h for h in steps if not (objective.has_kinks and _direction_crosses(objective, theta, d, h))]
    floor = m.DERIVED_ULPS * prec.eps * float(np.abs(d) @ np.abs(analytic))
    series = m.sweep(g, reference, prec, scale, lambda h: h in kept, floor)
    if all(s.consistent is not False for s in series):
        return series, len(steps) - len(kept)
    wide = _wide_analytic(objective, prec, directions=d[None, :])()  # the derived value's own rounding, measured
    if wide is not None:
        series = tuple(s.refitted(floor + 2 * abs(reference - float(wide[0]))) for s in series)
    return series, len(steps) - len(kept)


# -- the comparison of methods -----------------------------------------------------------------------------

def with_comparison(report, *args) -> CheckReport:
    """`report` with the comparison of methods (`derive.check.comparison`) at its first point."""
    from dataclasses import replace

    from .comparison import compare_methods

    rows, reference = compare_methods(*args)
    return replace(report, comparison=rows, reference=reference)


# -- the former entry points, kept --------------------------------------------------------------------------

def central_difference_check(loss: Expr, gradients: dict[Symbol, Expr], inputs: list[Symbol], points=3,
                             seed: int = 0, **options) -> CheckReport:
    """Compare each gradient (in the inputs only) with central differences of `loss` at random points."""
    return check_gradients(loss, gradients, inputs, options.pop("method", "central"), points, seed, **options)


def matrix_difference_check(loss: Expr, gradients: dict, inputs: list, points=3, seed: int = 0,
                            size: int = 2, one_hot=(), **options) -> CheckReport:
    """Central differences on every entry of every matrix gradient, for concrete sizes (dimensions = `size`).

    The network is evaluated with NumPy arrays (`derive.check.numeric.MatrixEvaluator`): one forward pass per
    perturbed entry. Rows of a one-hot matrix are drawn to sum to 1 (their last entry is 1 minus the others,
    so only the others are free). The report names each entry by its matrix, entries in row-major order."""
    return check_gradients(loss, gradients, inputs, options.pop("method", "central"), points, seed,
                           one_hot=one_hot, size=size, **options)
