"""The `derive` command run for real (`python -m derive.cli` in a subprocess, in a temporary folder).

Good input: exit 0, the file in the asked format, the check's verdict. Bad input: exit 2, exactly one line
`derive: error: ...` on standard error naming what and where, no traceback, and no output file left behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import sympy

import derive
from derive.check.evaluation import evaluate_in
from bad_problems import BAD_PROBLEMS
from cli_helpers import assert_bad_input, assert_no_traceback, part_files, run_cli, write_problem  # noqa: F401
from conftest import require_pdflatex

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCALAR = EXAMPLES / "one_layer_scalar.yaml"
VECTOR = EXAMPLES / "one_layer_vector.yaml"


def assert_contains_all(message: str, expected) -> None:
    for piece in expected:
        if isinstance(piece, re.Pattern):
            assert piece.search(message), (piece.pattern, message)
        else:
            assert piece in message, (piece, message)


# -- good input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("example", sorted(p for p in EXAMPLES.glob("*.yaml")  # stochastic ones: derive estimate
                                                if "\nstochastic:" not in "\n" + p.read_text(encoding="utf-8")), ids=lambda p: p.stem)
def test_solve_writes_tex(tmp_path, example):
    result = run_cli(tmp_path, "solve", example, "-o", "out.tex")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    tex = (tmp_path / "out.tex").read_text(encoding="utf-8")
    assert tex.startswith("\\documentclass")
    assert tex.rstrip().endswith("\\end{document}")
    assert "wrote out.tex" in result.stdout
    assert "PASS" in result.stdout + result.stderr
    assert part_files(tmp_path) == []


def test_solve_writes_markdown(tmp_path):
    result = run_cli(tmp_path, "solve", SCALAR, "-o", "out.md")
    assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "out.md").read_text(encoding="utf-8")
    assert "$$" in markdown
    assert "\\documentclass" not in markdown
    assert "PASS" in result.stdout + result.stderr


def test_solve_writes_json(tmp_path):
    result = run_cli(tmp_path, "solve", SCALAR, "-o", "out.json")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert data["loss"] == "L"
    assert data["verdict"] == "pass"
    assert [g["variable"] for g in data["gradients"]] == ["w"]
    for gradient in data["gradients"]:
        assert {"variable", "result_latex", "result_srepr", "check"} <= set(gradient)
        assert gradient["result_latex"]
        assert gradient["check"] and all(entry["variable"] == gradient["variable"] for entry in gradient["check"])
    # dL/dw = (yhat - y) yhat (1 - yhat) x, written in the named intermediate yhat
    result_expr = sympy.parse_expr(data["gradients"][0]["result_srepr"], local_dict=vars(sympy))
    x, y, w, yhat = (sympy.Symbol(n, real=True) for n in ("x", "y", "w", "yhat"))
    assert sympy.expand(result_expr - (yhat - y) * yhat * (1 - yhat) * x) == 0


def _parsed(srepr: str):
    from derive.core import matrix_nodes

    return eval(srepr, {**vars(sympy), "Str": sympy.core.symbol.Str, **vars(matrix_nodes)})  # our own srepr


@pytest.mark.parametrize("how", ["option", "problem file"])
def test_solve_json_states_its_layout_and_gives_numerator_results_transposed(tmp_path, how):
    """The JSON says which layout its results are in; in numerator layout each matrix gradient is the
    transpose of the denominator-layout one (dL/dW^(1) = Delta^(1) X, of W^(1)T's shape), checked in numbers."""
    example = EXAMPLES / "two_layer_batch.yaml"
    if how == "option":
        numerator = run_cli(tmp_path, "solve", example, "--layout", "numerator", "-o", "num.json")
    else:
        (tmp_path / "num.yaml").write_text(example.read_text(encoding="utf-8") + "layout: numerator\n", encoding="utf-8")
        numerator = run_cli(tmp_path, "solve", "num.yaml", "-o", "num.json")
    denominator = run_cli(tmp_path, "solve", example, "--layout", "denominator", "-o", "den.json")
    assert numerator.returncode == 0 and denominator.returncode == 0, numerator.stderr + denominator.stderr
    num, den = (json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8")) for name in ("num", "den"))
    assert (num["layout"], den["layout"]) == ("numerator", "denominator")
    compact = {g["variable"]: (g["compact_latex"], h["compact_latex"]) for g, h in zip(num["gradients"], den["gradients"])}
    assert compact == {"W^{(1)}": (r"\Delta^{(1)} X", r"X^T \Delta^{(1)}"), "W^{(2)}": (r"\Delta^{(2)} H", r"H^T \Delta^{(2)}")}
    assert "W^{(2)} \\Delta^{(2)}" in num["deltas"][1]["value_latex"]  # Delta^(1) in the numerator-layout Delta^(2)
    network = derive.Problem.from_yaml(example).network
    rng = np.random.default_rng(3)
    values = {"X": rng.normal(size=(5, 3)), "y": rng.normal(size=(5, 1)), "W^{(1)}": rng.normal(size=(3, 4)),
              "W^{(2)}": rng.normal(size=(4, 1))}
    for g, h in zip(num["gradients"], den["gradients"]):
        laid, plain = _parsed(g["expanded_srepr"]), _parsed(h["expanded_srepr"])
        assert laid.shape == plain.shape[::-1] == values[g["variable"]].shape[::-1]
        got, expected = evaluate_in(network, [laid, plain], values)
        np.testing.assert_allclose(got, expected.T, rtol=1e-12)
        assert sympy.srepr(_parsed(h["result_srepr"])) == h["result_srepr"]


def test_solve_json_of_scalars_is_the_same_in_both_layouts(tmp_path):
    runs = [run_cli(tmp_path, "solve", SCALAR, "--layout", layout, "-o", f"{layout}.json")
            for layout in ("numerator", "denominator")]
    assert all(r.returncode == 0 for r in runs)
    num, den = (json.loads((tmp_path / f"{layout}.json").read_text()) for layout in ("numerator", "denominator"))
    assert num.pop("layout") == "numerator" and den.pop("layout") == "denominator"
    assert num["gradients"][0]["result_srepr"] == den["gradients"][0]["result_srepr"]


def test_solve_writes_pdf(tmp_path):
    require_pdflatex()
    result = run_cli(tmp_path, "solve", SCALAR, "-o", "out.pdf")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")
    assert "PASS" in result.stdout + result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.pdf"]  # pdflatex's by-products stay elsewhere


def test_solve_without_output_prints_tex(tmp_path):
    result = run_cli(tmp_path, "solve", SCALAR)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\\documentclass")
    assert "PASS" in result.stderr  # the verdict goes to stderr so stdout stays a clean .tex
    assert "PASS" not in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_solve_wrt_option_selects_one_gradient(tmp_path):
    result = run_cli(tmp_path, "solve", VECTOR, "--wrt", "w_2", "-o", "out.json")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [g["variable"] for g in data["gradients"]] == ["w_2"]
    assert "x_{2}" in data["gradients"][0]["result_latex"]
    assert "d/dw_2" in result.stdout and "d/dw_1" not in result.stdout


def test_demo_writes_tex_and_pdf(tmp_path):
    (tmp_path / "tmp").mkdir()
    result = run_cli(tmp_path, "demo", "-d", "tmp")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tmp" / "derive-demo.tex").read_text(encoding="utf-8").startswith("\\documentclass")
    assert "PASS" in result.stdout
    if shutil.which("pdflatex") is None:
        require_pdflatex()  # fails when DERIVE_REQUIRE_PDFLATEX=1, else skips the PDF half
    assert (tmp_path / "tmp" / "derive-demo.pdf").read_bytes().startswith(b"%PDF")
    assert part_files(tmp_path) == []


def test_version(tmp_path):
    result = run_cli(tmp_path, "--version")
    assert result.returncode == 0
    assert derive.__version__ in result.stdout
    assert "derive" in result.stdout


@pytest.mark.parametrize("args, expected", [
    (["--help"], ["solve", "demo", "--version"]),
    (["solve", "--help"], ["PROBLEM", "--wrt", "--output", "--points", "--seed"]),
    (["demo", "-h"], ["--directory", "--name"]),
], ids=["main", "solve", "demo"])
def test_help(tmp_path, args, expected):
    result = run_cli(tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert_contains_all(result.stdout, expected)


# -- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("yaml_text, args, error_class, expected", BAD_PROBLEMS)
def test_bad_problem(tmp_path, yaml_text, args, error_class, expected):
    write_problem(tmp_path, yaml_text)
    message = assert_bad_input(run_cli(tmp_path, "solve", "p.yaml", "-o", "out.tex", *args), tmp_path)
    assert_contains_all(message, expected)


def test_missing_problem_file(tmp_path):
    message = assert_bad_input(run_cli(tmp_path, "solve", "nowhere.yaml", "-o", "out.tex"), tmp_path)
    assert "nowhere.yaml" in message


def test_problem_file_not_utf8(tmp_path):
    (tmp_path / "p.yaml").write_bytes(b"symbols: [\xff\xfe]\n")
    message = assert_bad_input(run_cli(tmp_path, "solve", "p.yaml", "-o", "out.tex"), tmp_path)
    assert "p.yaml" in message


@pytest.mark.parametrize("output, expected", [
    ("out.doc", ["out.doc", ".tex", ".pdf", ".md", ".json"]),
    ("out", ["'out'", ".tex"]),
    ("nowhere/out.tex", ["nowhere", "does not exist"]),
], ids=["doc", "no-extension", "missing-folder"])
def test_bad_output_path(tmp_path, output, expected):
    message = assert_bad_input(run_cli(tmp_path, "solve", SCALAR, "-o", output), tmp_path, output)
    assert_contains_all(message, expected)
    assert list(tmp_path.iterdir()) == []  # not even the missing folder is created


def test_bad_input_keeps_an_existing_output(tmp_path):
    (tmp_path / "out.tex").write_text("earlier result", encoding="utf-8")
    write_problem(tmp_path, "symbols: [x, w]\ndefinitions:\n  - L = w z\nloss: L\nwrt: [w]\n")
    assert_bad_input(run_cli(tmp_path, "solve", "p.yaml", "-o", "out.tex"), tmp_path, output=None)
    assert (tmp_path / "out.tex").read_text(encoding="utf-8") == "earlier result"


def test_demo_into_missing_folder(tmp_path):
    message = assert_bad_input(run_cli(tmp_path, "demo", "-d", "nowhere"), tmp_path, output=None)
    assert "nowhere" in message
    assert list(tmp_path.iterdir()) == []


# -- known bugs ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["solve", "adir", "-o", "out.tex"],
    ["solve", str(SCALAR), "-o", "adir"],
    ["solve", str(SCALAR), "--points", "0"],
    ["solve", str(SCALAR), "--seed", "-1"],
    ["check", str(SCALAR), "--seed", "-1"],
], ids=["problem-is-a-folder", "output-is-a-folder", "points-0", "solve-negative-seed", "check-negative-seed"])
def test_usage_errors_are_one_line(tmp_path, args):
    (tmp_path / "adir").mkdir()
    assert_bad_input(run_cli(tmp_path, *args), tmp_path)


def test_wrt_option_accepts_latex_spelling(tmp_path):
    result = run_cli(tmp_path, "solve", VECTOR, "--wrt", "w_{2}", "-o", "out.json")
    assert result.returncode == 0, result.stderr
    assert [g["variable"] for g in json.loads((tmp_path / "out.json").read_text())["gradients"]] == ["w_2"]


@pytest.mark.parametrize("rhs", ["x, w", "(w x)!", "\\infty w"], ids=["comma", "factorial", "infinity"])
def test_late_errors_name_the_definition(tmp_path, rhs):
    write_problem(tmp_path, f"symbols: [x, w]\ndefinitions:\n  - L = {rhs}\nloss: L\nwrt: [w]\n")
    message = assert_bad_input(run_cli(tmp_path, "solve", "p.yaml", "-o", "out.tex"), tmp_path)
    assert "p.yaml, line 3, definition of L" in message


def test_pdf_without_pdflatex_says_so_and_writes_nothing(tmp_path):
    """With no pdflatex on PATH, `-o out.pdf` is a one-line error naming what to install."""
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bare)}
    example = str(Path(__file__).resolve().parents[2] / "examples" / "one_layer_scalar.yaml")
    result = subprocess.run([sys.executable, "-m", "derive", "solve", example, "-o", "out.pdf"],
                            cwd=tmp_path, capture_output=True, text=True, env=env)
    message = assert_bad_input(result, tmp_path, "out.pdf")
    assert "pdflatex is not installed" in message and "texlive-latex-base" in message


