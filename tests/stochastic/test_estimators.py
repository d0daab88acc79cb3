"""Gradient estimators for a stochastic node (issue 7), each formula against an independent oracle.

Oracles: `sympy.diff` of the model written out entry by entry (the router's score and the exact gradient),
central differences of the expected loss and of the Gumbel-softmax relaxed objective (with common random
numbers), and enumeration over the k experts (straight-through's mean). Monte Carlo verdicts are judged
with standard errors (z-tests with a Bonferroni correction), never with fixed tolerances.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
import sympy
from sympy import ImmutableMatrix

import derive
from derive.stochastic import estimators as est
from derive.core import matrix_ops as mo
from derive.core.errors import ProblemError
from derive.stochastic.problem import StochasticProblem, validate_distribution
from derive.stochastic.symbolic import expected_loss, log_softmax_derivation, scalar_model, sympy_exact_gradient

from conftest import agree_at_random_points

ROUTER = Path(__file__).resolve().parents[2] / "examples" / "router.yaml"


@pytest.fixture(scope="module")
def router() -> StochasticProblem:
    return StochasticProblem.from_yaml(ROUTER)


def expected_loss_at(problem: StochasticProblem, W) -> float:
    """sum_i p_i L_i at router weights W, in plain NumPy (for central differences)."""
    model = est.Model.of(problem.replace(W_r=tuple(map(tuple, W))))
    return float(model.p @ model.L)


def central_difference(f, W, h=1e-6) -> np.ndarray:
    W = np.asarray(W, dtype=float)
    grad = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[index] = h
        grad[index] = (f(W + step) - f(W - step)) / (2 * h)
    return grad


# -- the symbolic side ----------------------------------------------------------------------------
@pytest.mark.parametrize("k, d", [(2, 1), (3, 2), (4, 3)])
def test_engine_score_matches_sympy_diff_of_log_softmax(k, d):
    """derive's engine gives d log p_i / d W_r = (e_i - p) x^T; sympy.diff of log softmax_i(W_r x) agrees entrywise."""
    derivation = log_softmax_derivation(k, d)
    W, x, _, p = scalar_model(k, d)
    x_sym, W_sym, s_sym = (derivation.solution.network.inputs[name] for name in ("x", "W_r", "s"))
    for i in range(k):
        values = {x_sym: ImmutableMatrix(d, 1, x), W_sym: ImmutableMatrix(W),
                  s_sym: ImmutableMatrix(1, k, [1 if j == i else 0 for j in range(k)])}
        engine = mo.explicit(derivation.expanded(), values)
        assert engine.shape == (k, d)  # the shape of W_r: denominator layout
        log_p = sympy.log(p[i])
        for a in range(k):
            for b in range(d):
                agree_at_random_points(engine[a, b], sympy.diff(log_p, W[a][b]), [*x, *sum(W, [])], trials=2, seed=a + b)


def test_engine_score_is_stated_as_s_minus_p():
    derivation = log_softmax_derivation(3, 2)
    latex = derivation.latex()
    assert r"&= s - p && \text{\small since each row of \(s\) sums to 1}" in latex
    assert r"&= \Delta^T x^T" in latex
    assert derivation.check().passed


def test_exact_gradient_formula_matches_sympy_diff_of_the_expected_loss():
    """sum_i p_i L_i (e_i - p) x^T, with L_i free symbols, equals sympy.diff of sum_i p_i L_i entry by entry."""
    k, d = 3, 2
    W, x, losses, p, expected = expected_loss(k, d)
    for a in range(k):
        for b in range(d):
            formula = sum(p[i] * losses[i] * ((1 if a == i else 0) - p[a]) * x[b] for i in range(k))
            agree_at_random_points(formula, sympy.diff(expected, W[a][b]), [*x, *losses, *sum(W, [])], trials=2)


def test_exact_gradient_numbers_match_sympy_and_central_differences(router):
    report = est.estimate(router, ["reinforce"], samples=100, seed=0)
    assert report.exact.shape == (3, 2)
    assert np.allclose(report.exact, sympy_exact_gradient(router), rtol=0, atol=1e-13)
    numeric = central_difference(lambda W: expected_loss_at(router, W), router.W_r)
    assert np.allclose(report.exact, numeric, rtol=1e-7, atol=1e-9)


# -- the Monte Carlo verdicts on the example ---------------------------------------------------------
@pytest.fixture(scope="module")
def study(router):
    return {r.name: r for r in est.estimate(router, samples=200_000, seed=7).results}


