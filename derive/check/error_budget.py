"""The error budget of a numerical derivative: how far it may lie from the true one, by cause, and the judge.

`Budget` holds the parts (round-off, truncation, the derived value's rounding); `Quotients` one method's
estimates along each axis at the rungs of a ladder of steps (h, 4h, 16h, ...); `judge` gives each estimate
its budget: the round-off of the loss evaluations over the step (the loss's rounding noise measured on
demand: ECnoise (`loss_noise`), then a wider float type (`wide_noise`)), the truncation estimated from a
second step, the derived value's rounding; it climbs the ladder where an entry is not resolved. The
difference formulas themselves live in `formulas`, the sweep of steps in `step_sweep`. Pure NumPy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .formulas import _WIDER, Precision, _exact_steps, evaluate_rows, unit_directions


# -- the error model of a numerical derivative ---------------------------------------------------------------
#
# A difference quotient D(h) of a loss computed in floating point differs from the true derivative by
#   round-off    the rounding errors of the loss evaluations divided by the step: about sigma / h, sigma the
#                standard deviation of one evaluation's error (eps |L| at least; measured when it matters),
#   truncation   the terms of the Taylor series the method drops: c h^p for a method of order p, estimated from
#                the same method at a second step, |D(4h) - D(h)| / (4^p - 1),
# and the derived value it is compared with carries its own rounding. An entry passes when the derived and
# numerical values differ by no more than the sum of the three (its error budget).

ORDER = {"forward": 1, "central": 2, "directional": 2, "richardson": 4, "complex step": 2}
NOISE_GAIN = {"forward": 2 ** 0.5, "central": 0.5 ** 0.5, "directional": 0.5 ** 0.5, "richardson": 1.9}
# (the standard deviation of the quotient's round-off in units of sigma / h: forward (e1 - e0) / h, central
#  (e1 - e2) / 2h, Richardson (4/3)(e3 - e4) / h - (1/6)(e1 - e2) / h, errors e independent)
ROUND_OFF_DEVIATIONS = 8.0  # the round-off budget in standard deviations: never reached by chance in 10^6 entries
TRUNCATION_SAFETY = 2.0  # the truncation estimate from two steps ignores higher-order terms
DERIVED_ULPS = 8.0  # the derived value's rounding, in eps |value|, until measured against a wider float type
COMPLEX_ULPS = 16.0  # the complex step's rounding, in eps |estimate|, until measured against a wider type
RATIO = 4  # the ladder of steps h, 4h, 16h, ...
LARGEST_STEP = 0.1  # the ladder stays below 0.1 max(1, |x|)
PARTS = ("round-off", "truncation", "rounding of the derived value")


@dataclass(frozen=True, slots=True)
class Budget:
    """How far a numerical derivative may lie from the true one, by cause, at the step it was taken with."""

    round_off: float
    truncation: float
    derived: float  # the rounding of the derived value compared with it
    step: float | None = None

    @property
    def total(self) -> float:
        """The sum of the parts (a truncation not estimated, because round-off alone explained the difference,
        counts 0)."""
        return self.round_off + (self.truncation if np.isfinite(self.truncation) else 0.0) + self.derived

    @property
    def largest(self) -> str:
        """The part that dominates the budget: "round-off", "truncation" or "rounding of the derived value"."""
        parts = np.nan_to_num([self.round_off, self.truncation, self.derived], nan=0.0, posinf=0.0)
        return PARTS[int(np.argmax(parts))]

    def to_dict(self) -> dict:
        return {"round_off": self.round_off, "truncation": self.truncation, "derived_rounding": self.derived,
                "total": self.total, "step": self.step}


class Quotients:
    """One method's derivative estimates along each axis of a check (a coordinate, or a unit direction), at the
    rungs of a ladder of steps: rung j >= 0 uses h 4^j, rung -1 uses h / 2. Evaluated on demand and kept, with
    the largest loss magnitude each estimate used (its rounding is relative to that)."""

    def __init__(self, method: str, f, theta: np.ndarray, h: np.ndarray, prec: Precision, axes=None,
                 directions=None):
        self.method, self.f, self.theta, self.h, self.prec = method, f, theta, np.asarray(h, dtype=float), prec
        self.axes = np.arange(theta.size) if axes is None else np.asarray(axes, dtype=int)  # coordinates
        self.directions = directions  # or unit directions, one row per axis
        self.size = len(self.h)
        self._base = None
        self._kept: dict = {}  # rung -> (estimates, magnitudes, evaluated mask)

    def step(self, rung: int) -> np.ndarray:
        return self.h * (float(RATIO) ** rung if rung >= 0 else 0.5)

    def at(self, rung: int, items) -> np.ndarray:
        return self._ensure(rung, items)[0][items]

    def magnitude(self, rung: int, items) -> np.ndarray:
        return self._ensure(rung, items)[1][items]

    def _ensure(self, rung: int, items):
        items = np.asarray(items, dtype=int)
        kept = self._kept.setdefault(rung, (np.full(self.size, np.nan), np.full(self.size, np.nan),
                                            np.zeros(self.size, dtype=bool)))
        todo = items[~kept[2][items]]
        if todo.size:
            with np.errstate(all="ignore"):
                estimates, magnitudes = self._quotient(todo, self.step(rung)[todo])
            kept[0][todo], kept[1][todo], kept[2][todo] = estimates, magnitudes, True
        return kept

    def sample_rows(self, count: int, rng) -> np.ndarray:
        """The points theta +- h along up to `count` of the axes (drawn at random), where the loss is evaluated."""
        items = rng.choice(self.size, size=min(count, self.size), replace=False)
        rows = np.repeat(self.theta.astype(self.prec.dtype)[None, :], 2 * len(items), axis=0)
        shifts = np.concatenate([self.h[items], -self.h[items]]).astype(self.prec.dtype)
        if self.directions is None:
            axes = np.concatenate([self.axes[items]] * 2)
            rows[np.arange(len(rows)), axes] += shifts
        else:
            rows += shifts[:, None] * np.concatenate([self.directions[items]] * 2).astype(self.prec.dtype)
        return rows.astype(float)

    def _values(self, items, shifts, dtype) -> np.ndarray:
        """f at theta + shift along each item's axis."""
        if self.directions is None:
            return evaluate_rows(self.f, self.theta, self.axes[items], shifts, dtype)
        chunk = max(1, (1 << 22) // max(1, self.theta.size))
        x = self.theta.astype(dtype)
        return np.concatenate([self.f(x[None, :] + (shifts[i:i + chunk, None] * self.directions[items[i:i + chunk]]).astype(dtype))
                               for i in range(0, len(items), chunk)])

    def _steps(self, items, s):
        """(up, down): the steps as the dtype represents them along coordinates ((x + h) - x), s along directions."""
        if self.directions is not None:
            return s, s
        return _exact_steps(self.theta[self.axes[items]], s, self.prec.dtype)

    def _quotient(self, items, s):
        dtype = self.prec.dtype
        if self.method == "complex step":
            values = self._values(items, 1j * s, self.prec.complex_dtype)
            return np.imag(values).astype(float) / s, np.abs(np.real(values)).astype(float)
        up, down = self._steps(items, s)
        plus = self._values(items, up, dtype).astype(float)
        if self.method == "forward":
            if self._base is None:
                self._base = float(self.f(self.theta.astype(dtype)[None, :])[0])
            return (plus - self._base) / up, np.maximum(np.abs(plus), abs(self._base))
        minus = self._values(items, -down, dtype).astype(float)
        central = (plus - minus) / (up + down)
        magnitude = np.maximum(np.abs(plus), np.abs(minus))
        if self.method in ("central", "directional"):
            return central, magnitude
        up2, down2 = self._steps(items, s / 2)
        plus2, minus2 = self._values(items, up2, dtype).astype(float), self._values(items, -down2, dtype).astype(float)
        half = (plus2 - minus2) / (up2 + down2)
        return (4 * half - central) / 3, np.maximum(magnitude, np.maximum(np.abs(plus2), np.abs(minus2)))


def noise_level(values: np.ndarray) -> float | None:
    """The standard deviation of the rounding noise in `values`, a smooth function at equally spaced points:
    Moré and Wild's ECnoise (SIAM J. Sci. Comput. 33 (2011) 1292): the k-th differences, scaled by
    gamma_k = (k!)^2 / (2k)!, estimate it from the first order k whose estimates agree with orders k + 1 and
    k + 2 (within a factor 4) and whose differences change sign. None when no order does (the spacing is
    too wide: a kink, or curvature, shows), 0.0 when the values do not change at all."""
    v = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(v)):
        return None
    levels, signs, gamma = [], [], 1.0
    for k in range(1, min(6, len(v) - 1) + 1):
        v = np.diff(v)
        if k == 1 and not np.any(v):
            return 0.0
        gamma *= 0.5 * k / (2 * k - 1)
        levels.append(float(np.sqrt(gamma * np.mean(v ** 2))))
        signs.append(bool(v.min() < 0 < v.max()))
    for k in range(len(levels) - 2):
        window = levels[k:k + 3]
        if max(window) <= 4 * min(window) and signs[k]:
            return levels[k]
    return None


