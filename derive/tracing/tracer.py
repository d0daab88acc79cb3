"""The evaluation trace (Wengert list) of a scalar function, and its forward- and reverse-mode tables.

Following Baydin et al. (JMLR 2018, Tables 2 and 3): the inputs are v_{1-n}, ..., v_0, then one elementary
operation per line, v_1, v_2, ..., each in terms of earlier lines, with its value at a point. SymPy's
Add/Mul/Pow are taken apart into readable operations (`v_5 = v_4 - v_3`, `v_2 = v_1 / v_0`, `v_3 = -v_2`),
shared subexpressions become one line, and a problem's named definitions (yhat, L) keep their names.

Each line's local partials come from the rule registry (`derive.rules`): the chain rule applied to the line's
tiny expression, entry by entry, so that the tables are correct by construction; an operation without a rule
is a `MissingRuleError`. The forward table holds each tangent `\\dot v_i` (one pass per direction), the reverse
table each adjoint `\\bar v_i` with the sum over the lines that use v_i written out (accumulation at branches).
A problem with matrices is first expanded to its entries at concrete sizes (`derive.trace_matrix`), and its
entries' adjoints are checked against derive's matrix gradient. Numbers are computed with SymPy at 50 significant digits. Plain data only: no Jinja2, no NumPy here;
`derive.trace_render` writes documents, `derive.graph` draws the graph, `derive.trace_methods` compares methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy
from sympy import Add, Derivative, Expr, Float, Mul, Pow, Rational, Symbol

from ..core.errors import DeriveError, ProblemError
from ..core.network import make_symbol
from ..core.rules import rule_for

DIGITS = 50  # significant digits of every value in the tables
TOLERANCE = 1e-12  # relative: forward, reverse and symbolic must agree to this


class TraceError(DeriveError):
    """A trace cannot be made: a point outside the domain, a missing or malformed value, one-hot targets."""


# -- the data ---------------------------------------------------------------------------------------------
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
class Trace:
    """A function's evaluation trace at a point, its forward and reverse tables, and their agreement."""

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
    expansion: object = None  # a matrix problem: its `derive.trace_matrix.Expansion` (sizes, matrix inputs)
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

    # -- output, through the modules that own it ------------------------------------------------------------
    def document(self) -> str:
        from .render import render_trace

        return render_trace(self, "tex")

    def markdown(self) -> str:
        from .render import render_trace

        return render_trace(self, "md")

    def to_json(self) -> str:
        from .render import trace_json

        return trace_json(self)

    def graph(self, suffix: str = ".svg", adjoints: bool = False) -> str | bytes:
        """The computational graph drawn by Graphviz: ".svg" or ".png" (bytes), or ".dot" (its source, text)."""
        from .graph import graph_file

        return graph_file(self, suffix, adjoints)

    def _repr_markdown_(self) -> str:
        return self.markdown()


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


# -- building the trace -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Draft:
    index: int
    expr: Expr
    op: str
    operands: tuple[int, ...]


