"""The layout convention (`layout:` in a problem file, `derive solve --layout`): a numerator-layout document
states it and prints every gradient of the loss with respect to a vector or matrix transposed (results,
deltas, shape lines), while the derivation and its numeric check stay in W's shape."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.write.output import compile_pdf

from cli_helpers import run_cli
from conftest import require_pdflatex

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MATRIX_EXAMPLES = ["one_layer_batch", "two_layer_vector", "two_layer_batch", "mlp_softmax"]


def solved(example: str, layout: str | None = None):
    problem = derive.Problem.from_yaml(EXAMPLES / f"{example}.yaml")
    if layout:
        problem.layout = layout
    return problem, problem.solve()


def document(example: str, layout: str | None = None) -> str:
    problem, solution = solved(example, layout)
    return solution.document(check=False, description=problem.description)


def test_default_is_denominator():
    problem, solution = solved("one_layer_batch")
    assert problem.layout == solution.layout == "denominator"
    assert document("one_layer_batch") == document("one_layer_batch", "denominator")
    assert r"Gradients are in denominator layout: \(\partial L / \partial W\) has the shape of \(W\)," in \
        document("one_layer_batch")


def test_problem_file_key(tmp_path):
    text = (EXAMPLES / "one_layer_batch.yaml").read_text(encoding="utf-8") + "layout: numerator\n"
    problem = derive.Problem.from_text(text, "p.yaml")
    assert problem.layout == "numerator" and problem.solve().layout == "numerator"
    mlp = derive.Problem.from_text("mlp: {sizes: [3, 2]}\nlayout: numerator\n", "m.yaml")
    assert mlp.layout == "numerator"


def test_scalar_network_is_unchanged():
    """A network of scalars has no vector or matrix gradient: nothing to transpose, nothing to state."""
    for example in ("one_layer_scalar", "one_layer_vector"):
        numerator = document(example, "numerator")
        assert numerator == document(example)
        assert "layout" not in numerator


def test_one_layer_batch_numerator():
    tex = document("one_layer_batch", "numerator")
    assert r"Gradients are in numerator layout: \(\partial L / \partial W\) has the shape of \(W^T\)," in tex
    assert "denominator" not in tex
    # (X^T Delta)^T = Delta^T X, and Delta itself is dL/dZ in numerator layout (1 x n), so it prints Delta X
    assert r"\frac{\partial L}{\partial W} &= \Delta X" in tex
    assert r"[\Delta]_{1 \times n}[X]_{n \times 3} \to 1 \times 3" in tex
    assert r"\frac{\partial L}{\partial \hat{y}} &= \left(\hat{y} - y\right)^T" in tex
    assert r"\to 3 \times 1" not in tex


def test_two_layer_batch_numerator():
    tex = document("two_layer_batch", "numerator")
    assert r"has the shape of \(W^{(1)T}\)" in tex
    assert r"\frac{\partial L}{\partial W^{(1)}} &= \Delta^{(1)} X" in tex
    assert r"[\Delta^{(1)}]_{4 \times n}[X]_{n \times 3} \to 4 \times 3" in tex
    assert r"\frac{\partial L}{\partial W^{(2)}} &= \Delta^{(2)} H" in tex
    assert r"\frac{\partial L}{\partial H} &= W^{(2)} \Delta^{(2)}" in tex
    assert r"[W^{(2)}]_{4 \times 1}[\Delta^{(2)}]_{1 \times n} \to 4 \times n" in tex


def test_recursion_numerator():
    tex = document("mlp_softmax", "numerator")
    assert r"\frac{\partial L}{\partial b^{(l)}} &= \mathbf{1}^T \Delta^{(l)T}" in tex
    assert r"\frac{\partial L}{\partial W^{(1)}} &= \frac{\partial L}{\partial Z^{(1)}} X" in tex


def _shape_lines(tex: str, of_gradients: bool) -> list[tuple[str, str]]:
    """The shapes the product checks end in: of products with a delta (gradients), or the others."""
    lines = re.findall(r"\\qquad (.*?) \\to (\S+) \\times (\S+) && \\text\{\\small shapes\}", tex)
    return sorted((rows, cols) for product, rows, cols in lines if ("\\Delta" in product) == of_gradients)


@pytest.mark.parametrize("example", MATRIX_EXAMPLES)
def test_every_shape_line_transposed(example):
    """Every shape line of a gradient in a numerator document is the transpose of the denominator one's; the
    products inside an activation (X W in sigma'(X W)^T) are not gradients and keep their shapes."""
    denominator, numerator = document(example), document(example, "numerator")
    gradients = _shape_lines(denominator, True)
    assert gradients and _shape_lines(numerator, True) == sorted((cols, rows) for rows, cols in gradients)
    assert _shape_lines(numerator, False) == _shape_lines(denominator, False)


@pytest.mark.parametrize("example", MATRIX_EXAMPLES)
def test_check_untouched(example):
    """The numbers are derived and checked in W's shape under either layout."""
    _, denominator = solved(example)
    _, numerator = solved(example, "numerator")
    assert [str(d.result) for d in numerator.derivations] == [str(d.result) for d in denominator.derivations]
    report = numerator.check(points=1, seed=0)
    assert report.passed


def test_markdown_states_numerator():
    problem, solution = solved("one_layer_batch", "numerator")
    md = solution.markdown(check=False)
    assert r"Gradients are in numerator layout: $\partial L / \partial W$ has the shape of $W^T$" in md
    assert r"\Delta X" in md


@pytest.mark.parametrize("example", ["one_layer_batch", "two_layer_batch", "mlp_softmax"])
def test_numerator_pdf_compiles(example):
    require_pdflatex()
    pdf = compile_pdf(document(example, "numerator"))
    assert pdf.startswith(b"%PDF")


def test_solve_layout_option(tmp_path):
    result = run_cli(tmp_path, "solve", EXAMPLES / "two_layer_batch.yaml", "--layout", "numerator", "-o", "out.tex")
    assert result.returncode == 0, result.stderr
    tex = (tmp_path / "out.tex").read_text(encoding="utf-8")
    assert "numerator layout" in tex and r"&= \Delta^{(1)} X" in tex and "PASS" in result.stdout + result.stderr


def test_solve_option_overrides_file(tmp_path):
    text = (EXAMPLES / "one_layer_batch.yaml").read_text(encoding="utf-8") + "layout: numerator\n"
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    result = run_cli(tmp_path, "solve", "p.yaml", "-o", "file.tex")
    assert result.returncode == 0, result.stderr
    assert "numerator layout" in (tmp_path / "file.tex").read_text(encoding="utf-8")
    result = run_cli(tmp_path, "solve", "p.yaml", "--layout", "denominator", "-o", "option.tex")
    assert result.returncode == 0, result.stderr
    option = (tmp_path / "option.tex").read_text(encoding="utf-8")
    assert "denominator layout" in option and r"&= X^T \Delta" in option


def test_numeric_value_of_printed_result():
    """The printed numerator result, evaluated, is the transpose of the checked gradient: Delta X against
    X^T Delta at a random point."""
    _, solution = solved("one_layer_batch")
    rng = np.random.default_rng(1)
    values = {"X": rng.normal(size=(4, 3)), "y": rng.normal(size=(4, 1)), "W": rng.normal(size=(3, 1))}
    gradient = solution.evaluate(values)["W"]
    z = values["X"] @ values["W"]
    yhat = 1 / (1 + np.exp(-z))
    delta_numerator = ((yhat - values["y"]) * yhat * (1 - yhat)).T  # dL/dZ in numerator layout, 1 x n
    assert np.allclose(delta_numerator @ values["X"], gradient.T)
