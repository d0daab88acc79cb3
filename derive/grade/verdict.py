"""What `derive.verify` returns: the `Verdict` (correct, incorrect or undecided), its evidence, its diagnosis and,
for a derivation of several lines, each line's verdict; the tolerance and the number of valid points a verdict
is stated against, and the words for shapes. How a verdict is reached lives in `verify`, how a wrong answer is
diagnosed in `diagnosis`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sympy
from sympy import MatrixSymbol

from ..core import matrix_ops as mo
from ..read.answers import AnswerLine

DIAGNOSIS_KINDS = ("sign", "factor", "missing_factor", "extra_factor", "sigma_for_sigma_prime", "wrong_index",
                   "transposed", "reordered", "wrong_shape", "shape_mismatch", "other")
RTOL = 1e-6  # the numeric layer's relative tolerance, stated in every verdict
MIN_POINTS = 3  # fewer valid sample points than this is undecided, never correct


@dataclass(frozen=True, slots=True)
class Evidence:
    """One sample point: its size setting, the worst entry's answer and truth values, the relative error."""

    size: int
    point: dict
    answer: float
    truth: float
    relative_error: float


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What is wrong: `kind` (sign, factor, missing_factor, extra_factor, sigma_for_sigma_prime, ...) and a
    sentence for the student; `maths` are the pieces of LaTeX the sentence holds, verbatim and in order (a page
    shows them as maths, a terminal as they are)."""

    kind: str
    message: str
    maths: tuple = ()


@dataclass(frozen=True, slots=True)
class LineVerdict:
    """One line of a multi-line derivation: whether it equals the gradient (None: undecided)."""

    number: int
    text: str
    read_as: str
    equal: bool | None
    diagnosis: Diagnosis | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """correct / incorrect / undecided, what the answer was read as, why, and the evidence."""

    outcome: str
    wrt: str
    read_as: str
    diagnosis: Diagnosis | None = None
    reason: str = ""
    layer: str = ""
    evidence: tuple[Evidence, ...] = ()
    lines: tuple[LineVerdict, ...] = ()
    tolerance: float = RTOL
    expected_shape: str = ""

    @property
    def correct(self) -> bool:
        return self.outcome == "correct"

    @property
    def exit_code(self) -> int:
        return {"correct": 0, "incorrect": 1}.get(self.outcome, 3)

    def summary(self) -> str:
        """A few lines for a person: outcome, read as, diagnosis or reason."""
        lines = [f"{self.outcome}" + (f" ({self.layer})" if self.layer else ""), f"read as: {self.read_as}"]
        if self.diagnosis:
            lines.append(f"diagnosis: {self.diagnosis.message}")
        if self.reason:
            lines.append(f"reason: {self.reason}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_dict(self) -> dict:
        return {
            "outcome": self.outcome, "wrt": self.wrt, "read_as": self.read_as, "layer": self.layer,
            "diagnosis": None if self.diagnosis is None else {"kind": self.diagnosis.kind,
                                                              "message": self.diagnosis.message,
                                                              "maths": list(self.diagnosis.maths)},
            "reason": self.reason, "tolerance": self.tolerance, "expected_shape": self.expected_shape,
            "evidence": [{"size": e.size, "point": e.point, "answer": e.answer, "truth": e.truth,
                          "relative_error": e.relative_error} for e in self.evidence],
            "lines": [{"number": line.number, "text": line.text, "read_as": line.read_as, "equal": line.equal,
                       "diagnosis": None if line.diagnosis is None else line.diagnosis.message}
                      for line in self.lines],
        }


# -- shapes, in the words of a verdict ----------------------------------------------------------------------
def shape_words(shape) -> str:
    """'3 by 1' for (3, 1), 'a scalar' for None."""
    return "a scalar" if shape is None else f"{sympy.sstr(shape[0])} by {sympy.sstr(shape[1])}"


def expression_shape(expr):
    return tuple(expr.shape) if mo.is_matrix(expr) and tuple(expr.shape) != (1, 1) else None


def symbol_shape(symbol):
    return tuple(symbol.shape) if isinstance(symbol, MatrixSymbol) else None


# -- a derivation of several lines --------------------------------------------------------------------------
def _line_verdict(line: AnswerLine, verdict: Verdict) -> LineVerdict:
    equal = {"correct": True, "incorrect": False}.get(verdict.outcome)
    return LineVerdict(line.number, line.text, verdict.read_as, equal, verdict.diagnosis)


def _join(lines) -> str:
    return " = ".join(line.read_as or line.text for line in lines)


def _first_wrong(verdicts: list) -> tuple[int, Verdict] | None:
    return next(((i, v) for i, v in enumerate(verdicts) if v.outcome == "incorrect"), None)


def derivation_summary(lines, verdicts) -> Verdict:
    judged = [_line_verdict(line, v) for line, v in zip(lines, verdicts)]
    wrong = _first_wrong(verdicts)
    base = dict(wrt=verdicts[0].wrt, read_as=_join(lines), lines=tuple(judged),
                expected_shape=verdicts[0].expected_shape, evidence=verdicts[-1].evidence)
    if wrong is not None:
        i, v = wrong
        what = v.diagnosis.message if v.diagnosis else "it differs from the gradient"
        before = "" if i == 0 else f" (line {i} was still equal)"
        return Verdict("incorrect", layer=v.layer, reason=f"line {i + 1} stops being equal to the gradient"
                       f"{before}: {what}", diagnosis=v.diagnosis, **base)
    undecided = [i for i, v in enumerate(verdicts) if v.outcome == "undecided"]
    if undecided:
        return Verdict("undecided", reason=f"line {undecided[0] + 1}: {verdicts[undecided[0]].reason}", **base)
    return Verdict("correct", layer=max((v.layer for v in verdicts), key=["structural", "symbolic", "numeric"].index),
                   **base)