class _Decomposer:
    """Takes a SymPy expression apart into elementary operations, one line each, sharing repeated ones."""

    def __init__(self, inputs, definitions: dict):
        self.definitions = definitions
        self.order = {s: k for k, s in enumerate([*inputs, *definitions])}
        self.drafts: list[_Draft] = []
        self.known: dict[Expr, Symbol] = {}  # an expression in the inputs -> its line's v symbol
        self.bodies: dict[Expr, Symbol] = {}  # a line's expression in v symbols -> its v symbol
        self.names: dict[int, Symbol] = {}
        self.inputs = tuple(inputs)
        for k, symbol in enumerate(inputs):
            index = k - len(inputs) + 1
            self.drafts.append(_Draft(index, symbol, "input", ()))
            self.known[symbol] = v(index)
            self.names[index] = symbol

    def operand(self, expr: Expr) -> Expr:
        """The v symbol of the line computing `expr` (emitted if new), or `expr` itself if it is a constant."""
        if not expr.free_symbols:
            return expr
        if expr in self.known:
            return self.known[expr]
        if expr in self.definitions:
            result = self.operand(self.definitions[expr])
            index = _index_of(result)
            if index is not None and index > 0:
                self.names.setdefault(index, expr)
        elif isinstance(expr, Symbol):
            raise TraceError(f"{expr} is neither an input nor a definition")
        else:
            result = self.emit(*self.elementary(expr))
        self.known[expr] = result
        return result

    def emit(self, body: Expr, op: str) -> Expr:
        """The v symbol of a new line `body` (in earlier lines' symbols), or of the line that computes it already."""
        if not body.free_symbols:
            return body
        if body in self.bodies:
            return self.bodies[body]
        if isinstance(body, Symbol):  # x + 0 and the like: nothing to compute
            return body
        index = len(self.drafts) - len(self.inputs) + 1
        operands = tuple(sorted(_index_of(s) for s in body.free_symbols))
        self.drafts.append(_Draft(index, body, op, operands))
        self.bodies[body] = v(index)
        return v(index)

    def elementary(self, expr: Expr) -> tuple[Expr, str]:
        """`expr`'s top operation over the lines (or constants) of its operands."""
        rule_for(expr)  # an operation without a rule is named here, in the user's own expression
        if expr.is_Add:
            return self._sum(expr)
        if expr.is_Mul:
            return self._product(expr)
        if expr.is_Pow:
            base, exponent = expr.as_base_exp()
            power = exponent if exponent.is_number else self.operand(exponent)
            return Pow(self.operand(base), power), "pow"
        return expr.func(*(self.operand(a) for a in expr.args)), type(expr).__name__.lower()

    def _ordered(self, terms) -> list:
        """Terms in reading order: by the inputs (then definitions) they use, as a textbook lists them."""
        return sorted(terms, key=lambda t: (sorted(self.order.get(s, len(self.order)) for s in t.free_symbols),
                                            sympy.default_sort_key(t)))

    def _sum(self, expr: Expr) -> tuple[Expr, str]:
        """Binary additions and subtractions, left to right: v_4 = v_1 + v_2, v_5 = v_4 - v_3."""
        constant, terms = expr.as_coeff_add()
        positive = self._ordered(t for t in terms if not t.could_extract_minus_sign())
        negative = self._ordered(-t for t in terms if t.could_extract_minus_sign())
        items = [(1, self.operand(t)) for t in positive] + [(-1, self.operand(t)) for t in negative]
        if constant != 0:
            items.insert(1 if positive else 0, (1, constant))
        return self._fold(items, lambda acc, sign, item: acc + sign * item)

    def _fold(self, items, combine) -> tuple[Expr, str]:
        """Every line but the last emitted here; the last is returned for the caller to emit."""
        accumulated = items[0][0] * items[0][1]
        for position, (sign, item) in enumerate(items[1:], start=1):
            body = combine(accumulated, sign, item)
            if position == len(items) - 1:
                return body, _kind(body)
            accumulated = self.emit(body, _kind(body))
        return accumulated, _kind(accumulated)

    def _product(self, expr: Expr) -> tuple[Expr, str]:
        """A quotient v_a / v_b, a negation -v_a, or binary products (the coefficient kept in the first)."""
        coefficient, factors = expr.as_coeff_mul()
        below = [f for f in factors if _in_denominator(f)]
        if below:
            numerator = coefficient * self.operand(Mul(*(f for f in factors if not _in_denominator(f))))
            return numerator / self.operand(Mul(*(1 / f for f in below))), "div"
        if coefficient == -1 and len(factors) == 1:
            return -self.operand(factors[0]), "neg"
        operands = [self.operand(f) for f in self._ordered(factors)]
        items = [(1, coefficient * operands[0])] + [(1, o) for o in operands[1:]]
        return self._fold(items, lambda acc, _, item: acc * item)


