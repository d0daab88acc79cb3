"""The step sweep: the error of forward, central and Richardson differences over decades of steps, and the
convergence order observed where truncation dominates (`fitted_order`, a Theil-Sen slope).

A right gradient shows each method's order (1, 2, 4); a wrong one, whose error stops falling at its own size,
a smaller one. The formulas live in `formulas`, the error budget of one estimate in `error_budget`. Pure NumPy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .error_budget import NOISE_GAIN
from .formulas import DIFFERENCES, EXPECTED_ORDER, Precision


@dataclass(frozen=True, slots=True)
class SweepSeries:
    """One method's error against the step, and the convergence order fitted where truncation dominates."""

    method: str
    steps: tuple[float, ...]
    errors: tuple[float, ...]
    order: float | None
    expected: int
    fitted_steps: tuple[float, ...] = ()  # the steps the order was fitted on
    round_off: float = 0.0  # the model's round-off level (gain x eps |L|): the line is at least this / h
    floor: float = 0.0  # the derived value's own rounding: errors below it are not truncation

    def refitted(self, floor: float) -> "SweepSeries":
        """This series with its order fitted again, errors below `floor` (the derived value's measured
        rounding) not counted as truncation."""
        from dataclasses import replace

        order, used = fitted_order(np.asarray(self.steps), np.asarray(self.errors), self.round_off, floor)
        return replace(self, order=order, fitted_steps=tuple(map(float, used)), floor=floor)

    @property
    def plateau(self) -> float | None:
        """The median error over the fitted steps: where a wrong gradient's error levels off."""
        fitted = [e for h, e in zip(self.steps, self.errors) if h in self.fitted_steps]
        return float(np.median(fitted)) if fitted else None

    @property
    def consistent(self) -> bool | None:
        """Whether the observed order is within 0.5 of the expected one (None when it could not be measured)."""
        return None if self.order is None else abs(self.order - self.expected) <= 0.5

    def to_dict(self) -> dict:
        return {"method": self.method, "steps": list(self.steps), "errors": list(self.errors), "order": self.order,
                "expected_order": self.expected, "fitted_steps": list(self.fitted_steps),
                "derived_rounding": self.floor}


def sweep_steps(prec: Precision, scale: float) -> np.ndarray:
    """10^-1, 10^-1.5, ... down to the dtype's resolution at `scale` (10^-15 in float64 near 1); float32, whose
    truncation-dominated range is short, from 10^-0.5 in quarter decades."""
    exponents = np.arange(-1.0, -15.01, -0.5) if prec.eps < 1e-10 else np.arange(-0.5, -7.01, -0.25)
    steps = 10.0 ** exponents
    return steps[steps >= 10 * prec.eps * max(1.0, scale)]


def sweep(g, reference: float, prec: Precision, scale: float, allowed=None, floor: float = 0.0) -> tuple[SweepSeries, ...]:
    """Errors of forward, central and Richardson differences of g (a vectorised function of one variable t,
    its derivative at t = 0 to be `reference`, rounded by about `floor`) over decades of steps; `allowed(h)`
    False skips a step (it would cross a kink)."""
    steps = [h for h in sweep_steps(prec, scale) if allowed is None or allowed(h)]
    if not steps:
        return ()
    h = np.asarray(steps)
    t = np.concatenate([[0.0], h, -h, h / 2, -h / 2]).astype(prec.dtype)
    with np.errstate(all="ignore"):
        v = np.asarray(g(t), dtype=float)
    n = len(h)
    f0, plus, minus, plus2, minus2 = v[0], v[1:n + 1], v[n + 1:2 * n + 1], v[2 * n + 1:3 * n + 1], v[3 * n + 1:]
    ht, h2 = t[1:n + 1].astype(float), t[2 * n + 1:3 * n + 1].astype(float)
    central = (plus - minus) / (2 * ht)
    estimates = {"forward": (plus - f0) / ht, "central": central,
                 "richardson": (4 * (plus2 - minus2) / (2 * h2) - central) / 3}
    series = []
    for method in DIFFERENCES:
        errors = np.abs(estimates[method] - reference)
        level = NOISE_GAIN[method] * prec.eps * abs(f0)
        order, used = fitted_order(ht, errors, level, floor)
        series.append(SweepSeries(method, tuple(map(float, ht)), tuple(map(float, errors)), order,
                                  EXPECTED_ORDER[method], tuple(map(float, used)), level, floor))
    return tuple(series)


ABOVE_ROUND_OFF = 4.0  # a step is truncation-dominated where its error is this many times the round-off line
ROUND_OFF_TAIL = 1 / 3  # the smallest third of the steps, where round-off dominates, gives its line's level


def fitted_order(steps: np.ndarray, errors: np.ndarray, round_off: float = 0.0, floor: float = 0.0):
    """(order, steps fitted): the convergence order where truncation dominates, and the steps it was fitted on.

    The round-off line is c / h, c the larger of `round_off` (the model's sigma times the method's gain) and
    the largest error * h over the smallest third of the steps (where round-off dominates, error * h is
    about constant; this measures the loss's real rounding, which may be far above eps |L|). The steps whose
    errors lie ABOVE_ROUND_OFF times above that line and above `floor` (the rounding of the derived value the
    errors are measured against), consecutive from the largest step down, are the
    truncation-dominated run (less its largest step if the slope from it bends away from the rest: higher-order
    terms still count there); the order is the Theil-Sen slope of log error against log step over it (the
    median of the pairwise slopes: an odd step at either end does not move it). A right gradient gives the
    method's order; a wrong one, whose error stops falling at its own size, a smaller one (about 0 for a
    plateau). None with fewer than two such steps: the difference is exact to rounding at every step."""
    steps, errors = np.asarray(steps, dtype=float), np.asarray(errors, dtype=float)
    usable = np.isfinite(errors) & (errors > 0)
    tail = (errors * steps)[usable][-max(1, int(usable.sum() * ROUND_OFF_TAIL)):]
    level = max(round_off, float(np.max(tail)) if tail.size else 0.0)
    above = usable & (errors > ABOVE_ROUND_OFF * np.maximum(level / steps, floor))
    first = int(np.argmax(usable)) if usable.any() else 0
    run = first
    while run < len(steps) and above[run]:
        run += 1
    if run - first > 2 and _leading_bend(steps[first:run], errors[first:run]):
        first += 1  # the largest step is not yet in the asymptotic range: the slope after it differs
    if run - first < 2:
        return None, np.array([])
    x, y = np.log10(steps[first:run]), np.log10(errors[first:run])
    return round(theil_sen(x, y), 2), steps[first:run]


def _leading_bend(steps: np.ndarray, errors: np.ndarray) -> bool:
    """Whether the slope from the first step to the second differs by more than 0.5 from the median of the
    slopes between the later consecutive steps (higher-order terms still matter at the largest step)."""
    slopes = np.diff(np.log10(errors)) / np.diff(np.log10(steps))
    return bool(abs(slopes[0] - np.median(slopes[1:])) > 0.5)


def theil_sen(x: np.ndarray, y: np.ndarray) -> float:
    """The median of the slopes between every pair of points (Theil 1950, Sen 1968)."""
    i, j = np.triu_indices(len(x), k=1)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i])))
