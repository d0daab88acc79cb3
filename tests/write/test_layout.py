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


def solved(example, layout: str | None = None):
    problem = derive.Problem.from_yaml(example if isinstance(example, Path) else EXAMPLES / f"{example}.yaml")
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
    assert r"Gradients are in denominator layout: \(\partial L / \partial W\) has the shape of \(W\)." in \
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
    assert r"Gradients are in numerator layout: \(\partial L / \partial W\) has the shape of \(W^T\)." in tex
    assert "denominator" not in tex
    # (X^T Delta)^T = Delta^T X, and Delta itself is dL/dZ in numerator layout (1 x n), so it prints Delta X
    assert r"\frac{\partial L}{\partial W} &= \Delta X" in tex
    assert r"[\Delta]_{1 \times n}[X]_{n \times 3} \to 1 \times 3" in tex
    assert r"\frac{\partial L}{\partial \hat{y}} &= (\hat{y} - y)^T" in tex
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


def _comparable(expr, numerator: bool):
    """`expr` with each dL/dV placeholder a plain matrix G_V of V's shape, and (in a numerator line) each
    transposed delta or placeholder written back as the transpose of the denominator one."""
    from sympy import MatrixSymbol, Transpose

    from derive.core import matrix_ops as mo
    from derive.write.render import NumeratorGradientOf

    def plain(e):
        return MatrixSymbol(f"G_{{{e.args[1].name}}}", *e.args[1].shape)

    expr = expr.xreplace({e: Transpose(plain(e)) for e in expr.atoms(NumeratorGradientOf)})
    expr = expr.xreplace({e: plain(e) for e in expr.atoms(mo.GradientOf) if type(e) is mo.GradientOf})
    if numerator:
        expr = expr.xreplace({s: Transpose(MatrixSymbol(s.name, s.shape[1], s.shape[0]))
                              for s in expr.atoms(MatrixSymbol) if s.name.startswith("Delta")})
    return expr


def _values(exprs, rng) -> dict:
    import sympy
    from sympy import ImmutableMatrix, MatrixSymbol, Symbol

    n = Symbol("n", integer=True, positive=True)
    values: dict = {n: 2}
    for expr in exprs:
        for s in expr.atoms(MatrixSymbol):
            shape = tuple(int(sympy.sympify(d).xreplace({n: 2})) for d in s.shape)
            values.setdefault(s, ImmutableMatrix(rng.uniform(0.2, 0.8, size=shape)))
        for s in expr.free_symbols:
            if isinstance(s, Symbol) and not isinstance(s, MatrixSymbol) and s not in values and s.name != "n":
                values[s] = rng.uniform(0.2, 0.8)
    return values


ORACLE_PROBLEMS = ROOT / "tests" / "oracle_problems"


@pytest.mark.parametrize("example", [*MATRIX_EXAMPLES, *(ORACLE_PROBLEMS / f"{name}.yaml" for name in (
    "skip_connection", "attention", "layer_norm", "tied_autoencoder", "rnn_vector", "bias_square_batch",
    "quad_plus_norm", "normalise_vector", "trace_plus_frobenius", "glu"))], ids=lambda e: Path(str(e)).stem)
def test_printed_numerator_lines_are_the_transposes(example):
    """Oracle: every line printed in numerator layout, evaluated at random matrices (each delta and dL/dV its
    numerator self, i.e. the transpose of the denominator one), is the transpose of the denominator line."""
    import sympy

    from derive.core import matrix_ops as mo
    from derive.core import steps as st
    from derive.write import render

    _, solution = solved(example)
    part = solution.part(with_check=False)
    sections, general, _ = render.with_recursions(part.sections, part.general)
    laid_sections, laid_general = render.numerator_steps(sections, general, {}, part.network)
    before = [s for _, steps in sections for s in steps] + general
    after = [s for _, steps in laid_sections for s in steps] + laid_general
    rng = np.random.default_rng(0)
    compared = 0
    for old, new in zip(before, after):
        for name in ("chain", "shown", "simplified", "result"):
            if not isinstance(old, (st.Pullback, st.Delta, st.Recursion, st.ByRecursion)) or \
                    getattr(old, name, None) is None or (isinstance(old, st.Pullback) and name == "result"):
                continue
            d, n = _comparable(getattr(old, name), False), _comparable(getattr(new, name), True)
            values = _values([d, n], rng)
            expected = mo.explicit(mo.transpose(d) if mo.is_matrix(d) else d, values)
            got = mo.explicit(n, values)
            expected = np.array(sympy.N(expected), dtype=float)
            got = np.array(sympy.N(got), dtype=float)
            assert np.allclose(got, expected), (example, old.key, name, sympy.sstr(getattr(new, name)))
            compared += 1
    assert compared >= 2