def loss_noise(f, theta: np.ndarray, prec: Precision, seed: int = 0, points: int = 17) -> float:
    """The standard deviation of one loss evaluation's rounding error near theta: ECnoise on `points`
    evaluations along a random unit direction, spaced eps^(3/8) max(1, |theta|) (far above one unit in the
    last place of the intermediate values, so their rounding varies; far below the loss's curvature), retried
    100 times closer where that spacing shows curvature or a kink. Never below eps |L|."""
    direction = unit_directions(np.random.default_rng(seed), 1, theta.size)[0]
    spacing = prec.eps ** 0.375 * max(1.0, float(np.max(np.abs(theta))))
    floor = 0.0
    for shrink in (1.0, 1e-2):
        t = np.arange(points) * spacing * shrink
        with np.errstate(all="ignore"):
            values = np.asarray(f((theta[None, :] + t[:, None] * direction[None, :]).astype(prec.dtype)), dtype=float)
        finite = values[np.isfinite(values)]
        floor = max(floor, prec.eps * float(np.max(np.abs(finite))) if finite.size else 0.0)
        level = noise_level(values)
        if level is not None:
            return max(level, floor)
    return floor


def round_off(method: str, noise, magnitude, step, prec: Precision) -> np.ndarray:
    """The round-off budget of a difference method's estimates: ROUND_OFF_DEVIATIONS standard deviations of
    the quotient's rounding error, each loss evaluation's error having deviation max(noise, eps |L|), |L| the
    `magnitude` of the losses it used."""
    sigma = np.maximum(noise, prec.eps * np.asarray(magnitude, dtype=float))
    return ROUND_OFF_DEVIATIONS * NOISE_GAIN[method] * sigma / step


