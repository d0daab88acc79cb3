r"""Batch grading: a folder of student submissions against one problem, through a `concurrent.futures` executor.

A submission is one text file per student. Each answer in it starts with its left-hand side
(`\frac{\partial L}{\partial W^{(1)}} = ...`); answers are separated by blank lines; a problem with one
gradient may omit the left-hand side. Identical answers (same variable, same text up to spaces) are decided
once. Each decision runs in a pre-started worker process (`deciding`, `deadline.Workers`) that derived the problem once
and has its address space capped (`RLIMIT_AS`); a worker still deciding at the deadline is killed and
replaced. A timeout, a memory error or a crashed worker makes that answer undecided; the batch carries on.

The rubric lives in the problem file (`rubric:` is taken out before the problem is read):

    rubric:
      points: {W: 2}                          # per gradient; 1 each by default
      partial: {sign: 0.5, transposed: 0.5}   # fraction of a gradient's points per diagnosis kind
      undecided: 0                            # fraction for an undecided answer (flagged for a person)
      show_answer: false                      # feedback shows the derived gradient (default: never)

What does not live here: reading answers (`answers.py`), deciding (`verify.py`; in workers: `deciding`), the words of the
feedback (`templates/feedback.txt.j2`).
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..read.answers import AnswerError, left_side_variable, split_lines, clean
from ..core.errors import DeriveError, ProblemError
from ..read.parse import symbol_name
from .deciding import _limit_memory, run as _run  # noqa: F401 - _limit_memory: the workers' cap
from ..read.problem import load_yaml
from .submissions import (MAX_FILE_BYTES, hidden_files, read_submission, read_text as _read_text,  # noqa: F401
                          excerpt, spreadsheet_cell, student_name, submission_files)
TIME_LIMIT = 20.0  # seconds per answer
MEMORY_LIMIT = 2 * 1024 ** 3  # bytes of address space per worker


# -- reading the problem, the rubric and the submissions ------------------------------------------------

@dataclass(frozen=True, slots=True)
class Rubric:
    """Points per gradient, the fraction of them given per diagnosis kind, and for undecided answers."""

    points: dict = field(default_factory=dict)
    partial: dict = field(default_factory=dict)
    undecided: float = 0.0
    show_answer: bool = False

    def worth(self, wrt: str) -> float:
        return float(self.points.get(wrt, 1.0))

    def score(self, wrt: str, outcome: str, kind: str | None) -> float:
        if outcome == "correct":
            return self.worth(wrt)
        fraction = self.undecided if outcome == "undecided" else self.partial.get(kind, 0.0) if kind else 0.0
        return round(self.worth(wrt) * float(fraction), 6)


def load_problem(path: Path, trust: bool = True):
    """The problem in `path` (its rubric, if any, is ignored here; see `load_rubric`); with `trust=False`
    a `syntax: sympy` file, which evaluates Python, is refused."""
    from ..solve.problem import Problem

    path = Path(path)
    if not path.is_file():
        raise DeriveError(f"no problem file '{path}'")
    text = _read_text(path)
    return Problem.from_text(_without_key(text, "rubric"), str(path), trust=trust)


def load_rubric(path: Path, problem) -> Rubric:
    """The `rubric:` of a problem file, checked against its gradients and the diagnosis kinds."""
    from .verdict import DIAGNOSIS_KINDS

    data = load_yaml(_read_text(Path(path)), str(path))[0] or {}
    rubric = data.get("rubric") or {}
    where = f"{path}, rubric"
    if not isinstance(rubric, dict) or set(rubric) - {"points", "partial", "undecided", "show_answer"}:
        raise ProblemError("the rubric is a mapping with points, partial, undecided and show_answer", where)
    names = {w.name for w in problem.wrt}
    points = {symbol_name(str(k)): v for k, v in (rubric.get("points") or {}).items()}
    partial = dict(rubric.get("partial") or {})
    for name, value in points.items():
        if name not in names or not _number(value) or value < 0:
            raise ProblemError(f"points for {name}: give a number >= 0 for one of {', '.join(sorted(names))}", where)
    for kind, value in partial.items():
        if kind not in DIAGNOSIS_KINDS or not _number(value) or not 0 <= value <= 1:
            raise ProblemError(f"partial credit for '{kind}': give a fraction 0..1 for one of "
                               f"{', '.join(DIAGNOSIS_KINDS)}", where)
    undecided = rubric.get("undecided", 0.0)
    if not _number(undecided) or not 0 <= undecided <= 1:
        raise ProblemError("undecided: give a fraction from 0 to 1", where)
    show_answer = rubric.get("show_answer", False)
    if not isinstance(show_answer, bool):
        raise ProblemError("show_answer: give true or false", where)
    return Rubric(points, partial, float(undecided), show_answer)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _without_key(text: str, key: str) -> str:
    """The YAML text with a top-level key and its value blanked out (line numbers kept for messages)."""
    try:
        root = load_yaml(text)[1]
    except (yaml.YAMLError, DeriveError):
        return text  # the problem reader reports it with its line
    if not isinstance(root, yaml.MappingNode):
        return text
    lines = text.split("\n")
    for k, value in root.value:
        if getattr(k, "value", None) == key:
            end = value.end_mark.line + (1 if value.end_mark.column else 0)
            for i in range(k.start_mark.line, max(end, k.start_mark.line + 1)):
                lines[i] = ""
    return "\n".join(lines)


def split_answers(text: str, wrts: list[str]) -> dict[str, str]:
    """{variable: answer text} from a submission: blocks separated by blank lines, each naming its variable
    by its left-hand side (optional when the problem has one gradient)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip() and not _only_comments(b)]
    answers: dict[str, str] = {}
    for number, block in enumerate(blocks, 1):
        pieces = split_lines(clean(_uncommented(block)))
        named = left_side_variable(pieces[0]) if pieces else None
        if named is None and len(wrts) == 1:
            named = wrts[0]
        if named is None:
            raise AnswerError(f"answer {number} does not say which gradient it is: start it with "
                              rf"\frac{{\partial L}}{{\partial {wrts[0]}}} =")
        if named not in wrts:
            raise AnswerError(f"answer {number} is for {named}, which the problem does not ask for "
                              f"(it asks for {', '.join(wrts)})")
        if named in answers:
            raise AnswerError(f"there are two answers for {named}")
        for line in [l for l in _uncommented(block).splitlines() if l.strip()][1:]:  # a second left-hand side: another answer
            try:
                another = left_side_variable(line.split("=", 1)[0].strip()) if "=" in line else None
            except AnswerError:
                another = None
            if another is not None:
                raise AnswerError(f"'{line.strip()[:60]}' starts another answer on the next line: separate "
                                  "answers with a blank line")
        answers[named] = _uncommented(block)
    if not answers:
        raise AnswerError("the submission is empty")
    return answers