@pytest.mark.parametrize("name", ["reinforce", "baseline", "loo"])
def test_score_function_estimators_are_consistent_with_the_exact_gradient(study, name):
    result = study[name]
    assert result.consistent, (result.z, result.threshold)
    assert result.verdict == "consistent with unbiased"
    assert not result.biased_by_design


@pytest.mark.parametrize("name", ["straight-through", "gumbel-softmax", "st-gumbel"])
def test_straight_through_and_gumbel_are_biased_here(study, name):
    result = study[name]
    assert result.biased_by_design
    assert not result.consistent
    assert result.verdict.startswith("biased (max |bias| = ")
    assert result.max_abs_z > 10 * result.threshold


def test_straight_through_bias_matches_enumeration(router, study):
    """Its Monte Carlo mean agrees (z-test) with its mean by enumeration, which differs from the exact gradient."""
    report = est.estimate(router, ["straight-through"], samples=200_000, seed=3)
    result = report.results[0]
    z = (result.mean - report.straight_through_mean) / result.standard_error
    assert np.max(np.abs(z)) <= result.threshold
    assert np.max(np.abs(report.straight_through_mean - report.exact)) > 0.05


def test_bonferroni_limit():
    limit = NormalDist().inv_cdf(1 - 0.01 / (2 * 6))
    assert math.isclose(limit, 3.1436, abs_tol=1e-3)


def test_baselines_reduce_the_variance_here(study):
    assert study["baseline"].total_variance < study["reinforce"].total_variance
    assert study["loo"].total_variance < study["reinforce"].total_variance


def test_unbiased_errors_fall_like_one_over_root_n_and_biased_ones_level_off(study):
    reinforce = dict(study["reinforce"].curve)
    assert 5 < reinforce[100] / reinforce[10_000] < 20  # about sqrt(10_000 / 100) = 10
    straight = dict(study["straight-through"].curve)
    assert straight[10_000] > 0.9 * straight[100]
    assert math.isclose(straight[10_000], float(np.linalg.norm(study["straight-through"].bias)), rel_tol=0.05)


# -- straight-through is exact when the loss is linear in the one-hot sample ------------------------------
def test_straight_through_is_exact_for_a_loss_linear_in_the_sample(router):
    linear = router.replace(loss="linear")
    report = est.estimate(linear, ["straight-through", "reinforce"], samples=200_000, seed=1)
    assert np.allclose(report.straight_through_mean, report.exact, rtol=0, atol=1e-15)
    assert all(r.consistent for r in report.results)
    numeric = central_difference(lambda W: expected_loss_at(linear, W), linear.W_r)
    assert np.allclose(report.exact, numeric, atol=1e-9)


def test_straight_through_mean_is_the_gradient_of_the_loss_at_p(router):
    """As the document says: for a loss at most quadratic in s, E[ST] = d/dW_r L(p), here 1/2 (y - p^T o)^2."""
    model = est.Model.of(router)

    def loss_at_p(W):
        moved = est.Model.of(router.replace(W_r=tuple(map(tuple, W))))
        return float(est.loss(router, moved.p @ moved.e))

    mean = est.to_parameter(model, est.straight_through_mean(model))
    assert np.allclose(mean, central_difference(loss_at_p, router.W_r), rtol=1e-7, atol=1e-10)


def test_straight_through_is_not_exact_for_the_squared_loss(router):
    model = est.Model.of(router)
    exact = est.exact_logit_gradient(model.p, model.L)
    assert np.max(np.abs(est.straight_through_mean(model) - exact)) > 0.05


# -- Gumbel-softmax: the exact gradient of the relaxed objective -------------------------------------------
@pytest.mark.parametrize("tau", [0.3, 1.0, 3.0])
def test_gumbel_softmax_is_the_gradient_of_the_relaxed_objective(router, tau):
    """With the same Gumbel noise (common random numbers), the estimator's average equals the central
    difference of the average relaxed loss mean_g L(softmax((log p + g)/tau)^T o)."""
    problem = router.replace(tau=tau)

    def relaxed(W):
        model = est.Model.of(problem.replace(W_r=tuple(map(tuple, W))))
        y, _ = est._gumbel(model, np.random.default_rng(5), 2000)
        return float(np.mean(est.loss(problem, y @ model.e)))

    model = est.Model.of(problem)
    gz, _, _ = est.ESTIMATORS["gumbel-softmax"].draw(model, np.random.default_rng(5), 2000)
    average = est.to_parameter(model, gz.mean(axis=0))
    assert np.allclose(average, central_difference(relaxed, problem.W_r), rtol=1e-6, atol=1e-8)


