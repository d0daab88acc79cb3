"""The problems a practice page offers, read once when it starts: `Practice` (one problem: its key in the
page's addresses, title, statement as HTML, the gradients asked for, and the derived gradients only when its
rubric says `show_answer: true`) and `load_practice` (every file given, or the first one's one-line error).

A problem file is read as `derive grade` reads it: its rubric taken out, and `syntax: sympy` refused unless
the instructor trusts it. What does not live here: deciding answers (`derive.grade.deciding`), the page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import DeriveError
from ..core.mathml import safe_mathml
from ..core.printing import partial
from ..grade.batch import unique_name
from .statement import statement_html


@dataclass(frozen=True)
class Practice:
    """One problem as the page shows it; `text` is what a deciding process reads it from."""

    key: str
    title: str
    statement: str  # HTML, maths as MathML
    gradients: dict  # {name: MathML of dL/d name}, in the problem's order
    text: object  # derive.grade.batch.ProblemText
    answers: dict = field(default_factory=dict)  # {name: MathML of the derived gradient}, only if show_answer


def load_practice(paths: list[Path], trust: bool = False) -> dict[str, Practice]:
    """{key: Practice} for every problem file, keyed by its file name (made unique); a `DeriveError` naming
    the file for the first that cannot be read or derived."""
    found: dict[str, Practice] = {}
    for path in paths:
        key = unique_name(_key(Path(path).stem), found, "{name}-{number}")
        found[key] = _practice(Path(path), key, trust)
    return found


def _key(stem: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-") or "problem"


def _practice(path: Path, key: str, trust: bool) -> Practice:
    from ..grade.batch import ProblemText, load_problem, load_rubric
    from ..write.exercise import hint_level, render_exercise

    problem = load_problem(path, trust=trust)
    rubric = load_rubric(path, problem)
    try:
        solution = problem.solve()
    except RecursionError:
        raise DeriveError(f"{path}: the problem nests too deeply to be derived") from None
    markdown = render_exercise(solution.part(False, problem.description), "md", hint_level(None, problem.hints),
                               problem.first_equation)
    try:
        statement = statement_html(markdown)
        gradients = {w.name: safe_mathml(partial(problem.loss, w)) for w in problem.wrt}
        answers = ({d.wrt.name: safe_mathml(d.result_latex(), display=True) for d in solution.derivations}
                   if rubric.show_answer else {})
    except Exception as error:  # noqa: BLE001 - the converter's own errors, whatever their class
        raise DeriveError(f"{path}: its maths could not be shown as MathML ({type(error).__name__}: {error})") from None
    title = problem.title or getattr(solution, "title", "") or key
    return Practice(key, title, statement, gradients, ProblemText.read(path), answers)