def ladder_top(h: np.ndarray, theta_scale: np.ndarray) -> int:
    """The highest rung of the ladder whose step stays below LARGEST_STEP max(1, |x|) for every axis."""
    if not np.size(h):
        return 0
    room = np.min(LARGEST_STEP * np.maximum(1.0, theta_scale) / np.asarray(h, dtype=float))
    return int(np.floor(np.log(room) / np.log(RATIO))) if room >= 1 else 0


def judge(q: Quotients, analytic, prec: Precision, reference=None, climb: bool = True, smooth: bool = True,
          top: int = 2, magnitude=None, seed: int = 0):
    """(numerical derivatives, their Budgets) along q's axes, against the derived values `analytic`.

    The loss's rounding noise is taken as eps |L| at first, and measured by ECnoise (`loss_noise`) if an
    estimate lies beyond half the round-off that allows. An estimate at the given step that lies within half
    its round-off (and the derived value's rounding) of the derived value and resolves it to the acceptable
    band needs nothing more. Elsewhere its truncation is estimated (from rungs 1 and 2 of the ladder, or from
    h / 2 where the loss has kinks or the ladder cannot be used), and where the budget still exceeds the
    acceptable band of the estimate, smooth losses checked at the default step (`climb`) take the rung of the
    ladder (up to `top`) with the smallest budget. Where a derived value then lies outside its budget, the
    loss's rounding is measured against a wider float type, where `reference()` also gives the derived values
    (or None), and every budget is recomputed with what was measured.
    `magnitude`: the size of the terms the derived values sum (default their own size)."""
    a = np.asarray(analytic, dtype=float)
    items = np.arange(q.size)
    numeric = q.at(0, items)
    derived = DERIVED_ULPS * prec.eps * np.abs(a if magnitude is None else magnitude)
    rung, noise = np.zeros(q.size, dtype=int), 0.0
    rough = _round_off_at(q, 0, items, noise)
    if q.method != "complex step" and not np.all(np.abs(a - numeric) <= (rough + derived) / 2):
        noise = loss_noise(q.f, q.theta, prec, seed)  # 17 evaluations: cheaper than a truncation estimate each
        rough = _round_off_at(q, 0, items, noise)
    truncation = np.full(q.size, np.nan)
    resolution = prec.bands[1][0] * np.abs(numeric)
    need = ~(np.abs(a - numeric) <= (rough + derived) / 2) | (climb & (rough + derived > resolution))
    # where round-off alone exceeds the band at the given step (a gradient vanishing with depth), the budget
    # falls up the ladder: it is searched from the top down, without a truncation estimate at the bottom first
    dominated = need & climb & smooth & (top >= 3) & (rough + derived > resolution)
    first = need & ~dominated
    truncation[first] = _truncation_at(q, 0, items[first], smooth, top)
    weak = first & (rough + truncation + derived > resolution)
    if climb and smooth and weak.any():
        _climb(q, items[weak], noise, derived, top, rung, rough, truncation)
    if dominated.any():
        _descend(q, items[dominated], noise, derived, top, rung, rough, truncation, smooth)
    numeric, steps = numeric.copy(), q.step(0)
    for j in np.unique(rung[rung > 0]):
        numeric[rung == j], steps[rung == j] = q.at(int(j), items[rung == j]), q.step(int(j))[rung == j]
    base = derived
    for measured in _measurements(q, reference, noise, seed):
        failing = ~(np.abs(a - numeric) <= rough + np.nan_to_num(truncation) + derived)
        if not failing.any():
            break
        excess = np.abs(a - numeric) / (rough + np.nan_to_num(truncation) + derived)
        round_off_of, wide = measured(failing, excess)
        derived = base if wide is None else base + 2 * np.abs(a - np.asarray(wide, dtype=float))
        for j in np.unique(rung):
            rough[rung == j] = round_off_of(int(j), items[rung == j])
    return numeric, [Budget(float(r), float(t), float(d), float(s)) for r, t, d, s in zip(rough, truncation, derived, steps)]


