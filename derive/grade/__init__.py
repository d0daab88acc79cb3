"""Checking students' work: answer verification, batch grading, limits on time and memory.

- `verify`: `derive.verify`, a student's answer against the derived gradient (structural, symbolic, numeric,
  exact layers);
- `verdict`: what `verify` returns (`Verdict`, its evidence, diagnosis and lines), its tolerance, and the
  verdict on a derivation of several lines;
- `diagnosis`: what is wrong with an incorrect answer (sign, factor, missing factor, wrong index, ...);
- `batch`: `derive.grade.grade`, a folder of submissions graded on a pool of processes, for Gradescope and
  other platforms;
- `deciding`: a batch's answers decided in isolated worker processes, each killed at its deadline;
- `deadline`: running untrusted work under a time and memory limit, enforced by killing the process doing it.

A feature: it builds on solve, check, write, read and core, and no other feature imports it.
"""


import importlib
import warnings


def __getattr__(name: str):
    """`derive.grade.grade` (README), imported from `batch` when first asked for, so that importing one
    submodule of grade does not load the others (PEP 562); derive 0.1's `derive.grade` module's other names
    (`Rubric`, `feedback`, ...) from `batch`, with a DeprecationWarning naming it."""
    if name.startswith("__"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    batch = importlib.import_module(".batch", __name__)
    if name == "grade":
        globals()["grade"] = batch.grade
        return batch.grade
    for home in ("batch", "deciding"):
        module = importlib.import_module(f".{home}", __name__)
        if hasattr(module, name):
            warnings.warn(f"derive.grade.{name} is now derive.grade.{home}.{name}", DeprecationWarning, stacklevel=2)
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
