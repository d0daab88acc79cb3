"""The data of an evaluation trace (Wengert list): its lines, the forward and reverse tables, their agreement,
and the names of the lines (v_i, their tangents vdot_i and adjoints vbar_i).

Following Baydin et al. (JMLR 2018, Tables 2 and 3): the inputs are v_{1-n}, ..., v_0, then one elementary
operation per line, v_1, v_2, ..., each in terms of earlier lines, with its value at a point. Plain immutable
data, read by `graph`, `methods` and `render`; `scalar` builds the lines and tables, `tracer` makes the
`derive.Trace` (this data with its output methods). Numbers are SymPy Floats of DIGITS significant digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy import Expr, Float, Rational, Symbol

from ..core.errors import DeriveError

DIGITS = 50  # significant digits of every value in the tables
TOLERANCE = 1e-12  # relative: forward, reverse and symbolic must agree to this


class TraceError(DeriveError):
    """A trace cannot be made: a point outside the domain, a missing or malformed value, one-hot targets."""


# -- the lines and tables ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TraceLine:
    """One line of the evaluation trace: v_i = expr (in earlier lines), its value and local partials."""

    index: int
    symbol: Symbol  # v_i
    expr: Expr  # an input: the input's symbol; an operation: in the symbols of earlier lines
    op: str  # "input", "add", "sub", "neg", "mul", "div", "pow", or a function's name ("log", "max")
    operands: tuple[int, ...]  # the indices of the lines it reads
    partials: tuple[Expr, ...]  # d v_i / d v_k for each operand k, in the v symbols (v_i itself may appear)
    rules: tuple[str, ...]  # the registry rules the partials came from
    value: Float
    partial_values: tuple[Float, ...]
    name: Symbol | None = None  # the input, or the definition this line computes (yhat, L)
    at_kink: bool = False  # not differentiable at this point (ReLU at 0, a tie in max): partials are a convention

    @property
    def is_input(self) -> bool:
        return self.op == "input"


@dataclass(frozen=True, slots=True)
class TangentRow:
    """\\dot v_i = sum_k (d v_i / d v_k) \\dot v_k, and its value in each forward pass."""

    index: int
    symbol: Symbol  # vdot_i
    expr: Expr  # in v and vdot symbols; for an input, its direction's symbol (\dot x_1)
    values: tuple[Float, ...]  # one per pass


@dataclass(frozen=True, slots=True)
class ForwardTable:
    """Forward mode: one pass per direction (by default one per input: the whole gradient needs n passes)."""

    directions: tuple[tuple[Rational, ...], ...]  # per pass, the tangent of each input
    rows: tuple[TangentRow, ...]  # inputs first, then every line, as in the trace

    @property
    def passes(self) -> int:
        return len(self.directions)

    @property
    def output_tangents(self) -> tuple[Float, ...]:
        """J xdot for each pass: the output's tangent."""
        return self.rows[-1].values


@dataclass(frozen=True, slots=True)
class AdjointRow:
    """\\bar v_i = sum over the lines j that use v_i of \\bar v_j d v_j / d v_i: the sum written out."""

    index: int
    symbol: Symbol  # vbar_i
    consumers: tuple[int, ...]  # the lines that use v_i: several means the adjoint accumulates at a branch
    chain: Expr  # sum of \bar v_j \partial v_j / \partial v_i (unevaluated derivatives); 1 for the output
    expr: Expr  # the same with the local partials substituted
    contributions: tuple[Float, ...]  # \bar v_j d v_j / d v_i for each consumer, in order
    value: Float


@dataclass(frozen=True, slots=True)
class ReverseTable:
    """Reverse mode: one pass from the output back to the inputs gives the whole gradient."""

    rows: tuple[AdjointRow, ...]  # from the output down to the first input

    passes: int = 1

    def adjoint(self, index: int) -> AdjointRow:
        return next(row for row in self.rows if row.index == index)


