"""Equation numbering: from (1) by default, from (0) on request (the problem file's `first_equation`, or
`derive solve --first-equation`); any other value is refused in one line naming the key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import run_cli
from derive.core.errors import ProblemError
from derive.solve.problem import Problem

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "one_layer_scalar.yaml"


def tags(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\\tag\{(\d+)\}", text)]


def test_equations_are_numbered_from_one_by_default():
    problem = Problem.from_yaml(EXAMPLE)
    solution = problem.solve()
    assert problem.first_equation == 1
    for text in (solution.document(), solution.markdown()):
        numbers = tags(text)
        assert numbers[0] == 1 and numbers == list(range(1, len(numbers) + 1))
    assert r"\eqref{eq:0}" not in solution.document()


def test_from_zero_on_request(tmp_path):
    source = tmp_path / "zero.yaml"
    source.write_text(EXAMPLE.read_text(encoding="utf-8") + "first_equation: 0\n", encoding="utf-8")
    problem = Problem.from_yaml(source)
    assert problem.first_equation == 0
    assert tags(problem.solve().document(first_equation=0))[0] == 0
    result = run_cli(tmp_path, "solve", source, "-o", "zero.tex")
    assert result.returncode == 0, result.stderr
    assert tags((tmp_path / "zero.tex").read_text(encoding="utf-8"))[0] == 0
    result = run_cli(tmp_path, "solve", source, "--first-equation", "1", "-o", "one.tex")
    assert result.returncode == 0, result.stderr
    assert tags((tmp_path / "one.tex").read_text(encoding="utf-8"))[0] == 1
    result = run_cli(tmp_path, "solve", EXAMPLE, "--first-equation", "0", "-o", "flag.md")
    assert result.returncode == 0, result.stderr
    assert tags((tmp_path / "flag.md").read_text(encoding="utf-8"))[0] == 0


@pytest.mark.parametrize("value", ["2", "'one'", "true", "-1"])
def test_other_first_numbers_are_refused(tmp_path, value):
    source = tmp_path / "bad.yaml"
    source.write_text(EXAMPLE.read_text(encoding="utf-8") + f"first_equation: {value}\n", encoding="utf-8")
    with pytest.raises(ProblemError, match=r"first_equation must be 0 or 1"):
        Problem.from_yaml(source)
    result = run_cli(tmp_path, "solve", source)
    assert result.returncode == 2 and "first_equation must be 0 or 1" in result.stderr
    assert "Traceback" not in result.stderr