def _uncommented(block: str) -> str:
    return "\n".join(re.sub(r"(?<!\\)%.*$", "", line) for line in block.split("\n"))


def _only_comments(block: str) -> bool:
    return not _uncommented(block).strip()


# -- what workers receive -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ProblemText:
    """A problem file's text and name, sent to workers (which may be on other machines) instead of a path."""

    text: str
    source: str

    @classmethod
    def read(cls, path: Path) -> "ProblemText":
        return cls(_without_key(_read_text(Path(path)), "rubric"), str(path))


# -- the batch ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StudentResult:
    """One student's verdicts (as dictionaries, per variable), score, and the problem with their file, if any."""

    student: str
    verdicts: dict
    score: float
    max_score: float
    error: str = ""


@dataclass
class Batch:
    """Everything `grade` found: per student results, and how long it took."""

    results: list
    seconds: float
    decided: int  # distinct answers decided (identical answers once)
    answers: int  # answers in all submissions
    hidden: list = field(default_factory=list)  # names of files not graded because they start with "."

    def to_csv(self, wrts: list[str]) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["student", "score", "max_score", *[f"{w} outcome" for w in wrts], "feedback"])
        for r in self.results:
            outcomes = [outcome(r, w) for w in wrts]
            writer.writerow([spreadsheet_cell(cell) for cell in (r.student, r.score, r.max_score, *outcomes,
                                                                 feedback(r, wrts=wrts))])
        return out.getvalue()

    def to_gradescope(self, rubric: Rubric, wrts: list[str]) -> str:
        tests = []
        for r in self.results:
            for w in wrts:
                verdict = r.verdicts.get(w)
                score = rubric.score(w, verdict["outcome"], _kind(verdict)) if verdict else 0.0
                tests.append({"name": f"{r.student}: dL/d{w}", "score": score, "max_score": rubric.worth(w),
                              "status": "passed" if verdict and verdict["outcome"] == "correct" else "failed",
                              "output": feedback(r, only=w, wrts=wrts), "visibility": "visible"})
        return json.dumps({"score": round(sum(r.score for r in self.results), 6),
                           "execution_time": round(self.seconds, 3),
                           "output": f"{len(self.results)} submission(s) graded by derive", "visibility": "visible",
                           "tests": tests}, indent=2)