def _in_denominator(factor: Expr) -> bool:
    base, exponent = factor.as_base_exp()
    return bool(exponent.is_number and exponent.is_negative and not base.is_number)


def _kind(body: Expr) -> str:
    if body.is_Add:
        return "sub" if any(t.could_extract_minus_sign() for t in body.args) else "add"
    if body.is_Mul:
        return "neg" if body.args[0] == -1 and len(body.args) == 2 else "mul"
    return type(body).__name__.lower()


def _index_of(symbol) -> int | None:
    if isinstance(symbol, Symbol) and symbol.name.startswith("v_"):
        return int(symbol.name[2:])
    return None


def local_partial(expr: Expr, variable: Symbol, out: Expr | None = None) -> tuple[Expr, tuple[str, ...]]:
    """d expr / d variable by the registry's rules, applied node by node (the chain rule on one line);
    `out` stands for `expr`'s own value in rules that use it (sigma' = sigma (1 - sigma)). Returns the
    partial and the names of the rules used."""
    if expr == variable:
        return sympy.S.One, ()
    if not expr.has(variable):
        return sympy.S.Zero, ()
    rule = rule_for(expr)
    operands = tuple(rule.split(expr))
    partials = rule.partials(out if out is not None else expr, operands)
    terms, names = [], [rule.name]
    for partial, operand in zip(partials, operands):
        inner, used = local_partial(operand, variable)
        if inner != 0:
            terms.append(partial * inner)
            names += used
    return Add(*terms), tuple(dict.fromkeys(names))


# -- numbers ----------------------------------------------------------------------------------------------
def _number(expr: Expr, values: dict, what) -> Float:
    """`expr` at `values`, to DIGITS digits; a TraceError from `what()` if it is not a finite real number."""
    result = numeric_value(expr, values)
    if not (result.is_number and result.is_real and result.is_finite):
        raise TraceError(what())
    return Float(result, DIGITS)


def numeric_value(expr: Expr, values: dict) -> Expr:
    """`expr` at `values` to DIGITS digits, node by node from the leaves, each shared subtree once (evaluating
    the whole expression at once rewrites nested sigmoids into exponentially large expressions)."""
    memo: dict = {}
    for node in sympy.postorder_traversal(expr):
        if node in memo:
            continue
        if node in values:
            result = values[node]
        elif not node.args:
            result = node
        else:
            result = node.func(*(memo[a] for a in node.args))
        memo[node] = result.evalf(DIGITS) if getattr(result, "is_number", False) else result
    return sympy.N(memo[expr], DIGITS)


def _located(draft: _Draft, values: dict, point_text: str) -> str:
    arguments = ", ".join(f"{sympy.sstr(v(k))} = {_short(values[v(k)])}" for k in draft.operands)
    return f"trace line {sympy.sstr(v(draft.index))} = {sympy.sstr(draft.expr)}, with {arguments}"


def _short(value) -> str:
    return sympy.sstr(value) if isinstance(value, Rational) else f"{float(value):.6g}"


def _evaluate_lines(drafts: list[_Draft], point: dict, names: dict, point_text: str) -> tuple[TraceLine, ...]:
    values: dict[Symbol, Expr] = {}
    lines = []
    for draft in drafts:
        symbol = v(draft.index)
        if draft.op == "input":
            values[symbol] = point[draft.expr]
            lines.append(TraceLine(draft.index, symbol, draft.expr, "input", (), (), (),
                                   Float(point[draft.expr], DIGITS), (), draft.expr))
            continue
        where = _located(draft, values, point_text)
        value = _number(draft.expr, values, lambda: f"{where}: the value is not a finite real number "
                        f"(outside the domain of {draft.op}) at {point_text}")
        values[symbol] = value
        found = [local_partial(draft.expr, v(k), out=symbol) for k in draft.operands]
        partial_values = tuple(_number(p, values, lambda: f"{where}: its derivative is not finite at {point_text}")
                               for p, _ in found)
        rules = tuple(dict.fromkeys(name for _, used in found for name in used))
        lines.append(TraceLine(draft.index, symbol, draft.expr, draft.op, draft.operands,
                               tuple(p for p, _ in found), rules, value, partial_values, names.get(draft.index),
                               _at_kink(draft.expr, values)))
    return tuple(lines)