@dataclass(frozen=True, slots=True)
class Consistency:
    """ybar^T (J xdot) against (J^T ybar)^T xdot for each forward pass, and both against sympy.diff."""

    forward: tuple[Float, ...]  # J xdot per pass (ybar = 1)
    reverse: tuple[Float, ...]  # (J^T ybar)^T xdot per pass
    symbolic: tuple[Float, ...]  # (grad f)^T xdot per pass, grad f by sympy.diff
    forward_vs_reverse: float  # the largest relative difference
    against_symbolic: float  # the largest relative difference of either mode from sympy.diff
    tolerance: float = TOLERANCE
    at_kink: bool = False  # the derivative does not exist here: sympy.diff's value is shown, not judged
    against_derivation: float | None = None  # a matrix problem: the entries' adjoints vs derive's matrix gradient

    @property
    def passed(self) -> bool:
        """The modes agree, and agree with sympy.diff (and, for a matrix problem, with derive's matrix gradient)
        wherever the derivative exists (never a false failure at a kink, where both modes take the same
        subgradient and sympy.diff another convention)."""
        derivation = self.against_derivation or 0.0
        return self.forward_vs_reverse <= self.tolerance and (
            self.at_kink or max(self.against_symbolic, derivation) <= self.tolerance)


@dataclass(frozen=True, slots=True)
class TraceData:
    """A function's evaluation trace at a point, its forward and reverse tables, and their agreement (what
    `derive.Trace` holds; its output methods live with it in `tracer`)."""

    title: str
    function: Expr  # in the inputs, every definition expanded
    inputs: tuple[Symbol, ...]
    point: tuple[Rational, ...]
    lines: tuple[TraceLine, ...]
    forward: ForwardTable
    reverse: ReverseTable
    symbolic_gradient: tuple[Expr, ...]  # sympy.diff of `function` by each input
    symbolic_values: tuple[Float, ...]
    consistency: Consistency
    mode: str = "both"  # which tables a document shows: forward, reverse or both
    source: str = ""  # the problem file, or "" for an expression
    definitions: tuple[tuple[Symbol, Expr], ...] = ()  # a problem's definitions on the way to the output
    problem: object = None  # the derive.Problem traced, if any (its derivation is the analytic method)
    expansion: object = None  # a matrix problem: its `derive.tracing.matrix.Expansion` (sizes, matrix inputs)
    derived: tuple[Float, ...] = ()  # a matrix problem: derive's matrix gradient, entry by entry, at the point

    @property
    def output(self) -> TraceLine:
        return self.lines[-1]

    @property
    def value(self) -> Float:
        return self.output.value

    @property
    def gradient(self) -> tuple[Float, ...]:
        """The reverse pass's adjoints of the inputs: the gradient, in the order of `inputs`."""
        return tuple(self.reverse.adjoint(line.index).value for line in self.lines if line.is_input)

    @property
    def kinks(self) -> tuple[TraceLine, ...]:
        """The lines whose operation is not differentiable at this point: a failed check there is expected."""
        return tuple(line for line in self.lines if line.at_kink)

    def line(self, index: int) -> TraceLine:
        return next(line for line in self.lines if line.index == index)

    def consumers(self, index: int) -> tuple[int, ...]:
        return tuple(line.index for line in self.lines if index in line.operands)


# -- naming the lines -------------------------------------------------------------------------------------
def v(index: int) -> Symbol:
    return Symbol(f"v_{index}", real=True)


def vdot(index: int) -> Symbol:
    return Symbol(f"vdot_{index}", real=True)


def vbar(index: int) -> Symbol:
    return Symbol(f"vbar_{index}", real=True)


_SIMPLE_NAME = re.compile(r"^([A-Za-z]+)(_[A-Za-z0-9]+)?$")


def dotted(symbol: Symbol) -> Symbol:
    """\\dot x_1 for the input x_1: the tangent a forward pass starts from."""
    match = _SIMPLE_NAME.match(symbol.name)
    if match:
        return Symbol(f"{match.group(1)}dot{match.group(2) or ''}", real=True)
    return Symbol(rf"\dot{{{symbol.name}}}", real=True)

