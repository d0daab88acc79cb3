r"""Deciding whether a student's gradient is right, and saying what is wrong with it: `verify` and `Verdict`.

Layers, cheapest first: structural (the answer, with the problem's intermediates substituted, is the
derived gradient as an expression), symbolic (for small scalar answers: the expanded difference is 0),
numeric (the answer and the derived gradient at seeded random points and random matrices, every symbolic
size set to 2, 3 and 5 in turn, relative tolerance `RTOL` against the larger magnitude; points where either
is not finite or lies near a ReLU kink are skipped; an answer's own kink that the sample never crosses is
crossed further out), and exact for an answer that passed the tolerance (its difference from the gradient at
rational points, sizes `EXACT_SIZE`, to far more digits than its numbers have: a near miss is incorrect).
Correct needs agreement at every valid point; a disagreement at a valid point is incorrect, then diagnosed;
too few valid points, or running out of the clock time limit (`verify(..., time_limit=)`, the layer named),
is undecided, never incorrect.

Diagnoses compare numerically as well: the ratio to the truth (sign, constant factor), the gradient with
respect to another variable (wrong index), the truth without one of its factors (missing factor) or the
answer without one (extra factor), sigma for sigma', the transpose, a reversed product, the shape.
What does not live here: the diagnoses (`diagnosis`), the verdict's data (`verdict`), reading the answer
(`derive.read.answers`), batches (`batch`).
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import MatrixSymbol, Symbol

from ..core.errors import ProblemError
from ..core import matrix_ops as mo
from ..read.answers import AnswerError, AnswerLine, read_answer
from ..check.gradient_check import kink_expressions
from .deadline import TimeLimitReached, within
from ..check.numeric import MatrixEvaluator, compile_expression
from ..core.matrix_explicit import explicit
from ..core.printing import latex
from ..read.matrix_tokens import _digits
from .diagnosis import Diagnoses
from .verdict import (MIN_POINTS, RTOL, Diagnosis, Evidence, LineVerdict, Verdict, derivation_summary,
                      expression_shape, shape_words, symbol_shape)

POINTS = 6
SIZES = (2, 3, 5)  # symbolic sizes (n) of the first points, to catch slips that only show at some sizes
FAR_SIZES = tuple(range(6, 13))  # the other points' sizes are drawn from these (by the seed): an answer made
# right only at the sizes tried ((n-2)(n-3)(n-4)(n-5) W added) cannot know them
KINK_DISTANCE = 1e-3
SYMBOLIC_OPS = 150  # the symbolic layer only expands differences this small (the clock bounds the rest)
EXACT_DIGITS = 50  # an answer that passes the float tolerance is evaluated again exactly, to at least these digits
FAR_SCALES = (4.0, 8.0, 16.0)  # where an answer's kink is never crossed at the sample points, look this far out
EXACT_SIZE = 4  # the symbolic sizes there: small, and not one of SIZES
EXACT_POINTS = 2
EXACT_NODES = 4000  # expressions larger than this are left to the float layer (the clock bounds the rest)
TIME_LIMIT = 20.0  # seconds of clock time for one verify, deriving the gradient included


def verify(problem, wrt, answer_latex: str, seed: int = 0, time_limit: float | None = TIME_LIMIT) -> Verdict:
    """The verdict on `answer_latex` as the gradient of `problem`'s loss with respect to `wrt`, within
    `time_limit` seconds of clock time (None: no limit), deriving the gradient included; when the time is
    up the verdict is undecided, its reason naming the layer that was running (`derive.grade.deadline.within`).

    Raises `AnswerError` (a `DeriveError`) for bad input: empty, unreadable, unknown symbols, wrong variable."""
    def work(report):
        judge = Judge(problem, wrt, seed)
        judge.report = report
        return judge.verdict(answer_latex)

    try:
        return within(work, time_limit, start=("derivation", answer_latex))
    except TimeLimitReached as reached:
        return Verdict("undecided", wrt=getattr(wrt, "name", str(wrt)), read_as=reached.note,
                       reason=str(reached), layer=reached.stage)



class Judge(Diagnoses):
    """Everything about one gradient that does not depend on the answer: the truth, the sample points,
    the truth's values there. Reused across answers (a batch builds one per variable)."""

    def __init__(self, problem, wrt, seed: int = 0):
        self.problem = problem
        self.seed = seed
        self.network = problem.network
        self.loss = problem.loss
        try:
            self.solution = problem.solve([wrt] if not isinstance(wrt, (list, tuple)) else wrt)
            self.derivation = self.solution.derivations[0]
            self.wrt = self.derivation.wrt
            self.truth = self.derivation.expanded()  # answers are compared in the inputs
            self.others = self._other_gradients()
            self.inputs = sorted(self.network.inputs.values(), key=lambda s: s.name)
            self._compiled: dict = {}
            self.points = self._draw_points(np.random.default_rng(seed))
            self.truth_values = [self._value(self.truth, p) for p in self.points]
        except RecursionError:
            raise ProblemError("the gradient of this problem, written out in its inputs, nests deeper than answers "
                               "can be compared with: grade a network with fewer layers or definitions in a chain",
                               getattr(problem, "source", "") or "the problem") from None
        self.report = lambda stage, note="": None  # where a time limit is watching: the layer now running
        self.max_size = max([*SIZES, *FAR_SIZES, *(int(d) for s in self.network.all_symbols()  # sizes an answer may write
                                       for d in getattr(s, "shape", ()) if getattr(d, "is_Integer", False))])

    # -- the problem's side

    def _other_gradients(self) -> dict:
        others = [w for w in self.problem.wrt if w != self.wrt and symbol_shape(w) == symbol_shape(self.wrt)]
        if not others:
            return {}
        solution = self.problem.solve(others)
        return {d.wrt: d.expanded() for d in solution.derivations}

    def _draw_points(self, rng) -> list[dict]:
        inputs = sorted(self.network.inputs.values(), key=lambda s: s.name)
        kinks = self._kinks(self.truth) + self._kinks(self.network.expand(self.loss))
        points = []
        sizes = [*SIZES, *(int(k) for k in rng.choice(FAR_SIZES, size=POINTS - len(SIZES), replace=False))]
        for i in range(POINTS):
            size = sizes[i % len(sizes)]
            for _ in range(200):
                values = self._draw(rng, inputs, size)
                if self._usable(self.truth, values, kinks):
                    points.append(values)
                    break
        return points

    def _draw(self, rng, inputs, size, scale: float = 2.0) -> dict:
        values: dict = {d: size for d in self.network.dimensions}
        for symbol in inputs:
            if isinstance(symbol, MatrixSymbol):
                shape = tuple(int(sympy.sympify(d).xreplace(values)) for d in symbol.shape)
                value = rng.uniform(-scale, scale, size=shape)
                if symbol in self.network.one_hot:
                    value[:, -1] = 1 - value[:, :-1].sum(axis=1)
                values[symbol] = value
            else:
                values[symbol] = float(rng.uniform(-scale, scale))
        return values

    @staticmethod
    def _kinks(expr) -> list:
        if mo.is_matrix(expr):
            return []
        try:
            return kink_expressions(expr)
        except Exception:  # an expression the registry does not know has no kinks we can name
            return []

    def _usable(self, expr, values, kinks) -> bool:
        with np.errstate(all="ignore"):
            try:
                value, kink_distance = self._evaluated(expr, values)
                near = [abs(float(self._evaluated(k, values)[0])) for k in kinks]
            except (TypeError, KeyError, ValueError, ZeroDivisionError, OverflowError, np.linalg.LinAlgError):
                return False
        return bool(np.all(np.isfinite(value))) and kink_distance >= KINK_DISTANCE and \
            all(d >= KINK_DISTANCE for d in near)

    def _value(self, expr, values):
        """The value of `expr` at a point; not a number where it cannot be computed (x^{10000} overflows)."""
        with np.errstate(all="ignore"):
            try:
                return self._evaluated(expr, values)[0]
            except (OverflowError, ZeroDivisionError, ValueError, TypeError, np.linalg.LinAlgError):
                return np.asarray(np.nan)

    def _evaluated(self, expr, values) -> tuple[np.ndarray, float]:
        """(value, distance of any matrix ReLU argument from its kink). Scalar networks are compiled once
        per expression (`numeric.compile_expression`, on expression objects, never on text)."""
        if self.network.has_matrices:
            evaluator = MatrixEvaluator(values)
            return _real(evaluator(expr)), evaluator.kink_distance
        if expr not in self._compiled:
            if len(self._compiled) > 512:
                self._compiled.clear()
            self._compiled[expr] = compile_expression(expr, self.inputs)
        return _real(self._compiled[expr](*(values[s] for s in self.inputs))), np.inf

    # -- the answer's side

    def verdict(self, answer_latex: str) -> Verdict:
        self.report("reading", answer_latex)
        lines = read_answer(answer_latex, self.network, self.loss, self.wrt, max_size=self.max_size)
        if len(lines) == 1:
            return self.judge_line(lines[0])
        return derivation_summary(lines, [self.judge_line(line) for line in lines])

    def judge_line(self, line: AnswerLine) -> Verdict:
        expected = shape_words(expression_shape(self.truth))
        base = dict(wrt=self.wrt.name, read_as=line.read_as or line.text, expected_shape=expected)
        if line.expr is None:
            return Verdict("incorrect", diagnosis=Diagnosis("shape_mismatch", line.shape_error), layer="structural",
                           **base)
        self.report("structural", base["read_as"])
        answer = self.network.expand(line.expr)
        ambiguity = self._ambiguity(line, answer)
        if ambiguity:
            return Verdict("undecided", reason=ambiguity, layer="structural", **base)
        if self._structurally_equal(line.expr, answer):
            return Verdict("correct", layer="structural", **base)
        if expression_shape(answer) != expression_shape(self.truth):
            return Verdict("incorrect", diagnosis=self._shape_diagnosis(answer), layer="structural", **base)
        self.report("symbolic", base["read_as"])
        if self._symbolically_equal(answer):
            return Verdict("correct", layer="symbolic", **base)
        self.report("numeric", base["read_as"])
        kinks = self._kinks(answer)
        evidence, undecided = self._compare(answer, kinks)
        if undecided:
            return Verdict("undecided", reason=undecided, layer="numeric", evidence=tuple(evidence), **base)
        if all(e.relative_error <= RTOL for e in evidence):
            elsewhere = self._other_side_of_kinks(answer, kinks)
            if elsewhere is not None:
                return Verdict("incorrect", diagnosis=elsewhere[0], layer="numeric",
                               evidence=tuple(evidence) + (elsewhere[1],), **base)
            near_miss = self._exact_difference(answer)
            if near_miss is None:
                return Verdict("correct", layer="numeric", evidence=tuple(evidence), **base)
            return Verdict("incorrect", diagnosis=near_miss, layer="exact", evidence=tuple(evidence), **base)
        return Verdict("incorrect", diagnosis=self.diagnose(line.expr, answer, kinks), layer="numeric",
                       evidence=tuple(evidence), **base)

    def _ambiguity(self, line: AnswerLine, answer) -> str:
        """A reason when latex2sympy2_extended reads the line as something else than derive's reader does."""
        second = line.second_reading
        if second is None or second == line.expr:
            return ""
        other = self.network.expand(second)
        values = [self._value(answer, p) for p in self.points]
        evaluable = sum(bool(np.all(np.isfinite(v))) for v in values) >= MIN_POINTS
        if other == answer or not evaluable or self.agrees(other, values):
            return ""
        return (f"the answer can be read in two ways, as {line.read_as} and as {latex(second)}: "
                "add brackets or \\cdot to say which")

    def _structurally_equal(self, written, answer) -> bool:
        candidates = (self.derivation.result, self.truth)
        return any(written == c or answer == c for c in candidates)

    def _symbolically_equal(self, answer) -> bool:
        if mo.is_matrix(answer) or sympy.count_ops(answer) > SYMBOLIC_OPS or sympy.count_ops(self.truth) > SYMBOLIC_OPS:
            return False
        if any(p.exp.is_Integer and abs(p.exp) > 4 for p in answer.atoms(sympy.Pow)):
            return False
        return sympy.expand(answer - self.truth) == 0

    def _exact_difference(self, answer) -> Diagnosis | None:
        """An answer that passed the float tolerance, evaluated again at rational points, symbolic sizes set
        to `EXACT_SIZE` (not one of the numeric layer's), to far more digits than the answer's own numbers
        have (`_exact_precision`): a difference past rounding there (the gradient + 10^{-9} W, + 10^{-60}) is
        incorrect. None when it is zero, or when the check does not apply (large expressions, values that
        are not real, notation with no explicit form)."""
        if _size(answer) > EXACT_NODES or _size(self.truth) > EXACT_NODES:
            return None
        precision = _exact_precision(answer)
        rng = np.random.default_rng(self.seed + 1)
        for _ in range(EXACT_POINTS):
            point = self._rational_point(rng)
            try:
                gaps, scale = _exact_gaps(answer, self.truth, point, precision)
            except (TypeError, KeyError, ValueError, ZeroDivisionError, NotImplementedError, AttributeError):
                return None
            if gaps is None:
                return None
            if gaps:
                gap, size = float(max(gaps)), float(scale)
                if gap <= RTOL * max(size, 1e-300):  # passed the float test for being this close
                    return Diagnosis("other", f"close to the gradient but not equal to it: a difference of {gap:.1e} "
                                              f"(the gradient is of size {size:.1e}) at {_shown_point(point)}, "
                                              f"below the numeric tolerance {RTOL:g} but not zero")
                return Diagnosis("other", f"not equal to the gradient: a difference of {gap:.1e} (the gradient is "
                                          f"of size {size:.1e}) at {_shown_point(point)}, where the sizes differ from "
                                          "the points sampled before")
        return None

    def _other_side_of_kinks(self, answer, kinks) -> tuple[Diagnosis, Evidence] | None:
        """An answer with a kink (ReLU(w x - 5), |x - 3|) whose argument keeps one sign at every sample point
        is compared on its other side too, at points drawn further out (`FAR_SCALES`): (the diagnosis, the
        evidence) where it differs there, None where it agrees or no such point is found."""
        rng = np.random.default_rng(self.seed + 2)
        for kink in kinks:
            signs = {np.sign(self._value(kink, p)) for p in self.points}
            for scale in FAR_SCALES:
                found = next((v for v in (self._draw(rng, self.inputs, SIZES[0], scale) for _ in range(40))
                              if np.sign(self._value(kink, v)) not in signs and self._usable(self.truth, v, kinks)
                              and self._usable(answer, v, kinks)), None)
                if found is not None:
                    evidence = _evidence(found, self._value(answer, found), self._value(self.truth, found))
                    if evidence.relative_error > RTOL:
                        return Diagnosis("other", f"your answer agrees with the gradient at the sample points, all on "
                                                  f"one side of the kink of {latex(kink)}, but not on its other "
                                                  f"side"), evidence
                    break
        return None

    def _rational_point(self, rng) -> dict:
        """Inputs at random rationals p/q (|p/q| up to about 3.6), symbolic sizes `EXACT_SIZE`."""
        point: dict = {d: EXACT_SIZE for d in self.network.dimensions}

        def number():
            return sympy.Rational(int(rng.integers(-40, 41)) or 3, int(rng.integers(11, 24)))

        for symbol in self.inputs:
            if isinstance(symbol, MatrixSymbol):
                rows, cols = (int(sympy.sympify(d).xreplace(point)) for d in symbol.shape)
                entries = [[number() for _ in range(cols)] for _ in range(rows)]
                if symbol in self.network.one_hot:
                    for row in entries:
                        row[-1] = 1 - sum(row[:-1])
                point[symbol] = sympy.ImmutableMatrix(entries)
            else:
                point[symbol] = number()
        return point

    def _compare(self, answer, kinks) -> tuple[list[Evidence], str]:
        evidence, skipped = [], 0
        for values, truth in zip(self.points, self.truth_values):
            if not self._usable(answer, values, kinks):
                skipped += 1
                continue
            evidence.append(_evidence(values, self._value(answer, values), truth))
        if any(e.relative_error > RTOL for e in evidence):
            return evidence, ""
        if len(evidence) < MIN_POINTS:
            return evidence, (f"the answer could be evaluated at only {len(evidence)} of {len(self.points)} sample "
                              f"points ({skipped} gave values that are not finite or lie at a kink)")
        return evidence, ""

    def agrees(self, candidate, truths=None, kinks=()) -> bool:
        """Whether `candidate` (in the inputs) equals the truth (or `truths`, values per point) everywhere."""
        truths = self.truth_values if truths is None else truths
        used = 0
        for values, truth in zip(self.points, truths):
            if not self._usable(candidate, values, kinks):
                continue
            value = self._value(candidate, values)
            if np.shape(value) != np.shape(truth) and np.size(value) != np.size(truth):
                return False
            if _relative_error(value.reshape(np.shape(truth)) if np.size(value) == np.size(truth) else value,
                               truth) > RTOL:
                return False
            used += 1
        return used >= MIN_POINTS


