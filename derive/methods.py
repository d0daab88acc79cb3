"""The numerical differentiation schemes of the check, on a loss seen as a function of one flat vector.

Each scheme takes `f`, a vectorised loss (a (B, K) array of parameter vectors to B values), the point
`theta` and per-coordinate steps, and returns its estimates with the number of loss evaluations it used:
forward difference (error O(h)), central difference (O(h^2)), Richardson extrapolation of the central
difference (O(h^4)), the complex step Im f(x + ih)/h (no cancellation, so machine precision; analytic
losses only), and the directional derivative of seed 001 along directions drawn uniformly from the unit
sphere. `sweep` measures the error of the differences over decades of steps and `fitted_order` the
observed convergence order from the truncation-dominated part. `Precision` holds a float type's machine
epsilon, default steps and error bands. Pure NumPy: nothing here knows about SymPy or networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CheckError


class StepError(CheckError):
    """A step or dtype that cannot be used (below the resolution, unknown): about the request, not the loss."""

DIFFERENCES = ("forward", "central", "richardson")
EXPECTED_ORDER = {"forward": 1, "central": 2, "richardson": 4}


@dataclass(frozen=True, slots=True)
class Precision:
    """A float type with the steps and error bands that suit it."""

    name: str  # "float64"
    dtype: type
    complex_dtype: type
    bands: tuple  # ((limit, band name), ...) for the relative error
    floor: float  # magnitudes below this are compared on this scale (differences cannot resolve less)
    tiny: float  # both values below this count as agreeing

    @property
    def eps(self) -> float:
        return float(np.finfo(self.dtype).eps)

    def floor_for(self, method: str) -> float:
        """The magnitude below which entries are compared on an absolute scale: where the method's own error
        (about eps^(2/3) for central differences, sqrt(eps) for forward) would exceed the acceptable band."""
        error = {"forward": 10 * self.eps ** 0.5, "richardson": self.eps ** 0.8, "complex step": self.eps,
                 "exact": 0.0}.get(method, self.eps ** (2 / 3))
        return max(self.floor, error / self.bands[1][0])

    def default_step(self, method: str) -> float:
        """sqrt(eps) forward, cbrt(eps) central and directional, eps^(1/5) Richardson, 1e-20 complex step."""
        power = {"forward": 1 / 2, "central": 1 / 3, "directional": 1 / 3, "richardson": 1 / 5}.get(method)
        return 1e-20 if power is None else float(self.eps ** power)


PRECISIONS = {
    "float64": Precision("float64", np.float64, np.complex128,
                         ((1e-7, "good"), (1e-4, "acceptable"), (1e-2, "suspicious"), (np.inf, "wrong")), 1e-6, 1e-8),
    "float32": Precision("float32", np.float32, np.complex64,
                         ((1e-3, "good"), (1e-2, "acceptable"), (1e-1, "suspicious"), (np.inf, "wrong")), 1e-2, 1e-4),
}


def precision(name) -> Precision:
    key = getattr(name, "__name__", str(name)).replace("np.", "")
    key = {"float": "float64", "double": "float64", "single": "float32"}.get(key, key)
    if key not in PRECISIONS:
        raise StepError(f"unknown dtype '{name}' (known: {', '.join(PRECISIONS)})")
    return PRECISIONS[key]


def steps_for(theta: np.ndarray, step: float, prec: Precision, method: str) -> np.ndarray:
    """Per-coordinate steps step * max(1, |x|); a step below the dtype's resolution there is refused."""
    scale = np.maximum(1.0, np.abs(theta))
    if method != "complex step":
        limit = prec.eps * scale
        too_small = np.flatnonzero(step * scale < limit * (1 + 1e-12))
        if too_small.size:
            x = float(theta[too_small[0]])
            raise StepError(f"step {step:.1e} is below {prec.name}'s resolution at x = {x:.3g} "
                             f"(eps * max(1, |x|) = {prec.eps * max(1.0, abs(x)):.1e}); "
                             f"the {method} method's usual step is {prec.default_step(method):.1e} "
                             f"(steps near eps are mostly round-off)")
    return step * scale


def _rows(theta, coordinates, shifts, dtype) -> np.ndarray:
    """theta with shifts[i] added to coordinate coordinates[i], one row each."""
    rows = np.repeat(theta.astype(dtype)[None, :], len(coordinates), axis=0)
    rows[np.arange(len(coordinates)), coordinates] += shifts.astype(dtype)
    return rows


