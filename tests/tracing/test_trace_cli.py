"""`derive trace` run for real: every output format, exit 0 when the modes agree (at a kink too, where the
point is reported), 2 with one line naming what is wrong and nothing written for every kind of bad input."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import require_pdflatex
from cli_helpers import assert_bad_input, assert_no_traceback, run_cli, write_problem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEXTBOOK = r"\ln x1 + x1 x2 - \sin x2"


def require_dot() -> None:
    if shutil.which("dot") is None:
        if os.environ.get("DERIVE_REQUIRE_PDFLATEX") == "1":
            pytest.fail("Graphviz dot is required (DERIVE_REQUIRE_PDFLATEX=1) but not installed")
        pytest.skip("Graphviz dot is not installed (Debian: graphviz)")


def test_textbook_to_standard_output(tmp_path):
    result = run_cli(tmp_path, "trace", "--expr", TEXTBOOK, "--at", "x1=2,x2=5")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(r"\documentclass") and r"\begin{tikzpicture}" in result.stdout
    assert "f = 11.652" in result.stderr and "gradient (5.500, 1.716)" in result.stderr
    assert "forward mode 2 passes, reverse mode 1 pass" in result.stderr and "PASS" in result.stderr


def test_json_has_both_modes_and_the_check(tmp_path):
    result = run_cli(tmp_path, "trace", "--expr", TEXTBOOK, "--at", "x_1=2,x_2=5", "-o", "t.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote t.json")
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert round(data["value"], 3) == 11.652
    assert [round(x, 3) for x in data["forward"]["rows"][-1]["values"]] == [5.5, 1.716]
    assert [round(x, 3) for x in data["gradient"].values()] == [5.5, 1.716]
    assert data["consistency"]["passed"] and data["consistency"]["forward_vs_reverse"] < 1e-12


def test_problem_to_markdown_reverse_only(tmp_path):
    result = run_cli(tmp_path, "trace", EXAMPLES / "one_layer_scalar.yaml", "--at", "x=1.5,y=1,w=-1/2",
                     "--mode", "reverse", "-o", "t.md")
    assert result.returncode == 0, result.stderr
    md = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert "## Reverse mode" in md and "## Forward mode" not in md
    assert r"$\hat{y}$" in md and "| adjoint | accumulation |" in md


def test_pdf_with_graph(tmp_path):
    require_pdflatex()
    require_dot()
    result = run_cli(tmp_path, "trace", EXAMPLES / "relu_skip.yaml", "--at", "x=1,y=2,w=0.5,v=-1",
                     "-o", "t.pdf", "--graph", "g.svg", "--adjoints")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "t.pdf").read_bytes()[:4] == b"%PDF"
    assert b"<svg" in (tmp_path / "g.svg").read_bytes()


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<"), (".png", b"\x89PNG"), (".dot", b"digraph")])
def test_graph_alone(tmp_path, suffix, magic):
    if suffix != ".dot":
        require_dot()
    result = run_cli(tmp_path, "trace", "--expr", TEXTBOOK, "--at", "x1=2,x2=5", "-o", f"g{suffix}")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / f"g{suffix}").read_bytes().lstrip()[: len(magic)] == magic


def test_markdown_shows_the_graph_written_beside_it(tmp_path):
    require_dot()
    result = run_cli(tmp_path, "trace", "--expr", TEXTBOOK, "--at", "x1=2,x2=5", "-o", "t.md", "--graph", "g.svg")
    assert result.returncode == 0, result.stderr
    assert "![The computational graph](g.svg)" in (tmp_path / "t.md").read_text(encoding="utf-8")
    assert b"<svg" in (tmp_path / "g.svg").read_bytes()


def test_one_direction(tmp_path):
    result = run_cli(tmp_path, "trace", "--expr", TEXTBOOK, "--at", "x1=2,x2=5", "--direction", "x2=1")
    assert result.returncode == 0, result.stderr
    assert "forward mode 1 pass," in result.stderr and "the whole gradient would take 2 passes" in result.stdout


def test_a_kink_is_reported_and_exits_0(tmp_path):
    result = run_cli(tmp_path, "trace", "--expr", r"\max(x, y)", "--at", "x=1,y=1", "-o", "t.tex")
    assert_no_traceback(result)
    assert result.returncode == 0 and "PASS" in result.stdout and "at a kink of" in result.stdout
    assert (tmp_path / "t.tex").exists()


@pytest.mark.parametrize("args, expected", [
    (["--expr", r"\ln x1 + x1 x2", "--at", "x1=-2,x2=5"], ["trace line v_1 = log(v_-1)", "v_-1 = -2", "outside the domain"]),
    (["--expr", TEXTBOOK, "--at", "x1=2"], ["no value given for the input x_2"]),
    (["--expr", TEXTBOOK], ["no value given for the input x_1, x_2"]),
    (["--expr", TEXTBOOK, "--at", "x1=2,x2=5,z=1"], ["z, which is not an input"]),
    (["--expr", TEXTBOOK, "--at", "x1=2,x2=five"], ["value of x2 must be a number", "five"]),
    (["--expr", TEXTBOOK, "--at", "x1=2,x2=5", "--direction", "x1=0"], ["direction is zero"]),
    (["--expr", r"\tan x", "--at", "x=1"], ["no derivative rule for the operation tan"]),
    (["--expr", r"\ln(x", "--at", "x=1"], ["cannot read LaTeX"]),
    (["--at", "x=1"], ["give a problem file or --expr"]),
    ([str(EXAMPLES / "one_layer_scalar.yaml"), "--expr", "x", "--at", "x=1"], ["not both"]),
    ([str(EXAMPLES / "one_layer_scalar.yaml"), "--at", "x=1,y=2"], ["no value given for the input w"]),
    ([str(EXAMPLES / "one_layer_batch.yaml"), "--at", "X=[[1,2],[3,4]],y=[1,0],W=[1,2,3]"],
     ["X must be 2\u00d73", "given is 2\u00d72"]),
    ([str(EXAMPLES / "one_layer_batch.yaml"), "--at", "y=[1,0],W=[1,2,3]"], ["no value given for the matrix X (2\u00d73, n = 2)"]),
    ([str(EXAMPLES / "one_layer_batch.yaml"), "--at", "X=[[1,2,3],[4,5,6]],y=[1,0],W=[[1,2,3]"], ["'[' without its ']'"]),
    ([str(EXAMPLES / "one_layer_batch.yaml"), "--at", "X=[[1,2,3],[4,5,6]],y=[1,0],W=[1,2,w]"],
     ["value of W[2,0] must be a number", "'w'"]),
    ([str(EXAMPLES / "one_layer_batch.yaml"), "--at", "X=[[1,2,3],[4,5,6]],y=[1,0],W=[1,2,3]", "--size", "3"],
     ["X must be 3\u00d73"]),
    ([str(EXAMPLES / "mlp_softmax.yaml"), "--at", "X=[[1]]"], ["one-hot targets"]),
    (["missing.yaml", "--at", "x=1"], ["no problem file 'missing.yaml'"]),
    (["--expr", TEXTBOOK, "--at", "x1=2,x2=5", "--mode", "sideways"], ["sideways"]),
])
def test_bad_input(tmp_path, args, expected):
    message = assert_bad_input(run_cli(tmp_path, "trace", *args, "-o", "out.tex"), tmp_path)
    for piece in expected:
        assert piece in message, (piece, message)


def test_bad_output_names(tmp_path):
    for args in (["-o", "out.docx"], ["-o", "out.tex", "--graph", "g.jpg"], ["-o", "no/such/out.tex"]):
        message = assert_bad_input(run_cli(tmp_path, "trace", "--expr", TEXTBOOK, "--at", "x1=2,x2=5", *args),
                                   tmp_path, None)
        assert "cannot write" in message
    assert list(tmp_path.iterdir()) == []


def test_bad_problem_file_names_its_line(tmp_path):
    write_problem(tmp_path, """
        symbols: [x, w]
        definitions:
          - h = \\sigma(w x
          - L = h^2
        loss: L
        wrt: [w]
    """)
    message = assert_bad_input(run_cli(tmp_path, "trace", "p.yaml", "--at", "x=1,w=2", "-o", "out.tex"), tmp_path)
    assert "p.yaml, line 3" in message


BATCH_POINT = "X=[[1,2,3],[0.5,-1,2]], y=[[1],[0]], W=[[0.1],[-0.2],[0.3]]"


def test_matrix_problem_to_pdf_and_json(tmp_path):
    require_pdflatex()
    for name in ("t.pdf", "t.json"):
        result = run_cli(tmp_path, "trace", EXAMPLES / "one_layer_batch.yaml", "--at", BATCH_POINT, "-o", name)
        assert_no_traceback(result)
        assert result.returncode == 0, result.stderr
        assert "traced entry by entry at n = 2 (11 inputs, 19 lines)" in result.stdout
        assert "adjoints against derive's matrix gradient" in result.stdout and "PASS" in result.stdout
    assert (tmp_path / "t.pdf").read_bytes()[:4] == b"%PDF"
    data = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert data["expansion"]["matrices"] == {"X": [2, 3], "y": [2, 1], "W": [3, 1]}
    assert data["consistency"]["passed"] and data["consistency"]["against_derivation"] < 1e-12
    for name, value in data["gradient"].items():
        assert abs(value - data["expansion"]["derived_gradient"][name]) < 1e-12
    assert round(data["gradient"]["W[1,0]"], 3) == -0.309


def test_matrix_problem_at_size_three_with_entries(tmp_path):
    at = "X=[[1,2,3],[0.5,-1,2],[0,0,1]], y[0,0]=1, y[1,0]=0, y[2,0]=1/2, W=[0.1,-0.2,0.3]"
    result = run_cli(tmp_path, "trace", EXAMPLES / "one_layer_batch.yaml", "--at", at, "--size", "3",
                     "--mode", "reverse", "-o", "t.tex")
    assert result.returncode == 0, result.stderr
    assert "n = 3 (15 inputs" in result.stdout
    assert r"\(n = 3\)" in (tmp_path / "t.tex").read_text(encoding="utf-8")
