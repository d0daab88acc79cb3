"""The method-comparison table of seed 001, filled in for a trace: each way of getting the gradient, its cost
and its measured error against the exact gradient (SymPy at 50 digits).

Forward and central differences and backpropagation run in float64, as a program would; the manual analytic
gradient is derive's derivation (for a problem) or `sympy.diff` (for an expression), evaluated in float64;
forward and reverse mode are the trace's own tables, computed at 50 digits. Reads traces, never builds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..check.numeric import compile_expression
from .data import TraceData, v

EPS = np.finfo(float).eps


@dataclass(frozen=True, slots=True)
class MethodResult:
    """One row of the comparison: what was computed, at what cost, and how far it is from the exact value."""

    method: str
    formula: str  # as in seed 001, LaTeX
    cost: str  # "3 evaluations of f", "2 forward passes"
    arithmetic: str  # "float64" or "50 digits"
    values: tuple[float, ...]  # the gradient, or the directional derivative for a chosen direction
    absolute_error: float  # the largest, over the components
    relative_error: float  # the largest absolute error over the largest exact component


def compare_methods(trace: TraceData) -> tuple[MethodResult, ...]:
    """Every method of seed 001 at the trace's point (for a problem, the analytic row is derive's derivation)."""
    problem = trace.problem
    n = len(trace.inputs)
    x = np.array([float(p) for p in trace.point])
    f = compile_expression(trace.function, list(trace.inputs))
    exact = np.array([float(g) for g in trace.symbolic_values])
    rows = [
        ("forward difference", r"\frac{f(x + \epsilon e_j) - f(x)}{\epsilon}", f"{n + 1} evaluations of f",
         "float64", _forward_difference(f, x)),
        ("central difference", r"\frac{f(x + \epsilon e_j) - f(x - \epsilon e_j)}{2\epsilon}",
         f"{2 * n} evaluations of f", "float64", _central_difference(f, x)),
        ("manual analytic", "derive's derivation" if problem is not None else r"\texttt{sympy.diff}",
         f"{n} derived formula{'s' if n > 1 else ''}", "float64", _analytic(trace, problem, x)),
        ("backpropagation", "backward over the same graph", "1 forward + 1 backward pass", "float64",
         _backprop(trace)),
        ("forward mode", r"\dot v_i = \sum_k \frac{\partial v_i}{\partial v_k} \dot v_k",
         _passes(trace.forward.passes, "forward"), "50 digits", _forward_mode(trace)),
        ("reverse mode", r"\bar v_k = \sum_i \bar v_i \frac{\partial v_i}{\partial v_k}",
         "1 forward + 1 reverse pass", "50 digits", np.array([float(g) for g in trace.gradient])),
    ]
    return tuple(_result(*row, exact=exact, trace=trace) for row in rows)


def _passes(count: int, kind: str) -> str:
    return f"{count} {kind} pass{'es' if count > 1 else ''}"


def _result(method, formula, cost, arithmetic, values, exact, trace) -> MethodResult:
    if method == "forward mode" and len(trace.forward.directions) == 1 and len(trace.inputs) > 1:
        exact = np.array([float(trace.consistency.symbolic[0])])  # one chosen direction: compare J xdot
        cost += " (one direction: the gradient needs one pass per input)"
    error = float(np.max(np.abs(values - exact))) if len(exact) else 0.0
    scale = float(np.max(np.abs(exact))) if len(exact) else 0.0
    relative = error / scale if scale > 0 else error
    return MethodResult(method, formula, cost, arithmetic, tuple(float(a) for a in values), error, relative)


def _forward_difference(f, x) -> np.ndarray:
    base = float(f(*x))
    gradient = []
    for j in range(len(x)):
        step = np.sqrt(EPS) * max(1.0, abs(x[j]))
        moved = x.copy()
        moved[j] += step
        gradient.append((float(f(*moved)) - base) / step)
    return np.array(gradient)


def _central_difference(f, x) -> np.ndarray:
    gradient = []
    for j in range(len(x)):
        step = np.cbrt(EPS) * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += step
        down[j] -= step
        gradient.append((float(f(*up)) - float(f(*down))) / (2 * step))
    return np.array(gradient)


def _analytic(trace: TraceData, problem, x) -> np.ndarray:
    if problem is None:
        formulas = list(trace.symbolic_gradient)
    elif trace.expansion is not None:  # a matrix problem: derive's matrix gradients, expanded to the entries
        from .matrix import entry_gradients

        inputs = problem.network.inputs.values()
        wrts = [m for m, _ in trace.expansion.matrices] + [x for x in trace.inputs if x in inputs]
        entries = entry_gradients(problem, trace.expansion, wrts)
        formulas = [entries[x] for x in trace.inputs]
    else:
        from ..solve.derivation import Solution

        solution = Solution.derive(problem.network, problem.loss, list(trace.inputs))
        formulas = [d.expanded() for d in solution.derivations]
    g = compile_expression(formulas, list(trace.inputs))
    with np.errstate(all="ignore"):
        return np.array([float(value) for value in g(*x)], dtype=float)


def _backprop(trace: TraceData) -> np.ndarray:
    """One forward pass storing every value, one backward pass accumulating adjoints: float64 throughout."""
    values: dict[int, float] = {}
    for line in trace.lines:
        if line.is_input:
            values[line.index] = float(trace.point[trace.inputs.index(line.name)])
            continue
        arguments = [v(k) for k in line.operands]
        values[line.index] = float(compile_expression(line.expr, arguments)(*(values[k] for k in line.operands)))
    adjoint = {line.index: 0.0 for line in trace.lines}
    adjoint[trace.output.index] = 1.0
    for line in reversed(trace.lines):
        if line.is_input:
            continue
        arguments = [v(k) for k in line.operands] + [line.symbol]
        partials = compile_expression(list(line.partials), arguments)(*(values[k] for k in line.operands),
                                                                       values[line.index])
        for k, partial in zip(line.operands, partials):
            adjoint[k] += adjoint[line.index] * float(partial)
    return np.array([adjoint[line.index] for line in trace.lines if line.is_input])


def _forward_mode(trace: TraceData) -> np.ndarray:
    return np.array([float(t) for t in trace.forward.output_tangents])


def exact_digits(value, digits: int = 20) -> str:
    """A 50-digit value as text with `digits` significant digits, for JSON."""
    return sympy.sstr(sympy.N(value, digits))
