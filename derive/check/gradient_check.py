"""The numeric check: each derived gradient against numerical derivatives of the loss, and the report.

Reads derivations, never builds them. Methods (`METHODS`): forward, central (the default) and Richardson-
extrapolated differences on every entry, the complex step (analytic losses only: a loss with ReLU, abs,
max or min is refused with the reason), seed 001's directional check (random unit directions, for many
parameters), and the exact check (`derive.exact`: sympy.diff at random rational points). Steps are
step * max(1, |x|) with the dtype's default (`derive.methods.Precision`): cbrt(eps) for central, ...; a
step below the dtype's resolution is refused. An entry passes when the derived and numerical values differ
by no more than the numerical value's error budget (`derive.methods.judge`: round-off, truncation, the
derived value's rounding); its band shows its relative error |a - n| / max(|a|, |n|) (float64: within the
budget good < 1e-7 <= acceptable; beyond it suspicious < 1e-2 <= wrong).

Points are drawn at random (seeded) in [-2, 2], or given. Random points where the loss or a gradient is
not finite, or that lie near a kink (ReLU at 0, a tie in max), are drawn again and the report says how
many. At a given point steps shrink so as not to cross a kink; at a kink itself the one-sided derivatives
are measured and the entry is "not differentiable" when the derived value lies between them (a
subgradient), "wrong" when it does not. A sweep of the steps over decades gives each difference's
observed convergence order; a comparison (`derive.comparison`) runs every method at one point against the
exact gradient.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Expr, MatrixSymbol, Symbol, preorder_traversal
from sympy.matrices import MatrixBase

from ..core import matrix_ops as mo
from . import methods as m
from ..core.errors import CheckError, MissingRuleError
from .formulas import _rows
from .forward_pass import Program
from ..core.matrix_ops import dimensions_of, entry_symbols, explicit
from ..core.network import expand_definitions
from .numeric import MatrixEvaluator
from ..core.rules import rule_for

BANDS = m.PRECISIONS["float64"].bands
PASSING = ("good", "acceptable", "exact", "not differentiable")
BAND_RANK = ("exact", "good", "acceptable", "not differentiable", "suspicious", "wrong")

METHODS = ("central", "forward", "richardson", "complex step", "directional", "exact")
_ALIASES = {"central difference": "central", "forward difference": "forward", "complex": "complex step",
            "complex-step": "complex step", "complex_step": "complex step", "richardson extrapolation": "richardson",
            "sympy": "exact", "symbolic": "exact"}
METHOD_TITLES = {"central": "central difference", "forward": "forward difference",
                 "richardson": "Richardson extrapolation of central differences", "complex step": "complex step",
                 "directional": "directional central difference along random unit directions",
                 "exact": "exact comparison with sympy.diff at rational points"}


class CheckOptionError(CheckError):
    """A check option (method, dtype, step, point) that cannot be used: about the request, not the loss."""


def method_name(method: str) -> str:
    """The canonical name of a method ("central", "complex step", ...); a one-line error for an unknown one."""
    key = _ALIASES.get(str(method).strip().lower(), str(method).strip().lower())
    if key not in METHODS:
        raise CheckOptionError(f"unknown check method '{method}' (known: {', '.join(METHODS)})")
    return key


def band(relative_error: float, bands=BANDS) -> str:
    """The band of a relative error: good, acceptable, suspicious or wrong (the displayed measure)."""
    return next(name for limit, name in bands if relative_error < limit)


def judged_band(relative_error: float, within_budget: bool, bands=BANDS) -> str:
    """An entry's band: within its error budget "good" (relative error in the good band) or "acceptable";
    beyond it "suspicious" (relative error below the suspicious limit) or "wrong"."""
    if within_budget:
        return "good" if relative_error < bands[0][0] else "acceptable"
    return "suspicious" if relative_error < bands[2][0] else "wrong"


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """One gradient entry at one point: the derived value against the numerical one.

    `index` is the entry of a matrix gradient (row, column), `point_number` counts points from 1; at a kink
    `left` and `right` are the one-sided derivatives."""

    variable: str
    point: dict
    analytic: float
    numeric: float
    absolute_error: float
    relative_error: float
    band: str
    index: tuple | None = None
    point_number: int = 1
    left: float | None = None
    right: float | None = None
    budget: m.Budget | None = None  # what the numerical value's error may be, by cause (difference methods)

    @property
    def share(self) -> float | None:
        """The error as a share of its budget (above 1: beyond what rounding and truncation explain)."""
        if self.budget is None:
            return None
        total = self.budget.total
        return 0.0 if self.absolute_error == 0 else (self.absolute_error / total if total > 0 else np.inf)

    @property
    def unresolved(self) -> bool:
        """Within a budget that exceeds the entry's own size: the numerical value cannot tell it from 0."""
        return (self.budget is not None and self.band in PASSING
                and self.budget.total >= max(abs(self.analytic), abs(self.numeric)))

    @property
    def exceeded(self) -> str | None:
        """For an entry beyond its budget, the part that dominates the budget it exceeded ("round-off",
        "truncation", "rounding of the derived value"); None for an entry within it."""
        if self.budget is None or self.band in PASSING:
            return None
        return self.budget.largest

    @property
    def label(self) -> str:
        """W[1,2], w, or direction 2."""
        if self.index is None:
            return self.variable
        if self.variable == "direction":
            return f"direction {self.index[0]}"
        return f"{self.variable}[{','.join(map(str, self.index))}]"

    def describe(self, loss: str = "L") -> str:
        """'dL/dW[1,2] at point 3: analytic ..., numeric ..., relative error ...' (at a kink, the one-sided values)."""
        name = self.label if self.variable == "direction" else f"d{loss}/d{self.label}"
        if self.left is not None:
            at = f"{self.label} = {self.point[self.label]:.6g}" if self.label in self.point else f"point {self.point_number}"
            side = "along it" if self.variable == "direction" else f"d{loss}/d{self.label}"
            return (f"not differentiable at {at} (point {self.point_number}{', ' + self.label if self.variable == 'direction' else ''}): "
                    f"left derivative {self.left:.6g}, right derivative {self.right:.6g}; derived {side} = "
                    f"{self.analytic:.6g} ({'a subgradient, between them' if self.band in PASSING else 'NOT between them: wrong'})")
        words = (f"{name} at point {self.point_number}: analytic {self.analytic:.10g}, numeric {self.numeric:.10g}, "
                 f"relative error {self.relative_error:.1e} ({self.band})")
        return words + (f"; {self.budget_words()}" if self.exceeded else "")

    def budget_words(self) -> str:
        """'the difference 1.2e-06 exceeds its error budget 3.4e-10 (round-off 3.3e-10, truncation 1.0e-11,
        rounding of the derived value 2.2e-22): beyond round-off, its largest part, 3.5e+03 times over'."""
        b = self.budget
        truncation = "not estimated" if not np.isfinite(b.truncation) else f"{b.truncation:.1e}"
        verb = "exceeds" if self.exceeded else "is within"
        return (f"the difference {self.absolute_error:.1e} {verb} its error budget {b.total:.1e} (round-off "
                f"{b.round_off:.1e}, truncation {truncation}, rounding of the derived value {b.derived:.1e})"
                + (f": beyond {self.exceeded}, its largest part, {self.share:.2g} times over" if self.exceeded else ""))

    def to_dict(self) -> dict:
        entry = {"variable": self.variable, "label": self.label, "index": list(self.index) if self.index else None,
                 "point_number": self.point_number, "point": self.point, "analytic": self.analytic,
                 "numeric": self.numeric, "absolute_error": self.absolute_error,
                 "relative_error": self.relative_error, "band": self.band}
        if self.left is not None:
            entry.update(left=self.left, right=self.right)
        if self.budget is not None:
            budget = {k: (v if v is None or np.isfinite(v) else None) for k, v in self.budget.to_dict().items()}
            share = self.share if self.share is not None and np.isfinite(self.share) else None
            entry.update(budget=budget, share_of_budget=share, exceeded=self.exceeded)
        return entry


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One method of the comparison table: its measured error against the reference, and its cost."""

    method: str
    max_absolute_error: float | None
    max_relative_error: float | None
    evaluations: str
    note: str = ""

    def to_dict(self) -> dict:
        return {"method": self.method, "max_absolute_error": self.max_absolute_error,
                "max_relative_error": self.max_relative_error, "evaluations": self.evaluations, "note": self.note}


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The verdict ("pass" or "fail"), every entry, the sweep and comparison, and what the checker worked around."""

    method: str
    entries: tuple[CheckEntry, ...]
    notes: tuple[str, ...] = field(default=())
    dtype: str = "float64"
    sweep: tuple = ()  # derive.methods.SweepSeries, one per difference method
    comparison: tuple[ComparisonRow, ...] = ()
    reference: str = ""  # what the comparison measured errors against
    step: float | None = None  # the relative step used (None: the method's default)

    @property
    def passed(self) -> bool:
        return all(e.band in PASSING for e in self.entries)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def points(self) -> int:
        """How many sample points each gradient was compared at."""
        return len({e.point_number for e in self.entries})

    @property
    def sample_points(self) -> list[dict]:
        """The points used, in order (each a dict of input names to values)."""
        found: dict = {}
        for e in self.entries:
            found.setdefault(e.point_number, e.point)
        return [found[k] for k in sorted(found)]

    @property
    def bands(self) -> tuple:
        return m.precision(self.dtype).bands

    def failures(self) -> list[CheckEntry]:
        return [e for e in self.entries if e.band not in PASSING]

    def kinks(self) -> list[CheckEntry]:
        return [e for e in self.entries if e.left is not None]

    def worst(self, variable: str) -> CheckEntry:
        """The entry of `variable` closest to failing: the largest share of its error budget (failing entries
        first; by relative error where there is no budget)."""
        return max((e for e in self.entries if e.variable == variable),
                   key=lambda e: (e.band not in PASSING, e.share if e.share is not None else -1.0, e.relative_error))

    def band_of(self, variable: str) -> str:
        """The worst band among the entries of `variable` (wrong, suspicious, not differentiable, acceptable,
        good, exact, in that order)."""
        return max((e.band for e in self.entries if e.variable == variable), key=BAND_RANK.index)

    def unresolved(self) -> list[CheckEntry]:
        """Entries within their budget whose budget exceeds their own size: the numerical derivative cannot
        tell them from 0 (a gradient that vanishes with depth, say)."""
        return [e for e in self.entries if e.unresolved]

    def max_relative_error(self, variable: str) -> float:
        return max(e.relative_error for e in self.entries if e.variable == variable)

    def max_share(self, variable: str) -> float | None:
        """The largest share of its error budget any entry of `variable` used (None without budgets)."""
        shares = [e.share for e in self.entries if e.variable == variable and e.share is not None]
        return max(shares) if shares else None

    def max_absolute_error(self, variable: str) -> float:
        return max(e.absolute_error for e in self.entries if e.variable == variable)

    def variables(self) -> list[str]:
        return list(dict.fromkeys(e.variable for e in self.entries))

    def summary(self, loss: str = "L", limit: int = 10) -> str:
        lines = [f"numeric check ({self.method}, {self.dtype}, {len(self.entries)} comparisons): {self.verdict.upper()}"]
        for name in self.variables():
            share = self.max_share(name)
            what = "along random directions" if name == "direction" else f"d/d{name}"
            used = "" if share is None else f", at most {share:.2g} of the error budget"
            lines.append(f"  {what}: max relative error {self.max_relative_error(name):.1e}{used} ({self.band_of(name)})")
        failures = self.failures()
        lines += [f"  failed: {e.describe(loss)}" for e in failures[:limit]]
        if len(failures) > limit:
            lines.append(f"  ... and {len(failures) - limit} more failing entries")
        lines += [f"  {e.describe(loss)}" for e in self.kinks()[:limit] if e.band in PASSING]
        lines += [f"  sweep: {_sweep_words(s)}" for s in self.sweep]
        if self.dtype not in ("float64", "exact"):
            limits = ", ".join(f"{name} < {limit:g}" for limit, name in self.bands[:3])
            lines.append(f"  bands ({self.dtype}): {limits}, wrong above")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def comparison_text(self) -> str:
        """The comparison table as plain text."""
        if not self.comparison:
            return ""
        rows = [f"method comparison at point 1 (errors against {self.reference}):",
                f"  {'method':<56} {'max abs error':>13} {'max rel error':>13}  evaluations"]
        for r in self.comparison:
            absolute = "-" if r.max_absolute_error is None else f"{r.max_absolute_error:.1e}"
            relative = "-" if r.max_relative_error is None else f"{r.max_relative_error:.1e}"
            rows.append(f"  {r.method:<56} {absolute:>13} {relative:>13}  {r.evaluations}" + (f" ({r.note})" if r.note else ""))
        return "\n".join(rows)

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "verdict": self.verdict,
            "dtype": self.dtype,
            "bands": [[limit if np.isfinite(limit) else None, name] for limit, name in self.bands],
            "step": self.step,
            "notes": list(self.notes),
            "points": self.sample_points,
            "failures": [e.describe() for e in self.failures()],
            "entries": [e.to_dict() for e in self.entries],
            "sweep": [s.to_dict() for s in self.sweep],
            "comparison": [r.to_dict() for r in self.comparison],
            "comparison_reference": self.reference,
        }