def test_gumbel_max_draws_follow_p(router):
    model = est.Model.of(router)
    _, index = est._gumbel(model, np.random.default_rng(0), 400_000)
    frequencies = np.bincount(index, minlength=3) / index.size
    se = np.sqrt(model.p * (1 - model.p) / index.size)
    assert np.all(np.abs(frequencies - model.p) < 4 * se)


def test_categorical_draws_follow_p(router):
    model = est.Model.of(router)
    index = est._categorical(model, np.random.default_rng(1), 400_000)
    frequencies = np.bincount(index, minlength=3) / index.size
    assert np.all(np.abs(frequencies - model.p) < 4 * np.sqrt(model.p * (1 - model.p) / index.size))


def test_leave_one_out_baseline_excludes_the_draw_itself(router):
    """One group's estimate, against the formula with each draw's baseline the mean of the others."""
    model = est.Model.of(router)
    gz, _, per = est._leave_one_out(model, np.random.default_rng(11), router.group)
    index = est._categorical(model, np.random.default_rng(11), router.group)
    losses = model.L[index]
    expected = np.zeros(3)
    for j, i in enumerate(index):
        baseline = (losses.sum() - losses[j]) / (router.group - 1)
        expected += (losses[j] - baseline) * (np.eye(3)[i] - model.p) / router.group
    assert per == router.group and gz.shape == (1, 3)
    assert np.allclose(gz[0], expected, atol=1e-15)


# -- the Bernoulli gate and written-out probabilities ----------------------------------------------------------
GATE = """
title: A Bernoulli gate
stochastic:
  node: bernoulli
  x: [0.8, -1.5]
  w_g: [0.5, 0.2]
  experts: [[1.0, -0.3]]
  y: 0.2
"""


def test_bernoulli_gate_exact_gradient_and_estimators():
    gate = StochasticProblem.from_text(GATE)
    report = est.estimate(gate, samples=200_000, seed=2)
    x = np.array([0.8, -1.5])
    sigma = 1 / (1 + math.exp(-(0.5 * 0.8 + 0.2 * -1.5)))
    on, off = 0.5 * (0.2 - (0.8 * 1.0 + -1.5 * -0.3)) ** 2, 0.5 * 0.2 ** 2
    assert report.exact.shape == (1, 2)
    assert np.allclose(report.exact[0], sigma * (1 - sigma) * (on - off) * x, atol=1e-14)
    assert np.allclose(report.exact, sympy_exact_gradient(gate), atol=1e-14)
    verdicts = {r.name: r.consistent for r in report.results}
    assert verdicts["reinforce"] and verdicts["baseline"] and verdicts["loo"]
    assert not verdicts["straight-through"]


def test_probabilities_give_the_gradient_with_respect_to_the_logits():
    problem = StochasticProblem.from_text("""
stochastic:
  probabilities: [0.2, 0.5, 0.3]
  experts: [[1.0], [-2.0], [0.5]]
  y: 0.0
""")
    report = est.estimate(problem, ["reinforce"], samples=1000)
    p, L = np.array([0.2, 0.5, 0.3]), 0.5 * np.array([1.0, 4.0, 0.25])
    assert np.allclose(report.exact[:, 0], p * (L - p @ L), atol=1e-14)


# -- reproducibility and the library's entry point ------------------------------------------------------------
def test_seeded_and_reproducible(router):
    first = derive.estimate(ROUTER, samples=5000, seed=4)
    again = derive.estimate(router, samples=5000, seed=4)
    other = derive.estimate(router, samples=5000, seed=5)
    assert first.to_json() == again.to_json()
    assert first.to_json() != other.to_json()
    alone = derive.estimate(router, ["loo"], samples=5000, seed=4).results[0]
    assert np.array_equal(alone.mean, first.results[2].mean)  # an estimator's draws do not depend on the others chosen


def test_report_renders_tex_md_json(router):
    report = derive.estimate(router, samples=2000, seed=0)
    tex, md = report.document(), report.markdown()
    for text in (tex, md):
        assert "swap sum and gradient" in text and "multiply and divide by" in text
        assert r"\left(\operatorname{diag}(p) - p p^T\right)" in text
        assert "Bonferroni" in text
        assert r"\frac{\partial \ell}{\partial W_{r}}" in text  # the engine's own derivation of the score
    assert r"\begin{loglogaxis}" in tex and "$$" in md and r"\documentclass" not in md
    assert '"exact_gradient"' in report.to_json()


# -- bad input --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", [0, -1.0, float("nan")])
def test_bad_temperature(router, tau):
    with pytest.raises(ProblemError, match="temperature tau must be a number > 0"):
        est.estimate(router, samples=100, tau=tau)