def _measurements(q: Quotients, reference, noise: float, seed: int):
    """What to measure while some derived value lies beyond its budget: each a function of the failing items
    giving (round-off of the items at a rung, the derived values in a wider type or None). Differences: the
    loss's noise against the wider float type at the step's own points (at least `noise`, ECnoise's), with
    the derived values in that type. The complex step: its own estimates of the failing items in the wider
    complex type, with the derived values there; where there is none, rounding relative to the point's
    largest derivative."""
    wide = (lambda: None if reference is None else reference())
    if q.method == "complex step":
        largest = float(np.max(np.abs(np.nan_to_num(q.at(0, np.arange(q.size))))))
        by_largest = (lambda j, items: _round_off_at(q, j, items, 0.0, largest))
        if q.prec.wider is None:
            yield lambda failing, excess: (by_largest, None)
            return
        derived = functools.lru_cache(maxsize=None)(wide)  # evaluated once, when first needed
        plain = (lambda j, items: _round_off_at(q, j, items, 0.0))
        yield lambda failing, excess: (plain, derived())  # the derived values' rounding first: it settles most
        yield lambda failing, excess: (_complex_round_off(q, failing, excess) or by_largest, derived())
        return
    def against_wider(failing, excess):
        measured = wide_noise(q, noise if noise else loss_noise(q.f, q.theta, q.prec, seed), seed)
        return (lambda j, items: _round_off_at(q, j, items, measured)), wide()
    yield against_wider


def _complex_round_off(q: Quotients, failing, excess, most: int = 4096, beyond: float = 1e4):
    """The complex step's round-off with the failing items' rounding measured: twice their difference from
    the same estimate in the wider complex type; None where the evaluator gives nothing wider. Measured are
    the items nearest their budget first (`excess`, the difference over the budget), at most `most` of them
    and none more than `beyond` times over it (rounding is never that far off; a wrong value is)."""
    measured = np.zeros(q.size)
    candidates = np.flatnonzero(failing & (excess <= beyond))
    chosen = candidates[np.argsort(excess[candidates], kind="stable")][:most]
    if not chosen.size:
        return None
    wide = Quotients("complex step", q.f, q.theta, q.h, _WIDER[q.prec.name], q.axes, q.directions)
    values = in_wider(lambda: wide.at(0, chosen))
    if values is None or np.array_equal(values, q.at(0, chosen)):
        return None  # no wider evaluation (or one that is not wider): nothing measured
    measured[chosen] = 2 * np.abs(q.at(0, chosen) - values)
    return lambda j, items: _round_off_at(q, j, items, 0.0) + np.nan_to_num(measured[items], nan=0.0, posinf=0.0)


def in_wider(evaluate):
    """`evaluate()` (an evaluation in a wider float type), or None where the evaluator does not support it:
    a measurement that cannot be taken is left out, never an error of the check."""
    try:
        with np.errstate(all="ignore"):
            return evaluate()
    except (TypeError, ValueError, ArithmeticError, NotImplementedError):
        return None


