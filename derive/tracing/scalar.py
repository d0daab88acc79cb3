"""Tracing a scalar expression: taken apart into elementary operations, one line each, then evaluated, and
its forward and reverse tables computed and checked against each other.

SymPy's Add/Mul/Pow are taken apart into readable operations (`v_5 = v_4 - v_3`, `v_2 = v_1 / v_0`,
`v_3 = -v_2`), shared subexpressions become one line, and a problem's named definitions (yhat, L) keep their
names. Each line's local partials come from the rule registry (`derive.core.rules`): the chain rule applied to
the line's tiny expression, entry by entry, so that the tables are correct by construction; an operation
without a rule is a `MissingRuleError`. The forward table holds each tangent `\\dot v_i` (one pass per
direction), the reverse table each adjoint `\\bar v_i` with the sum over the lines that use v_i written out
(accumulation at branches). Numbers are computed with SymPy at DIGITS significant digits. What is traced and
at which point is read elsewhere (`tracer`, `reading`); plain data only, no Jinja2, no NumPy here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Add, Derivative, Expr, Float, Mul, Pow, Rational, Symbol

from ..core.rules import rule_for
from .data import (DIGITS, AdjointRow, Consistency, ForwardTable, ReverseTable, TangentRow, TraceError, TraceLine,
                   dotted, v, vbar, vdot)


# -- building the trace -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Draft:
    index: int
    expr: Expr
    op: str
    operands: tuple[int, ...]


class Decomposer:
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
def finite_number(expr: Expr, values: dict, what) -> Float:
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


def evaluate_lines(drafts: list[_Draft], point: dict, names: dict, point_text: str) -> tuple[TraceLine, ...]:
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
        value = finite_number(draft.expr, values, lambda: f"{where}: the value is not a finite real number "
                        f"(outside the domain of {draft.op}) at {point_text}")
        values[symbol] = value
        found = [local_partial(draft.expr, v(k), out=symbol) for k in draft.operands]
        partial_values = tuple(finite_number(p, values, lambda: f"{where}: its derivative is not finite at {point_text}")
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


def relative_difference(a, b) -> float:
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
        max((relative_difference(a, b) for a, b in zip(tangents, reverse)), default=0.0),
        max((relative_difference(a, e) for pair in zip(tangents, reverse, exact) for a, e in ((pair[0], pair[2]), (pair[1], pair[2]))),
            default=0.0),
        at_kink=at_kink,
    )
