"""Gradient estimators for a stochastic node, the exact gradient by enumeration, and the Monte Carlo study.

Every estimator here estimates the gradient of E_{i ~ p}[L_i] with respect to the router's logits
z = W_r x (a k-vector per draw, `gz`); the gradient with respect to W_r is gz x^T (denominator layout:
the shape of W_r), so the study works on n x k arrays and maps to W_r's entries at the end. Definitions
(derive's documents state the same):

- score function (REINFORCE): (L_i - b)(e_i - p), i ~ p, with b = 0, a constant b, or, per group of m
  draws, b_j = the mean of the other m - 1 losses (leave-one-out);
- straight-through: forward the one-hot s = e_i, backward as if s were p: (diag p - p p^T) dL/ds;
- Gumbel-softmax: y = softmax((log p + g) / tau), g_i ~ Gumbel(0, 1), output sum_i y_i e_i(x),
  gradient (1/tau)(diag y - y y^T) dL/dy, the exact gradient of a relaxed objective;
- straight-through Gumbel: forward the one-hot of argmax(log p + g) (an exact sample of p), backward
  through y as in Gumbel-softmax.

NumPy, vectorised over draws, seeded: estimator number j draws from `numpy.random.default_rng([seed, j])`; `estimate` is the library's
entry point and returns an `EstimateReport` that renders itself (`derive.estimate_render`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .errors import ProblemError
from .stochastic import StochasticProblem, validate_distribution, validate_tau


@dataclass(frozen=True, slots=True)
class Estimator:
    """One estimator: its name on the command line, its label in documents, whether it is biased by design."""

    name: str
    label: str
    biased_by_design: bool
    draw: object  # (Model, rng, draws) -> (samples of gz, draws per sample)


@dataclass(frozen=True)
class Model:
    """The problem's numbers as arrays: x, W_r, experts' weights U, p, expert outputs e, losses L."""

    problem: StochasticProblem
    x: np.ndarray
    W: np.ndarray
    U: np.ndarray
    z: np.ndarray
    p: np.ndarray
    e: np.ndarray
    L: np.ndarray

    @classmethod
    def of(cls, problem: StochasticProblem) -> "Model":
        x, W, U = (np.asarray(a, dtype=float) for a in (problem.x, problem.W_r, problem.experts))
        z = W @ x
        p = np.exp(z - z.max())
        p /= p.sum()
        validate_distribution(p, "the router's probabilities", problem.source)
        e = U @ x
        return cls(problem, x, W, U, z, p, e, loss(problem, e))

    def slope(self, output):
        """dL/do at the combined output o (the loss's derivative; 1 for the linear loss)."""
        if self.problem.loss == "linear":
            return np.ones_like(output)
        return output - self.problem.y


def loss(problem: StochasticProblem, output):
    """L(o) = 1/2 (y - o)^2, or o for the linear loss."""
    output = np.asarray(output, dtype=float)
    return output if problem.loss == "linear" else 0.5 * (problem.y - output) ** 2


def softmax_pullback(q, g):
    """(diag q - q q^T) g, row by row: the vector-Jacobian product of a softmax whose output is q."""
    return q * (g - np.sum(q * g, axis=-1, keepdims=True))


# -- the exact gradient by enumeration --------------------------------------------------------------
def exact_logit_gradient(p, losses):
    """d/dz sum_i p_i L_i = sum_i p_i L_i (e_i - p) = p (.) (L - p^T L); p must be a distribution."""
    p = np.asarray(validate_distribution(p), dtype=float)
    return softmax_pullback(p, np.asarray(losses, dtype=float))


def straight_through_mean(model: Model):
    """E[straight-through] by enumeration: sum_i p_i (diag p - p p^T) L'(e_i) e."""
    slopes = model.slope(model.e)[:, None] * model.e[None, :]  # row i: dL/ds when expert i is drawn
    return model.p @ softmax_pullback(model.p, slopes)


# -- the estimators: each returns (samples of gz, router draws per sample) ----------------------------------
def _categorical(model: Model, rng, n: int):
    index = np.searchsorted(np.cumsum(model.p), rng.random(n), side="right")
    return np.minimum(index, model.problem.k - 1)


def _score(model: Model, index, weights):
    """weights_j (e_{i_j} - p), one row per draw."""
    gz = -np.outer(weights, model.p)
    gz[np.arange(len(index)), index] += weights
    return gz


def _reinforce(model, rng, n):
    index = _categorical(model, rng, n)
    return _score(model, index, model.L[index]), 1


def _constant_baseline(model, rng, n):
    index = _categorical(model, rng, n)
    return _score(model, index, model.L[index] - model.problem.baseline), 1


def _leave_one_out(model, rng, n):
    m = model.problem.group
    groups = max(n // m, 1)
    index = _categorical(model, rng, groups * m)
    losses = model.L[index].reshape(groups, m)
    others = (losses.sum(axis=1, keepdims=True) - losses) / (m - 1)
    gz = _score(model, index, (losses - others).ravel())
    return gz.reshape(groups, m, -1).mean(axis=1), m


def _straight_through(model, rng, n):
    index = _categorical(model, rng, n)
    slopes = model.slope(model.e[index])[:, None] * model.e[None, :]
    return softmax_pullback(model.p, slopes), 1


def _gumbel(model, rng, n):
    """The perturbed logits' relaxed sample y (n x k) and the hard sample argmax (an exact draw of p)."""
    g = -np.log(-np.log(rng.random((n, model.problem.k))))
    perturbed = (np.log(model.p) + g) / model.problem.tau
    y = np.exp(perturbed - perturbed.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    return y, np.argmax(perturbed, axis=1)


def _gumbel_softmax(model, rng, n):
    y, _ = _gumbel(model, rng, n)
    slopes = model.slope(y @ model.e)[:, None] * model.e[None, :]
    return softmax_pullback(y, slopes) / model.problem.tau, 1


def _straight_through_gumbel(model, rng, n):
    y, index = _gumbel(model, rng, n)
    slopes = model.slope(model.e[index])[:, None] * model.e[None, :]
    return softmax_pullback(y, slopes) / model.problem.tau, 1


ESTIMATORS = {
    e.name: e for e in (
        Estimator("reinforce", "score function (REINFORCE), no baseline", False, _reinforce),
        Estimator("baseline", "score function, constant baseline", False, _constant_baseline),
        Estimator("loo", "score function, leave-one-out baseline", False, _leave_one_out),
        Estimator("straight-through", "straight-through", True, _straight_through),
        Estimator("gumbel-softmax", "Gumbel-softmax", True, _gumbel_softmax),
        Estimator("st-gumbel", "straight-through Gumbel", True, _straight_through_gumbel),
    )
}


# -- the Monte Carlo study ----------------------------------------------------------------------------------
MIN_ESTIMATES = 30


@dataclass(frozen=True)
class EstimatorResult:
    """One estimator's Monte Carlo study; matrices are the parameter's shape (W_r: k x d; w_g: 1 x d)."""

    name: str
    label: str
    biased_by_design: bool
    draws: int  # router draws used
    per_sample: int  # draws behind one estimate (m for leave-one-out, else 1)
    mean: np.ndarray
    standard_error: np.ndarray
    z: np.ndarray
    bias: np.ndarray  # mean - exact
    max_abs_z: float
    threshold: float  # Bonferroni critical |z| for the family of components
    total_variance: float  # trace of the covariance of one draw's estimate (per draw, comparable across estimators)
    curve: tuple  # ((draws N, RMS Frobenius error of the N-draw average), ...)

    @property
    def estimates(self) -> int:
        return self.draws // self.per_sample

    @property
    def decided(self) -> bool:
        """A z-test needs enough estimates for the mean to be near normal and the standard error to be trusted."""
        return self.estimates >= MIN_ESTIMATES

    @property
    def consistent(self) -> bool:
        return self.max_abs_z <= self.threshold

    @property
    def verdict(self) -> str:
        if not self.decided:
            return f"undecided (only {self.estimates} estimates; a z-test needs at least {MIN_ESTIMATES})"
        if self.consistent:
            return "consistent with unbiased"
        return f"biased (max |bias| = {self.max_abs_bias:.3g})"

    @property
    def max_abs_bias(self) -> float:
        return float(np.max(np.abs(self.bias)))


def to_parameter(model: Model, gz):
    """Logit gradients (..., k) -> the router parameter's gradient (..., rows, d): gz x^T on its rows."""
    rows = list(model.problem.rows)
    return np.asarray(gz)[..., rows, None] * model.x


def study(model: Model, estimator: Estimator, samples: int, rng, alpha: float = 0.01) -> EstimatorResult:
    """Draw `samples` router draws' worth of the estimator and compare its mean with the exact gradient."""
    gz, per = estimator.draw(model, rng, samples)
    count = gz.shape[0]
    exact = to_parameter(model, exact_logit_gradient(model.p, model.L))
    mean = to_parameter(model, gz.mean(axis=0))
    spread = to_parameter(model, gz.std(axis=0, ddof=1))
    se = np.abs(spread) / math.sqrt(count)
    # a deterministic estimator has se ~ 0: judge it against the rounding error of summing `count` draws
    rounding = to_parameter(model, np.finfo(float).eps * count * np.max(np.abs(gz), axis=0))
    scale = np.maximum(se, np.abs(rounding))
    z = np.divide(mean - exact, scale, out=np.where(mean == exact, 0.0, np.inf), where=scale > 0)
    threshold = NormalDist().inv_cdf(1 - alpha / (2 * z.size))
    variance = float(np.sum(spread ** 2)) * per
    return EstimatorResult(estimator.name, estimator.label, estimator.biased_by_design, count * per, per, mean, se, z,
                           mean - exact, float(np.max(np.abs(z))), threshold, variance, _curve(model, gz, per, exact))


def _curve(model: Model, gz, per: int, exact) -> tuple:
    """RMS error (Frobenius) of the average of N draws, over disjoint blocks, for N = 10, 100, ... (>= 10 blocks)."""
    points = []
    for draws in (10 ** j for j in range(1, 8)):
        size = max(draws // per, 1)
        blocks = gz.shape[0] // size
        if blocks < 10:
            break
        means = gz[: blocks * size].reshape(blocks, size, -1).mean(axis=1)
        error = to_parameter(model, means) - exact
        points.append((size * per, float(np.sqrt(np.mean(np.sum(error ** 2, axis=(1, 2)))))))
    return tuple(points)


# -- the library entry point --------------------------------------------------------------------------------
@dataclass(frozen=True)
class EstimateReport:
    """The exact gradient and each estimator's study, for one problem; renders as .tex, .md, .json, .png."""

    problem: StochasticProblem
    model: Model
    exact: np.ndarray
    straight_through_mean: np.ndarray
    results: tuple
    samples: int
    seed: int
    alpha: float

    def document(self) -> str:
        from .estimate_render import render_report

        return render_report(self, "tex")

    def markdown(self, plot: str | None = None) -> str:
        from .estimate_render import render_report

        return render_report(self, "md", plot=plot)

    def to_json(self) -> str:
        from .estimate_render import report_json

        return report_json(self)

    def plot(self, path: str | Path) -> None:
        from .estimate_render import write_plot

        write_plot(self, path)

    def summary(self) -> str:
        return "\n".join(f"{r.label}: {r.verdict}{'; biased by design' if r.biased_by_design else ''} (max |z| = {r.max_abs_z:.2f}, Bonferroni limit {r.threshold:.2f}; "
                         f"variance per draw {r.total_variance:.4g})" for r in self.results)


def estimate(problem, estimators=None, samples: int = 100_000, seed: int = 0, tau: float | None = None,
             alpha: float = 0.01) -> EstimateReport:
    """Study the estimators (all, or those named) on `problem` (a StochasticProblem or a YAML path)."""
    if not isinstance(problem, StochasticProblem):
        problem = StochasticProblem.from_yaml(problem)
    if tau is not None:
        problem = problem.replace(tau=validate_tau(tau))
    chosen = [_estimator(name) for name in (estimators or ESTIMATORS)]
    samples = validate_samples(samples, problem.group if any(e.name == "loo" for e in chosen) else 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ProblemError(f"the seed must be an integer >= 0, not {seed!r}")
    model = Model.of(problem)
    streams = {name: i for i, name in enumerate(ESTIMATORS)}  # each estimator its own stream: same numbers alone or together
    results = tuple(study(model, e, samples, np.random.default_rng([seed, streams[e.name]]), alpha) for e in chosen)
    exact = to_parameter(model, exact_logit_gradient(model.p, model.L))
    return EstimateReport(problem, model, exact, to_parameter(model, straight_through_mean(model)), results, samples,
                          seed, alpha)


def validate_samples(samples, group: int = 2) -> int:
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 2:
        raise ProblemError(f"the number of samples must be an integer >= 2 (a standard error needs two), not {samples!r}")
    if samples < 2 * group:
        raise ProblemError(f"{samples} samples make fewer than 2 leave-one-out groups of {group}: use at least {2 * group}")
    return int(samples)


def _estimator(name: str) -> Estimator:
    if name not in ESTIMATORS:
        raise ProblemError(f"unknown estimator '{name}' (known: {', '.join(ESTIMATORS)})")
    return ESTIMATORS[name]
