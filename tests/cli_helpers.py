"""Running the `derive` command for real in tests: `run_cli` (a subprocess in a folder) and the checks every
bad-input test makes (one line on standard error, exit status 2, no traceback, nothing written).
Shared by the CLI tests of every package (tests/cli, tests/grade, tests/tracing, tests/stochastic, ...)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def run_cli(cwd: Path, *args) -> subprocess.CompletedProcess:
    """`python -m derive ARGS` in `cwd`, text output captured, with a generous timeout."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "derive", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=240, env=env, stdin=subprocess.DEVNULL)


def write_problem(folder: Path, text: str, name: str = "p.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def part_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith(".part"))


def assert_no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stdout and "Traceback" not in result.stderr, result.stderr


def assert_bad_input(result: subprocess.CompletedProcess, folder: Path, output: str | None = "out.tex") -> str:
    """Exit 2, one `derive: error:` line, no traceback, nothing written; returns the message."""
    assert_no_traceback(result)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("derive: error: "), result.stderr
    assert result.stdout == "", result.stdout
    if output is not None:
        assert not (folder / output).exists()
    assert part_files(folder) == []
    return lines[0][len("derive: error: "):]


