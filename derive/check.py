"""The numeric check: each derived gradient against central differences at seeded random points.

Reads derivations, never builds them. The step for input x is cbrt(machine eps) * max(1, |x|); the
relative error |a - n| / max(|a|, |n|) is put in the usual bands (good < 1e-7 <= acceptable < 1e-4 <=
suspicious < 1e-2 <= wrong), with both values below 1e-8 counted as agreeing. Points where the loss or
the gradient is not finite, or that lie near a kink (ReLU at 0, a tie in max), are drawn again, and the
report says how many were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy
from sympy import Expr, MatrixSymbol, Symbol, preorder_traversal
from sympy.matrices import MatrixBase

from .errors import CheckError, MissingRuleError
from .matrix_ops import dimensions_of, entry_symbols, explicit
from .numeric import MatrixEvaluator, compile_expression
from .rules import rule_for

BANDS = ((1e-7, "good"), (1e-4, "acceptable"), (1e-2, "suspicious"), (np.inf, "wrong"))
PASSING = ("good", "acceptable")
TINY = 1e-8


def band(relative_error: float) -> str:
    return next(name for limit, name in BANDS if relative_error < limit)


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """One gradient at one point: the derived value against central differences."""

    variable: str
    point: dict
    analytic: float
    numeric: float
    absolute_error: float
    relative_error: float
    band: str


@dataclass(frozen=True, slots=True)
class CheckReport:
    """The verdict ("pass" or "fail"), every entry, and what the checker had to work around."""

    method: str
    entries: tuple[CheckEntry, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(e.band in PASSING for e in self.entries)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "fail"

    @property
    def points(self) -> int:
        """How many sample points each gradient was compared at."""
        return len({tuple(sorted(e.point.items())) for e in self.entries})

    def worst(self, variable: str) -> CheckEntry:
        return max((e for e in self.entries if e.variable == variable), key=lambda e: e.relative_error)

    def max_absolute_error(self, variable: str) -> float:
        return max(e.absolute_error for e in self.entries if e.variable == variable)

    def variables(self) -> list[str]:
        return list(dict.fromkeys(e.variable for e in self.entries))

    def summary(self) -> str:
        lines = [f"numeric check ({self.method}, {len(self.entries)} comparisons): {self.verdict.upper()}"]
        for name in self.variables():
            worst = self.worst(name)
            lines.append(f"  d/d{name}: max relative error {worst.relative_error:.1e} ({worst.band})")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])

    def to_dict(self) -> dict:
        return {
            "method": self.method,
            "verdict": self.verdict,
            "notes": list(self.notes),
            "entries": [
                {
                    "variable": e.variable,
                    "point": e.point,
                    "analytic": e.analytic,
                    "numeric": e.numeric,
                    "absolute_error": e.absolute_error,
                    "relative_error": e.relative_error,
                    "band": e.band,
                }
                for e in self.entries
            ],
        }


FLOOR = 1e-6  # magnitudes below this are compared on this scale: central differences cannot resolve less


def relative_error(analytic: float, numeric: float) -> float:
    """|a - n| / max(|a|, |n|), with magnitudes under FLOOR compared on the scale FLOOR (a gradient entry of
    7e-8 carries the difference quotient's absolute noise of about 1e-10 like any other entry)."""
    scale = max(abs(analytic), abs(numeric))
    return 0.0 if scale < TINY else abs(analytic - numeric) / max(scale, FLOOR)


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


def central_difference_check(
    loss: Expr, gradients: dict[Symbol, Expr], inputs: list[Symbol], points: int = 3, seed: int = 0
) -> CheckReport:
    """Compare each gradient (in the inputs only) with central differences of `loss` at random points."""
    rng = np.random.default_rng(seed)
    f = compile_expression(loss, inputs)
    grads = {w: compile_expression(g, inputs) for w, g in gradients.items()}
    kinks = kink_expressions(loss)
    kink_f = compile_expression(kinks, inputs) if kinks else None
    entries, redrawn = [], 0
    for _ in range(points):
        point, tries = _draw_point(rng, inputs, f, grads, kink_f)
        redrawn += tries
        for w, g in grads.items():
            entries.append(_compare(w, inputs, point, f, g))
    notes = (f"{redrawn} sample point(s) were redrawn (not finite, or near a kink)",) if redrawn else ()
    return CheckReport("central difference", tuple(entries), notes)


def _draw_point(rng, inputs, f, grads, kink_f, max_tries: int = 200):
    for tries in range(max_tries):
        point = rng.uniform(-2.0, 2.0, size=len(inputs))
        with np.errstate(all="ignore"):
            values = [f(*point)] + [g(*point) for g in grads.values()]
            near_kink = kink_f is not None and np.min(np.abs(np.asarray(kink_f(*point), dtype=float))) < 1e-3
        if np.all(np.isfinite(np.asarray(values, dtype=float))) and not near_kink:
            return point, tries
    raise CheckError(f"no sample point in [-2, 2] gave finite values away from kinks after {max_tries} tries")


def _compare(w: Symbol, inputs: list[Symbol], point: np.ndarray, f, g) -> CheckEntry:
    k = inputs.index(w)
    h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(point[k]))
    up, down = point.copy(), point.copy()
    up[k] += h
    down[k] -= h
    with np.errstate(all="ignore"):
        numeric = float((f(*up) - f(*down)) / (up[k] - down[k]))
        analytic = float(g(*point))
    rel = relative_error(analytic, numeric)
    return CheckEntry(
        w.name, {s.name: float(v) for s, v in zip(inputs, point)}, analytic, numeric,
        abs(analytic - numeric), rel, band(rel),
    )


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


