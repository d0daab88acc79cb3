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

from pathlib import Path

import numpy as np
import sympy
from sympy import MatrixSymbol, Symbol

from ..core.errors import DeriveError, ProblemError
from ..core import matrix_ops as mo
from ..read.answers import AnswerError, AnswerLine, read_answer
from ..check.gradient_check import kink_expressions
from .crossing import beyond, direction_of, kink_arguments, signs_seen
from .deadline import TimeLimitReached, within
from ..check.numeric import MatrixEvaluator, compile_expression
from ..core.printing import latex
from .diagnosis import Diagnoses, diagnosis_budget
from .exactly import EXACT_DIGITS, exact_gaps, exact_precision, expression_size, shown_point  # noqa: F401 (EXACT_DIGITS: derive 0.1 name)
from .verdict import (MIN_POINTS, RTOL, Diagnosis, Evidence, LineVerdict, Verdict, derivation_summary,
                      expression_shape, shape_words, symbol_shape)

POINTS = 6
SIZES = (2, 3, 5)  # symbolic sizes (n) of the first points, to catch slips that only show at some sizes
FAR_SIZES = tuple(range(6, 13))  # the other points' sizes are drawn from these (by the seed): an answer made
# right only at the sizes tried ((n-2)(n-3)(n-4)(n-5) W added) cannot know them
KINK_DISTANCE = 1e-3
ABSOLUTE_FLOOR = 1e-12  # relative to the gradient's largest entry over the sample points (`_floor`)
SYMBOLIC_OPS = 150  # the symbolic layer only expands differences this small (the clock bounds the rest)
CROSSING_POINTS = 4  # points compared on the other side of a kink the sample points never crossed
EXACT_SIZE = 4  # the symbolic sizes there: small, and not one of SIZES
EXACT_POINTS = 2
EXACT_NODES = 4000  # expressions larger than this are left to the float layer (the clock bounds the rest)
EXACT_ENTRY_SECONDS = 2e-4  # exact evaluation's cost per matrix entry, twice as many points (measured: 24,000 in 4 s)
TIME_LIMIT = 20.0  # seconds of clock time for one verify, deriving the gradient included


def verify(problem, wrt, answer_latex: str, seed: int = 0, time_limit: float | None = TIME_LIMIT) -> Verdict:
    """The verdict on `answer_latex` as the gradient of `problem`'s loss with respect to `wrt`, within
    `time_limit` seconds of clock time (None: no limit), deriving the gradient included; when the time is
    up the verdict is undecided, its reason naming the layer that was running (`derive.grade.deadline.within`).

    Raises `AnswerError` (a `DeriveError`) for bad input: empty, unreadable, unknown symbols, wrong variable;
    a `DeriveError` naming what was expected for an argument of the wrong type."""
    _check_arguments(problem, wrt, seed, time_limit)

    def work(report):
        judge = Judge(problem, wrt, seed)
        judge.report = report
        judge.diagnosis_seconds = diagnosis_budget(time_limit)
        return judge.verdict(answer_latex)

    try:
        return within(work, time_limit, start=("derivation", answer_latex))
    except TimeLimitReached as reached:
        return Verdict("undecided", wrt=getattr(wrt, "name", str(wrt)), read_as=reached.note,
                       reason=str(reached), layer=reached.stage)


