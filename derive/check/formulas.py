"""The numerical derivatives of the check, on a loss seen as a function of one flat vector, and the float types.

Each scheme takes `f`, a vectorised loss (a (B, K) array of parameter vectors to B values), the point
`theta` and per-coordinate steps, and returns its estimates with the number of loss evaluations it used:
forward difference (error O(h)), central difference (O(h^2)), Richardson extrapolation of the central
difference (O(h^4)), the complex step Im f(x + ih)/h (no cancellation, so machine precision; analytic
losses only), and the directional derivative of seed 001 along directions drawn uniformly from the unit
sphere. `Precision` holds a float type's machine epsilon, default steps and error bands; `steps_for` the
per-coordinate steps. What an estimate's error may be lives in `error_budget`, the sweep of steps over
decades in `step_sweep`. Pure NumPy: nothing here knows about SymPy or networks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import CheckError


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
    bands: tuple  # ((limit, band name), ...) for the relative error, the displayed measure

    @property
    def eps(self) -> float:
        return float(np.finfo(self.dtype).eps)

    @property
    def wider(self):
        """The next wider float type (float64 for float32; long double where it has more digits), or None."""
        if self.dtype == np.float32:
            return np.float64
        return np.longdouble if np.finfo(np.longdouble).eps < self.eps else None

    def default_step(self, method: str) -> float:
        """sqrt(eps) forward, cbrt(eps) central and directional, eps^(1/5) Richardson; the complex step 1e-20,
        or where h^2 would come within 10^20 of the smallest normal number (float32: about 1e-9, beyond
        which products of two perturbed parts underflow and the imaginary part loses its digits) above it."""
        power = {"forward": 1 / 2, "central": 1 / 3, "directional": 1 / 3, "richardson": 1 / 5}.get(method)
        if power is None:
            return max(1e-20, float(np.sqrt(np.finfo(self.dtype).tiny)) * 1e10)
        return float(self.eps ** power)


PRECISIONS = {
    "float64": Precision("float64", np.float64, np.complex128,
                         ((1e-7, "good"), (1e-4, "acceptable"), (1e-2, "suspicious"), (np.inf, "wrong"))),
    "float32": Precision("float32", np.float32, np.complex64,
                         ((1e-3, "good"), (1e-2, "acceptable"), (1e-1, "suspicious"), (np.inf, "wrong"))),
}
_WIDER = {  # the next wider float type as a Precision, for measuring the rounding of the one checked
    "float64": Precision("longdouble", np.longdouble, np.clongdouble, ()),
    "float32": Precision("float64", np.float64, np.complex128, ()),
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

