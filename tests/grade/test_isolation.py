r"""Limits enforced by killing the deciding process: an answer still running at its deadline (in a long C
call, which no timer interrupts) is cut and undecided, the next answer is still decided, a memory limit gives
undecided, and no process is left behind (no zombie, no worker)."""

from __future__ import annotations

import multiprocessing
import os
import re
import time
from pathlib import Path

import pytest

from derive.grade.batch import grade
from derive.grade.deadline import ChildCrashed, TimeLimitReached, Workers, within
from cli_helpers import assert_no_traceback, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BATCH = EXAMPLES / "one_layer_batch.yaml"
RIGHT = r"X^T((\hat y - y)\odot\sigma'(XW))"
SIGN = r"X^T((y - \hat y)\odot\sigma'(XW))"
# one_layer_batch with 16000 features, so that answers may write sizes up to 16000 (an answer's sizes are
# bounded by the problem's own).
WIDE = """\
symbols:
  X: [n, 16000]
  y: [n, 1]
  W: [16000, 1]
definitions:
  - \\hat{y} = \\sigma(X W)
  - L = \\frac{1}{2} \\lVert y - \\hat{y} \\rVert^2
loss: L
wrt: [W]
"""
# A product of two 6000x6000 matrices at every sample point: one long BLAS call each, seconds at least.
LONG = (r"\frac{\mathbf{1}_{6000}^T \operatorname{diag}(\mathbf{1}_{6000}) \operatorname{diag}(\mathbf{1}_{6000}) "
        r"\mathbf{1}_{6000}}{6000} X^T((\hat y - y)\odot\sigma'(XW))")
# 90 characters asking for a 16000x16000 matrix (2 GB): beyond any memory limit given here.
HUGE = r"X^T y (\mathbf{1}_{16000}^T \operatorname{diag}(\mathbf{1}_{16000}) \mathbf{1}_{16000})"


def backtrack(report=None, note: str = ""):
    """Catastrophic backtracking: one C call that checks no signal and would take longer than the universe."""
    if report:
        report("numeric", note)
    return re.match(r"(a+)+$", "a" * 60 + "b")


def children(parent: int | None = None) -> set[tuple[int, str]]:
    """(pid, state) of the children of `parent` (default: this process), zombies (state Z) included, from /proc."""
    parent = os.getpid() if parent is None else parent
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            if int(fields[1]) == parent:
                found.add((int(entry), fields[0]))
    return found


def test_within_kills_a_long_c_call_at_the_deadline():
    started = time.monotonic()
    with pytest.raises(TimeLimitReached) as reached:
        within(lambda report: backtrack(report, "read so far"), 0.3)
    assert time.monotonic() - started < 30  # cut: the call itself would never end
    assert reached.value.stage == "numeric" and reached.value.note == "read so far"


def test_within_reports_a_child_that_died():
    with pytest.raises(ChildCrashed):
        within(lambda report: os._exit(7), 10)


def _prepare(offset):
    return offset


def _run(state, task, report):
    if task == "hang":
        return backtrack(report, task)
    if task == "die":
        os._exit(9)
    if task == "fail":
        raise ValueError("a failure")
    return task + state


def test_workers_replace_a_killed_worker_and_carry_on():
    tasks = [1, "hang", 2, "die", 3, "fail", 4]
    with Workers(2, _prepare, (10,), _run) as pool:
        ended = {tasks[i]: (kind, value) for i, kind, value in pool.map(tasks, 0.5)}
    assert {t: ended[t] for t in (1, 2, 3, 4)} == {1: ("result", 11), 2: ("result", 12), 3: ("result", 13),
                                                  4: ("result", 14)}
    assert ended["hang"][0] == "timeout" and ended["hang"][1].stage == "numeric"
    assert ended["die"][0] == "crashed" and isinstance(ended["die"][1], ChildCrashed)
    assert ended["fail"][0] == "error" and str(ended["fail"][1]) == "a failure"
    assert multiprocessing.active_children() == []


def _prepare_once_in(marker):
    """Dies the first time (a worker killed while starting), prepares the next."""
    if not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(9)
    return 10


def _prepare_never(_):
    os._exit(9)


def test_a_worker_that_dies_while_starting_is_started_again(tmp_path):
    with Workers(1, _prepare_once_in, (str(tmp_path / "started"),), _run) as pool:
        assert list(pool.map([1, 2], 5)) == [(0, "result", 11), (1, "result", 12)]
    with Workers(1, _prepare_never, (None,), _run) as pool:
        with pytest.raises(ChildCrashed, match="died while starting, 4 times"):
            list(pool.map([1], 5))
    assert multiprocessing.active_children() == []


