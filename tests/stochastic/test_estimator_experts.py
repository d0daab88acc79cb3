"""Issue 7, experts as ordinary derive networks and the Monte Carlo study of their weights; Holm's correction.

Oracles: `sympy.diff` of the expert's output and loss written out by hand, `sympy.diff` of the expected
loss with every expert written out, central differences of the expected loss (and of the Gumbel-softmax
relaxed objective, with common random numbers) in the experts' weights, and an independent Holm step-down
on p-values. Monte Carlo verdicts are z-tests, never fixed tolerances.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import sympy

import derive
from derive.stochastic import estimators as est
from derive.core.errors import ProblemError
from derive.stochastic.problem import NetworkExpert, StochasticProblem
from derive.stochastic.symbolic import sympy_expert_gradient

from conftest import require_pdflatex
from cli_helpers import assert_bad_input, assert_no_traceback, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROUTER, ROUTER_MLP = EXAMPLES / "router.yaml", EXAMPLES / "router_mlp.yaml"


@pytest.fixture(scope="module")
def mlp() -> StochasticProblem:
    return StochasticProblem.from_yaml(ROUTER_MLP)


def with_weights(problem: StochasticProblem, flat) -> StochasticProblem:
    """The problem with the trained experts' weights replaced by `flat` (in the order of Model.labels)."""
    experts, flat = list(problem.experts), list(flat)
    for i in problem.trained_experts:
        expert = experts[i]
        size = len(expert.values) if isinstance(expert, NetworkExpert) else problem.d
        taken, flat = flat[:size], flat[size:]
        experts[i] = dataclasses.replace(expert, values=tuple(taken)) if isinstance(expert, NetworkExpert) else tuple(taken)
    return problem.replace(experts=tuple(experts))


def weights(problem: StochasticProblem) -> np.ndarray:
    return np.concatenate([np.asarray(problem.experts[i].values if isinstance(problem.experts[i], NetworkExpert)
                                      else problem.experts[i], dtype=float) for i in problem.trained_experts])


def central(f, point, h=1e-6) -> np.ndarray:
    point = np.asarray(point, dtype=float)
    return np.array([(f(point + h * e) - f(point - h * e)) / (2 * h) for e in np.eye(point.size)])


def expected_loss(problem: StochasticProblem, flat) -> float:
    model = est.Model.of(with_weights(problem, flat))
    return float(model.p @ model.L)


# -- reading an expert network, and the engine's gradients for it -------------------------------------------
def test_the_example_reads_two_tanh_networks_and_a_linear_expert(mlp):
    first, second, third = mlp.experts
    assert isinstance(first, NetworkExpert) and isinstance(second, NetworkExpert) and third == (0.3, -1.2)
    assert [s.name for s in first.parameters] == ["a_1", "a_2", "v"] and first.values == (0.8, -0.4, 1.5)
    assert [s.name for s in second.parameters] == ["a_1", "a_2", "c", "v"]


def test_engine_gradients_of_an_expert_match_sympy_diff(mlp):
    """d e/d theta and d L/d theta from derive's engine against sympy.diff of the expert written out by hand."""
    expert = mlp.experts[1]
    a1, a2, c, v, x1, x2 = sympy.symbols("a_1 a_2 c v x_1 x_2", real=True)
    by_hand = v * sympy.tanh(a1 * x1 + a2 * x2 + c)
    loss = sympy.Rational(1, 2) * (sympy.Float(mlp.y) - by_hand) ** 2
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = dict(zip((a1, a2, c, v, x1, x2), rng.normal(size=6)))
        for derivation, theta in zip(expert.output_solution().derivations, (a1, a2, c, v)):
            assert derivation.wrt.name == theta.name
            assert math.isclose(float(derivation.evaluate(point)), float(sympy.diff(by_hand, theta).subs(point)),
                                rel_tol=1e-12, abs_tol=1e-14)
        solution = expert.loss_solution(mlp.loss, mlp.y)
        for derivation, theta in zip(solution.derivations, (a1, a2, c, v)):
            assert math.isclose(float(derivation.evaluate(point)), float(sympy.diff(loss, theta).subs(point)),
                                rel_tol=1e-12, abs_tol=1e-14)
        assert solution.check().passed