@pytest.mark.parametrize("samples", [1, 0, -5, 2.5])
def test_bad_sample_count(router, samples):
    with pytest.raises(ProblemError, match="number of samples must be an integer >= 2"):
        est.estimate(router, samples=samples)


@pytest.mark.parametrize("p, message", [
    ([0.2, 0.5, 0.4], "sum to 1.1, not 1"),
    ([0.7, -0.2, 0.5], "entry 2 is -0.2"),
    ([1.0, 0.0], "entry 2 is 0.0"),
    ([float("nan"), 0.5], "entry 1 is nan"),
    ([1.0], "at least 2 entries"),
])
def test_invalid_distributions(p, message):
    with pytest.raises(ProblemError, match="not a distribution|at least 2") as error:
        validate_distribution(p)
    assert message in str(error.value)
    with pytest.raises(ProblemError):
        est.exact_logit_gradient(p, [1.0] * len(p))


@pytest.mark.parametrize("text, message", [
    ("stochastic: {x: [1.0], W_r: [[1.0], [2.0]], experts: [[1.0]]}", "W_r has 2 rows (experts) but 1 experts"),
    ("stochastic: {x: [1.0, 2.0], W_r: [[1.0], [2.0]], experts: [[1.0], [1.0]]}", "W_r row 1 has 1 entries but x has 2"),
    ("stochastic: {x: [1.0], W_r: [[1.0], [2.0]], experts: [[1.0], [1.0]], tau: 0}", "tau must be a number > 0"),
    ("stochastic: {x: [1.0], W_r: [[1.0], [2.0]], experts: [[1.0], [1.0]], loss: cubic}", "loss must be one of"),
    ("stochastic: {node: poisson}", "node must be one of categorical, bernoulli"),
    ("stochastic: {probabilities: [0.5, 0.6], experts: [[1.0], [1.0]]}", "sum to 1.1"),
    ("stochastic: {x: [1.0], W_r: [[a], [2.0]], experts: [[1.0], [1.0]]}", "must be a finite number"),
    ("stochastic: {x: [1.0], W_r: [[1.0]], w_g: [1.0], experts: [[1.0]]}", "exactly one of 'W_r' or 'probabilities'"),
    ("stochastic: {x: [1.0], W_r: [[1.0], [2.0]], experts: [[1.0], [1.0]], colour: red}", "unknown key 'stochastic.colour'"),
    ("title: no node", "needs a top-level 'stochastic:'"),
])
def test_bad_problem_files(text, message):
    with pytest.raises(ProblemError) as error:
        StochasticProblem.from_text(text, "bad.yaml")
    assert message in str(error.value) and str(error.value).startswith("bad.yaml")


def test_solve_refuses_a_stochastic_problem():
    with pytest.raises(ProblemError, match="use 'derive estimate'"):
        derive.Problem.from_yaml(ROUTER)


def test_gumbel_softmax_trades_bias_for_variance_as_tau_falls(router):
    """As the document says: smaller tau, smaller bias and larger variance (measured on the example)."""
    figures = [derive.estimate(router, ["gumbel-softmax"], samples=200_000, seed=0, tau=tau).results[0]
               for tau in (2.0, 0.5, 0.1)]
    biases = [r.max_abs_bias for r in figures]
    variances = [r.total_variance for r in figures]
    assert biases[0] > biases[1] > biases[2] and variances[0] < variances[1] < variances[2]


def test_a_report_displays_itself_in_a_notebook_as_its_page_does(router):
    report = est.estimate(router, ["reinforce", "straight-through"], samples=2_000, seed=0)
    bundle = report._repr_mimebundle_()
    assert sorted(bundle) == ["text/html", "text/latex", "text/markdown", "text/plain"]
    shown = bundle["text/html"]
    assert shown.startswith('<div class="derive-fragment">') and "<html" not in shown and "<script" not in shown
    assert shown.count("<math") > 10 and '<figure class="plot"><svg' in shown
    page = report.html()  # what the page shows, without its shell: the same sections and maths

    def sections(markup):
        return re.findall(r"<h[2-4][^>]*>(.*?)</h[2-4]>", markup, re.S)

    assert sections(shown) == [s for s in sections(page) if s != "Contents"] and len(sections(shown)) >= 4
    assert shown.count("<math") == page[page.index("</nav>"):].count("<math")  # the contents list names sections again
    assert r"\documentclass" not in bundle["text/latex"] and r"\begin{align" in bundle["text/latex"]
    assert bundle["text/markdown"] == report.markdown() and bundle["text/plain"] == report.summary()
    assert list(report._repr_mimebundle_(include={"text/plain"})) == ["text/plain"]
    assert "text/html" not in report._repr_mimebundle_(exclude={"text/html"})
