"""The z-tests a Monte Carlo study is judged by: per entry, (mean - exact) / standard error, with a
multiple-comparison correction (Holm's step-down, the default, or Bonferroni), and the verdict in words.

Both corrections reject some entry exactly when max |z| exceeds the Bonferroni limit, so the verdict is the
same; Holm may flag more entries. Plain statistics on NumPy arrays: the estimators and the study that draws
the samples live in `estimators`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from ..core.errors import ProblemError
from .problem import CORRECTIONS

MIN_ESTIMATES = 30


def z_scores(samples, exact, to_shape=lambda a: a):
    """Mean, standard error and z = (mean - exact)/se per entry of `samples` (one row per estimate). A
    deterministic estimator has se ~ 0: it is judged against the rounding error of summing the rows."""
    count = samples.shape[0]
    mean = to_shape(samples.mean(axis=0))
    spread = to_shape(samples.std(axis=0, ddof=1))
    se = np.abs(spread) / math.sqrt(count)
    rounding = np.abs(to_shape(np.finfo(float).eps * count * np.max(np.abs(samples), axis=0)))
    scale = np.maximum(se, rounding)
    z = np.divide(mean - exact, scale, out=np.where(mean == exact, 0.0, np.inf), where=scale > 0)
    return mean, se, z, spread


def bonferroni_limit(size: int, alpha: float) -> float:
    """The critical |z| of each of `size` two-sided tests at family level alpha: Phi^-1(1 - alpha/(2 size))."""
    return NormalDist().inv_cdf(1 - alpha / (2 * size))


def rejected_entries(z, alpha: float, correction: str = "holm") -> np.ndarray:
    """Which entries' hypotheses "unbiased" are rejected at family level alpha (a boolean array like z).

    Bonferroni: |z| > Phi^-1(1 - alpha/(2m)). Holm's step-down: sort |z| from largest; the r-th (r = 0, 1, ...)
    is rejected if it and all before it exceed Phi^-1(1 - alpha/(2(m - r))); stop at the first that does not.
    """
    if correction not in CORRECTIONS:
        raise ProblemError(f"the correction must be one of {', '.join(CORRECTIONS)}, not {correction!r}")
    size = np.size(z)
    magnitude = np.nan_to_num(np.abs(np.ravel(z)), nan=np.inf)
    if correction == "bonferroni":
        return (magnitude > bonferroni_limit(size, alpha)).reshape(np.shape(z))
    rejected = np.zeros(size, dtype=bool)
    for rank, entry in enumerate(np.argsort(-magnitude, kind="stable")):
        if magnitude[entry] <= bonferroni_limit(size - rank, alpha):
            break
        rejected[entry] = True
    return rejected.reshape(np.shape(z))


class ZTested:
    """The verdict of a corrected z-test, shared by a study's router and experts' parts: needs `estimates`,
    `rejected` (per entry) and `max_abs_bias`."""

    @property
    def decided(self) -> bool:
        """A z-test needs enough estimates for the mean to be near normal and the standard error to be trusted."""
        return self.estimates >= MIN_ESTIMATES

    @property
    def consistent(self) -> bool:
        return not bool(np.any(self.rejected))

    @property
    def verdict(self) -> str:
        return verdict(self.decided, self.consistent, self.estimates, self.max_abs_bias)


@dataclass(frozen=True)
class Comparison(ZTested):
    """A Monte Carlo mean against an exact gradient, entry by entry: mean, se, z, and the corrected tests."""

    mean: np.ndarray
    standard_error: np.ndarray
    z: np.ndarray
    bias: np.ndarray  # mean - exact
    rejected: np.ndarray  # per entry, after the correction
    threshold: float  # the Bonferroni limit (Holm's first, strictest limit)
    correction: str
    estimates: int
    biased_by_design: bool
    alpha: float = 0.01  # the family level

    @property
    def max_abs_z(self) -> float:
        return float(np.max(np.abs(self.z))) if np.size(self.z) else 0.0

    @property
    def max_abs_bias(self) -> float:
        return float(np.max(np.abs(self.bias))) if np.size(self.bias) else 0.0


    def describe(self) -> str:
        """The test in words, e.g. "max |z| = 0.25; Holm over 6 entries: none rejected (limits 3.14 to 2.58)"."""
        return describe_test(self.z, self.rejected, self.correction, self.alpha)


def describe_test(z, rejected, correction: str, alpha: float) -> str:
    size = np.size(z)
    first, last = bonferroni_limit(size, alpha), bonferroni_limit(1, alpha)
    limits = (f"limit {first:.2f}" if correction == "bonferroni" or size == 1 else f"limits {first:.2f} to {last:.2f}")
    count = int(np.sum(rejected))
    return (f"max |z| = {float(np.max(np.abs(z))):.2f}; {correction.capitalize()} over {size} entries: "
            f"{count or 'none'} rejected ({limits})")


def verdict(decided: bool, consistent: bool, estimates: int, max_abs_bias: float) -> str:
    if not decided:
        return f"undecided (only {estimates} estimates; a z-test needs at least {MIN_ESTIMATES})"
    if consistent:
        return "consistent with unbiased"
    return f"biased (max |bias| = {max_abs_bias:.3g})"


def compare(samples, exact, alpha: float, correction: str, biased_by_design: bool, to_shape=lambda a: a) -> Comparison:
    mean, se, z, _ = z_scores(samples, exact, to_shape)
    size = max(np.size(z), 1)
    return Comparison(mean, se, z, mean - exact, rejected_entries(z, alpha, correction), bonferroni_limit(size, alpha),
                      correction, samples.shape[0], biased_by_design, alpha)