def test_expert_outputs_and_losses_at_the_problems_x(mlp):
    model = est.Model.of(mlp)
    x1, x2 = mlp.x
    outputs = [1.5 * math.tanh(0.8 * x1 - 0.4 * x2), 1.1 * math.tanh(-0.6 * x1 + 0.9 * x2 + 0.2), 0.3 * x1 - 1.2 * x2]
    assert np.allclose(model.e, outputs, rtol=0, atol=1e-14)
    assert np.allclose(model.L, [0.5 * (mlp.y - o) ** 2 for o in outputs], rtol=0, atol=1e-14)
    assert model.U is None and model.D.shape == (3, 3 + 4 + 2)


@pytest.mark.parametrize("path", [ROUTER, ROUTER_MLP])
def test_exact_expert_gradient_matches_sympy_diff_and_central_differences(path):
    problem = StochasticProblem.from_yaml(path)
    exact = est.Model.of(problem).expert_gradient
    assert np.allclose(exact, sympy_expert_gradient(problem), rtol=0, atol=1e-13)
    numeric = central(lambda flat: expected_loss(problem, flat), weights(problem))
    assert np.allclose(exact, numeric, rtol=1e-7, atol=1e-9)


def test_router_gradient_with_network_experts_matches_central_differences(mlp):
    report = est.estimate(mlp, ["reinforce"], samples=100, seed=0)

    def at(flat):
        model = est.Model.of(mlp.replace(W_r=tuple(map(tuple, np.reshape(flat, (3, 2))))))
        return float(model.p @ model.L)

    assert np.allclose(report.exact.ravel(), central(at, np.ravel(mlp.W_r)), rtol=1e-7, atol=1e-9)


# -- the Monte Carlo study of the experts' weights -------------------------------------------------------
@pytest.fixture(scope="module")
def study(mlp):
    return {r.name: r for r in est.estimate(mlp, samples=200_000, seed=11).results}


@pytest.mark.parametrize("name", ["reinforce", "baseline", "loo", "straight-through", "st-gumbel"])
def test_hard_sample_estimators_are_unbiased_for_the_experts_weights(study, name):
    experts = study[name].experts
    assert experts.consistent, (experts.z, experts.threshold)
    assert experts.verdict == "consistent with unbiased" and not experts.biased_by_design
    assert experts.mean.shape == (9,) and np.all(experts.standard_error > 0)


def test_gumbel_softmax_is_biased_for_the_experts_weights(study):
    experts = study["gumbel-softmax"].experts
    assert experts.biased_by_design and not experts.consistent
    assert experts.verdict.startswith("biased (max |bias| = ") and experts.max_abs_z > 10 * experts.threshold


def test_router_verdicts_hold_with_network_experts(study):
    assert study["reinforce"].consistent and study["loo"].consistent and study["baseline"].consistent
    assert not study["straight-through"].consistent and not study["gumbel-softmax"].consistent


def test_gumbel_softmax_expert_part_is_the_gradient_of_the_relaxed_objective(mlp):
    """With the same Gumbel noise, the average of L'(o) s~_j de_j/dtheta_j is the central difference in theta
    of mean_g L(s~^T e(theta)) (the relaxed sample s~ does not depend on the experts' weights)."""
    def relaxed(flat):
        model = est.Model.of(with_weights(mlp, flat))
        y, _ = est._gumbel(model, np.random.default_rng(5), 2000)
        return float(np.mean(est.loss(mlp, y @ model.e)))

    model = est.Model.of(mlp)
    _, experts, _ = est.ESTIMATORS["gumbel-softmax"].draw(model, np.random.default_rng(5), 2000)
    assert np.allclose(experts.mean(axis=0), central(relaxed, weights(mlp)), rtol=1e-6, atol=1e-8)


