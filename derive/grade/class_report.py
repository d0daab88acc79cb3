"""The class at a glance: the figures of a graded class for its instructor, from the same `Batch` as the CSV.

`class_report(batch, problem, rubric)` gives a `ClassReport`: the score distribution in bins, per gradient how
many answers were correct, incorrect, undecided, unreadable or missing (the CSV's outcome column, counted by
`batch.outcome`), the mistakes the class made most often grouped by gradient and diagnosis (each with an
anonymised example: the answer most students in the group wrote, and no name), the undecided answers with the
submission they came from (a person decides them, so the report says whose), the answers that could not be
read (a person looks at those too: the reader's error and what the student wrote), and the submissions that
could not be graded. `ClassReport.to_json()` is the machines' copy; the page is `class_page.py`'s.

The JSON (`"schema": "derive.class-report/1"`; a new key may be added in version 1, a key renamed or removed
makes it version 2):

    schema        "derive.class-report/1"
    title         the problem's title;  problem: the problem file's name
    students      submissions graded (the CSV's rows);  max_score: points per student
    scores        {mean, median, min, max} of the students' scores
    histogram     [{low, high, students}]: one bin per score a student can get (low == high) when the rubric
                  allows at most 21, else 10 equal bins of [0, max_score] (each [low, high), the last [low, high])
    gradients     [{wrt, points, outcomes: {correct, incorrect, undecided, invalid, missing}, shares: {...}}]
                  counts of students, and each as a share of `students` (rounded to 4 places)
    mistakes      [{wrt, kind, students, share, example: {answer, diagnosis, maths}}], most students first;
                  kind is one of verdict.DIAGNOSIS_KINDS; answer is LaTeX; maths the LaTeX pieces the diagnosis
                  sentence holds, verbatim; no student is named
    undecided     [{student, wrt, answer, reason}]: for a person to decide, in the CSV's order
    unreadable    [{student, wrt, answer, reason}]: answers the reader refused (outcome "invalid"), with what
                  the student wrote (its first 500 characters) and the reader's error, in the CSV's order
    not_graded    [{student, error}]: submissions that could not be read (every gradient "missing")
    hidden_files  names of files not graded because they start with "."
    seconds       how long grading took
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field

from ..core.printing import latex
from .batch import Batch, Rubric, outcome
from .verdict import DIAGNOSIS_KINDS

SCHEMA = "derive.class-report/1"
OUTCOMES = ("correct", "incorrect", "undecided", "invalid", "missing")  # every value of the CSV's outcome column
MAX_EXACT_BINS = 21  # up to this many possible scores, one bar each (0, 0.5, ..., 10); more: EQUAL_BINS
EQUAL_BINS = 10


@dataclass(frozen=True, slots=True)
class ScoreBin:
    """Students whose score is in [low, high) (the last bin: [low, high]); one score when low == high."""

    low: float
    high: float
    students: int


@dataclass(frozen=True, slots=True)
class GradientFigures:
    """One gradient: its points and how many students' answers came out each way (`OUTCOMES`)."""

    wrt: str
    latex: str  # the gradient, \partial L / \partial W (a fraction is too small to read in a table)
    points: float
    outcomes: dict


@dataclass(frozen=True, slots=True)
class Mistake:
    """A diagnosis made of several students' answers for one gradient, with the answer most of them wrote."""

    wrt: str
    kind: str
    students: int
    answer: str  # LaTeX, as derive read it
    diagnosis: str  # what the diagnosis said of that answer
    maths: tuple = ()  # the LaTeX pieces in `diagnosis`, verbatim


@dataclass(frozen=True, slots=True)
class UndecidedAnswer:
    """An answer derive could not decide (or could not read), with the submission it came from, for a person
    to look at."""

    student: str
    wrt: str
    answer: str
    reason: str