def _sweep_words(series) -> str:
    if series.order is None:
        return f"{series.method}: order not measurable (error at round-off level for every step)"
    verdict = "as expected" if series.consistent else "NOT as expected: the derived gradient is suspect"
    if not series.consistent and series.order < series.expected / 2 and series.plateau is not None:
        verdict = (f"NOT as expected: the error stops falling near {series.plateau:.1e} as the step shrinks, "
                   "so the derived gradient is suspect")
    return f"{series.method}: observed order {series.order:.2f} (expected {series.expected}, {verdict})"


def relative_error(analytic: float, numeric: float) -> float:
    """|a - n| / max(|a|, |n|) (0 where both are 0): the displayed measure. Whether an entry passes is decided
    by its error budget (`derive.methods.judge`), not by this number: a tiny entry may differ relatively much
    and still lie within what rounding explains."""
    scale = max(abs(analytic), abs(numeric))
    if not np.isfinite(scale) or not np.isfinite(analytic - numeric):
        return np.inf
    return 0.0 if scale == 0 else abs(analytic - numeric) / scale


def kink_expressions(expr: Expr) -> list[Expr]:
    """Expressions that vanish where `expr` is not differentiable (from the registry's kinks)."""
    kinks = []
    for node in preorder_traversal(expr):
        if node.is_Atom:
            continue
        try:
            rule = rule_for(node)
        except MissingRuleError:
            continue
        kinks += rule.kinks(rule.split(node))
    return kinks