def _check_arguments(problem, wrt, seed, time_limit) -> None:
    """One line naming what `verify` expected, for an argument of the wrong type (before any work)."""
    if not all(hasattr(problem, name) for name in ("network", "loss", "solve")):
        hint = f" (read the file first: derive.Problem.from_yaml({problem!r}))" if isinstance(problem, (str, Path)) else ""
        raise DeriveError(f"verify needs a derive.Problem (derive.Problem.from_yaml(path)), not {_kind(problem)}{hint}")
    if not (isinstance(wrt, str) or isinstance(getattr(wrt, "name", None), str)):
        raise DeriveError(f"verify needs the variable as a name such as 'W' (or its SymPy symbol), not {_kind(wrt)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise DeriveError(f"verify needs the seed as an integer >= 0, not {_kind(seed)}")
    if time_limit is not None and (isinstance(time_limit, bool) or not isinstance(time_limit, (int, float))
                                   or not time_limit > 0):
        raise DeriveError(f"verify needs the time limit as a number of seconds > 0 (or None), not {_kind(time_limit)}")


def _kind(value) -> str:
    """'a Network', 'the int 3': what a wrong argument was, in a few words."""
    if isinstance(value, (str, int, float, Path)) and not isinstance(value, bool):
        shown = repr(str(value) if isinstance(value, Path) else value)
        return f"the {type(value).__name__} {shown if len(shown) <= 40 else shown[:37] + '...'}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


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
            self.numerator = getattr(problem, "layout", "denominator") == "numerator"  # answers are dL/dW^T's shape
            self.shaped_as = self._laid(self.wrt)
            self.truth = self._laid(self.derivation.expanded())  # answers are compared in the inputs
            self.others = self._other_gradients()
            self.inputs = sorted(self.network.inputs.values(), key=lambda s: s.name)
            self._compiled: dict = {}
            self.points = self._draw_points(np.random.default_rng(seed))
            self.truth_values = [self._value(self.truth, p) for p in self.points]
            self.floor = _floor(self.truth_values)
        except RecursionError:
            raise ProblemError("the gradient of this problem, written out in its inputs, nests deeper than answers "
                               "can be compared with: grade a network with fewer layers or definitions in a chain",
                               getattr(problem, "source", "") or "the problem") from None
        self.report = lambda stage, note="": None  # where a time limit is watching: the layer now running
        self.max_size = max([*SIZES, *FAR_SIZES, *(int(d) for s in self.network.all_symbols()  # sizes an answer may write
                                       for d in getattr(s, "shape", ()) if getattr(d, "is_Integer", False))])

    # -- the problem's side

    def _laid(self, gradient):
        """A gradient (derived in denominator layout) in the problem's layout."""
        return mo.transpose(gradient) if self.numerator else gradient

    def _other_gradients(self) -> dict:
        others = [w for w in self.problem.wrt if w != self.wrt and symbol_shape(w) == symbol_shape(self.wrt)]
        if not others:
            return {}
        solution = self.problem.solve(others)
        return {d.wrt: self._laid(d.expanded()) for d in solution.derivations}

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
        candidates = (self._laid(self.derivation.result), self.truth)
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
        have (`exactly.exact_precision`): a difference past rounding there (the gradient + 10^{-9} W, + 10^{-60}) is
        incorrect. None when it is zero, or when the check does not apply (large expressions, values that
        are not real, notation with no explicit form)."""
        if not self._exact_fits(answer):
            return None
        precision = exact_precision(answer)
        rng = np.random.default_rng(self.seed + 1)
        for _ in range(EXACT_POINTS):
            point = self._rational_point(rng)
            try:
                gaps, scale = exact_gaps(answer, self.truth, point, precision, self.floor / ABSOLUTE_FLOOR)
            except (TypeError, KeyError, ValueError, ZeroDivisionError, NotImplementedError, AttributeError):
                return None
            if gaps is None:
                return None
            if gaps:
                gap, size = float(max(gaps)), float(scale)
                if gap <= RTOL * max(size, 1e-300):  # passed the float test for being this close
                    return Diagnosis("other", f"close to the gradient but not equal to it: a difference of {gap:.1e} "
                                              f"(the gradient is of size {size:.1e}) at {shown_point(point)}, "
                                              f"below the numeric tolerance {RTOL:g} but not zero")
                return Diagnosis("other", f"not equal to the gradient: a difference of {gap:.1e} (the gradient is "
                                          f"of size {size:.1e}) at {shown_point(point)}, where the sizes differ from "
                                          "the points sampled before")
        return None

    def _other_side_of_kinks(self, answer, kinks) -> tuple[Diagnosis, Evidence] | None:
        """An answer with a kink (ReLU(w x - 300), |x - 40|, X^T ReLU(X W - 100 1)) whose argument keeps one
        sign at every sample point is compared on its other side too, wherever that lies (`crossing.beyond`),
        and a difference there is confirmed exactly: (the diagnosis, the evidence) where it differs, None where
        it agrees or the other side is empty."""
        rng = np.random.default_rng(self.seed + 2)
        starts = sorted(self.points, key=lambda p: min((v for k, v in p.items() if isinstance(v, int)), default=0))

        def direction(point, generator):
            return direction_of(point, self.inputs, self.network.one_hot, generator)

        for kink in kink_arguments(answer):
            seen = signs_seen(self._value(kink, p) for p in self.points)
            for sign in (s for s in (1, -1) if s not in seen):
                compared = 0
                for point in beyond(kink, sign, starts, self._value, direction, rng):
                    if not (self._usable(self.truth, point, kinks) and self._usable(answer, point, kinks)):
                        continue
                    compared += 1
                    evidence = _evidence(point, self._value(answer, point), self._value(self.truth, point), self.floor)
                    if evidence.relative_error > RTOL and self._differs_exactly(answer, point):
                        return Diagnosis("other", f"your answer agrees with the gradient at the sample points, all "
                                                  f"on one side of the kink of {latex(kink)}, but not on its other "
                                                  f"side", (latex(kink),)), evidence
                    if compared >= CROSSING_POINTS:
                        break
        return None

    def _differs_exactly(self, answer, point) -> bool:
        """Whether a float difference at `point` (far out, where rounding can be large) is there in exact
        arithmetic too: at `exactly.exact_precision` digits and at twice as many (a real difference does not shrink)."""
        if not self._exact_fits(answer):
            return False
        exact = {k: (sympy.ImmutableMatrix(v.tolist()) if isinstance(v, np.ndarray) else v) for k, v in point.items()}
        digits = exact_precision(answer)
        try:
            first, scale = exact_gaps(answer, self.truth, exact, digits, self.floor / ABSOLUTE_FLOOR)
            if not first or max(first) <= RTOL * scale:
                return False
            second, scale = exact_gaps(answer, self.truth, exact, 2 * digits, self.floor / ABSOLUTE_FLOOR)
        except (TypeError, KeyError, ValueError, ZeroDivisionError, NotImplementedError, AttributeError):
            return False
        return bool(second) and max(second) > RTOL * scale and max(second) >= max(first) / 2

    def _exact_fits(self, answer) -> bool:
        """Whether exact evaluation is cheap enough to run: expressions of at most `EXACT_NODES` nodes, and
        matrices at `EXACT_SIZE` small enough to evaluate within the time a diagnosis may take (a problem
        with 6000 features has 24,000 rational entries, about 4 s: under a 2 s limit every correct answer was
        undecided); where it is not, the float layer decides."""
        if expression_size(answer) > EXACT_NODES or expression_size(self.truth) > EXACT_NODES:
            return False
        sizes = {d: EXACT_SIZE for d in self.network.dimensions}
        entries = sum(int(sympy.sympify(r).xreplace(sizes)) * int(sympy.sympify(c).xreplace(sizes))
                      for symbol in self.inputs if isinstance(symbol, MatrixSymbol) for r, c in [symbol.shape])
        return entries * EXACT_ENTRY_SECONDS <= self.diagnosis_seconds

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
            evidence.append(_evidence(values, self._value(answer, values), truth, self.floor))
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
                               truth, self.floor) > RTOL:
                return False
            used += 1
        return used >= MIN_POINTS


# -- helpers ---------------------------------------------------------------------------------------------

def _real(value) -> np.ndarray:
    """A value as floats; a complex value (a root or log of a negative number) is not finite here."""
    value = np.asarray(value)
    if np.iscomplexobj(value):
        return np.full(value.shape, np.nan) if np.any(value.imag != 0) else value.real.astype(float)
    return value.astype(float)


def _floor(truths) -> float:
    """The magnitude below which values at a point count as zero: 1e-12 of the gradient's largest entry over
    the sample points, so that a gradient that is tiny everywhere (1e-66, a 100-sigmoid chain) is compared
    relatively, and an entry that is 0 where others are not does not make rounding an error; 1e-12 where
    the gradient is zero at every point."""
    finite = [float(np.max(np.abs(t), initial=0.0)) for t in truths if np.all(np.isfinite(t))]
    largest = max(finite, default=0.0)
    return ABSOLUTE_FLOOR * largest if largest > 0 else ABSOLUTE_FLOOR


def _relative_error(value, truth, floor: float = 1e-12) -> float:
    value, truth = np.asarray(value, dtype=float), np.asarray(truth, dtype=float)
    scale = max(float(np.max(np.abs(truth), initial=0.0)), float(np.max(np.abs(value), initial=0.0)))
    if scale < floor:
        return 0.0
    return float(np.max(np.abs(value.reshape(truth.shape) - truth))) / scale


def _evidence(values, value, truth, floor: float = 1e-12) -> Evidence:
    value = np.asarray(value, dtype=float).reshape(np.shape(truth))
    worst = np.unravel_index(np.argmax(np.abs(value - truth)), np.shape(truth)) if np.ndim(truth) else ()
    size = next((v for k, v in values.items() if isinstance(k, Symbol) and not isinstance(v, np.ndarray)
                 and k.is_integer), 0)
    point = {str(k): (np.round(v, 6).tolist() if isinstance(v, np.ndarray) else round(float(v), 6))
             for k, v in values.items() if not (isinstance(k, Symbol) and k.is_integer)}
    return Evidence(int(size), point, float(value[worst]), float(truth[worst]),
                    _relative_error(value, truth, floor))


__all__ = ["AnswerError", "Diagnosis", "Evidence", "Judge", "LineVerdict", "RTOL", "Verdict", "verify"]