@pytest.mark.parametrize("suffix", [".md", ".tex", ".json"])
def test_solve_checks_exactly_when_asked(tmp_path, suffix):
    """`derive solve --method exact` once failed with "unknown dtype 'exact'" (the document asked the exact
    report for the float bands)."""
    out = tmp_path / f"out{suffix}"
    done = run_cli(tmp_path, "solve", EXAMPLES / "one_layer_batch.yaml", "--method", "exact", "-o", out)
    assert done.returncode == 0, done.stderr
    assert "exact comparison with sympy.diff" in done.stdout and "PASS" in done.stdout
    assert "sympy.diff" in out.read_text() if suffix != ".json" else '"exact"' in out.read_text()


def test_demo_writes_one_web_page_as_solve_does(tmp_path):
    result = run_cli(tmp_path, "demo", "-o", "out.html")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "wrote out.html" in result.stdout and "PASS" in result.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.html"]  # only the file asked for
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en">') and "Gradients for Neural Nets" in page
    assert page.count('<section class="part">') == 2 and "<nav " in page  # the article's two sections, listed
    numbers = re.findall(r'<tr class="[a-z]+" id="eq-([^"]+)"', page)
    tex = run_cli(tmp_path, "demo", "-o", "out.tex")
    tags = re.findall(r"\\tag\{([^{}]+)\}", (tmp_path / "out.tex").read_text(encoding="utf-8"))
    assert tex.returncode == 0 and numbers == tags and len(numbers) > 10  # numbered as the LaTeX document


def test_demo_refuses_an_output_it_cannot_write(tmp_path):
    message = assert_bad_input(run_cli(tmp_path, "demo", "-o", "out.json"), tmp_path, output=None)
    assert "out.json" in message and ".html" in message
    message = assert_bad_input(run_cli(tmp_path, "demo", "-o", "nowhere/out.html"), tmp_path, output=None)
    assert "nowhere" in message