# -- helpers ---------------------------------------------------------------------------------------------

def _size(expr) -> int:
    return sum(1 for _ in sympy.preorder_traversal(expr))


def _exact_precision(answer) -> int:
    """Digits to evaluate to before a difference counts as zero: well past the smallest difference the
    answer's own numbers can make (10^{-60}: 60 digits), and never fewer than `EXACT_DIGITS`."""
    digits = max((_digits(r) for r in answer.atoms(sympy.Rational)), default=1.0)
    return int(3 * digits) + EXACT_DIGITS


def _exact_gaps(answer, truth, point, digits):
    """([|difference| of each entry that is not zero], size of the gradient) at an exact point, each value
    evaluated to `digits` digits (a difference below 10^{-(digits - 15)} of the gradient's size is rounding);
    (None, 0) when a value there is not a finite real number."""
    def floats(key, value):  # the exact rationals, carried to `digits` digits (not symbolic: fast)
        if isinstance(value, sympy.MatrixBase):
            return value.applyfunc(lambda u: sympy.Float(u, digits))
        return value if isinstance(key, Symbol) and key.is_integer else sympy.Float(value, digits)

    point = {key: floats(key, value) for key, value in point.items()}
    answer_value, truth_value = explicit(answer, point), explicit(truth, point)  # Floats of `digits` digits
    answers = list(answer_value) if isinstance(answer_value, sympy.MatrixBase) else [answer_value]
    truths = list(truth_value) if isinstance(truth_value, sympy.MatrixBase) else [truth_value]
    answers = [sympy.N(a, digits) for a in answers]
    truths = [sympy.N(t, digits) for t in truths]
    if not all(v.is_real and v.is_finite for v in answers + truths):
        return None, 0
    scale = max(abs(t) for t in truths)
    rounding = max(scale, 1) * sympy.Float(10, digits) ** (15 - digits)
    gaps = [abs(a - t) for a, t in zip(answers, truths) if abs(a - t) > rounding]
    return gaps, scale