def evaluate_rows(f, theta, coordinates, shifts, dtype, budget: int = 1 << 22) -> np.ndarray:
    """f at theta + shift * e_coordinate for each pair, in chunks that keep the batch under `budget` numbers."""
    chunk = max(1, budget // max(1, theta.size))
    values = [f(_rows(theta, coordinates[i:i + chunk], shifts[i:i + chunk], dtype))
              for i in range(0, len(coordinates), chunk)]
    return np.concatenate(values) if values else np.zeros(0, dtype=dtype)


def _exact_steps(theta, h, dtype):
    """The steps as the dtype represents them: (x + h) - x, so that the quotient divides by what was added."""
    x = theta.astype(dtype)
    return ((x + h.astype(dtype)) - x).astype(float), (x - (x - h.astype(dtype))).astype(float)


def differences(method: str, f, theta: np.ndarray, h: np.ndarray, prec: Precision):
    """(estimates of every partial derivative, loss evaluations) for forward, central or richardson."""
    k = np.arange(theta.size)
    up, down = _exact_steps(theta, h, prec.dtype)
    with np.errstate(all="ignore"):
        if method == "forward":
            base = f(theta.astype(prec.dtype)[None, :])[0]
            return (evaluate_rows(f, theta, k, up, prec.dtype) - base) / up, theta.size + 1
        plus, minus = evaluate_rows(f, theta, k, up, prec.dtype), evaluate_rows(f, theta, k, -down, prec.dtype)
        central = (plus - minus) / (up + down)
        if method == "central":
            return central, 2 * theta.size
        up2, down2 = _exact_steps(theta, h / 2, prec.dtype)
        half = (evaluate_rows(f, theta, k, up2, prec.dtype) - evaluate_rows(f, theta, k, -down2, prec.dtype)) / (up2 + down2)
        return (4 * half - central) / 3, 4 * theta.size
    raise ValueError(method)


def complex_step(f_complex, theta: np.ndarray, h: float, prec: Precision):
    """Im f(x + i h e_k) / h for every k: exact to rounding for analytic f, at any small h."""
    k = np.arange(theta.size)
    with np.errstate(all="ignore"):
        values = evaluate_rows(f_complex, theta.astype(prec.complex_dtype), k, np.full(theta.size, 1j * h),
                               prec.complex_dtype)
    return np.imag(values).astype(float) / h, theta.size


def unit_directions(rng, probes: int, size: int) -> np.ndarray:
    """`probes` directions uniform on the unit sphere in R^size (normalised Gaussian vectors)."""
    d = rng.standard_normal((probes, size))
    return d / np.linalg.norm(d, axis=1, keepdims=True)


def directional(f, theta: np.ndarray, directions: np.ndarray, h: float, prec: Precision):
    """(f(x + h d) - f(x - h d)) / 2h for each direction d (seed 001's check): 2 evaluations per direction."""
    x = theta.astype(prec.dtype)
    plus = x[None, :] + (h * directions).astype(prec.dtype)
    minus = x[None, :] - (h * directions).astype(prec.dtype)
    with np.errstate(all="ignore"):
        values = np.asarray(f(np.concatenate([plus, minus])))  # one vectorised call for every probe
    p = len(directions)
    return (values[:p] - values[p:]).astype(float) / (2 * h), 2 * p


# -- the step sweep ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SweepSeries:
    """One method's error against the step, and the convergence order fitted where truncation dominates."""

    method: str
    steps: tuple[float, ...]
    errors: tuple[float, ...]
    order: float | None
    expected: int
    fitted_steps: tuple[float, ...] = ()  # the steps the order was fitted on

    @property
    def consistent(self) -> bool | None:
        """Whether the observed order is within 0.5 of the expected one (None when it could not be measured)."""
        return None if self.order is None else abs(self.order - self.expected) <= 0.5

    def to_dict(self) -> dict:
        return {"method": self.method, "steps": list(self.steps), "errors": list(self.errors), "order": self.order,
                "expected_order": self.expected, "fitted_steps": list(self.fitted_steps)}


def sweep_steps(prec: Precision, scale: float) -> np.ndarray:
    """10^-1, 10^-1.5, ... down to the dtype's resolution at `scale` (10^-15 in float64 near 1); float32, whose
    truncation-dominated range is short, from 10^-0.5 in quarter decades."""
    exponents = np.arange(-1.0, -15.01, -0.5) if prec.eps < 1e-10 else np.arange(-0.5, -7.01, -0.25)
    steps = 10.0 ** exponents
    return steps[steps >= 10 * prec.eps * max(1.0, scale)]


def sweep(g, reference: float, prec: Precision, scale: float, allowed=None) -> tuple[SweepSeries, ...]:
    """Errors of forward, central and Richardson differences of g (a vectorised function of one variable t,
    its derivative at t = 0 to be `reference`) over decades of steps; `allowed(h)` False skips a step (it
    would cross a kink)."""
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
    noise = prec.eps * max(1.0, abs(f0))
    series = []
    for method in DIFFERENCES:
        errors = np.abs(estimates[method] - reference)
        order, used = fitted_order(ht, errors, noise)
        series.append(SweepSeries(method, tuple(map(float, ht)), tuple(map(float, errors)), order,
                                  EXPECTED_ORDER[method], tuple(map(float, used))))
    return tuple(series)


def fitted_order(steps: np.ndarray, errors: np.ndarray, noise: float):
    """The slope of log error against log step where truncation dominates: errors well above the round-off
    noise/h and finite. None with fewer than three such steps (the difference is exact to rounding)."""
    keep = np.isfinite(errors) & (errors > 10 * noise / steps) & (errors > 0)
    if keep.sum() < 3:
        return None, np.array([])
    slope = np.polyfit(np.log10(steps[keep]), np.log10(errors[keep]), 1)[0]
    return round(float(slope), 2), steps[keep]
