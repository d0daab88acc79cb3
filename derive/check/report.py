"""The report of a check: `CheckReport` (the verdict, every `CheckEntry`, the sweep and the comparison table,
the notes), how an entry is banded (`band`, `judged_band`, `relative_error`, `PASSING`), its words
(`describe`, `summary`) and its JSON form (`to_dict`).

Only reads what a check measured: the measuring is in `gradient_check` (differences) and `exact_method`
(sympy.diff); what an entry's error may be is in `error_budget`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import methods as m


BANDS = m.PRECISIONS["float64"].bands
PASSING = ("good", "acceptable", "exact", "not differentiable")
BAND_RANK = ("exact", "good", "acceptable", "not differentiable", "suspicious", "wrong")


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
    sweep: tuple = ()  # derive.check.methods.SweepSeries, one per difference method
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
        """The relative-error bands of the dtype (an exact check's entries are exact, good or wrong; its
        documents name float64's limits where they speak of bands)."""
        return m.precision("float64" if self.dtype == "exact" else self.dtype).bands

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
        """The worst band among the entries of `variable` the check resolved (wrong, suspicious, not
        differentiable, acceptable, good, exact, in that order), or "not resolved" when it resolved none."""
        resolved = self._resolved(variable)
        if not resolved:
            return "not resolved"
        return max((e.band for e in resolved), key=BAND_RANK.index)

    def _resolved(self, variable: str) -> list[CheckEntry]:
        """The entries of `variable` the numerical value could tell from 0 (every failing entry is one)."""
        return [e for e in self.entries if e.variable == variable and not e.unresolved]

    def unresolved(self) -> list[CheckEntry]:
        """Entries within their budget whose budget exceeds their own size: the numerical derivative cannot
        tell them from 0 (a gradient that vanishes with depth, say)."""
        return [e for e in self.entries if e.unresolved]

    def max_relative_error(self, variable: str) -> float:
        """The largest relative error among the entries of `variable` the check resolved: an entry smaller than
        its own budget may differ from its numerical value by 100% and be right, since nothing tested it (over
        every entry when none was resolved)."""
        entries = self._resolved(variable) or [e for e in self.entries if e.variable == variable]
        return max(e.relative_error for e in entries)

    def max_share(self, variable: str) -> float | None:
        """The largest share of its error budget any entry of `variable` used (None without budgets)."""
        shares = [e.share for e in self.entries if e.variable == variable and e.share is not None]
        return max(shares) if shares else None

    def max_absolute_error(self, variable: str) -> float:
        return max(e.absolute_error for e in self.entries if e.variable == variable)

    def variables(self) -> list[str]:
        return list(dict.fromkeys(e.variable for e in self.entries))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's display: the per-gradient summary as HTML (names as MathML), as LaTeX, and as text."""
        from .display import report_html, report_latex

        bundle = {"text/html": report_html, "text/latex": report_latex, "text/plain": lambda r: r.summary()}
        return {kind: make(self) for kind, make in bundle.items()
                if (include is None or kind in include) and (exclude is None or kind not in exclude)}

    def summary(self, loss: str = "L", limit: int = 10) -> str:
        lines = [f"numeric check ({self.method}, {self.dtype}, {len(self.entries)} comparisons): {self.verdict.upper()}"]
        for name in self.variables():
            share = self.max_share(name)
            what = "along random directions" if name == "direction" else f"d/d{name}"
            used = "" if share is None else f", at most {share:.2g} of the error budget"
            resolved, count = len(self._resolved(name)), sum(e.variable == name for e in self.entries)
            if not resolved:
                lines.append(f"  {what}: not tested: each of its {count} entries is smaller than the error the "
                             f"{self.method} carries there")
                continue
            over = "" if resolved == count else f" over the {resolved} entries resolved"
            untested = "" if resolved == count else f"; {count - resolved} of {count} too small to resolve, not tested"
            lines.append(f"  {what}: max relative error {self.max_relative_error(name):.1e}{over}{used} "
                         f"({self.band_of(name)}){untested}")
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
    by its error budget (`derive.check.methods.judge`), not by this number: a tiny entry may differ relatively much
    and still lie within what rounding explains."""
    scale = max(abs(analytic), abs(numeric))
    if not np.isfinite(scale) or not np.isfinite(analytic - numeric):
        return np.inf
    return 0.0 if scale == 0 else abs(analytic - numeric) / scale