def _shown_point(point) -> str:
    """The point in a few words (a long one cut short: the evidence has it in full)."""
    shown = ", ".join(f"{getattr(s, 'name', s)} = {v.tolist() if isinstance(v, sympy.MatrixBase) else v}"
                      for s, v in point.items() if not (isinstance(s, Symbol) and s.is_integer))
    return shown if len(shown) <= 160 else shown[:157] + "..."


def _real(value) -> np.ndarray:
    """A value as floats; a complex value (a root or log of a negative number) is not finite here."""
    value = np.asarray(value)
    if np.iscomplexobj(value):
        return np.full(value.shape, np.nan) if np.any(value.imag != 0) else value.real.astype(float)
    return value.astype(float)


def _relative_error(value, truth) -> float:
    value, truth = np.asarray(value, dtype=float), np.asarray(truth, dtype=float)
    scale = max(float(np.max(np.abs(truth), initial=0.0)), float(np.max(np.abs(value), initial=0.0)))
    if scale < 1e-12:
        return 0.0
    return float(np.max(np.abs(value.reshape(truth.shape) - truth))) / scale


def _evidence(values, value, truth) -> Evidence:
    value = np.asarray(value, dtype=float).reshape(np.shape(truth))
    worst = np.unravel_index(np.argmax(np.abs(value - truth)), np.shape(truth)) if np.ndim(truth) else ()
    size = next((v for k, v in values.items() if isinstance(k, Symbol) and not isinstance(v, np.ndarray)
                 and k.is_integer), 0)
    point = {str(k): (np.round(v, 6).tolist() if isinstance(v, np.ndarray) else round(float(v), 6))
             for k, v in values.items() if not (isinstance(k, Symbol) and k.is_integer)}
    return Evidence(int(size), point, float(value[worst]), float(truth[worst]), _relative_error(value, truth))


__all__ = ["AnswerError", "Diagnosis", "Evidence", "Judge", "LineVerdict", "RTOL", "Verdict", "verify"]