def not_analytic_reason(expr) -> str | None:
    """Why the complex step cannot be used on `expr` (it has ReLU, abs, max, ...), or None if it can."""
    from ..core.ops import relu

    for node in preorder_traversal(expr):
        if isinstance(node, relu) or (isinstance(node, mo.Entrywise) and node.name == "relu"):
            return "it contains ReLU, which is not complex-analytic"
        if mo.kinked(node):  # |A| and ||A||_1, entry by entry
            return "it contains an absolute value, which is not complex-analytic"
        if isinstance(node, (sympy.Abs, sympy.Max, sympy.Min, sympy.Heaviside, sympy.sign, sympy.Piecewise)):
            return f"it contains {type(node).__name__}, which is not complex-analytic"
    return None


# -- the loss as a function of the checked coordinates ---------------------------------------------------

class ScalarObjective:
    """A scalar network at one point: the loss as a vectorised function of the wrt coordinates, the others fixed."""

    def __init__(self, problem: "ScalarProblem", values: np.ndarray):
        self.problem = problem
        self.values = values
        self.coordinates = [problem.inputs.index(w) for w in problem.wrts]
        self.theta = values[self.coordinates].astype(float)
        self.labels = [(w.name, None) for w in problem.wrts]
        self.has_kinks = problem.kink_f is not None

    def _arguments(self, thetas: np.ndarray) -> list:
        rows = len(thetas)
        args = [np.full(rows, v, dtype=thetas.dtype if thetas.dtype.kind == "f" else float) for v in self.values]
        for j, c in enumerate(self.coordinates):
            args[c] = thetas[:, j]
        return args

    def loss(self, thetas: np.ndarray) -> np.ndarray:
        function = self.problem.complex_f() if thetas.dtype.kind == "c" else self.problem.f
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(function(*self._arguments(thetas))), (len(thetas),))

    def analytic(self, dtype) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.problem.g(*self.values.astype(dtype)), dtype=float).reshape(-1)

    def signature(self, thetas: np.ndarray) -> np.ndarray:
        """The sign of every kink expression, one row per parameter vector."""
        with np.errstate(all="ignore"):
            values = self.problem.kink_f(*self._arguments(thetas.astype(float)))
        return np.sign(np.stack([np.broadcast_to(np.asarray(v, dtype=float), (len(thetas),)) for v in values], axis=1))

    def named_point(self) -> dict:
        return {s.name: float(v) for s, v in zip(self.problem.inputs, self.values)}