def wide_noise(q: Quotients, noise: float = 0.0, seed: int = 0, samples: int = 16) -> float:
    """The standard deviation of one loss evaluation's rounding error where q evaluates the loss: the larger of
    `noise` and, where a wider float type exists, the root mean square of the float's error against it at the
    step's own points (up to `samples` axes, both sides)."""
    if q.prec.wider is None:
        return noise
    rows = q.sample_rows(samples, np.random.default_rng(seed))
    wide = in_wider(lambda: np.asarray(q.f(rows.astype(q.prec.wider))))
    if wide is None:
        return noise
    with np.errstate(all="ignore"):
        errors = (np.asarray(q.f(rows.astype(q.prec.dtype)), dtype=float) - wide).astype(float)
    errors = errors[np.isfinite(errors)]
    return max(noise, float(np.sqrt(np.mean(errors ** 2)))) if errors.size else noise


def _round_off_at(q: Quotients, rung: int, items, noise: float, scale: float = 0.0) -> np.ndarray:
    """Differences: `round_off`. The complex step subtracts nothing: COMPLEX_ULPS eps of the larger of the
    estimate and `scale`."""
    if q.method == "complex step":
        return COMPLEX_ULPS * q.prec.eps * np.maximum(np.abs(q.at(rung, items)), scale)
    return round_off(q.method, noise, q.magnitude(rung, items), q.step(rung)[items], q.prec)


def _truncation_at(q: Quotients, rung: int, items, smooth: bool, top: int) -> np.ndarray:
    """TRUNCATION_SAFETY times |D(4h) - D(h)| / (4^p - 1), or the next pair's estimate scaled down if that is
    larger (two pairs rarely cancel together); at rung 0 where the ladder cannot be used (kinks, the loss's
    domain, no room), from h / 2: |D(h / 2) - D(h)| / (1 - 2^-p)."""
    p = ORDER[q.method]
    gain = float(RATIO) ** p
    d = q.at(rung, items)
    t = np.full(len(items), np.nan)
    if smooth and rung + 1 <= top:
        t = np.abs(q.at(rung + 1, items) - d) / (gain - 1)
        if rung + 2 <= top:
            t = np.fmax(t, np.abs(q.at(rung + 2, items) - q.at(rung + 1, items)) / ((gain - 1) * gain))
    if rung == 0:
        unknown = ~np.isfinite(t)
        if unknown.any():
            t[unknown] = np.abs(q.at(-1, items[unknown]) - d[unknown]) / (1 - 2.0 ** -p)
    return TRUNCATION_SAFETY * np.where(np.isfinite(t), t, np.inf)


def _descend(q: Quotients, items, noise, derived, top, rung, rough, truncation, smooth: bool = True) -> None:
    """Down the ladder from its highest rung with a truncation estimate (top - 2) while the budget falls: each
    item keeps the rung with its smallest budget (in place), rung 0 included. For items whose round-off
    dominates at the given step the smallest budget lies high, and this path to it evaluates the fewest rungs
    (`_climb`, upwards, evaluates every rung below it)."""
    items = np.asarray(items)
    rough_0 = rough[items].copy()
    best = np.full(len(items), np.inf)
    active = items
    for j in range(top - 2, -1, -1):  # rung j's truncation uses rungs j + 1 and j + 2
        where = np.searchsorted(items, active)
        if j:
            r, t = _round_off_at(q, j, active, noise), _truncation_at(q, j, active, True, top)
        else:
            r, t = rough_0[where], _truncation_at(q, 0, active, smooth, top)
        budget = r + t + derived[active]
        better = budget < best[where]
        chosen = active[better]
        rung[chosen], rough[chosen], truncation[chosen] = j, r[better], t[better]
        best[where[better]] = budget[better]
        active = chosen
        if not active.size:
            break


def _climb(q: Quotients, items, noise, derived, top, rung, rough, truncation) -> None:
    """Up the ladder while the budget falls: each item keeps the rung with its smallest budget (in place)."""
    best = rough[items] + truncation[items] + derived[items]
    active = np.asarray(items)
    for j in range(1, top - 1):  # rung j's truncation uses rungs j + 1 and j + 2
        r = _round_off_at(q, j, active, noise)
        t = _truncation_at(q, j, active, True, top)
        budget = r + t + derived[active]
        better = budget < best[np.searchsorted(items, active)]
        chosen = active[better]
        rung[chosen], rough[chosen], truncation[chosen] = j, r[better], t[better]
        best[np.searchsorted(items, chosen)] = budget[better]
        active = chosen
        if not active.size:
            break