def test_sampled_expert_estimate_is_the_indicator_times_the_engines_gradient(mlp):
    model = est.Model.of(mlp)
    index = np.array([0, 1, 2, 1])
    rows = est._hard_experts(model, index)
    for row, i in zip(rows, index):
        expert = mlp.experts[i]
        if isinstance(expert, NetworkExpert):
            engine = [float(d.evaluate(expert.point(mlp.x))) for d in expert.loss_solution(mlp.loss, mlp.y).derivations]
        else:
            engine = list((model.e[i] - mlp.y) * model.x)
        block = [c for c, (j, _) in enumerate(model.labels) if j == i]
        assert np.allclose(row[block], engine, rtol=1e-12, atol=1e-14)
        assert np.all(np.delete(row, block) == 0)


def test_a_gate_trains_only_its_open_branch():
    gate = StochasticProblem.from_text("""
stochastic:
  node: bernoulli
  x: [0.8, -1.5]
  w_g: [0.5, 0.2]
  experts:
    - symbols: [x_1, x_2, a, b]
      definitions: ['e = \\tanh(a x_1) + b x_2']
      output: e
      values: {a: 0.7, b: -0.2}
  y: 0.2
""")
    model = est.Model.of(gate)
    sigma = 1 / (1 + math.exp(-(0.5 * 0.8 + 0.2 * -1.5)))
    e = math.tanh(0.7 * 0.8) + -0.2 * -1.5
    expected = sigma * (e - 0.2) * np.array([(1 - math.tanh(0.56) ** 2) * 0.8, -1.5])
    assert model.labels == ((1, "a"), (1, "b"))
    assert np.allclose(model.expert_gradient, expected, atol=1e-14)
    assert np.allclose(model.expert_gradient, sympy_expert_gradient(gate), atol=1e-13)


# -- an expert from a problem file, and bad experts ---------------------------------------------------------
def test_an_expert_from_a_problem_file(tmp_path):
    (tmp_path / "expert.yaml").write_text("""
title: one tanh unit
symbols: [x_1, x_2, a, y]
definitions:
  - e = \\tanh(a x_1 - x_2)
  - L = \\frac{1}{2} (y - e)^2
loss: L
wrt: [a]
""", encoding="utf-8")
    (tmp_path / "router.yaml").write_text("""
stochastic:
  x: [1.0, 2.0]
  W_r: [[0.1, 0.2], [0.3, -0.1]]
  experts:
    - {problem: expert.yaml, output: e, values: {a: 0.5}}
    - [1.0, 1.0]
  y: 0.0
""", encoding="utf-8")
    problem = StochasticProblem.from_yaml(tmp_path / "router.yaml")
    model = est.Model.of(problem)
    assert math.isclose(model.e[0], math.tanh(0.5 - 2.0), abs_tol=1e-15)
    assert np.allclose(model.expert_gradient, sympy_expert_gradient(problem), atol=1e-13)


BAD = """
stochastic:
  x: [1.0, 2.0]
  W_r: [[0.1, 0.2], [0.3, -0.1]]
  experts:
    - [1.0, 1.0]
    - EXPERT
"""


