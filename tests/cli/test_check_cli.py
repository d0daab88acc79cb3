"""`derive check` run for real: exit 0 pass, 1 fail (failing entries named), 2 bad input in one line, JSON on
stdout, real plot files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import require_pdflatex
from cli_helpers import assert_bad_input, assert_no_traceback, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCALAR = EXAMPLES / "one_layer_scalar.yaml"
RELU = EXAMPLES / "relu_skip.yaml"
BATCH = EXAMPLES / "two_layer_batch.yaml"


def test_check_passes_with_the_sweep(tmp_path):
    result = run_cli(tmp_path, "check", SCALAR)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "numeric check (central difference, float64, 3 comparisons): PASS" in result.stdout
    assert "central: observed order 2.0" in result.stdout


def test_json_on_stdout(tmp_path):
    result = run_cli(tmp_path, "check", BATCH, "--method", "directional", "--format", "json", "--probes", "2")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["verdict"] == "pass" and data["loss"] == "L" and len(data["entries"]) == 6
    assert {s["method"] for s in data["sweep"]} == {"forward", "central", "richardson"}
    assert len(data["points"]) == 3 and data["failures"] == []


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<?xml")])
def test_plot_files_are_real(tmp_path, suffix, magic):
    result = run_cli(tmp_path, "check", BATCH, "--plot", f"sweep{suffix}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"sweep{suffix}").read_bytes().startswith(magic)
    assert f"wrote sweep{suffix}" in result.stdout


def test_pgfplots_plot_compiles_in_a_document(tmp_path):
    result = run_cli(tmp_path, "check", SCALAR, "--plot", "sweep.tex")
    assert result.returncode == 0, result.stderr
    picture = (tmp_path / "sweep.tex").read_text()
    assert r"\begin{loglogaxis}" in picture
    require_pdflatex()
    from derive.write.output import compile_pdf
    document = "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n" \
               f"\\begin{{document}}\n{picture}\n\\end{{document}}\n"
    assert compile_pdf(document).startswith(b"%PDF")


def test_kink_is_named_not_failed(tmp_path):
    result = run_cli(tmp_path, "check", RELU, "--at", "w=0, x=1.5, y=0.3, v=0.7")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not differentiable at w = 0" in result.stdout
    assert "left derivative -0.45, right derivative -0.765" in result.stdout


def test_comparison_table(tmp_path):
    result = run_cli(tmp_path, "check", SCALAR, "--compare")
    assert result.returncode == 0, result.stderr
    assert "method comparison at point 1 (errors against sympy.diff" in result.stdout
    for name in ["forward difference", "central difference", "Richardson", "complex step", "directional",
                 "reverse mode", "exact"]:
        assert name in result.stdout


def test_a_wrong_gradient_exits_1_naming_the_entries(monkeypatch):
    import derive.solve.derivation as module

    right = module.Derivation.result  # the check evaluates the gradient in its named intermediates
    monkeypatch.setattr(module.Derivation, "result", property(lambda self: 2 * right.fget(self)))
    result = CliRunner().invoke(__import__("derive.cli.main", fromlist=["main"]).main, ["check", str(BATCH), "--points", "1"])
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "failed: dL/dW^{(1)}[0,0] at point 1: analytic" in result.output


def test_json_entries_carry_their_error_budget(monkeypatch):
    import derive.solve.derivation as module

    right = module.Derivation.result  # the check evaluates the gradient in its named intermediates
    monkeypatch.setattr(module.Derivation, "result", property(lambda self: 1.001 * right.fget(self)))
    result = CliRunner().invoke(__import__("derive.cli.main", fromlist=["main"]).main,
                                ["check", str(BATCH), "--points", "1", "--format", "json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert data["verdict"] == "fail" and data["entries"]
    for entry in data["entries"]:
        budget = entry["budget"]
        assert budget["round_off"] > 0 and budget["total"] >= budget["round_off"] and budget["step"] > 0
        assert entry["exceeded"] in ("round-off", "truncation") and entry["share_of_budget"] > 1
    assert all("exceeds its error budget" in words and "beyond" in words for words in data["failures"])


@pytest.mark.parametrize("args, message", [
    (["--method", "secant"], "unknown check method 'secant'"),
    (["--step", "1e-18"], "below float64's resolution"),
    (["--at", "q=1"], "q is not an input"),
    (["--at", "w"], "cannot read the point 'w'"),
    (["--method", "complex-step"], "not complex-analytic"),
    (["--plot", "sweep.gif"], "the plot must end in"),
])
def test_bad_input_is_one_line(tmp_path, args, message):
    problem = RELU if "complex-step" in args else SCALAR
    result = run_cli(tmp_path, "check", problem, *args)
    error = assert_bad_input(result, tmp_path, output=None)
    assert message in error
    assert not list(tmp_path.iterdir())


def test_solve_puts_the_sweep_plot_and_comparison_in_the_document(tmp_path):
    result = run_cli(tmp_path, "solve", SCALAR, "-o", "out.tex", "--plot", "--compare", "--method", "richardson")
    assert result.returncode == 0, result.stderr
    tex = (tmp_path / "out.tex").read_text()
    assert r"\usepackage{pgfplots}" in tex and r"\begin{loglogaxis}" in tex
    assert "Richardson extrapolation of central differences of the loss" in tex and "complex step" in tex
    require_pdflatex()
    from derive.write.output import compile_pdf
    assert compile_pdf(tex).startswith(b"%PDF")
