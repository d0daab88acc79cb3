"""The network's inputs: a check's problem (`ScalarProblem`, `MatrixProblem`: the loss and gradients compiled
by the forward pass, the kinks) and its points: drawn at random (seeded, away from kinks, finite), or given
(by input name; `parse_point` reads one from the command line), with a one-line error naming the
subexpression that is not finite.

A problem makes the objective at a point (`objectives`); the check itself is in `gradient_check`.
"""

from __future__ import annotations

import numpy as np
import sympy
from sympy import Expr, MatrixSymbol, preorder_traversal

from ..core import matrix_ops as mo
from ..core.errors import CheckError
from ..core.matrix_ops import dimensions_of
from . import methods as m
from .forward_pass import Program
from .kinks import kink_expressions
from .numeric import MatrixEvaluator
from .objectives import MatrixObjective, ScalarObjective
from .options import CheckOptionError


class ScalarProblem:
    """A scalar network's loss and gradients, with the kinks of the loss, evaluated by a forward pass through
    `definitions` (`derive.check.forward_pass.Program`: each definition once, the gradients in the named
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
