"""`derive solve --exercise [--hints LEVEL]`: the sheet is written in each format, and bad input (an unknown
hints level, --hints without --exercise, a sheet as .json, a bad `hints:` in the problem file) is one line on
standard error with exit status 2, writing nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require_pdflatex

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "one_layer_vector.yaml"


def derive(*arguments, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "derive", *map(str, arguments)], capture_output=True, text=True,
                          timeout=300, cwd=cwd or ROOT)


@pytest.mark.parametrize("suffix", [".md", ".tex", ".pdf"])
def test_the_sheet_is_written_in_each_format(tmp_path, suffix):
    if suffix == ".pdf":
        require_pdflatex()
    out = tmp_path / f"sheet{suffix}"
    run = derive("solve", EXAMPLE, "--exercise", "--hints", "chain", "-o", out)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"wrote {out}" and out.exists()
    if suffix != ".pdf":
        text = out.read_text()
        assert "Questions" in text and "Hints" in text and "Numeric check" not in text


def test_the_problem_files_hints_are_the_default_and_the_flag_overrides_them(tmp_path):
    problem = tmp_path / "p.yaml"
    problem.write_text(EXAMPLE.read_text() + "hints: deltas\n")
    by_file = derive("solve", problem, "--exercise")
    assert by_file.returncode == 0 and "delta term" in by_file.stdout
    overridden = derive("solve", problem, "--exercise", "--hints", "none")
    assert overridden.returncode == 0 and "Hints" not in overridden.stdout


@pytest.mark.parametrize("arguments, message", [
    (["--exercise", "--hints", "some"], "derive: error: unknown hints level 'some' (known: none, chain, deltas)"),
    (["--hints", "chain"], "derive: error: --hints is for the exercise sheet: add --exercise"),
    (["--exercise", "-o", "sheet.json"], "derive: error: cannot write the exercise sheet 'sheet.json': it must end "
                                         "in .tex, .pdf or .md"),
])
def test_bad_flags_are_one_line_and_status_2(tmp_path, arguments, message):
    run = derive("solve", EXAMPLE, *arguments, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == message and run.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_a_bad_hints_key_names_the_file_and_line(tmp_path):
    problem = tmp_path / "p.yaml"
    lines = EXAMPLE.read_text().rstrip("\n").split("\n")
    problem.write_text("\n".join(lines) + "\nhints: all\n")
    run = derive("solve", problem, "--exercise")
    assert run.returncode == 2
    assert run.stderr.strip() == (f"derive: error: {problem}, line {len(lines) + 1}: hints must be one of none, "
                                  "chain, deltas, not 'all'")