class MatrixObjective:
    """A matrix network at one point (arrays for every input): the loss as a function of the wrt entries."""

    def __init__(self, problem: "MatrixProblem", values: dict, evaluator: MatrixEvaluator | None = None):
        self.problem = problem
        self.values = values
        self._evaluator = evaluator  # float64, with the loss and gradients at this point already evaluated
        self.theta = np.concatenate([np.asarray(values[w], dtype=float).reshape(-1) for w in problem.wrts])
        self.has_kinks = problem.has_kinks

    @property
    def labels(self) -> list:
        """(matrix name, (row, column)) per coordinate, row-major (built on demand: 100k entries take a while)."""
        return [(w.name, index) for w in self.problem.wrts for index in np.ndindex(*self.problem.shape(w))]

    def _values_for(self, theta: np.ndarray) -> dict:
        shifted, start = dict(self.values), 0
        for w in self.problem.wrts:
            shape = self.problem.shape(w)
            size = int(np.prod(shape))
            piece = theta[start:start + size]
            shifted[w] = piece.reshape(shape) if isinstance(w, MatrixSymbol) else piece[0]
            start += size
        return shifted

    def _evaluate(self, theta: np.ndarray) -> MatrixEvaluator:
        return self.problem.run(self._values_for(theta), [self.problem.loss], theta.dtype)[1]

    def loss(self, thetas: np.ndarray, chunk: int = 1 << 21) -> np.ndarray:
        """The loss at each row of `thetas`: one batched evaluation (B x rows x cols arrays) per chunk of rows."""
        rows = max(1, chunk // max(1, thetas.shape[1]))
        return np.concatenate([self._batch_loss(thetas[i:i + rows]) for i in range(0, len(thetas), rows)])

    def _batch_loss(self, thetas: np.ndarray) -> np.ndarray:
        values, start = dict(self.values), 0
        for w in self.problem.wrts:
            shape = self.problem.shape(w)
            size = int(np.prod(shape))
            piece = thetas[:, start:start + size]
            values[w] = piece.reshape(len(thetas), *shape) if isinstance(w, MatrixSymbol) else piece[:, 0]
            start += size
        (result,), _ = self.problem.run(values, [self.problem.loss], thetas.dtype, batch=True)
        return np.broadcast_to(np.asarray(result).reshape(-1), (len(thetas),)).copy()

    def analytic(self, dtype) -> np.ndarray:
        reuse = self._evaluator is not None and np.dtype(dtype) == np.float64  # the forward pass at this point
        gradients, _ = self.problem.run(self.values, list(self.problem.gradients.values()), dtype,
                                        evaluator=self._evaluator if reuse else None)
        return np.concatenate([np.asarray(g, dtype=float).reshape(-1) for g in gradients])

    def signature(self, thetas: np.ndarray) -> np.ndarray:
        rows = []
        for t in thetas:
            signs = self._evaluate(t.astype(float)).kink_signs
            rows.append(np.concatenate(signs) if signs else np.zeros(0))
        return np.array(rows)

    def named_point(self) -> dict:
        return _point_of(self.values, self.problem.inputs, self.problem.one_hot)


# -- the network's inputs: drawing points, reading given ones ---------------------------------------------

class ScalarProblem:
    """A scalar network's loss and gradients, with the kinks of the loss, evaluated by a forward pass through
    `definitions` (`derive.forward_pass.Program`: each definition once, the gradients in the named
    intermediates they are written in); without definitions the loss and gradients are in the inputs only."""

    def __init__(self, loss: Expr, gradients: dict, inputs: list, prec: m.Precision, definitions=()):
        self.loss, self.gradients, self.inputs, self.prec = loss, gradients, list(inputs), prec
        self.wrts = list(gradients)
        self.program = Program.of(definitions, self.inputs)
        self._f = self.program.function([loss])
        self.g = self.program.function(list(gradients.values()))
        kinks = self.program.memo("kinks", lambda: [k for e in self.expressions() for k in kink_expressions(e)], loss)
        self.kink_f = self.program.function(kinks) if kinks else None

    def expressions(self) -> list:
        """The loss and the right-hand sides of the definitions it needs, as written."""
        return _loss_expressions(self.program, self.loss)

    def f(self, *args):
        return self._f(*args)[0]

    def complex_f(self):
        function = self.program.function([self.loss], complex_safe=True)
        return lambda *args: function(*args)[0]

    def objective(self, values) -> ScalarObjective:
        return ScalarObjective(self, values)

    def draw(self, rng, max_tries: int = 200):
        """(objective, redraws): a random point with finite values away from kinks."""
        for tries in range(max_tries):
            values = _rounded(rng.uniform(-2.0, 2.0, size=len(self.inputs)), self.prec)
            with np.errstate(all="ignore"):
                finite = np.all(np.isfinite(np.asarray([self.f(*values)] + list(self.g(*values)), dtype=float)))
                near_kink = self.kink_f is not None and np.min(np.abs(np.asarray(self.kink_f(*values), dtype=float))) < 1e-3
            if finite and not near_kink:
                return self.objective(values), tries
        raise CheckError(f"no sample point in [-2, 2] gave finite values away from kinks after {max_tries} tries"
                         + _culprit_words(self.program, self.loss, values))

    def given(self, point: dict, rng, number: int):
        """(objective, names drawn at random) for a point the user gave, by input name or symbol."""
        point = _by_name(point, self.inputs, number)
        drawn = [s.name for s in self.inputs if s.name not in point]
        values = _rounded(np.array([float(point[s.name]) if s.name in point else rng.uniform(-2.0, 2.0)
                                    for s in self.inputs]), self.prec)
        with np.errstate(all="ignore"):
            value = np.asarray(self.f(*values), dtype=float)
        if not np.isfinite(value):
            raise CheckError(f"the loss is not finite at point {number} ({_point_words(self.inputs, values)})"
                             + _culprit_words(self.program, self.loss, values))
        return self.objective(values), drawn


class MatrixProblem:
    """A matrix network's loss and gradients for concrete sizes (every symbolic dimension set to `size`),
    evaluated by a forward pass through `definitions` (see `ScalarProblem`)."""

    def __init__(self, loss, gradients: dict, inputs: list, prec: m.Precision, size: int = 2, one_hot=(),
                 definitions=()):
        self.loss, self.gradients, self.inputs, self.prec = loss, gradients, list(inputs), prec
        self.wrts = list(gradients)
        self.one_hot = one_hot
        self.dims = _dims(inputs)
        self.sizes = {d: size for d in self.dims}
        self.shapes = {s: tuple(int(sympy.sympify(d).xreplace(self.sizes)) for d in s.shape)
                       for s in inputs if isinstance(s, MatrixSymbol)}
        self.program = Program.of(definitions, self.inputs)
        self.has_kinks = self.program.memo("has kinks", lambda: any(
            mo.kinked(n) for e in self.expressions() for n in preorder_traversal(e)), loss)

    def expressions(self) -> list:
        """The loss and the right-hand sides of the definitions it needs, as written."""
        return _loss_expressions(self.program, self.loss)

    def run(self, values: dict, exprs: list, dtype=float, batch: bool = False, evaluator=None):
        """(values of `exprs`, the evaluator holding the forward pass) at `values`."""
        with np.errstate(all="ignore"):
            return self.program.evaluate(values, exprs, dtype, batch, evaluator)

    def shape(self, w) -> tuple:
        return self.shapes.get(w, (1,))

    def _evaluated(self, values) -> MatrixEvaluator | None:
        """The evaluator with loss and gradients evaluated, if they are finite and away from kinks there."""
        (base, *gradients), evaluator = self.run(values, [self.loss, *self.gradients.values()])
        base = _as_number(base)
        gradients = [np.asarray(g, dtype=float) for g in gradients]
        finite = np.isfinite(base) and all(np.all(np.isfinite(a)) for a in gradients)
        return evaluator if finite and evaluator.kink_distance >= 1e-3 else None

    def draw(self, rng, max_tries: int = 200):
        for tries in range(max_tries):
            values = _draw_values(rng, self.inputs, self.shapes, self.sizes, self.one_hot, self.prec)
            evaluator = self._evaluated(values)
            if evaluator is not None:
                return MatrixObjective(self, values, evaluator), tries
        raise CheckError(f"no sample point in [-2, 2] gave finite values away from kinks after {max_tries} tries"
                         + _matrix_culprit_words(self, values))

    def given(self, point: dict, rng, number: int):
        point = _by_name(point, self.inputs, number)
        values = _draw_values(rng, self.inputs, self.shapes, self.sizes, self.one_hot, self.prec)
        for symbol in self.inputs:
            if symbol.name in point:
                value = np.asarray(point[symbol.name], dtype=float)
                shape = self.shapes.get(symbol, ())
                if value.shape != shape:
                    raise CheckOptionError(f"point {number}: {symbol.name} must have shape {shape or 'scalar'}, "
                                     f"not {value.shape or 'scalar'}")
                values[symbol] = _rounded(value, self.prec) if shape else float(_rounded(value, self.prec))
        base = _as_number(self.run(values, [self.loss])[0][0])
        if not np.isfinite(base):
            raise CheckError(f"the loss is not finite at point {number}" + _matrix_culprit_words(self, values))
        return MatrixObjective(self, values), [s.name for s in self.inputs if s.name not in point]


def _rounded(values, prec: m.Precision):
    """The values as the dtype holds them (so the point is exactly representable), in float64 (a new array)."""
    return np.array(values, dtype=prec.dtype).astype(float, copy=False)


def _by_name(point: dict, inputs: list, number: int) -> dict:
    if not isinstance(point, dict):
        raise CheckOptionError(f"point {number} must be a mapping of input names to values, not {point!r}")
    named = {(k if isinstance(k, str) else k.name): v for k, v in point.items()}
    known = {s.name for s in inputs}
    unknown = sorted(set(named) - known)
    if unknown:
        raise CheckOptionError(f"point {number}: {', '.join(unknown)} is not an input (inputs: {', '.join(sorted(known))})")
    for name, value in named.items():
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise CheckOptionError(f"point {number}: {name} = {value!r} is not a number") from None
        if not np.all(np.isfinite(array)):
            raise CheckOptionError(f"point {number}: {name} = {value!r} is not finite")
    return named


def _point_words(inputs, values) -> str:
    return ", ".join(f"{s.name} = {float(v):.4g}" for s, v in zip(inputs, values))


def _loss_expressions(program: Program, loss) -> list:
    """The loss and the right-hand sides (as written) of the definitions it needs."""
    return [loss] + [program.original[s] for s, _ in program.steps([loss]) if s in program.original]


def _culprit_words(program: Program, loss, values) -> str:
    """': log(x) is nan at x = -0.5' for the first operation of the forward pass that is not finite, or ''."""
    try:
        with np.errstate(all="ignore"):
            found = program.function([loss]).first_not_finite(*values)
    except Exception:  # the message is a courtesy: a failure to find the culprit must not hide the error
        return ""
    if found is None:
        return ""
    node, used, value = found
    where = ", ".join(f"{s.name} = {float(np.real(v)):.4g}" for s, v in used.items())
    return f"; {sympy.sstr(node)} is {_nonfinite(value)}" + (f" at {where}" if where else "")


def _matrix_culprit_words(problem: "MatrixProblem", values) -> str:
    """'; log(Yhat) is nan there' for the first subexpression of the forward pass that is not finite, or ''."""
    try:
        _, evaluator = problem.run(values, [problem.loss])
    except Exception:
        return ""

    def finite(node) -> bool:
        value = evaluator.memo.get(node, evaluator.values.get(node, 0.0))
        return bool(np.all(np.isfinite(np.asarray(value, dtype=complex))))

    for node in evaluator.memo:
        if not finite(node) and all(finite(a) for a in node.args):
            return f"; {sympy.sstr(node)} is {_nonfinite(evaluator.memo[node])} there"
    return ""


def _nonfinite(value) -> str:
    return "nan (outside its domain)" if np.any(np.isnan(value)) else "infinite (overflow)"


# -- running a check ------------------------------------------------------------------------------------

def check_gradients(loss, gradients: dict, inputs: list, method: str = "central", points=3, seed: int = 0,
                    dtype="float64", step: float | None = None, probes: int = 3, sweep: bool = True,
                    compare: bool = False, one_hot=(), size: int = 2, definitions=()) -> CheckReport:
    """Check each gradient against `method`'s derivative of `loss`.

    `loss` and the gradients are expressions in `inputs` and the symbols of `definitions` ((symbol, right-hand
    side) pairs in order, evaluated as a forward pass), e.g. the loss's symbol and gradients in the named
    intermediates. `points`: how many random points (seeded by `seed`), or a point ({input name: value}, a
    matrix as nested lists) or a list of points; inputs a point leaves out are drawn at random. `step`: the
    relative step (default: the method's, for the dtype). `probes`: directions per point for "directional".
    `sweep`: also measure the error over decades of steps at the first point; `compare`: also run every method
    there."""
    method = method_name(method)
    prec = m.precision(dtype)
    if step is not None and not (np.isfinite(step) and step > 0):
        raise CheckOptionError(f"the step must be a positive number, not {step}")
    matrix = any(isinstance(s, MatrixSymbol) for s in inputs)
    definitions = [(s, rhs) for s, rhs in definitions if s not in set(inputs)]  # an input held as a leaf
    if method == "exact":  # sympy.diff needs the loss in the inputs: every definition substituted
        loss, gradients = _in_inputs(loss, gradients, definitions)
        report = exact_check(loss, gradients, inputs, points, seed, one_hot, size)
        return report if not compare else with_comparison(report, loss, gradients, inputs, prec, seed, one_hot, size)
    problem = (MatrixProblem(loss, gradients, inputs, prec, size, one_hot, definitions) if matrix
               else ScalarProblem(loss, gradients, inputs, prec, definitions))
    if method == "complex step":
        reason = next(filter(None, (not_analytic_reason(e) for e in problem.expressions())), None)
        if reason:
            raise CheckError(f"the complex step cannot check this loss: {reason}; use the central or richardson method")
    rng = np.random.default_rng(seed)
    objectives, notes = _objectives(problem, points, rng, seed)
    entries, runs = [], []
    for number, objective in enumerate(objectives, start=1):
        found, more_notes = _entries_at(objective, method, prec, step, probes, rng, number)
        entries += found
        runs += more_notes
    notes += list(dict.fromkeys(runs))
    notes += _unresolved_words(entries, method)
    if matrix and problem.dims:
        notes.append(f"matrix dimensions {', '.join(sorted(str(d) for d in problem.dims))} set to {size}")
    notes += [f"the rows of {y.name} were drawn to sum to 1" for y in one_hot] if matrix else []
    series, skipped = _sweep(objectives[0], prec, rng) if sweep else ((), 0)
    if sweep and not series:
        notes.append("no step sweep: every step would cross a kink at point 1")
    elif skipped:
        notes.append(f"{skipped} step(s) of the sweep left out: they would cross a kink")
    report = CheckReport(METHOD_TITLES[method], tuple(entries), tuple(notes), prec.name, series, step=step)
    if not compare:
        return report
    loss, gradients = _in_inputs(loss, gradients, definitions)
    return with_comparison(report, loss, gradients, inputs, prec, seed, one_hot, size, objectives[0])


def _in_inputs(loss, gradients: dict, definitions) -> tuple:
    """The loss and gradients with every definition substituted (for sympy.diff and the comparison's oracles)."""
    if not definitions:
        return loss, gradients
    expanded = expand_definitions(definitions)
    return loss.xreplace(expanded), {w: sympy.sympify(g).xreplace(expanded) for w, g in gradients.items()}


def _unresolved_words(entries, method: str) -> list[str]:
    """A note on the entries smaller than their error budget (the check cannot tell them from 0)."""
    small = [e for e in entries if e.unresolved]
    if not small:
        return []
    better = "" if method == "complex step" else "; the complex step, which subtracts nothing, resolves smaller values"
    return [f"the {METHOD_TITLES[method]} cannot resolve {len(small)} of {len(entries)} entries: they are smaller "
            f"than the error it carries there, so these are not tested (e.g. {small[0].label}, derived "
            f"{small[0].analytic:.1e}){better}"]


def _objectives(problem, points, rng, seed: int):
    """The objective at each point (drawn or given) and the notes on how they were found."""
    notes = []
    if isinstance(points, (int, np.integer)) and not isinstance(points, bool):
        if points < 1:
            raise CheckOptionError(f"points must be at least 1, not {points}")
        drawn = [problem.draw(rng) for _ in range(points)]
        redrawn = sum(tries for _, tries in drawn)
        if redrawn:
            notes.append(f"{redrawn} sample point(s) were redrawn (not finite, or near a kink)")
        return [o for o, _ in drawn], notes
    given = [points] if isinstance(points, dict) else list(points)
    if not given:
        raise CheckOptionError("no points given")
    objectives = []
    for number, point in enumerate(given, start=1):
        objective, drawn = problem.given(point, rng, number)
        objectives.append(objective)
        if drawn:
            notes.append(f"point {number}: {', '.join(drawn)} drawn at random (seed {seed})")
    return objectives, notes


def _entries_at(objective, method: str, prec: m.Precision, step, probes: int, rng, number: int):
    analytic = objective.analytic(prec.dtype)
    point = objective.named_point()
    if method == "directional":
        return _directional_entries(objective, analytic, prec, step, probes, rng, number, point)
    notes, kinked, theta = [], {}, objective.theta
    if method == "complex step":
        h = np.full(theta.size, step or prec.default_step(method))
    else:
        h = m.steps_for(theta, step or prec.default_step(method), prec, method)
        if objective.has_kinks:
            h, kinked, shrunk = _steer_clear(objective, h, prec)
            if shrunk:
                notes.append(f"point {number}: steps shrunk for {shrunk} entr{'y' if shrunk == 1 else 'ies'} to stay clear of a kink")
    smooth = np.array([k for k in range(theta.size) if k not in kinked], dtype=int)
    quotients = m.Quotients(method, objective.loss, theta, h[smooth], prec, axes=smooth)
    numeric, budgets = m.judge(quotients, analytic[smooth], prec, _wide_analytic(objective, prec, smooth),
                               climb=step is None and method != "complex step" and not objective.has_kinks,
                               smooth=not objective.has_kinks, top=m.ladder_top(h[smooth], np.abs(theta[smooth])),
                               seed=number)
    judged = dict(zip(smooth.tolist(), zip(numeric, budgets)))
    entries = []
    for k, (variable, index) in enumerate(objective.labels):
        if k in kinked:
            entries.append(_kink_entry(variable, index, point, analytic[k], *kinked[k], prec, number))
        else:
            entries.append(_entry(variable, index, point, analytic[k], *judged[k], prec, number))
    return entries, notes


def _wide_analytic(objective, prec: m.Precision, coordinates=None, directions=None):
    """The derived gradient in the next wider float type (None where there is none), restricted to
    `coordinates` or projected on `directions`: how much of the derived value is its own rounding."""
    def reference():
        wide = None if prec.wider is None else m.in_wider(lambda: np.asarray(objective.analytic(prec.wider), dtype=float))
        if wide is None:
            return None
        wide = wide if coordinates is None else wide[coordinates]
        return wide if directions is None else directions @ wide
    return reference


def _entry(variable, index, point, analytic, numeric, budget, prec, number) -> CheckEntry:
    """An entry judged by its error budget; its band shows its relative error."""
    analytic, numeric = float(analytic), float(numeric)
    error = abs(analytic - numeric)
    rel = relative_error(analytic, numeric)
    within = bool(error <= budget.total) and np.isfinite(analytic) and np.isfinite(numeric)
    return CheckEntry(variable, point, analytic, numeric, error, rel, judged_band(rel, within, prec.bands), index,
                      number, budget=budget)


def _steer_clear(objective, h: np.ndarray, prec: m.Precision, shrinks: int = 6):
    """Steps that do not cross a kink: each step whose +h and -h sides differ in a kink's sign is divided by 10
    (at most `shrinks` times, not below the resolution). Returns (steps, {k: (left, right)} for coordinates
    still straddling one, i.e. at a kink, number shrunk)."""
    h = h.copy()
    theta = objective.theta
    k = np.arange(theta.size)
    floor = 10 * prec.eps * np.maximum(1.0, np.abs(theta))
    crossing = _crossing(objective, theta, k, h)
    shrunk = set(np.flatnonzero(crossing))
    for _ in range(shrinks):
        if not crossing.any():
            break
        h[crossing] = np.maximum(h[crossing] / 10, floor[crossing])
        crossing[crossing] = _crossing(objective, theta, k[crossing], h[crossing])
    kinked = {int(i): _one_sided(objective, int(i), prec) for i in np.flatnonzero(crossing)}
    return h, kinked, len(shrunk - set(kinked))


def _crossing(objective, theta, coordinates, h) -> np.ndarray:
    plus = objective.signature(_rows(theta, coordinates, h, float))
    minus = objective.signature(_rows(theta, coordinates, -h, float))
    return np.any(plus != minus, axis=1) if plus.size else np.zeros(len(coordinates), dtype=bool)


def _one_sided(objective, k: int, prec: m.Precision) -> tuple[float, float, float]:
    """(left, right) derivatives along coordinate k: one-sided differences, Richardson-extrapolated (O(h^2)),
    and their round-off budget."""
    theta = objective.theta
    h = prec.default_step("central") * max(1.0, abs(theta[k]))
    shifts = np.array([0.0, h, h / 2, -h, -h / 2])
    values = m.evaluate_rows(objective.loss, theta, np.full(5, k), shifts, prec.dtype).astype(float)
    return _sides(values, h, prec)


def _sides(values, h: float, prec: m.Precision) -> tuple[float, float, float]:
    """(left, right, round-off) from the loss at 0, h, h/2, -h, -h/2: (4 f(h/2) - f(h) - 3 f(0)) / h to the
    right, its mirror to the left; each sums three evaluations with weights (4, -1, -3) / h."""
    f0, p, p2, q, q2 = values
    right = 2 * (p2 - f0) / (h / 2) - (p - f0) / h
    left = 2 * (f0 - q2) / (h / 2) - (f0 - q) / h
    rounding = m.ROUND_OFF_DEVIATIONS * 26 ** 0.5 * prec.eps * float(np.max(np.abs(values))) / h
    return float(left), float(right), rounding


def _kink_entry(variable, index, point, analytic, left, right, round_off, prec, number) -> CheckEntry:
    """At a kink: if the one-sided derivatives agree (within the acceptable band and their round-off) the
    function is smooth along this entry after all; otherwise the derived value must lie between them (a
    subgradient)."""
    analytic = float(analytic)
    scale = max(abs(left), abs(right))
    tolerance = prec.bands[1][0] * scale + round_off
    if abs(left - right) <= tolerance:
        budget = m.Budget(round_off, prec.bands[1][0] * scale, m.DERIVED_ULPS * prec.eps * abs(analytic))
        return _entry(variable, index, point, analytic, (left + right) / 2, budget, prec, number)
    low, high = min(left, right), max(left, right)
    inside = low - tolerance <= analytic <= high + tolerance
    nearest = low if abs(analytic - low) < abs(analytic - high) else high
    gap = 0.0 if inside else abs(analytic - nearest)
    return CheckEntry(variable, point, analytic, (left + right) / 2, gap, relative_error(analytic, nearest) if gap else 0.0,
                      "not differentiable" if inside else "wrong", index, number, left, right)


def _directional_entries(objective, analytic, prec, step, probes, rng, number, point):
    """Seed 001's check: delta^T grad f against (f(x + h delta) - f(x - h delta)) / 2h, delta uniform on the
    unit sphere, each judged by its error budget like an entry."""
    theta = objective.theta
    scale = max(1.0, float(np.max(np.abs(theta))))
    h = m.steps_for(np.array([scale]), step or prec.default_step("directional"), prec, "directional")[0]
    directions = m.unit_directions(rng, probes, theta.size)
    projected = directions @ analytic
    entries, notes = {}, []
    for i, d in enumerate(directions):
        if objective.has_kinks and _direction_crosses(objective, theta, d, h):
            left, right, rounding = _one_sided_along(objective, d, h, prec)
            entries[i] = _kink_entry("direction", (i + 1,), point, projected[i], left, right, rounding, prec, number)
            notes.append(f"point {number}: direction {i + 1} crosses a kink within the step")
    smooth = np.array([i for i in range(probes) if i not in entries], dtype=int)
    quotients = m.Quotients("directional", objective.loss, theta, np.full(smooth.size, h), prec,
                            directions=directions[smooth])
    numeric, budgets = m.judge(quotients, projected[smooth], prec, _wide_analytic(objective, prec, directions=directions[smooth]),
                               climb=step is None and not objective.has_kinks, smooth=not objective.has_kinks,
                               top=m.ladder_top(np.array([h]), np.array([scale])),
                               magnitude=np.abs(directions[smooth]) @ np.abs(analytic), seed=number)
    for i, n, b in zip(smooth, numeric, budgets):
        entries[int(i)] = _entry("direction", (int(i) + 1,), point, projected[i], n, b, prec, number)
    return [entries[i] for i in range(probes)], notes


def _direction_crosses(objective, theta, d, h) -> bool:
    signs = objective.signature(np.stack([theta + h * d, theta - h * d]))
    return bool(signs.size and np.any(signs[0] != signs[1]))


def _one_sided_along(objective, d, h, prec) -> tuple[float, float, float]:
    t = np.array([0.0, h, h / 2, -h, -h / 2])
    values = objective.loss((objective.theta[None, :] + t[:, None] * d[None, :]).astype(prec.dtype)).astype(float)
    return _sides(values, h, prec)


def _sweep(objective, prec: m.Precision, rng) -> tuple[tuple, int]:
    """The error of forward, central and Richardson differences along one random unit direction, over decades
    of steps, against the derived directional derivative; steps that would cross a kink are left out (and
    counted). Where an order is not as expected, the derived value's rounding is measured in a wider float
    type and errors below it are not counted as truncation."""
    theta = objective.theta
    d = m.unit_directions(np.random.default_rng(rng.integers(1 << 31)), 1, theta.size)[0]
    analytic = objective.analytic(prec.dtype)
    reference = float(d @ analytic)

    def g(t):
        rows = (theta[None, :] + np.asarray(t, dtype=float)[:, None] * d[None, :]).astype(prec.dtype)
        return np.concatenate([objective.loss(rows[i:i + 64]) for i in range(0, len(rows), 64)]).astype(float)

    scale = float(np.max(np.abs(theta)))
    steps = m.sweep_steps(prec, scale)
    kept = [h for h in steps if not (objective.has_kinks and _direction_crosses(objective, theta, d, h))]
    floor = m.DERIVED_ULPS * prec.eps * float(np.abs(d) @ np.abs(analytic))
    series = m.sweep(g, reference, prec, scale, lambda h: h in kept, floor)
    if all(s.consistent is not False for s in series):
        return series, len(steps) - len(kept)
    wide = _wide_analytic(objective, prec, directions=d[None, :])()  # the derived value's own rounding, measured
    if wide is not None:
        series = tuple(s.refitted(floor + 2 * abs(reference - float(wide[0]))) for s in series)
    return series, len(steps) - len(kept)


# -- the exact check and the comparison of methods -----------------------------------------------------------

def with_comparison(report, *args) -> CheckReport:
    """`report` with the comparison of methods (`derive.comparison`) at its first point."""
    from dataclasses import replace

    from .comparison import compare_methods

    rows, reference = compare_methods(*args)
    return replace(report, comparison=rows, reference=reference)


def _scalar_instance(loss, gradients, inputs, one_hot, size):
    """(loss, {coordinate symbol: gradient}, inputs, {coordinate: (variable, index)}) in scalar symbols."""
    if not any(isinstance(s, MatrixSymbol) for s in inputs):
        return loss, dict(gradients), list(inputs), {w: (w.name, None) for w in gradients}
    scalar_loss, entries, entry_inputs, _ = explicit_instance(loss, gradients, inputs, size, one_hot)
    labels = {}
    for w in gradients:
        if isinstance(w, MatrixSymbol):
            rows, cols = (int(sympy.sympify(d).xreplace({x: size for x in _dims(inputs)})) for d in w.shape)
            for i in range(rows):
                for j in range(cols):
                    labels[Symbol(f"{w.name}[{i},{j}]", real=True)] = (w.name, (i, j))
        else:
            labels[w] = (w.name, None)
    return scalar_loss, entries, entry_inputs, labels


def exact_check(loss, gradients: dict, inputs: list, points=3, seed: int = 0, one_hot=(), size: int = 2) -> CheckReport:
    """Every gradient entry against sympy.diff of the loss at random rational points (or given ones, read as
    the exact rationals their floats are), in exact arithmetic where no transcendental function is met."""
    from .exact import compare_exactly, rational_point

    scalar_loss, entries, entry_inputs, labels = _scalar_instance(loss, gradients, inputs, one_hot, size)
    kinks = kink_expressions(sympy.sympify(scalar_loss))
    rng, truths, found, redrawn = random.Random(seed), {}, [], 0
    given = None if isinstance(points, (int, np.integer)) else ([points] if isinstance(points, dict) else list(points))
    for number in range(1, (len(given) if given else int(points)) + 1):
        for tries in range(200):
            point = (_rational_given(given[number - 1], entry_inputs, rng, number) if given
                     else rational_point(entry_inputs, rng))
            try:
                at_kink = any(sympy.sympify(k).xreplace(point) == 0 for k in kinks)
                comparisons = None if at_kink else compare_exactly(scalar_loss, entries, point, truths)
            except (CheckError, ZeroDivisionError):
                comparisons = None
            if comparisons is not None or given:
                break
            redrawn += 1
        else:
            raise CheckError("no rational point in [-2, 2] was away from kinks and inside the loss's domain after 200 tries")
        if comparisons is None:
            raise CheckError(f"point {number} is at a kink or outside the loss's domain: the exact check needs a differentiable point")
        named = {s.name: float(v) for s, v in point.items()}
        for symbol, c in comparisons.items():
            variable, index = labels[symbol]
            a, t = float(c.derived), float(c.truth)
            error = 0.0 if c.equal and c.exact else float(abs(c.derived - c.truth))
            rel = 0.0 if c.equal else relative_error(a, t)
            kind = ("exact" if c.exact else "good") if c.equal else "wrong"  # no floats: any difference is an error
            found.append(CheckEntry(variable, named, a, t, error, rel, kind, index, number))
    notes = ["rational arithmetic where the values are rational, 60-digit arithmetic after exp, log or tanh "
             "(agreement to 40 digits counts as equal)"]
    if redrawn:
        notes.append(f"{redrawn} rational point(s) were redrawn (at a kink, or outside the loss's domain)")
    if any(isinstance(s, MatrixSymbol) for s in inputs) and _dims(inputs):
        notes.append(f"matrix dimensions {', '.join(sorted(str(d) for d in _dims(inputs)))} set to {size}")
    return CheckReport(METHOD_TITLES["exact"], tuple(found), tuple(notes), "exact")


def _rational_given(point, entry_inputs, rng, number):
    from .exact import rational_point

    named = {}
    for key, value in (point or {}).items():
        name = key if isinstance(key, str) else key.name
        array = np.asarray(value, dtype=float)
        if array.ndim == 2:
            named.update({f"{name}[{i},{j}]": float(array[i, j]) for i in range(array.shape[0]) for j in range(array.shape[1])})
        else:
            named[name] = float(array)
    drawn = rational_point(entry_inputs, rng)
    return {s: sympy.Rational(named[s.name]) if s.name in named else drawn[s] for s in entry_inputs}


# -- the former entry points, kept --------------------------------------------------------------------------

def central_difference_check(loss: Expr, gradients: dict[Symbol, Expr], inputs: list[Symbol], points=3,
                             seed: int = 0, **options) -> CheckReport:
    """Compare each gradient (in the inputs only) with central differences of `loss` at random points."""
    return check_gradients(loss, gradients, inputs, options.pop("method", "central"), points, seed, **options)


def matrix_difference_check(loss: Expr, gradients: dict, inputs: list, points=3, seed: int = 0,
                            size: int = 2, one_hot=(), **options) -> CheckReport:
    """Central differences on every entry of every matrix gradient, for concrete sizes (dimensions = `size`).

    The network is evaluated with NumPy arrays (`derive.numeric.MatrixEvaluator`): one forward pass per
    perturbed entry. Rows of a one-hot matrix are drawn to sum to 1 (their last entry is 1 minus the others,
    so only the others are free). The report names each entry by its matrix, entries in row-major order."""
    return check_gradients(loss, gradients, inputs, options.pop("method", "central"), points, seed,
                           one_hot=one_hot, size=size, **options)


def explicit_instance(loss: Expr, gradients: dict, inputs: list, size: int = 2, one_hot=()):
    """The loss and gradients of a matrix network for concrete sizes, as scalar expressions in the entries.

    Every symbolic dimension (n, m, ...) becomes `size`; every matrix input becomes an explicit matrix of
    entry symbols (X[0,1], ...). Returns (loss, {entry symbol: gradient entry}, entry inputs, {entry: matrix name}).
    """
    dims = set()
    for symbol in inputs:
        dims |= dimensions_of(symbol)
    values: dict = {d: size for d in dims}
    entry_inputs, owner = [], {}
    for symbol in inputs:
        if isinstance(symbol, MatrixSymbol):
            shape = tuple(int(sympy.sympify(d).xreplace(values)) for d in symbol.shape)
            matrix = entry_symbols(symbol, shape)
            free = list(matrix)
            if symbol in one_hot:
                free = [matrix[i, j] for i in range(matrix.rows) for j in range(matrix.cols - 1)]
                matrix = sympy.Matrix(matrix)
                for i in range(matrix.rows):
                    matrix[i, matrix.cols - 1] = 1 - sympy.Add(*(matrix[i, j] for j in range(matrix.cols - 1)))
                matrix = matrix.as_immutable()
            values[symbol] = matrix
            entry_inputs += free
            owner.update({e: symbol.name for e in free})
        else:
            entry_inputs.append(symbol)
            owner[symbol] = symbol.name
    scalar_loss = _scalar(explicit(loss, values))
    entries = {}
    for wrt, gradient in gradients.items():
        value = explicit(gradient, values)
        if isinstance(wrt, MatrixSymbol):
            for entry, g in zip(values[wrt], value if isinstance(value, MatrixBase) else [value]):
                entries[entry] = g
        else:
            entries[wrt] = _scalar(value)
    return scalar_loss, entries, entry_inputs, owner


def _scalar(value):
    return value[0, 0] if isinstance(value, MatrixBase) else value


def _draw_values(rng, inputs, shapes, sizes, one_hot, prec=m.PRECISIONS["float64"]) -> dict:
    values: dict = dict(sizes)
    for symbol in inputs:
        if symbol in shapes:
            value = _rounded(rng.uniform(-2.0, 2.0, size=shapes[symbol]), prec)
            if symbol in one_hot:
                value[:, -1] = 1 - value[:, :-1].sum(axis=1)
            values[symbol] = value
        else:
            values[symbol] = float(_rounded(rng.uniform(-2.0, 2.0), prec))
    return values


_UNNAMED = object()


class LazyPoint(dict):
    """A sample point's coordinates by name (X[0,1], ...), named on first use: a network with 100k parameters
    would otherwise spend most of a directional check naming entries that no report line reads. A dict in every
    other respect (JSON, comparison, copying); pickled as a plain dict."""

    __slots__ = ("_build",)

    def __init__(self, build):
        super().__init__()
        dict.__setitem__(self, _UNNAMED, None)  # never empty until named: C code reading the size sees entries
        self._build = build

    def _filled(self) -> dict:
        if self._build is not None:
            build, self._build = self._build, None
            dict.clear(self)
            dict.update(self, build())
        return self

    def __reduce__(self):
        return dict, (dict(self._filled().items()),)

    def __eq__(self, other):
        return dict.__eq__(self._filled(), other._filled() if isinstance(other, LazyPoint) else other)

    def __ne__(self, other):
        return not self == other


def _filling(method):
    def filled(self, *args, **kwargs):
        return method(self._filled(), *args, **kwargs)
    filled.__name__ = method.__name__
    return filled


for _name in ("__getitem__", "__iter__", "__len__", "__contains__", "__repr__", "__reversed__",
              "__or__", "__ror__", "__ior__", "__setitem__", "__delitem__", "keys", "values", "items", "get", "copy",
              "update", "pop", "popitem", "setdefault", "clear"):
    setattr(LazyPoint, _name, _filling(getattr(dict, _name)))


def _point_of(values, inputs, one_hot) -> dict:
    """The free coordinates of a sample point, named X[0,1] as in `explicit_instance` (on first use)."""
    if not any(isinstance(s, MatrixSymbol) for s in inputs):
        return _named_coordinates(values, inputs, one_hot)
    return LazyPoint(lambda: _named_coordinates(values, inputs, one_hot))


def _named_coordinates(values, inputs, one_hot) -> dict:
    point = {}
    for symbol in inputs:
        value = values[symbol]
        if isinstance(symbol, MatrixSymbol):
            cols = value.shape[1] - (1 if symbol in one_hot else 0)
            rows = np.asarray(value, dtype=float).tolist()
            point.update({f"{symbol.name}[{i},{j}]": row[j] for i, row in enumerate(rows) for j in range(cols)})
        else:
            point[symbol.name] = float(value)
    return point


def _as_number(value):
    return np.asarray(value).reshape(-1)[0]


def _dims(inputs) -> set:
    found = set()
    for symbol in inputs:
        found |= dimensions_of(symbol)
    return found


def parse_point(text: str) -> dict:
    """A point from the command line, 'w=0, x=1.5' or 'W=[[1, 2], [3, 4]]': names to numbers or nested lists
    (read as JSON, never evaluated)."""
    import json
    import re

    point = {}
    for match in re.finditer(r"\s*([^=,\s][^=]*?)\s*=\s*(\[[^=]*\]|[^,\[\]=]+)\s*(?:,|$)", text):
        name, value = match.group(1), match.group(2)
        try:
            point[name] = json.loads(value)
        except ValueError:
            raise CheckOptionError(f"cannot read the value of {name} in '{text}': {value.strip()} is not a number") from None
    if not point or "".join(re.findall(r"[^\s,]", re.sub(r"\s*([^=,\s][^=]*?)\s*=\s*(\[[^=]*\]|[^,\[\]=]+)", "", text))):
        raise CheckOptionError(f"cannot read the point '{text}': write it as name=value, name=value (matrices as [[...], ...])")
    return point