def outcome(result: StudentResult, wrt: str) -> str:
    """What became of one student's answer for `wrt`: correct, incorrect, undecided, invalid (it could not be
    read), or missing (no answer, or a file that could not be read); the CSV's column and the class report's."""
    return result.verdicts.get(wrt, {}).get("outcome", "missing")


def _kind(verdict: dict | None) -> str | None:
    return (verdict.get("diagnosis") or {}).get("kind") if verdict else None


def dask_executor(address: str) -> Executor:
    """A `concurrent.futures` executor on a `dask.distributed` scheduler (the optional extra `derive[dask]`)."""
    try:
        from distributed import Client
    except ImportError:
        raise DeriveError("--executor needs dask.distributed: pip install 'derive[dask]'") from None
    try:
        return Client(address, timeout=10).get_executor(pure=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise DeriveError(f"cannot reach the dask scheduler at {address}: {error}") from None


def grade(problem_path: Path, folder: Path, executor: Executor | None = None, jobs: int = 2, seed: int = 0,
          time_limit: float = TIME_LIMIT, memory: int | None = MEMORY_LIMIT, progress=None,
          trust_problem: bool = False) -> Batch:
    """Grade every file in `folder` against the problem; `progress(n)` is called as answers are decided.
    A `syntax: sympy` problem is refused unless `trust_problem` (its parser evaluates Python)."""
    start = time.perf_counter()
    problem = load_problem(problem_path, trust=trust_problem)
    rubric = load_rubric(problem_path, problem)
    wrts = [w.name for w in problem.wrt]
    students, tasks = _collect(submission_files(folder), wrts)
    unique = list(dict.fromkeys(tasks.values()))
    decided = _run(ProblemText.read(problem_path), unique, executor, jobs, seed, time_limit, memory, progress,
                   loaded=problem)
    results = [_result(name, answers, error, decided, tasks, rubric, wrts) for name, (answers, error) in students.items()]
    hidden = [student_name(p.name) for p in hidden_files(folder)]
    return Batch(results, time.perf_counter() - start, len(unique), len(tasks), hidden)


def _without_left_side(text: str) -> str:
    """The answer without its left-hand side (already checked), so that answers with and without one
    are decided once."""
    pieces = split_lines(clean(text))
    if len(pieces) > 1 and left_side_variable(pieces[0]) is not None:
        return " = ".join(pieces[1:])
    return text


def _normalised(text: str) -> str:
    return " ".join(text.split())


def _collect(files: list[Path], wrts: list[str]):
    students, tasks = {}, {}
    for path in files:
        name = unique_name(student_name(path.name), students)
        try:
            answers = split_answers(read_submission(path), wrts)
            students[name] = (answers, "")
        except AnswerError as error:
            students[name] = ({}, error.message)
            continue
        for w, text in answers.items():
            tasks[(name, w)] = (w, _normalised(_without_left_side(text)))
    return students, tasks


def unique_name(name: str, taken, form: str = "{name} ({number})") -> str:
    """`name`, or `name (2)`, ... (in `form`) when it is already `taken` (two file names that print alike,
    b'a\\xff' and b'a\xff'; two problem files of one stem)."""
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        candidate = form.format(name=name, number=number)
    return candidate


def _result(name, answers, error, decided, tasks, rubric, wrts) -> StudentResult:
    verdicts = {w: _quoted_briefly(decided[tasks[(name, w)]]) for w in answers}
    score = sum(rubric.score(w, v["outcome"], _kind(v)) for w, v in verdicts.items())
    return StudentResult(name, verdicts, float(round(score, 6)), sum(rubric.worth(w) for w in wrts), error)


def _quoted_briefly(verdict: dict) -> dict:
    """The verdict with what it quotes of the student's text (read as, reason) cut to a bounded excerpt."""
    return {**verdict, **{key: excerpt(verdict[key]) for key in ("read_as", "reason") if verdict.get(key)}}


def feedback(result: StudentResult, only: str | None = None, wrts: list[str] | None = None,
             answers: dict | None = None) -> str:
    """The feedback text for one student (or one of their answers), from `templates/feedback.txt.j2`.
    Every gradient in `wrts` the student did not answer says "no answer"; the derived gradient is shown
    only from `answers` ({variable: LaTeX}, given when the rubric says `show_answer: true`)."""
    from ..write.render import environment

    names = [w for w in (wrts or result.verdicts) if only is None or w == only]
    verdicts = {w: result.verdicts.get(w) for w in names}
    return environment().get_template("feedback.txt.j2").render(
        result=result, verdicts=verdicts, answers=answers or {}).strip()