@pytest.mark.parametrize("expert, message", [
    ("{symbols: [x_1, a], definitions: ['e = a x_1'], output: e}", "expert 2 needs 'values'"),
    ("{symbols: [x_1, a], definitions: ['e = a x_1'], values: {a: 1.0}}", "expert 2 needs 'output'"),
    ("{symbols: [x_1, a, b], definitions: ['e = a x_1 + b'], output: e, values: {a: 1.0}}",
     "expert 2's b is neither an input x_1, ..., x_2 nor given in 'values'"),
    ("{symbols: [x_1, a], definitions: ['e = a x_1'], output: e, values: {a: 1.0, x_1: 2.0}}",
     "gives a value for x_1, which is the problem's input x"),
    ("{symbols: [x_1, a], definitions: ['e = a x_1'], output: e, values: {a: 1.0}, colour: red}",
     "unknown key 'colour' in expert 2"),
    ("{symbols: [x_1, a], definitions: ['e = a x_1'], output: e, values: {a: one}}", "value of a must be a finite number"),
    ("{symbols: [x_1, a], definitions: ['e = a x_1'], output: e, values: {q: 1.0}}", "'wrt' names q"),
    ("{symbols: {x_1: scalar, a: [2, 1]}, definitions: ['e = x_1'], output: e, values: {a: 1.0}}", "scalar network"),
    ("{problem: nowhere.yaml, output: e, values: {a: 1.0}}", "cannot read expert 2's problem file"),
])
def test_bad_expert_networks(expert, message):
    with pytest.raises(ProblemError) as error:
        StochasticProblem.from_text(BAD.replace("EXPERT", expert), "bad.yaml")
    assert message in str(error.value) and str(error.value).startswith("bad.yaml")


def test_a_bad_definition_names_its_line_in_the_router_file():
    text = BAD.replace("    - EXPERT", "    - symbols: [x_1, a]\n      definitions:\n        - e = a \\unknownthing x_1\n"
                                       "      output: e\n      values: {a: 1.0}")
    with pytest.raises(derive.DeriveError) as error:
        StochasticProblem.from_text(text, "bad.yaml")
    assert "bad.yaml, line 9, definition of e" in str(error.value)


# -- Holm's step-down correction ----------------------------------------------------------------------
def holm_by_p_values(z, alpha):
    """Holm on two-sided p-values, written independently: reject p_(r) <= alpha/(m - r + 1) until the first failure."""
    p = [math.erfc(abs(v) / math.sqrt(2)) for v in z]
    order = sorted(range(len(p)), key=lambda i: p[i])
    rejected = [False] * len(p)
    for rank, i in enumerate(order, start=1):
        if p[i] > alpha / (len(p) - rank + 1):
            break
        rejected[i] = True
    return rejected


@pytest.mark.parametrize("seed", range(20))
def test_holm_matches_the_p_value_procedure_and_rejects_at_least_what_bonferroni_rejects(seed):
    z = np.random.default_rng(seed).normal(scale=2.5, size=6)
    holm = est.rejected_entries(z, 0.05, "holm")
    bonferroni = est.rejected_entries(z, 0.05, "bonferroni")
    assert holm.tolist() == holm_by_p_values(z, 0.05)
    assert np.all(holm[bonferroni])  # Holm rejects everything Bonferroni rejects
    assert holm.any() == bonferroni.any()  # and the family-wide verdict is the same


def test_holm_rejects_more_entries_than_bonferroni_here():
    # alpha 0.01, m = 6: Bonferroni's limit is 3.1436 for every entry; Holm's first is the same, its second
    # Phi^-1(1 - 0.01/10) = 3.0902; |-3.1| lies between the two
    z = np.array([3.3, -3.1, 0.5, -0.2, 0.1, 0.0])
    assert math.isclose(est.bonferroni_limit(5, 0.01), 3.0902, abs_tol=1e-4)
    assert est.rejected_entries(z, 0.01, "bonferroni").tolist() == [True] + [False] * 5
    assert est.rejected_entries(z, 0.01, "holm").tolist() == [True, True] + [False] * 4


def test_the_correction_is_reported_and_can_be_chosen(tmp_path):
    holm = derive.estimate(ROUTER, ["straight-through"], samples=5000, seed=0)
    bonferroni = derive.estimate(ROUTER, ["straight-through"], samples=5000, seed=0, correction="bonferroni")
    assert holm.correction == "holm" and bonferroni.correction == "bonferroni"
    assert "Holm over 6 entries: 6 rejected" in holm.summary()
    assert "Bonferroni over 6 entries" in bonferroni.summary()
    assert "Holm's step-down correction (used here)" in holm.document()
    assert "Bonferroni correction (used here)" in bonferroni.markdown()
    with pytest.raises(ProblemError, match="correction must be one of holm, bonferroni"):
        derive.estimate(ROUTER, samples=100, correction="sidak")