@pytest.fixture(autouse=True)
def no_process_left():
    """Every test here leaves this process with the children it had before (others' tests may start some),
    and none of them a zombie."""
    before = {pid for pid, _ in children()}
    yield
    left = children()
    assert {pid for pid, _ in left} <= before and all(state != "Z" for _, state in left), left


@pytest.fixture
def wide(tmp_path) -> Path:
    path = tmp_path / "wide.yaml"
    path.write_text(WIDE, encoding="utf-8")
    return path


def submissions(folder: Path, files: dict) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_grade_cuts_a_long_answer_and_decides_the_next(tmp_path, wide):
    folder = submissions(tmp_path / "subs", {"a_long.tex": LONG, "b_right.tex": RIGHT, "c_sign.tex": SIGN})
    batch = grade(wide, folder, jobs=1, time_limit=2.5)
    verdicts = {r.student: r.verdicts["W"] for r in batch.results}
    assert verdicts["a_long.tex"]["outcome"] == "undecided"
    assert "time limit of 2.5 s" in verdicts["a_long.tex"]["reason"]
    assert "the checking process was stopped" in verdicts["a_long.tex"]["reason"]
    assert verdicts["b_right.tex"]["outcome"] == "correct"  # decided by the worker that replaced the killed one
    assert verdicts["c_sign.tex"]["outcome"] == "incorrect", verdicts["c_sign.tex"]["reason"]
    assert multiprocessing.active_children() == []


def test_grade_memory_limit_gives_undecided(tmp_path, wide):
    folder = submissions(tmp_path / "subs", {"a_huge.tex": HUGE, "b_right.tex": RIGHT})
    batch = grade(wide, folder, jobs=1, memory=1024 << 20)
    verdicts = {r.student: r.verdicts["W"] for r in batch.results}
    assert verdicts["a_huge.tex"]["outcome"] == "undecided"
    assert "memory" in verdicts["a_huge.tex"]["reason"] and "1024 MB" in verdicts["a_huge.tex"]["reason"]
    assert verdicts["b_right.tex"]["outcome"] == "correct"


def test_verify_cuts_a_long_answer(tmp_path, wide):
    result = run_cli(tmp_path, "verify", wide, "--wrt", "W", "--answer", LONG, "--time-limit", "0.5")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "undecided" in result.stdout and "reason: time limit of 0.5 s reached" in result.stdout
    assert_no_traceback(result)


def test_verify_memory_limit_gives_undecided(tmp_path, wide):
    result = run_cli(tmp_path, "verify", wide, "--wrt", "W", "--answer", HUGE, "--memory-limit", "1024")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "undecided" in result.stdout and "memory" in result.stdout and "1024 MB" in result.stdout
    assert_no_traceback(result)
    right = run_cli(tmp_path, "verify", wide, "--wrt", "W", "--answer", RIGHT, "--memory-limit", "1024")
    assert right.returncode == 0, right.stdout + right.stderr


def test_sizes_written_in_an_answer_are_bounded_by_the_problem(tmp_path):
    result = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer", HUGE)  # sizes 3 and n (2, 3)
    assert result.returncode == 2, result.stdout + result.stderr
    assert r"\mathbf{1}_{16000} is larger than any size in the problem (at most 12)" in result.stderr
    assert_no_traceback(result)
    fits = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer", RIGHT + r" \frac{\mathbf{1}_3^T \mathbf{1}_3}{3}")
    assert fits.returncode == 0, fits.stdout + fits.stderr


@pytest.mark.parametrize("command", ["grade", "verify"])
def test_a_terminated_grader_leaves_no_worker_running(tmp_path, wide, command):
    import signal
    import subprocess
    import sys

    folder = submissions(tmp_path / "subs", {"a_long.tex": LONG, "b_long.tex": LONG + " + W - W"})
    args = ([command, wide, folder] if command == "grade" else [command, wide, "--wrt", "W", "--answer", LONG])
    process = subprocess.Popen([sys.executable, "-m", "derive", *map(str, args), "--time-limit", "120"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        workers: set[int] = set()
        for _ in range(600):  # until the deciding processes are running (at most a minute)
            workers = {pid for pid, _ in children(process.pid)}
            if workers:
                break
            time.sleep(0.1)
        assert workers
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        for _ in range(100):
            if not any(Path(f"/proc/{pid}").exists() for pid in workers):
                break
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    finally:
        process.kill()
        process.wait()


def test_an_error_that_cannot_be_pickled_still_reaches_the_parent():
    """The child sends its error through a pipe; one that does not pickle (after a dask cluster had run in the
    same process, an answer's AnswerError did not) once left the pipe empty: "ended without a result"."""
    from derive.grade.deadline import within

    class Unsendable(ValueError):  # a local class: pickle cannot find it
        pass

    def work(report):
        raise Unsendable("the answer is nested too deep")

    with pytest.raises(RuntimeError, match="Unsendable: the answer is nested too deep"):
        within(work, 10)
