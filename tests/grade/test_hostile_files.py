"""Hostile submissions folders and outputs: links out of the folder, FIFOs, /dev/zero, undecodable and
multi-line file names, spreadsheet formulas, hidden files, outputs that must be all or nothing."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pytest

from derive.core.errors import DeriveError
from derive.grade.batch import grade
from derive.grade.submissions import MAX_FILE_BYTES, read_submission, spreadsheet_cell, student_name
from derive.read.answers import AnswerError
from derive.write.output import write_all_atomically
from cli_helpers import assert_no_traceback, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCALAR = EXAMPLES / "one_layer_scalar.yaml"
RIGHT = r"(\hat{y} - y) \hat{y} (1 - \hat{y}) x"
SECRET = "root:x:0:0:secret-marker"


@pytest.fixture
def folder(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n", encoding="utf-8")
    sub = tmp_path / "class" / "in"
    sub.mkdir(parents=True)
    (sub / "alice.tex").write_text(RIGHT + "\n", encoding="utf-8")
    return sub


def _grade(folder: Path):
    return {r.student: r for r in grade(SCALAR, folder, jobs=1, time_limit=20).results}


@pytest.mark.parametrize("target", ["absolute", "relative"])
def test_a_link_out_of_the_folder_is_not_read(folder, target):
    secret = folder.parents[1] / "secret.txt"
    os.symlink(secret if target == "absolute" else "../../secret.txt", folder / "link.tex")
    results = _grade(folder)
    assert "not a regular file (a symbolic link)" in results["link.tex"].error
    assert "secret-marker" not in json.dumps([r.error for r in results.values()]) + str(results["link.tex"].verdicts)
    assert results["alice.tex"].score == 1


def test_a_fifo_and_a_link_to_dev_zero_are_refused_without_reading(folder):
    os.mkfifo(folder / "fifo.tex")
    os.symlink("/dev/zero", folder / "zero.tex")
    results = _grade(folder)  # blocked forever / read 2.65 GB before
    assert "not a regular file (a FIFO)" in results["fifo.tex"].error
    assert "not a regular file (a symbolic link)" in results["zero.tex"].error
    assert results["alice.tex"].score == 1


def test_a_folder_in_the_folder_is_reported(folder):
    (folder / "bob").mkdir()
    assert "not a regular file (a folder)" in _grade(folder)["bob"].error


def test_read_submission_never_follows_a_link_nor_reads_past_its_limit(folder):
    os.symlink("/dev/zero", folder / "zero.tex")
    with pytest.raises(AnswerError, match="not a regular file"):
        read_submission(folder / "zero.tex")
    big = folder / "big.tex"
    big.write_bytes(b"x" * (MAX_FILE_BYTES + 1))
    with pytest.raises(AnswerError, match="at most"):
        read_submission(big)


def test_names_are_one_printable_line():
    assert student_name(os.fsdecode(b"bad\xff.tex")) == r"bad\xff.tex"
    assert student_name("nl\nmallory,1,1,correct,x.tex") == r"nl\nmallory,1,1,correct,x.tex"
    assert student_name("ünïcode.tex") == "ünïcode.tex"
    assert student_name("a\u2028b\rc") == r"a\u2028b\rc"


@pytest.mark.parametrize("cell", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_spreadsheet_formulas_are_neutralised(cell):
    assert spreadsheet_cell(cell) == "'" + cell
    assert spreadsheet_cell("alice.tex") == "alice.tex" and spreadsheet_cell(1.5) == 1.5


def test_the_cli_grades_hostile_names_into_a_csv_with_no_forged_line_and_no_formula(folder, tmp_path):
    names = [b"bad\xff.tex", b"nl\nmallory,9,9,correct,forged.tex", b"=cmd|calc!A1.tex", b".hidden.tex"]
    for name in names:
        with open(os.path.join(os.fsencode(folder), name), "wb") as handle:
            handle.write(RIGHT.encode())
    (folder / "bin.tex").write_bytes(b"\0binary")  # unreadable: scored 0, written as every other score is
    out = tmp_path / "grades.csv"
    result = run_cli(tmp_path, "grade", SCALAR, folder, "--csv", out, "--gradescope", tmp_path / "r.json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    students = [row[0] for row in rows[1:]]
    assert students == ["'=cmd|calc!A1.tex", "alice.tex", r"bad\xff.tex", "bin.tex",
                        r"nl\nmallory,9,9,correct,forged.tex"]
    assert not any(cell[:1] in "=+-@" for row in rows for cell in row if cell)
    assert all("\n" not in line or line.startswith(" ") for line in result.stdout.splitlines())
    assert not any(line.startswith("mallory") for line in result.stdout.splitlines())
    assert ".hidden.tex: not graded (a hidden file" in result.stdout
    json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    scores = {row[0]: row[1] for row in rows[1:]}  # one format for every score: an unreadable file's 0 too
    assert all(re.fullmatch(r"\d+\.\d+", score) for score in scores.values()), scores


def test_outputs_are_all_or_nothing(tmp_path):
    good, bad = tmp_path / "results.json", tmp_path / "missing" / "grades.csv"
    with pytest.raises(DeriveError, match="cannot write"):
        write_all_atomically({good: "{}", bad: "a,b\n"})
    assert list(tmp_path.iterdir()) == []  # no results.json, no .part file
    write_all_atomically({good: "bad \udcff name"})  # a lone surrogate: written, not a traceback
    assert good.read_bytes() == b"bad \\udcff name"


def test_an_unwritable_csv_with_gradescope_leaves_nothing(folder, tmp_path):
    result = run_cli(tmp_path, "grade", SCALAR, folder, "--gradescope", tmp_path / "r.json",
                     "--csv", "/proc/derive-cannot-write.csv")
    assert_no_traceback(result)
    assert result.returncode == 2 and "cannot write /proc/derive-cannot-write.csv" in result.stderr
    assert not (tmp_path / "r.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_syntax_sympy_is_refused_by_grade_unless_trusted(folder, tmp_path):
    problem = tmp_path / "sympy.yaml"
    problem.write_text("symbols: [x, y, w]\nsyntax: sympy\ndefinitions:\n  - yhat = 1/(1+exp(-w*x))\n"
                       "  - L = (y - yhat)**2/2\nloss: L\nwrt: [w]\n", encoding="utf-8")
    refused = run_cli(tmp_path, "grade", problem, folder)
    assert refused.returncode == 2 and "--trust-problem" in refused.stderr
    assert_no_traceback(refused)
    trusted = run_cli(tmp_path, "grade", problem, folder, "--trust-problem")
    assert trusted.returncode == 0, trusted.stderr
    assert "derive: warning:" in trusted.stderr and "evaluates Python" in trusted.stderr
    solved = run_cli(tmp_path, "solve", problem, "-o", tmp_path / "s.md")
    assert "derive: warning:" in solved.stderr and "evaluates Python" in solved.stderr


def test_feedback_quotes_a_bounded_excerpt_of_the_students_text(folder):
    from derive.grade.batch import feedback
    from derive.grade.submissions import MAX_EXCERPT

    long = " + ".join(f"{k} x" for k in range(1, 400))  # 3 kB; undecided at once, its text quoted as read
    (folder / "long.tex").write_text(long, encoding="utf-8")
    result = next(r for r in grade(SCALAR, folder, jobs=1, time_limit=0.001).results if r.student == "long.tex")
    assert result.verdicts["w"]["outcome"] == "undecided"
    assert len(feedback(result)) < 2 * MAX_EXCERPT
