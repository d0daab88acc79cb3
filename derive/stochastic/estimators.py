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

The experts' weights theta_j get ordinary backpropagation through the combined output o = s^T e(x):
dL/dtheta_j = L'(o) s_j de_j/dtheta_j. With a hard one-hot s (score-function estimators, straight-through,
straight-through Gumbel) that is 1[j drawn] L'(e_j) de_j/dtheta_j, unbiased for p_j dL_j/dtheta_j; with
Gumbel-softmax's relaxed s it is the gradient of the relaxed objective, biased by design. de_j/dtheta_j
comes from derive's engine for a network expert (x for a linear one).

Every comparison with the exact gradient is a z-test per entry with a multiple-comparison correction:
Holm's step-down (the default; uniformly more powerful) or Bonferroni. Both reject some entry exactly
when max |z| exceeds the Bonferroni limit, so the verdict is the same; Holm may flag more entries.

NumPy, vectorised over draws, seeded: estimator number j draws from `numpy.random.default_rng([seed, j])`; `estimate` is the library's
entry point and returns an `EstimateReport` that renders itself (`render`). The z-tests live in `ztest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import ProblemError
from ..check.numeric import evaluate as evaluate_expression
from .problem import NetworkExpert, StochasticProblem, validate_distribution, validate_tau
from .ztest import Comparison, ZTested, bonferroni_limit, compare, describe_test, rejected_entries, z_scores


@dataclass(frozen=True, slots=True)
class Estimator:
    """One estimator: its name on the command line, its label in documents, whether it is biased by design."""

    name: str
    label: str
    biased_by_design: bool
    draw: object  # (Model, rng, draws) -> (samples of gz, samples of the experts' weights' gradient, draws per sample)
    experts_biased_by_design: bool = False
    experts_rule: str = "backpropagation through the drawn expert: 1[j drawn] dL_j/dtheta_j"


@dataclass(frozen=True)
class Model:
    """The problem's numbers as arrays: x, W_r, p, expert outputs e, losses L; U the linear experts' rows
    (None if any expert is a network); D (k x P) row j holding de_j/dtheta_j in expert j's block of the P
    trained expert weights, named by `labels` ((expert index, name), ...)."""

    problem: StochasticProblem
    x: np.ndarray
    W: np.ndarray
    U: np.ndarray | None
    z: np.ndarray
    p: np.ndarray
    e: np.ndarray
    L: np.ndarray
    D: np.ndarray
    labels: tuple

    @classmethod
    def of(cls, problem: StochasticProblem) -> "Model":
        x, W = (np.asarray(a, dtype=float) for a in (problem.x, problem.W_r))
        z = W @ x
        p = np.exp(z - z.max())
        p /= p.sum()
        validate_distribution(p, "the router's probabilities", problem.source)
        linear = not any(isinstance(expert, NetworkExpert) for expert in problem.experts)
        U = np.asarray(problem.experts, dtype=float) if linear else None
        e, D, labels = expert_numbers(problem, x)
        return cls(problem, x, W, U, z, p, e, loss(problem, e), D, labels)

    @property
    def expert_gradient(self) -> np.ndarray:
        """The exact gradient of E[L] with respect to the trained experts' weights: sum_j p_j L'(e_j) de_j/dtheta_j."""
        return (self.p * self.slope(self.e)) @ self.D

    def slope(self, output):
        """dL/do at the combined output o (the loss's derivative; 1 for the linear loss)."""
        if self.problem.loss == "linear":
            return np.ones_like(output)
        return output - self.problem.y


def expert_numbers(problem: StochasticProblem, x) -> tuple:
    """Each expert's output e_j(x), the k x P matrix D of de_j/dtheta_j (derive's engine for a network
    expert, x for a linear one) and the labels of the P trained weights."""
    outputs, blocks, labels = [], [], []
    for j, expert in enumerate(problem.experts):
        if isinstance(expert, NetworkExpert):
            point = expert.point(x)
            outputs.append(float(evaluate_expression(expert.output_expression(), point)))
            slopes = [float(derivation.evaluate(point)) for derivation in expert.output_solution().derivations]
            names = [s.name for s in expert.parameters]
        else:
            outputs.append(float(np.dot(expert, x)))
            slopes, names = list(x), [f"u_{j + 1},{c + 1}" for c in range(len(x))]
        if j in problem.trained_experts:
            blocks.append((j, slopes))
            labels += [(j, name) for name in names]
    D = np.zeros((problem.k, len(labels)))
    start = 0
    for j, slopes in blocks:
        D[j, start:start + len(slopes)] = slopes
        start += len(slopes)
    return np.asarray(outputs), D, tuple(labels)


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


def _hard_experts(model: Model, index):
    """The experts' weights' gradient when the drawn expert alone runs: L'(e_i) de_i/dtheta_i, one row per draw."""
    return model.slope(model.e[index])[:, None] * model.D[index]


def _reinforce(model, rng, n):
    index = _categorical(model, rng, n)
    return _score(model, index, model.L[index]), _hard_experts(model, index), 1


def _constant_baseline(model, rng, n):
    index = _categorical(model, rng, n)
    return _score(model, index, model.L[index] - model.problem.baseline), _hard_experts(model, index), 1


def _leave_one_out(model, rng, n):
    m = model.problem.group
    groups = max(n // m, 1)
    index = _categorical(model, rng, groups * m)
    losses = model.L[index].reshape(groups, m)
    others = (losses.sum(axis=1, keepdims=True) - losses) / (m - 1)
    gz = _score(model, index, (losses - others).ravel())
    experts = _hard_experts(model, index)
    return gz.reshape(groups, m, -1).mean(axis=1), experts.reshape(groups, m, -1).mean(axis=1), m


def _straight_through(model, rng, n):
    index = _categorical(model, rng, n)
    slopes = model.slope(model.e[index])[:, None] * model.e[None, :]
    return softmax_pullback(model.p, slopes), _hard_experts(model, index), 1


def _gumbel(model, rng, n):
    """The perturbed logits' relaxed sample y (n x k) and the hard sample argmax (an exact draw of p)."""
    g = -np.log(-np.log(rng.random((n, model.problem.k))))
    perturbed = (np.log(model.p) + g) / model.problem.tau
    y = np.exp(perturbed - perturbed.max(axis=1, keepdims=True))
    y /= y.sum(axis=1, keepdims=True)
    return y, np.argmax(perturbed, axis=1)


def _gumbel_softmax(model, rng, n):
    y, _ = _gumbel(model, rng, n)
    slope = model.slope(y @ model.e)
    experts = slope[:, None] * (y @ model.D)  # every expert runs, weighted by its relaxed share
    return softmax_pullback(y, slope[:, None] * model.e[None, :]) / model.problem.tau, experts, 1


def _straight_through_gumbel(model, rng, n):
    y, index = _gumbel(model, rng, n)
    slopes = model.slope(model.e[index])[:, None] * model.e[None, :]
    return softmax_pullback(y, slopes) / model.problem.tau, _hard_experts(model, index), 1


ESTIMATORS = {
    e.name: e for e in (
        Estimator("reinforce", "score function (REINFORCE), no baseline", False, _reinforce),
        Estimator("baseline", "score function, constant baseline", False, _constant_baseline),
        Estimator("loo", "score function, leave-one-out baseline", False, _leave_one_out),
        Estimator("straight-through", "straight-through", True, _straight_through),
        Estimator("gumbel-softmax", "Gumbel-softmax", True, _gumbel_softmax, True,
                  "backpropagation through the relaxed output: L'(o) s~_j de_j/dtheta_j, o = s~^T e(x)"),
        Estimator("st-gumbel", "straight-through Gumbel", True, _straight_through_gumbel),
    )
}



# -- the Monte Carlo study ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class EstimatorResult(ZTested):
    """One estimator's Monte Carlo study. The router's figures (mean, standard_error, z, bias, rejected) have
    the parameter's shape (W_r: k x d; w_g: 1 x d); `experts` compares the experts' weights' gradient."""

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
    threshold: float  # Bonferroni critical |z| for the family of components (Holm's first limit)
    total_variance: float  # trace of the covariance of one draw's estimate (per draw, comparable across estimators)
    curve: tuple  # ((draws N, RMS Frobenius error of the N-draw average), ...)
    rejected: np.ndarray = None  # per entry of the router's gradient, after the correction
    correction: str = "holm"
    experts: Comparison | None = None  # the experts' weights (None when no expert has trained weights)
    experts_rule: str = ""  # what the estimator does for the experts' weights
    alpha: float = 0.01  # the family level of the corrected tests

    @property
    def estimates(self) -> int:
        return self.draws // self.per_sample


    @property
    def max_abs_bias(self) -> float:
        return float(np.max(np.abs(self.bias)))


def to_parameter(model: Model, gz):
    """Logit gradients (..., k) -> the router parameter's gradient (..., rows, d): gz x^T on its rows."""
    rows = list(model.problem.rows)
    return np.asarray(gz)[..., rows, None] * model.x


def study(model: Model, estimator: Estimator, samples: int, rng, alpha: float = 0.01,
          correction: str = "holm") -> EstimatorResult:
    """Draw `samples` router draws' worth of the estimator and compare its means with the exact gradients
    (the router's weights and the experts' weights)."""
    gz, experts, per = estimator.draw(model, rng, samples)
    count = gz.shape[0]
    exact = to_parameter(model, exact_logit_gradient(model.p, model.L))
    mean, se, z, spread = z_scores(gz, exact, lambda a: to_parameter(model, a))
    rejected = rejected_entries(z, alpha, correction)
    variance = float(np.sum(spread ** 2)) * per
    expert_study = (compare(experts, model.expert_gradient, alpha, correction, estimator.experts_biased_by_design)
                    if model.D.shape[1] else None)
    return EstimatorResult(estimator.name, estimator.label, estimator.biased_by_design, count * per, per, mean, se, z,
                           mean - exact, float(np.max(np.abs(z))), bonferroni_limit(z.size, alpha), variance,
                           _curve(model, gz, per, exact), rejected, correction, expert_study, estimator.experts_rule,
                           alpha)


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
        from .render import render_report

        return render_report(self, "tex")

    def markdown(self, plot: str | None = None) -> str:
        from .render import render_report

        return render_report(self, "md", plot=plot)

    def html(self) -> str:
        """The comparison as one self-contained web page (HTML with MathML, the plot as inline SVG)."""
        from .render import render_report_page

        return render_report_page(self)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's display: the comparison as HTML with MathML (the plot as SVG), as Markdown, its body as
        LaTeX, and the one line per estimator as text."""
        from ..write.html import fragment
        from .render import report_body_html, report_body_latex

        bundle = {"text/html": lambda: fragment(report_body_html(self)), "text/markdown": self.markdown,
                  "text/latex": lambda: report_body_latex(self), "text/plain": self.summary}
        return {kind: make() for kind, make in bundle.items()
                if (include is None or kind in include) and (exclude is None or kind not in exclude)}

    def to_json(self) -> str:
        from .render import report_json

        return report_json(self)

    def plot(self, path: str | Path) -> None:
        from .render import write_plot

        write_plot(self, path)

    @property
    def correction(self) -> str:
        return self.results[0].correction if self.results else self.problem.correction

    @property
    def expert_gradient(self) -> np.ndarray:
        """The exact gradient with respect to the trained experts' weights (in the order of `model.labels`)."""
        return self.model.expert_gradient

    def summary(self) -> str:
        return "\n".join(_summary_line(r) for r in self.results)


def _summary_line(r: EstimatorResult) -> str:
    line = (f"{r.label}: {r.verdict}{'; biased by design' if r.biased_by_design else ''} "
            f"({describe_test(r.z, r.rejected, r.correction, r.alpha)}; "
            f"variance per draw {r.total_variance:.4g})")
    if r.experts is not None:
        design = "; biased by design" if r.experts.biased_by_design else ""
        line += f"; experts' weights: {r.experts.verdict}{design} ({r.experts.describe()})"
    return line


def estimate(problem, estimators=None, samples: int = 100_000, seed: int = 0, tau: float | None = None,
             alpha: float = 0.01, correction: str | None = None) -> EstimateReport:
    """Study the estimators (all, or those named) on `problem` (a StochasticProblem or a YAML path);
    `correction` ("holm" or "bonferroni") overrides the problem's (default Holm)."""
    if not isinstance(problem, StochasticProblem):
        problem = StochasticProblem.from_yaml(problem)
    if tau is not None:
        problem = problem.replace(tau=validate_tau(tau))
    if correction is not None:
        problem = problem.replace(correction=correction)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < alpha < 1:
        raise ProblemError(f"the family level alpha must be a number in (0, 1), not {alpha!r}")
    chosen = [_estimator(name) for name in (estimators or ESTIMATORS)]
    samples = validate_samples(samples, problem.group if any(e.name == "loo" for e in chosen) else 1)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ProblemError(f"the seed must be an integer >= 0, not {seed!r}")
    model = Model.of(problem)
    streams = {name: i for i, name in enumerate(ESTIMATORS)}  # each estimator its own stream: same numbers alone or together
    results = tuple(study(model, e, samples, np.random.default_rng([seed, streams[e.name]]), alpha, problem.correction)
                    for e in chosen)
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
