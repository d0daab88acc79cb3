"""Worked-solution documents: golden LaTeX for the examples, real pdflatex compilation, Markdown, JSON."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

import derive
from derive.cli.demo import seed_003_document
from derive.write.output import compile_pdf

from conftest import require_pdflatex

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml")  # stochastic problems are for derive estimate
                  if "\nstochastic:" not in "\n" + p.read_text(encoding="utf-8"))
GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def document_without_check(path: Path) -> str:
    problem = derive.Problem.from_yaml(path)
    return problem.solve().document(check=False, description=problem.description)


@pytest.mark.parametrize("example", ["one_layer_scalar", "one_layer_vector", "one_layer_batch", "two_layer_vector",
                                     "two_layer_batch", "mlp_softmax"])
def test_golden_latex(example):
    """The examples' documents (without the float-valued check table) match their reviewed golden files.

    To accept a deliberate change: DERIVE_UPDATE_GOLDEN=1 pytest tests/write/test_documents.py, then read the diff.
    """
    text = document_without_check(ROOT / "examples" / f"{example}.yaml")
    golden = GOLDEN / f"{example}.tex"
    if os.environ.get("DERIVE_UPDATE_GOLDEN") == "1":
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_scalar_golden_has_the_articles_narrative():
    text = (GOLDEN / "one_layer_scalar.tex").read_text(encoding="utf-8")
    for phrase in [r"\tag{1}", "By the chain rule", r"Substituting \eqref{eq:4} \& \eqref{eq:5} in \eqref{eq:3}",
                   "delta term", r"\Delta x", r"\hat{y} (1 - \hat{y})", r"(\hat{y} - y)"]:
        assert phrase in text


def test_vector_golden_states_the_general_form():
    """w_1, w_2 and w_3 are derived alike: once, at w_i, naming them (issue 15: not three times, then 'in general')."""
    text = (GOLDEN / "one_layer_vector.tex").read_text(encoding="utf-8")
    assert r"\frac{\partial L}{\partial w_{i}} &= \Delta x_{i}" in text
    assert r"The gradients with respect to \(w_{1}\), \(w_{2}\) and \(w_{3}\) are derived alike" in text
    for i in (1, 2, 3):
        assert rf"\frac{{\partial L}}{{\partial w_{{{i}}}}} &=" not in text


def test_family_heading_prints_its_name_as_maths_in_every_format():
    """A family's heading names w_i as the single gradients' headings name w: in maths, in every format."""
    solution = derive.Problem.from_yaml(ROOT / "examples" / "one_layer_vector.yaml").solve()
    assert "## Gradient with respect to $w_{i}$\n" in solution.markdown(check=False)
    assert r"\section*{Gradient with respect to \(w_{i}\)}" in solution.document(check=False)
    html = solution.html(check=False)
    assert re.search(r"<h2[^>]*>Gradient with respect to <math [^>]*alttext=\"w_\{i\}\"", html)
    assert "Gradient with respect to w_i" not in html + solution.markdown(check=False)


def test_matrix_goldens_are_index_free_with_shapes():
    """The seed-003 sections the article left empty, in matrix form, as a reader checks them by hand."""
    batch = (GOLDEN / "one_layer_batch.tex").read_text(encoding="utf-8")
    assert r"[X]_{\scriptscriptstyle n \times 3}" in batch and "denominator layout" in batch
    assert r"\frac{\partial L}{\partial W} &= X^T \Delta" in batch
    assert r"[X^T]_{3 \times n}[\Delta]_{n \times 1} \to 3 \times 1" in batch
    two = (GOLDEN / "two_layer_batch.tex").read_text(encoding="utf-8")
    assert r"&= (\Delta^{(2)} W^{(2)T}) \odot \sigma'(X W^{(1)})" in two
    assert r"\frac{\partial L}{\partial W^{(1)}} &= X^T \Delta^{(1)}" in two
    vector = (GOLDEN / "two_layer_vector.tex").read_text(encoding="utf-8")
    assert r"\frac{\partial L}{\partial W^{(1)}} &= \Delta^{(1)} x^T" in vector
    softmax = (GOLDEN / "mlp_softmax.tex").read_text(encoding="utf-8")
    # the fused delta and its reason, beside it or (where the display leaves too little room) on the line below
    assert re.search(r"&= \\frac\{1\}\{n\} \(\\hat\{Y\} - Y\) &&( \\label\{eq:\d+\}\\tag\{\d+\} \\\\\n&\\qquad)? "
                     r"\\text\{\\small since each row of \\\(Y\\\) sums to 1\}", softmax)


def test_demo_all_covers_the_five_sections_and_compiles():
    tex, reports = seed_003_document("tex", everything=True)
    for title in ["1 layer network, 1 input (scalar)", "1 layer network, 1 input (vector)",
                  "1 layer network, multiple inputs (each is a vector)", "2 layer network, 1 input (vector)",
                  "2 layer network, multiple inputs (vector)"]:
        assert title in tex
    assert all(r.passed for r in reports) and len(reports) == 5
    require_pdflatex()
    assert compile_pdf(tex).startswith(b"%PDF")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles_with_pdflatex(example):
    require_pdflatex()
    problem = derive.Problem.from_yaml(example)
    pdf = compile_pdf(problem.solve().document(description=problem.description))
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_demo_document_compiles_and_passes():
    require_pdflatex()
    tex, reports = seed_003_document("tex")
    assert all(r.passed for r in reports)
    assert tex.count(r"\section*{") >= 2
    assert compile_pdf(tex).startswith(b"%PDF")


def test_document_ends_with_the_check_table():
    problem = derive.Problem.from_yaml(ROOT / "examples" / "one_layer_scalar.yaml")
    text = problem.solve().document()
    table = text[text.index("Numeric check"):]
    assert r"\begin{tabular}" in table and "good" in table and "Verdict: \\textbf{pass}" in table


def test_markdown_uses_dollar_math_and_no_labels():
    md = derive.Problem.from_yaml(ROOT / "examples" / "one_layer_vector.yaml").solve().markdown()
    assert md.startswith("# 1 layer network")
    assert md.count("$$") % 2 == 0 and md.count("$$") >= 8
    assert r"\label" not in md and r"\eqref" not in md
    assert "| gradient |" in md


def test_json_has_result_srepr_and_check():
    solution = derive.Problem.from_yaml(ROOT / "examples" / "one_layer_vector.yaml").solve()
    data = json.loads(solution.to_json())
    assert [g["variable"] for g in data["gradients"]] == ["w_1", "w_2", "w_3"]
    import sympy
    first = data["gradients"][0]
    assert sympy.simplify(eval(first["result_srepr"], vars(sympy)) - solution.derivations[0].result) == 0
    assert first["check"] and all(e["band"] == "good" for e in first["check"])


def test_titles_with_latex_specials_are_escaped():
    require_pdflatex()
    problem = derive.Problem.from_text(
        "title: 'Loss & gradient: 100% of x_1 #1'\nsymbols: [x, w]\ndefinitions:\n  - L = (w x)^2\nloss: L\nwrt: w\n")
    tex = problem.solve().document(description="Cost in $ and ~ and ^")
    assert r"Loss \& gradient: 100\% of x\_1 \#1" in tex
    assert compile_pdf(tex).startswith(b"%PDF")