def _at_kink(expr: Expr, values: dict) -> bool:
    rule = rule_for(expr)
    return any(sympy.N(k.xreplace(values), DIGITS) == 0 for k in rule.kinks(tuple(rule.split(expr))))


# -- the two modes ----------------------------------------------------------------------------------------
def forward_table(lines: tuple[TraceLine, ...], directions) -> ForwardTable:
    """Each tangent, symbolically (local partials times earlier tangents) and per pass numerically."""
    tangents = [dict() for _ in directions]
    rows = []
    inputs = [line for line in lines if line.is_input]
    for line in lines:
        if line.is_input:
            k = inputs.index(line)
            expr = dotted(line.name)
            for p, direction in enumerate(directions):
                tangents[p][line.index] = Float(direction[k], DIGITS)
        else:
            expr = Add(*(partial * vdot(k) for partial, k in zip(line.partials, line.operands)))
            for table in tangents:
                table[line.index] = Float(sum((pv * table[k] for pv, k in zip(line.partial_values, line.operands)),
                                              Float(0, DIGITS)), DIGITS)
        rows.append(TangentRow(line.index, vdot(line.index), expr, tuple(t[line.index] for t in tangents)))
    return ForwardTable(tuple(tuple(d) for d in directions), tuple(rows))


def reverse_table(lines: tuple[TraceLine, ...]) -> ReverseTable:
    """Each adjoint from the output back, the sum over the lines that use it written out."""
    adjoints: dict[int, Float] = {}
    rows = []
    output = lines[-1]
    for line in reversed(lines):
        users = [u for u in lines if line.index in u.operands]
        if line is output:
            chain = expr = sympy.S.One
            contributions, value = (), Float(1, DIGITS)
        else:
            local = [(u, u.partials[u.operands.index(line.index)], u.partial_values[u.operands.index(line.index)])
                     for u in users]
            chain = Add(*(vbar(u.index) * Derivative(u.symbol, line.symbol, evaluate=False) for u, _, _ in local))
            expr = Add(*(vbar(u.index) * partial for u, partial, _ in local))
            contributions = tuple(Float(adjoints[u.index] * pv, DIGITS) for u, _, pv in local)
            value = Float(sum(contributions, Float(0, DIGITS)), DIGITS)
        adjoints[line.index] = value
        rows.append(AdjointRow(line.index, vbar(line.index), tuple(u.index for u in users), chain, expr,
                               contributions, value))
    return ReverseTable(tuple(rows))


def _relative(a, b) -> float:
    scale = max(abs(float(a)), abs(float(b)))
    return 0.0 if scale == 0 else float(abs(a - b)) / scale


def consistency(forward: ForwardTable, gradient, symbolic, at_kink: bool = False) -> Consistency:
    """ybar^T (J xdot) = (J^T ybar)^T xdot, with ybar = 1, for each pass's direction xdot; and both modes
    against the symbolic gradient (not judged `at_kink`)."""
    dot = lambda g, d: Float(sum((gi * di for gi, di in zip(g, d)), Float(0, DIGITS)), DIGITS)
    reverse = tuple(dot(gradient, d) for d in forward.directions)
    exact = tuple(dot(symbolic, d) for d in forward.directions)
    tangents = forward.output_tangents
    return Consistency(
        tangents, reverse, exact,
        max((_relative(a, b) for a, b in zip(tangents, reverse)), default=0.0),
        max((_relative(a, e) for pair in zip(tangents, reverse, exact) for a, e in ((pair[0], pair[2]), (pair[1], pair[2]))),
            default=0.0),
        at_kink=at_kink,
    )


