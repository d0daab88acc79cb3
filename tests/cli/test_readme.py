"""The README as a new user reads it: its Python example runs, its first command's job works."""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import derive

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_python_example_runs(monkeypatch, tmp_path):
    """Run in a scratch folder that sees the examples, so files the README writes (errors.png) stay out of the tree."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", README, re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_readme_opens_with_two_commands():
    first = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(first) == 2
    assert "derive solve examples/" in first[0] and "pytest" in first[1]


def test_readme_main_job_writes_a_checked_document(tmp_path):
    command = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()[0]
    job = command.split("&&", 1)[1].strip().split()
    assert job[0] == "derive"
    job = [sys.executable, "-m", "derive", *job[1:]]
    job[job.index("examples/one_layer_scalar.yaml")] = str(ROOT / "examples" / "one_layer_scalar.yaml")
    run = subprocess.run(job, cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "PASS" in run.stdout + run.stderr
    assert (tmp_path / "one_layer_scalar.tex").read_text().startswith(r"\documentclass")


def test_package_docstring_example():
    result = doctest.testmod(derive, verbose=False)
    assert result.attempted >= 5 and result.failed == 0
