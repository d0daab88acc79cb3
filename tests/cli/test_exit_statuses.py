"""Exit statuses: 2 bad input, 70 an internal failure (never 1, which means incorrect), 130 Ctrl-C, 143 SIGTERM
(which removes pdflatex's temporary folder first)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from derive.cli.main import INTERNAL_ERROR, INTERRUPTED
from derive.write.output import TERMINATED, pdflatex_path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _start(tmp_path: Path, *args, **env) -> subprocess.Popen:
    environment = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), **env}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "derive", *map(str, args)], cwd=tmp_path, env=environment,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _patched_solve(tmp_path: Path, body: str) -> dict:
    """Environment whose `Problem.solve` runs `body` instead (through a sitecustomize on PYTHONPATH)."""
    (tmp_path / "sitecustomize.py").write_text(
        "import derive.solve.problem as p\n"
        f"def patched(*a, **k):\n    {body}\n"
        "p.Problem.solve = patched\n", encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}


def test_an_internal_failure_exits_70_in_one_line(tmp_path):
    # a bug simulated inside a command: solve raises what derive never raises on purpose
    env = _patched_solve(tmp_path, "raise ZeroDivisionError('simulated bug')")
    run = _start(tmp_path, "solve", EXAMPLES / "one_layer_scalar.yaml", **env)
    out, err = run.communicate(timeout=240)
    assert run.returncode == INTERNAL_ERROR == 70, err
    assert "Traceback" not in err and err.count("\n") == 1
    assert err.startswith("derive: internal error: ZeroDivisionError: simulated bug")


def test_ctrl_c_exits_130(tmp_path):
    ready = tmp_path / "ready"
    env = _patched_solve(tmp_path, f"open({str(ready)!r}, 'w').close(); import time; time.sleep(120)")
    run = _start(tmp_path, "solve", EXAMPLES / "one_layer_scalar.yaml", "-o", tmp_path / "x.md", **env)
    deadline = time.monotonic() + 200
    while not ready.exists():
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    run.send_signal(signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == INTERRUPTED == 130, err
    assert "Traceback" not in err and "derive: interrupted" in err
    assert not (tmp_path / "x.md").exists()


@pytest.mark.skipif(pdflatex_path() is None, reason="needs pdflatex")
def test_sigterm_during_a_pdf_build_leaves_no_temporary_folder(tmp_path):
    run = _start(tmp_path, "solve", EXAMPLES / "two_layer_batch.yaml", "-o", tmp_path / "x.pdf")
    deadline = time.monotonic() + 200
    while not list((tmp_path / "tmp").glob("derive-*")):
        assert run.poll() is None and time.monotonic() < deadline, run.stderr.read() if run.stderr else ""
        time.sleep(0.01)
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=120)
    assert run.returncode == TERMINATED == 143, err
    assert "derive: terminated" in err and "Traceback" not in err
    assert list((tmp_path / "tmp").iterdir()) == []
    assert [p.name for p in tmp_path.iterdir() if p.name != "tmp"] == []  # no x.pdf, no .part


def test_ctrl_c_during_grade_exits_130_with_no_traceback_and_no_output(tmp_path):
    # Ctrl-C at a terminal reaches the whole process group: the command and its worker processes
    ready = tmp_path / "ready"
    (tmp_path / "sitecustomize.py").write_text(
        "import time, derive.grade.verify as v\n"
        f"def slow(self, answer):\n    open({str(ready)!r}, 'w').close(); time.sleep(120)\n"
        "v.Judge.verdict = slow\n", encoding="utf-8")
    (tmp_path / "class").mkdir()
    for k in range(3):
        (tmp_path / "class" / f"s{k}.tex").write_text(f"X^T(\\hat y - y) + {k} W", encoding="utf-8")
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.Popen([sys.executable, "-m", "derive", "grade", EXAMPLES / "one_layer_batch.yaml", "class",
                            "--csv", "grades.csv"], cwd=tmp_path, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 200
    while not ready.exists():
        assert run.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGINT)
    out, err = run.communicate(timeout=60)
    assert run.returncode == INTERRUPTED, err
    assert "Traceback" not in err and "derive: interrupted" in err
    assert not (tmp_path / "grades.csv").exists()