# -- the entry points -------------------------------------------------------------------------------------
def trace(target, at, *, mode: str = "both", direction=None, title: str = "", size: int = 2) -> Trace:
    """The evaluation trace of `target` at the point `at`, with its forward and reverse tables.

    `target`: a `derive.Problem` (its loss, definitions kept as named lines), a path to a problem file (a
    `Path`, or text ending in .yaml), a SymPy expression, or a LaTeX string (read by derive's LaTeX reader). `at`: the point, as a mapping
    {name or symbol: number} or text "x1=2,x2=5"; names as in the problem (x_1 and x1 both work). `direction`:
    one forward pass along this tangent (same forms as `at`, missing inputs 0); default one pass per input.
    A problem with matrices is traced entry by entry with its symbolic sizes (n) set to `size`; `at` gives a
    matrix as rows, "X=[[1,2,3],[4,5,6]]" (or nested lists, an array), or entry by entry, "X[0,1]=2".
    """
    if mode not in ("forward", "reverse", "both"):
        raise TraceError(f"mode must be forward, reverse or both, not '{mode}'")
    function, definitions, output, inputs, problem, title, expansion = _target(target, title, size)
    point = read_point(at, inputs, "value", expansion=expansion)
    directions = _directions(direction, inputs, expansion)
    decomposer = _Decomposer(inputs, definitions)
    if not isinstance(decomposer.operand(output), Symbol) or len(decomposer.drafts) == len(inputs):
        raise TraceError(f"nothing to trace: {sympy.sstr(function)} has no operation")
    point_text = ", ".join(f"{x} = {sympy.sstr(point[x])}" for x in inputs)
    lines = _evaluate_lines(decomposer.drafts, point, decomposer.names, point_text)
    forward = forward_table(lines, directions)
    reverse = reverse_table(lines)
    symbolic = tuple(sympy.diff(function, x) for x in inputs)
    symbolic_values = tuple(_number(g, point, lambda: f"the gradient of {sympy.sstr(function)} is not finite at {point_text}")
                            for g in symbolic)
    gradient = tuple(reverse.adjoint(line.index).value for line in lines if line.is_input)
    kept = tuple((name, definitions[name]) for name in definitions if name in decomposer.known)
    checked = consistency(forward, gradient, symbolic_values, any(line.at_kink for line in lines))
    derived = ()
    if expansion is not None:
        derived = _derived_entries(problem, expansion, inputs, point, point_text)
        checked = replace(checked, against_derivation=max(map(_relative, gradient, derived), default=0.0))
    return Trace(title, function, tuple(inputs), tuple(point[x] for x in inputs), lines, forward, reverse,
                 symbolic, symbolic_values, checked, mode, getattr(problem, "source", ""), kept, problem,
                 expansion, derived)


def _derived_entries(problem, expansion, inputs, point, point_text) -> tuple[Float, ...]:
    """derive's matrix gradient by every input, expanded to entries, at the point, in the order of `inputs`."""
    from .matrix import entry_gradients

    wrts = [m for m, _ in expansion.matrices] + [x for x in inputs if x in problem.network.inputs.values()]
    entries = entry_gradients(problem, expansion, wrts)
    return tuple(_number(entries[x], point, lambda: f"derive's gradient by {x} is not finite at {point_text}")
                 for x in inputs)


def _target(target, title: str, size: int = 2):
    """(function, definitions, output expression, inputs, problem, title, expansion) for any kind of target."""
    from pathlib import Path

    from ..solve.problem import Problem

    if isinstance(target, Path) or (isinstance(target, str) and target.strip().endswith((".yaml", ".yml"))):
        target = Problem.from_yaml(Path(target.strip() if isinstance(target, str) else target))
    if isinstance(target, Problem):
        return _problem_target(target, title, size)
    if isinstance(target, str):
        target = parse_expression(target)
    if not isinstance(target, Expr) or getattr(target, "is_Matrix", False):
        raise TraceError("traces are for scalar functions: give a SymPy expression, LaTeX text or a problem")
    inputs = sorted(target.free_symbols, key=lambda s: _natural(s.name))
    return target, {}, target, inputs, None, title, None