def matrix_difference_check(loss: Expr, gradients: dict, inputs: list, points: int = 3, seed: int = 0,
                            size: int = 2, one_hot=()) -> CheckReport:
    """Central differences on every entry of every matrix gradient, for concrete sizes (dimensions = `size`).

    The network is evaluated with NumPy arrays (`derive.numeric.MatrixEvaluator`): one forward pass per
    perturbed entry. Rows of a one-hot matrix are drawn to sum to 1 (their last entry is 1 minus the others,
    so only the others are free). The report names each entry by its matrix, entries in row-major order."""
    dims = _dims(inputs)
    sizes = {d: size for d in dims}
    shapes = {s: tuple(int(sympy.sympify(d).xreplace(sizes)) for d in s.shape) for s in inputs if isinstance(s, MatrixSymbol)}
    rng = np.random.default_rng(seed)
    entries, redrawn = [], 0
    for _ in range(points):
        for tries in range(200):
            values = _draw_values(rng, inputs, shapes, sizes, one_hot)
            evaluator = MatrixEvaluator(values)
            with np.errstate(all="ignore"):
                base = _as_float(evaluator(loss))
                analytic = {w: np.asarray(evaluator(g), dtype=float) for w, g in gradients.items()}
            finite = np.isfinite(base) and all(np.all(np.isfinite(a)) for a in analytic.values())
            if finite and evaluator.kink_distance >= 1e-3:
                break
            redrawn += 1
        else:
            raise CheckError("no sample point in [-2, 2] gave finite values away from kinks after 200 tries")
        point = _point_of(values, inputs, one_hot)
        for wrt, value in analytic.items():
            for index in np.ndindex(*(shapes.get(wrt, (1, 1)))):
                numeric = _difference_quotient(loss, values, wrt, index, one_hot)
                a = float(value[index] if np.ndim(value) == 2 else value)
                rel = relative_error(a, numeric)
                entries.append(CheckEntry(wrt.name, point, a, numeric, abs(a - numeric), rel, band(rel)))
    notes = ((f"{redrawn} sample point(s) were redrawn (not finite, or near a kink)",) if redrawn else ()) + tuple(
        f"the rows of {y.name} were drawn to sum to 1" for y in one_hot) + (
        (f"matrix dimensions {', '.join(sorted(str(d) for d in dims))} set to {size}",) if dims else ())
    return CheckReport("central difference on every entry", tuple(entries), notes)


def _draw_values(rng, inputs, shapes, sizes, one_hot) -> dict:
    values: dict = dict(sizes)
    for symbol in inputs:
        if symbol in shapes:
            value = rng.uniform(-2.0, 2.0, size=shapes[symbol])
            if symbol in one_hot:
                value[:, -1] = 1 - value[:, :-1].sum(axis=1)
            values[symbol] = value
        else:
            values[symbol] = float(rng.uniform(-2.0, 2.0))
    return values


def _point_of(values, inputs, one_hot) -> dict:
    """The free coordinates of a sample point, named X[0,1] as in `explicit_instance`."""
    point = {}
    for symbol in inputs:
        value = values[symbol]
        if isinstance(symbol, MatrixSymbol):
            cols = value.shape[1] - (1 if symbol in one_hot else 0)
            point.update({f"{symbol.name}[{i},{j}]": float(value[i, j]) for i in range(value.shape[0]) for j in range(cols)})
        else:
            point[symbol.name] = float(value)
    return point


def _difference_quotient(loss, values, wrt, index, one_hot) -> float:
    """(L(x + h e) - L(x - h e)) / 2h for one entry, h = cbrt(eps) max(1, |x|)."""
    def loss_at(step):
        shifted = dict(values)
        if isinstance(wrt, MatrixSymbol):
            matrix = np.array(values[wrt], dtype=float)
            matrix[index] += step
            shifted[wrt] = matrix
        else:
            shifted[wrt] = values[wrt] + step
        with np.errstate(all="ignore"):
            return _as_float(MatrixEvaluator(shifted)(loss))

    x = float(values[wrt][index]) if isinstance(wrt, MatrixSymbol) else float(values[wrt])
    h = np.cbrt(np.finfo(float).eps) * max(1.0, abs(x))
    up, down = (x + h) - x, x - (x - h)
    return (loss_at(up) - loss_at(-down)) / (up + down)


def _as_float(value) -> float:
    return float(np.asarray(value, dtype=float).reshape(-1)[0])


def _dims(inputs) -> set:
    found = set()
    for symbol in inputs:
        found |= dimensions_of(symbol)
    return found