# -- documents and the command line --------------------------------------------------------------------
def test_report_renders_the_expert_networks_and_their_study(mlp):
    report = derive.estimate(mlp, samples=5000, seed=0)
    for text in (report.document(), report.markdown()):
        assert r"h &= \tanh(a_{1} x_{1} + a_{2} x_{2})" in text  # the engine's own derivation
        assert r"\frac{\partial L}{\partial a_{i}} &= \Delta x_{i}" in text  # a_1 and a_2 derived once, at a_i
        assert "The experts' weights" in text and "Experts 1, 2 are networks of their own" in text
    data = json.loads(report.to_json())
    assert [p["name"] for p in data["expert_parameters"]] == ["a_1", "a_2", "v", "a_1", "a_2", "c", "v", "u_3,1", "u_3,2"]
    experts = {e["name"]: e["experts"] for e in data["estimators"]}
    assert experts["gumbel-softmax"]["biased_by_design"] and not experts["reinforce"]["biased_by_design"]
    assert len(experts["reinforce"]["mean"]) == 9


def test_cli_on_the_network_expert_example(tmp_path):
    result = run_cli(tmp_path, "estimate", ROUTER_MLP, "--samples", "50000", "--seed", "2", "-o", "out.json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    verdicts = {e["name"]: e["experts"]["verdict"] for e in data["estimators"]}
    assert verdicts["reinforce"] == "consistent with unbiased" and verdicts["gumbel-softmax"].startswith("biased")
    assert data["correction"] == "holm"
    assert "experts' weights: consistent with unbiased" in result.stdout


def test_cli_network_expert_document_compiles_with_pdflatex(tmp_path):
    require_pdflatex()
    result = run_cli(tmp_path, "estimate", ROUTER_MLP, "--samples", "20000", "-o", "out.pdf", "--plot", "plot.png")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "plot.png").read_bytes().startswith(b"\x89PNG")


def test_cli_bad_expert_network(tmp_path):
    problem = tmp_path / "p.yaml"
    problem.write_text(BAD.replace("EXPERT", "{symbols: [x_1, a], definitions: ['e = a x_1'], output: e}"),
                       encoding="utf-8")
    message = assert_bad_input(run_cli(tmp_path, "estimate", problem, "-o", "out.tex"), tmp_path)
    assert "p.yaml" in message and "expert 2 needs 'values'" in message


def test_the_correction_from_the_problem_file(tmp_path):
    text = ROUTER.read_text(encoding="utf-8") + "  correction: bonferroni\n"
    problem = StochasticProblem.from_text(text, "r.yaml")
    assert problem.correction == "bonferroni"
    assert derive.estimate(problem, ["reinforce"], samples=1000).results[0].correction == "bonferroni"
    with pytest.raises(ProblemError, match="stochastic.correction must be one of holm, bonferroni"):
        StochasticProblem.from_text(text.replace("bonferroni", "sidak"), "r.yaml")


def test_an_expert_file_needs_its_output_named(tmp_path):
    (tmp_path / "expert.yaml").write_text("symbols: [x_1, a]\ndefinitions: ['e = a x_1']\nloss: e\nwrt: [a]\n",
                                          encoding="utf-8")
    text = "stochastic:\n  x: [1.0]\n  W_r: [[0.1], [0.3]]\n  experts:\n    - {problem: expert.yaml, values: {a: 2.0}}\n    - [1.0]\n"
    (tmp_path / "r.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ProblemError, match="expert 1 needs 'output'"):
        StochasticProblem.from_yaml(tmp_path / "r.yaml")
