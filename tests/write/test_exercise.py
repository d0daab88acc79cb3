"""The exercise sheet: from the same problem file as the worked solution, it compiles as the solution does,
states the network with the solution's equation numbers, asks for the gradients in the solution's order, gives
the hints of its level, and contains none of the solution's results."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from derive.core import steps as st
from derive.solve.problem import Problem
from derive.write import render
from derive.write.exercise import render_exercise
from conftest import require_pdflatex

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SOLVABLE = sorted(p.name for p in EXAMPLES.glob("*.yaml") if p.name not in ("router.yaml", "router_mlp.yaml"))
RESULT_FIELDS = ("result", "shown", "simplified", "value", "by_rules")


def _solved(name: str):
    problem = Problem.from_yaml(EXAMPLES / name)
    solution = problem.solve()
    part = solution.part(False, problem.description)
    return problem, solution, part


def result_lines(part, solution_tex: str) -> set[str]:
    """The maths of every result the worked solution prints (a gradient, a local derivative, a delta's value,
    a general form): each step's result fields as the solution's printer writes them, where the solution's
    text shows them and the network's statement does not (a bare symbol is not a result)."""
    context = render._part_variables(part, "tex", 0, 1)["c"]
    stated = solution_tex.split("Gradient with respect to")[0]
    steps = [s for _, group in part.sections for s in group] + list(part.general)
    found = set()
    for step in steps:
        if isinstance(step, (st.Definition, st.ChainRule, st.Accumulate)):
            continue
        for name in RESULT_FIELDS:
            expr = getattr(step, name, None)
            if expr is None or getattr(expr, "is_Atom", False):
                continue
            maths = context.math(expr)
            if len(maths) > 3 and maths in solution_tex and maths not in stated:
                found.add(maths)
    return found


@pytest.mark.parametrize("name", SOLVABLE)
def test_the_sheet_has_no_result_of_the_solution(name):
    _, solution, part = _solved(name)
    solution_tex = render.render_document(render.DocumentData(part.title, [part], "tex"))
    results = result_lines(part, solution_tex)
    assert results, "no result lines found: the test would pass vacuously"
    for level in ("none", "chain", "deltas"):
        for fmt in ("tex", "md"):
            sheet = render_exercise(part, fmt, level)
            leaked = [r for r in results if r in sheet]
            assert not leaked, (level, fmt, leaked[:3])
            assert "Numeric check" not in sheet and "Verdict" not in sheet


def _tags(tex: str) -> list[str]:
    return re.findall(r"\\tag\{(\d+)\}", tex)


@pytest.mark.parametrize("name", SOLVABLE)
def test_the_sheet_is_numbered_as_the_solution(name):
    _, solution, part = _solved(name)
    solution_tex = render.render_document(render.DocumentData(part.title, [part], "tex"))
    sheet = render_exercise(part, "tex", "deltas")
    definitions = len(part.network.definitions)
    assert _tags(sheet) == _tags(solution_tex)[:definitions]
    asked = re.findall(r"\\item \\\(\\displaystyle \\frac\{\\partial [^}]*\}\{\\partial (.+)\}\\\)", sheet)
    answered = re.findall(r"\\section\*\{Gradient with respect to \\\((.+?)\\\)\}", solution_tex)
    assert asked == answered and len(asked) == len(part.sections)


def _pdflatex_log(tex: str) -> str:
    pdflatex = require_pdflatex()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "sheet.tex").write_text(tex)
        for _ in range(2):
            run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "sheet.tex"], cwd=folder,
                                 capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, run.stdout[-2000:]
        return (Path(folder) / "sheet.log").read_text(errors="replace")


@pytest.mark.parametrize("name", SOLVABLE)
def test_the_sheet_compiles_cleanly(name):
    _, _, part = _solved(name)
    log = _pdflatex_log(render_exercise(part, "tex", "deltas"))
    assert "Overfull" not in log and "Underfull" not in log, re.findall(r"(?:Overfull|Underfull).*", log)[:3]


def test_hint_levels_add_the_skeleton_then_the_deltas():
    _, _, part = _solved("one_layer_vector.yaml")
    none, chain, deltas = (render_exercise(part, "tex", level) for level in ("none", "chain", "deltas"))
    assert "Hints" not in none and r"\to" not in none
    # w_1, w_2, w_3 are asked for as the family the solution derives once, at w_i (its paths are w_1's)
    assert r"w_{i} \to \hat{y} \to L" in chain and "delta term" not in chain
    assert r"\frac{\partial L}{\partial \hat{y}} \cdot \frac{\partial \hat{y}}{\partial w_{i}}" in chain
    assert "does not depend" not in chain
    assert chain in deltas or deltas.startswith(chain.split(r"\end{document}")[0])
    assert r"\Delta = \frac{\partial L}{\partial (w_{1} x_{1} + w_{2} x_{2} + w_{3} x_{3})}" in deltas


def test_two_paths_are_summed_and_explicit_factors_marked():
    _, _, part = _solved("relu_skip.yaml")
    sheet = render_exercise(part, "md", "chain")
    assert r"w \to h \to \hat{y} \to L" in sheet and r"w \to \hat{y} \to L" in sheet
    assert r"\left.\frac{\partial \hat{y}}{\partial w}\right\vert_{\text{explicit}}" in sheet


def test_matrix_sheets_state_shapes_and_name_every_delta():
    _, solution, part = _solved("mlp_softmax.yaml")
    sheet = render_exercise(part, "tex", "deltas")
    assert r"[X]_{\scriptscriptstyle n \times 3}" in sheet and "checking the shape" in sheet
    assert sheet.count(r"\item \(\Delta^{(") == 2