def _problem_target(problem, title: str, size: int):
    network = problem.network
    if network.has_matrices:
        from .matrix import expand_problem

        function, definitions, output, inputs, expansion = expand_problem(problem, size, TraceError)
        return function, definitions, output, inputs, problem, title or problem.title, expansion
    used = network.ancestors(problem.loss)
    inputs = [s for s in network.inputs.values() if s in used]
    definitions = {name: network.definitions[name] for name in network.definitions}
    return network.expand(problem.loss), definitions, problem.loss, inputs, problem, title or problem.title, None


def _natural(name: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


class _AnySymbol(dict):
    """The symbols of a free-standing expression: any valid name is an input (but e and pi stay constants)."""

    def __contains__(self, name) -> bool:
        return name not in ("e", "pi", "gamma", "I")

    def __missing__(self, name):
        self[name] = make_symbol(name)
        return self[name]


_DIGIT_SUFFIX = re.compile(r"(?<![\\A-Za-z])([A-Za-z])(\d+)(?![A-Za-z])")


def parse_expression(text: str) -> Expr:
    """A LaTeX expression in any symbols, read by derive's LaTeX reader (never eval); `x1` reads as x_1."""
    from ..read.parse import parse_latex

    text = _DIGIT_SUFFIX.sub(r"\1_{\2}", text)
    return parse_latex(text, _AnySymbol())


# -- reading points ---------------------------------------------------------------------------------------
def _key(name: str) -> str:
    return re.sub(r"[_{}\\ ]", "", name)


def read_point(at, inputs, what: str = "value", missing_is_zero: bool = False, expansion=None) -> dict:
    """{input symbol: exact number} from a mapping or from text "x1=2,x2=5/2"; names as x_1 or x1. For a
    matrix problem (`expansion`), a matrix input may be given whole: "X=[[1,2],[3,4]]" or nested lists."""
    given = _pairs(at) if isinstance(at, str) else {str(getattr(k, "name", k)): val for k, val in dict(at or {}).items()}
    if expansion is not None:
        given = _matrix_pairs(given, expansion, what)
    by_name = {x.name: x for x in inputs}
    loose: dict[str, list] = {}
    for x in inputs:
        loose.setdefault(_key(x.name), []).append(x)
    point = {}
    for name, raw in given.items():
        symbol = by_name.get(name) or by_name.get(_plain(name))
        if symbol is None and len(loose.get(_key(name), [])) == 1:
            symbol = loose[_key(name)][0]
        if symbol is None:
            option = "--at" if what == "value" else "--direction"
            raise TraceError(f"{option} names {name}, which is not an input (inputs: {', '.join(by_name) or 'none'})")
        if symbol in point:
            raise TraceError(f"two {what}s given for the input {symbol.name}")
        point[symbol] = _exact(raw, name, what)
    missing = [x.name for x in inputs if x not in point]
    if missing and not missing_is_zero and expansion is not None:
        from .matrix import missing_matrices

        raise TraceError(f"no {what} given for {', '.join(missing_matrices([x for x in inputs if x not in point], expansion))} "
                         f"(give a matrix as rows, e.g. --at 'X=[[1,2,3],[4,5,6]]', or entry by entry, X[0,1]=2)")
    if missing and not missing_is_zero:
        raise TraceError(f"no {what} given for the input {', '.join(missing)} (give it with --at, e.g. "
                         f"--at {','.join(f'{x.name}=1' for x in inputs)})")
    return {x: point.get(x, sympy.S.Zero) for x in inputs}


def _plain(name: str) -> str:
    from ..read.parse import symbol_name

    try:
        return symbol_name(name)
    except ProblemError:
        return name


_BRACES = str.maketrans("", "", "^()")
_ENTRY = re.compile(r"^(.+)\[\s*(\d+)\s*,\s*(\d+)\s*\]$")


def _matrix_named(name: str, matrices: dict, loose: dict):
    """(matrix, shape) for a name as the problem writes it, or loosely (W1 for W^{(1)}); else None."""
    return (matrices.get(name) or matrices.get(_plain(name))
            or matrices.get(loose.get(_key(name).translate(_BRACES), "")))


def _matrix_pairs(given: dict, expansion, what: str) -> dict:
    """`given` with each whole matrix replaced by its entries {"X[0,1]": value}, checked against its shape."""
    from .matrix import _Error, matrix_entries

    matrices = {m.name: (m, shape) for m, shape in expansion.matrices}
    loose = {_key(name).translate(_BRACES): name for name in matrices}  # W1 for W^{(1)}
    result: dict = {}
    for name, raw in given.items():
        found = _matrix_named(name, matrices, loose)
        entry = _ENTRY.match(name)
        if found is None and entry and _matrix_named(entry.group(1), matrices, loose) is not None:
            matrix = _matrix_named(entry.group(1), matrices, loose)[0]
            entries = {f"{matrix.name}[{int(entry.group(2))},{int(entry.group(3))}]": raw}
        elif found is None:
            entries = {name: raw}
        else:
            try:
                entries = matrix_entries(name, found[0], raw, found[1])
            except _Error as problem:
                raise TraceError(f"the {what} of {problem}" if what != "value" else str(problem)) from None
        for entry, value in entries.items():
            if entry in result:
                raise TraceError(f"two {what}s given for {entry} (as a matrix and as an entry)")
            result[entry] = value
    return result


def _pairs(text: str) -> dict[str, str]:
    from .matrix import _Error, split_top

    pairs: dict[str, str] = {}
    try:
        pieces = split_top(text)
    except _Error as problem:
        raise TraceError(f"cannot read the point: {problem}") from None
    for item in filter(None, (piece.strip() for piece in pieces)):
        name, equals, value = item.partition("=")
        if not equals or not name.strip() or not value.strip():
            raise TraceError(f"cannot read '{item}' in '{text}': write name=value, e.g. x1=2,x2=5")
        if name.strip() in pairs:
            raise TraceError(f"{name.strip()} is given twice in '{text}'")
        pairs[name.strip()] = value.strip()
    if not pairs:
        raise TraceError(f"no values in '{text}': write name=value, e.g. x1=2,x2=5")
    return pairs


def _exact(raw, name: str, what: str) -> Rational:
    """A number as an exact rational: 2, -0.5, 5/2, 1e-3 (text read by `fractions`, never evaluated); a float
    is taken as the decimal it prints as (0.7 is 7/10)."""
    if isinstance(raw, sympy.Rational):
        return raw
    if isinstance(raw, (float, sympy.Float)):
        raw = repr(float(raw))
    try:
        if isinstance(raw, bool):
            raise TypeError
        fraction = Fraction(raw) if isinstance(raw, (int, Fraction)) else Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError, TypeError):
        raise TraceError(f"the {what} of {name} must be a number (2, -0.5, 5/2), not '{raw}'") from None
    return Rational(fraction.numerator, fraction.denominator)


def _directions(direction, inputs, expansion=None) -> list[tuple[Rational, ...]]:
    if direction is None:
        return [tuple(sympy.S.One if j == k else sympy.S.Zero for j in range(len(inputs))) for k in range(len(inputs))]
    chosen = read_point(direction, inputs, "direction component", missing_is_zero=True, expansion=expansion)
    if all(value == 0 for value in chosen.values()):
        raise TraceError("the direction is zero: give at least one non-zero component, e.g. --direction x1=1")
    return [tuple(chosen[x] for x in inputs)]