@dataclass
class ClassReport:
    """The figures of a graded class (see the module's docstring for their JSON)."""

    title: str
    problem: str
    max_score: float
    scores: list  # per student, in the CSV's order
    histogram: list  # [ScoreBin]
    gradients: list  # [GradientFigures]
    mistakes: list  # [Mistake], most students first
    undecided: list  # [UndecidedAnswer]
    not_graded: list  # [(student, error)]
    hidden_files: list = field(default_factory=list)
    seconds: float = 0.0
    unreadable: list = field(default_factory=list)  # [UndecidedAnswer]: the answer as written, the reader's error

    @property
    def students(self) -> int:
        return len(self.scores)

    def share(self, count: int) -> float:
        return round(count / self.students, 4) if self.students else 0.0

    def score_summary(self) -> dict:
        if not self.scores:
            return {"mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
        return {"mean": round(statistics.fmean(self.scores), 4), "median": float(statistics.median(self.scores)),
                "min": min(self.scores), "max": max(self.scores)}

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA, "title": self.title, "problem": self.problem, "students": self.students,
            "max_score": self.max_score, "scores": self.score_summary(),
            "histogram": [asdict(b) for b in self.histogram],
            "gradients": [{"wrt": g.wrt, "points": g.points, "outcomes": dict(g.outcomes),
                           "shares": {k: self.share(n) for k, n in g.outcomes.items()}} for g in self.gradients],
            "mistakes": [{"wrt": m.wrt, "kind": m.kind, "students": m.students, "share": self.share(m.students),
                          "example": {"answer": m.answer, "diagnosis": m.diagnosis, "maths": list(m.maths)}}
                         for m in self.mistakes],
            "undecided": [asdict(u) for u in self.undecided],
            "unreadable": [asdict(u) for u in self.unreadable],
            "not_graded": [{"student": s, "error": e} for s, e in self.not_graded],
            "hidden_files": list(self.hidden_files), "seconds": round(self.seconds, 3),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


def class_report(batch: Batch, problem, rubric: Rubric, source: str = "") -> ClassReport:
    """The figures of `batch` (graded against `problem` with `rubric`); `source` names the problem file."""
    wrts = [w.name for w in problem.wrt]
    results = batch.results
    gradients = [GradientFigures(w.name, rf"\partial {latex(problem.loss)} / \partial {latex(w)}", rubric.worth(w.name),
                                 {k: sum(outcome(r, w.name) == k for r in results) for k in OUTCOMES})
                 for w in problem.wrt]
    scores = [r.score for r in results]
    max_score = sum(rubric.worth(w) for w in wrts)
    return ClassReport(
        title=problem.title or "", problem=source, max_score=max_score, scores=scores,
        histogram=score_bins(scores, possible_scores(rubric, wrts), max_score), gradients=gradients,
        mistakes=mistakes(results, wrts),
        undecided=[UndecidedAnswer(r.student, w, r.verdicts[w].get("read_as", ""), r.verdicts[w].get("reason", ""))
                   for r in results for w in wrts if outcome(r, w) == "undecided"],
        unreadable=[UndecidedAnswer(r.student, w, r.verdicts[w].get("written", ""), r.verdicts[w].get("reason", ""))
                    for r in results for w in wrts if outcome(r, w) == "invalid"],
        not_graded=[(r.student, r.error) for r in results if r.error],
        hidden_files=list(batch.hidden), seconds=batch.seconds)


def mistakes(results, wrts: list[str]) -> list[Mistake]:
    """The incorrect answers grouped by gradient and diagnosis kind, most students first; each group's example
    is the answer most of its students wrote (the shortest, then the first alphabetically, of equals)."""
    groups: dict = {}
    for r in results:
        for w in wrts:
            if outcome(r, w) == "incorrect":
                verdict = r.verdicts[w]
                kind = (verdict.get("diagnosis") or {}).get("kind") or "other"
                groups.setdefault((w, kind), []).append(verdict)
    found = []
    for (w, kind), verdicts in groups.items():
        written = Counter(v.get("read_as", "") for v in verdicts)
        answer = min(written, key=lambda text: (-written[text], len(text), text))
        said = next(v for v in verdicts if v.get("read_as", "") == answer)
        diagnosis = said.get("diagnosis") or {}
        found.append(Mistake(w, kind, len(verdicts), answer, diagnosis.get("message", ""),
                             tuple(diagnosis.get("maths", ()))))
    order = {k: i for i, k in enumerate(DIAGNOSIS_KINDS)}
    return sorted(found, key=lambda m: (-m.students, wrts.index(m.wrt), order.get(m.kind, len(order))))


def possible_scores(rubric: Rubric, wrts: list[str]) -> list[float] | None:
    """Every score a student can get under `rubric` (sorted), or None when there are more than
    `MAX_EXACT_BINS` of them."""
    totals = {0.0}
    for w in wrts:
        worth = rubric.worth(w)
        each = {0.0, worth, round(worth * rubric.undecided, 6)} | {round(worth * f, 6) for f in rubric.partial.values()}
        totals = {round(t + e, 6) for t in totals for e in each}
        if len(totals) > MAX_EXACT_BINS:
            return None
    return sorted(totals)


def score_bins(scores: list[float], possible: list[float] | None, max_score: float) -> list[ScoreBin]:
    """The histogram: one bin per possible score, or `EQUAL_BINS` equal bins of [0, max_score]."""
    if possible is not None:
        counts = Counter(min(possible, key=lambda p: abs(p - s)) for s in scores)
        return [ScoreBin(p, p, counts[p]) for p in possible]
    width = max_score / EQUAL_BINS
    counts = Counter(min(int(round(s / width, 9)), EQUAL_BINS - 1) for s in scores)
    return [ScoreBin(round(i * width, 6), round((i + 1) * width, 6), counts[i]) for i in range(EQUAL_BINS)]
