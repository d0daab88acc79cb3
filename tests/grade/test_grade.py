"""derive grade: a folder of submissions through a process pool, with limits, a rubric, dedup, Gradescope
JSON, CSV and feedback; bad files become feedback and the batch carries on. The CLI is run for real."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from concurrent.futures import BrokenExecutor, Executor, Future
from pathlib import Path

import pytest

from derive.read.answers import AnswerError
from derive.core.errors import ProblemError
from derive.grade.batch import Rubric, feedback, grade, load_problem, load_rubric, split_answers
from cli_helpers import assert_bad_input, assert_no_traceback, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BATCH = EXAMPLES / "one_layer_batch.yaml"
TWO = EXAMPLES / "two_layer_batch.yaml"

RIGHT = r"X^T((\hat y - y)\odot\sigma'(XW))"
TRANSPOSED = r"((\hat y - y)\odot\sigma'(XW))^T X"
SIGN = r"X^T((y - \hat y)\odot\sigma'(XW))"


def submissions(folder: Path, files: dict) -> Path:
    folder.mkdir(exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def with_rubric(folder: Path, source: Path, rubric: str) -> Path:
    path = folder / source.name
    path.write_text(source.read_text(encoding="utf-8") + "\n" + textwrap.dedent(rubric), encoding="utf-8")
    return path


def by_student(batch) -> dict:
    return {r.student: r for r in batch.results}


def test_batch_grades_each_student_and_carries_on_past_bad_files(tmp_path):
    folder = submissions(tmp_path / "subs", {
        "alice.tex": RIGHT, "bob.tex": rf"\frac{{\partial L}}{{\partial W}} = {RIGHT}", "carol.tex": TRANSPOSED,
        "dave.tex": r"X^T(\hat y - y", "eve.pdf": b"%PDF\x00\x01", "frank.tex": "", "gina.tex": r"\Delta^T X",
        "hank.tex": b"\xff\xfe latin", "ivan.tex": r"\frac{\partial L}{\partial y} = X",
    })
    results = by_student(grade(BATCH, folder, jobs=2))
    assert results["alice.tex"].score == 1 and results["bob.tex"].score == 1
    assert results["carol.tex"].verdicts["W"]["diagnosis"]["kind"] == "transposed"
    assert "position 3" in feedback(results["dave.tex"])
    assert "binary" in feedback(results["eve.pdf"])
    assert "empty" in feedback(results["frank.tex"])
    assert "unknown symbol Delta" in feedback(results["gina.tex"])
    assert "UTF-8" in feedback(results["hank.tex"])
    assert "does not ask for" in feedback(results["ivan.tex"])
    assert all(r.score == 0 for name, r in results.items() if name not in ("alice.tex", "bob.tex"))
    assert "read as: " in feedback(results["carol.tex"]) and "should be 3 by 1" in feedback(results["carol.tex"])


def test_identical_answers_are_decided_once(tmp_path):
    folder = submissions(tmp_path / "subs", {f"s{i}.tex": RIGHT if i % 2 else SIGN + "  " for i in range(10)}
                         | {"lhs.tex": rf"\frac{{\partial L}}{{\partial W}} = {RIGHT}"})
    batch = grade(BATCH, folder, jobs=2)
    assert batch.answers == 11 and batch.decided == 2
    assert sum(r.score for r in batch.results) == 6


def test_rubric_gives_partial_credit_per_gradient_and_diagnosis(tmp_path):
    problem = with_rubric(tmp_path, BATCH, """
        rubric:
          points: {W: 4}
          partial: {transposed: 0.5, sign: 0.25}
    """)
    folder = submissions(tmp_path / "subs", {"a.tex": RIGHT, "b.tex": TRANSPOSED, "c.tex": SIGN, "d.tex": r"X^T(\hat y - y)"})
    results = by_student(grade(problem, folder))
    assert [results[k].score for k in "a.tex b.tex c.tex d.tex".split()] == [4, 2, 1, 0]
    assert all(r.max_score == 4 for r in results.values())


def test_rubric_keeps_line_numbers_of_the_problem_and_is_checked(tmp_path):
    problem = with_rubric(tmp_path, BATCH, "rubric:\n  partial: {typo: 1}\n")
    with pytest.raises(ProblemError, match="partial credit for 'typo'"):
        load_rubric(problem, load_problem(problem))
    bad = tmp_path / "bad.yaml"
    bad.write_text("rubric:\n  points: {W: 1}\nsymbols: {X: [n, 3]}\ndefinitions:\n  - L = \\operatorname{foo}(X)\nloss: L\nwrt: X\n")
    with pytest.raises(derive_error(), match="line 5"):
        load_problem(bad)


def derive_error():
    from derive.core.errors import DeriveError
    return DeriveError


def test_several_gradients_per_submission(tmp_path):
    w2 = r"H^T((\hat y - y)\odot\sigma'(HW^{(2)}))"
    w1 = r"X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)"
    folder = submissions(tmp_path / "subs", {
        "both.tex": f"\\frac{{\\partial L}}{{\\partial W^{{(1)}}}} = {w1}\n\n% the second one\n"
                    f"\\frac{{\\partial L}}{{\\partial W^{{(2)}}}} = {w2}\n",
        "one.tex": f"\\frac{{\\partial L}}{{\\partial W^{{(2)}}}} = {w2}\n",
        "unnamed.tex": w2,
    })
    results = by_student(grade(TWO, folder))
    assert results["both.tex"].score == 2 and results["one.tex"].score == 1
    assert "does not say which gradient" in results["unnamed.tex"].error


def test_split_answers_refuses_two_answers_for_one_variable():
    with pytest.raises(AnswerError, match="two answers"):
        split_answers("\\frac{\\partial L}{\\partial W} = X\n\n\\frac{\\partial L}{\\partial W} = X", ["W", "V"])


MISSING = r"X^T(\hat y - y)"  # decided numerically, then diagnosed: tens of milliseconds


def test_time_limit_makes_answers_undecided_not_wrong(tmp_path):
    folder = submissions(tmp_path / "subs", {"a.tex": MISSING, "b.tex": SIGN})
    batch = grade(BATCH, folder, time_limit=0.002)
    for result in batch.results:
        assert result.verdicts["W"]["outcome"] == "undecided"
        assert "time limit" in result.verdicts["W"]["reason"]


def test_memory_limit_is_set_in_the_worker():
    code = ("from derive.grade.batch import _limit_memory\n_limit_memory(1500 << 20)\n"
            "try:\n    bytearray(2000 << 20)\nexcept MemoryError:\n    print('limited')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "limited", result.stderr


class _BreaksOnce(Executor):
    """Runs tasks in this process, but reports the first one as lost to a broken pool."""

    def __init__(self):
        self.broke = False

    def submit(self, fn, *args, **kwargs):
        future = Future()
        if not self.broke:
            self.broke = True
            future.set_exception(BrokenExecutor("a worker died"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_crashed_worker_does_not_stop_the_batch(tmp_path):
    folder = submissions(tmp_path / "subs", {"a.tex": RIGHT, "b.tex": SIGN, "c.tex": TRANSPOSED})
    results = by_student(grade(BATCH, folder, executor=_BreaksOnce()))
    assert results["a.tex"].verdicts["W"]["outcome"] == "correct"  # retried alone in a fresh worker
    assert results["b.tex"].verdicts["W"]["diagnosis"]["kind"] == "sign"


def test_gradescope_and_csv_formats(tmp_path):
    folder = submissions(tmp_path / "subs", {"a.tex": RIGHT, "b.tex": TRANSPOSED})
    batch = grade(BATCH, folder)
    data = json.loads(batch.to_gradescope(Rubric(), ["W"]))
    assert set(data) >= {"score", "execution_time", "output", "visibility", "tests"}
    assert data["score"] == 1
    for test in data["tests"]:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed")
    rows = list(csv.DictReader(io.StringIO(batch.to_csv(["W"]))))
    assert [(r["student"], r["W outcome"]) for r in rows] == [("a.tex", "correct"), ("b.tex", "incorrect")]


# -- the command line ---------------------------------------------------------------------------------------

def test_cli_grade_writes_gradescope_and_csv(tmp_path):
    submissions(tmp_path / "subs", {"a.tex": RIGHT, "b.tex": TRANSPOSED, "c.bin": b"\x00\x00"})
    result = run_cli(tmp_path, "grade", BATCH, "subs", "--gradescope", "results.json", "--csv", "grades.csv")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "a.tex: 1/1" in result.stdout and "b.tex: 0/1" in result.stdout and "c.bin: 0/1" in result.stdout
    assert json.loads((tmp_path / "results.json").read_text())["tests"][0]["status"] == "passed"
    assert "transpose" in (tmp_path / "grades.csv").read_text()


@pytest.mark.parametrize("args, message", [
    (["nowhere"], "no submissions folder"),
    (["subs", "--jobs", "0"], "jobs"),
    (["empty"], "no submission files in 'empty'"),
    (["subs", "--gradescope", "r.json", "--csv", "nodir/g.csv"], "the folder nodir does not exist"),
    (["subs", "--csv", "subs"], "is a directory"),
])
def test_cli_grade_bad_input_exits_2(tmp_path, args, message):
    """Output paths and the folder are checked before grading: one line, and nothing written (no r.json)."""
    submissions(tmp_path / "subs", {"a.tex": RIGHT})
    (tmp_path / "empty").mkdir()
    result = run_cli(tmp_path, "grade", BATCH, *args)
    assert message in assert_bad_input(result, tmp_path, output=None)
    assert not (tmp_path / "r.json").exists()


def test_cli_grade_bad_problem_exits_2(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "p.yaml").write_text("symbols: [x]\ndefinitions: [L = y]\nloss: L\nwrt: x\n")
    result = run_cli(tmp_path, "grade", "p.yaml", "subs")
    assert "unknown symbol y" in assert_bad_input(result, tmp_path, output=None)


def test_a_thread_executor_decides_in_forked_children_with_the_limits(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    folder = submissions(tmp_path / "subs", {"a.tex": RIGHT, "b.tex": SIGN, "c.tex": TRANSPOSED})
    with ThreadPoolExecutor(2) as threads:
        results = by_student(grade(BATCH, folder, executor=threads))
        slow = by_student(grade(BATCH, submissions(tmp_path / "slow", {"m.tex": MISSING}), executor=threads,
                                time_limit=0.002))
    assert [results[k].verdicts["W"]["outcome"] for k in ("a.tex", "b.tex", "c.tex")] == ["correct", "incorrect",
                                                                                          "incorrect"]
    assert "time limit" in slow["m.tex"].verdicts["W"]["reason"]


def test_dask_executor_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    from derive.grade.batch import dask_executor

    folder = submissions(tmp_path / "subs", {"a.tex": RIGHT, "b.tex": SIGN, "c.tex": r"X^T(\hat y"})
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None) as cluster:
        executor = dask_executor(cluster.scheduler_address)
        try:
            results = by_student(grade(BATCH, folder, executor=executor))
        finally:
            executor._client.close()
    assert results["a.tex"].score == 1
    assert results["b.tex"].verdicts["W"]["diagnosis"]["kind"] == "sign"
    assert results["c.tex"].verdicts["W"]["outcome"] == "invalid"


def test_cli_grade_unreachable_dask_scheduler_exits_2(tmp_path):
    pytest.importorskip("distributed")
    submissions(tmp_path / "subs", {"a.tex": RIGHT})
    result = run_cli(tmp_path, "grade", BATCH, "subs", "--executor", "tcp://127.0.0.1:9")
    assert "dask scheduler" in assert_bad_input(result, tmp_path, output=None)
