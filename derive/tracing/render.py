"""Writing traces: the LaTeX document (tables as `tabular`s, the graph in TikZ), Markdown, and JSON.

The words live in `templates/trace.tex.j2`, `templates/trace.md.j2` and `templates/trace_body.j2`; the maths
goes through the one printer (`derive.tracing.graph.printer`, a `derive.core.printing.DerivePrinter`). Reads traces, never
builds them.
"""

from __future__ import annotations

import re

import json

import sympy

from .graph import latex_number, number, printer, tikz
from ..write.render import Context, environment
from .data import TraceData, dotted
from .methods import compare_methods, exact_digits

LONG_NUMERATOR = 16  # words of a fraction's numerator per word of its denominator before the narrative splits it
PASSES_PER_TABLE = 4  # forward-mode passes side by side in one table, so that it fits the page


class TraceContext:
    """What the trace templates may call: maths through the printer, numbers, plain-text escaping."""

    def __init__(self, trace: TraceData, fmt: str):
        self.trace = trace
        self.fmt = fmt
        self.printer = printer()

    def math(self, expr) -> str:
        return self.printer.doprint(expr)

    def m(self, expr) -> str:
        text = expr if isinstance(expr, str) else self.math(expr)
        if self.fmt == "md":  # a bare | would end a Markdown table cell
            return "$" + text.replace("|", r"\vert ") + "$"
        return rf"\({text}\)"

    @staticmethod
    def num(value) -> str:
        return latex_number(value)

    sci = staticmethod(Context.sci)  # 3.2 \cdot 10^{-11}, as in worked solutions

    def point(self) -> str:
        """x_1 = 2, x_2 = 5 as maths."""
        return ", ".join(f"{self.math(x)} = {self.math(p)}" for x, p in zip(self.trace.inputs, self.trace.point))

    def point_text(self) -> str:
        """x_1 = 2, x_2 = 5 in the narrative: one piece of maths per input, so that a long point breaks
        between inputs at the end of a line."""
        return ", ".join(self.m(f"{self.math(x)} = {self.math(p)}") for x, p in zip(self.trace.inputs, self.trace.point))

    @staticmethod
    def operation_width(passes: int) -> str:
        """The width of the forward table's operation column beside `passes` value columns: 16 cm of text,
        less the line column and each value column (a tangent's name and value, 2 cm) with their gaps."""
        return f"{max(2.5, 13.9 - 2.45 * passes):.1f}cm"

    def breakable(self, expr) -> str:
        """`expr` for the narrative, its brackets plain rather than \\left( ... \\right), so that a long
        definition can break at a + inside them at the end of a line (the entries are scalars: plain brackets
        are tall enough); a fraction with a numerator too long for a line is split off (\\frac{\\lambda}{2} (...),
        not \\frac{\\lambda (...)}{2}, which cannot break)."""
        if self.fmt != "tex":
            return self.math(expr)
        split = printer({"long_frac_ratio": LONG_NUMERATOR}).doprint(expr)
        return re.sub(r"\\(?:left|right)(?=[()\[\]])", "", split)

    def expansion_words(self) -> str:
        """n = 2, X is 2×3, y is 2×1, W is 3×1 (as maths): the sizes a matrix problem was expanded at."""
        e = self.trace.expansion
        sizes = [self.m(f"{self.math(d)} = {e.size}") for d in e.dimensions]
        times = r" \times "
        shapes = [f"{self.m(m)} is {self.m(f'{rows}{times}{cols}')}" for m, (rows, cols) in e.matrices]
        return ", ".join(sizes + shapes)

    def chunks(self) -> list[range]:
        """The forward passes in groups that fit side by side."""
        n = self.trace.forward.passes
        return [range(i, min(i + PASSES_PER_TABLE, n)) for i in range(0, n, PASSES_PER_TABLE)]

    def direction(self, p: int) -> str:
        r"""The tangent a pass starts from: \dot x_1 = 1 for a unit direction, else \dot x = (1, -1)."""
        direction = self.trace.forward.directions[p]
        if sorted(direction) == [0] * (len(direction) - 1) + [1]:
            return f"{self.math(dotted(self.trace.inputs[direction.index(1)]))} = 1"
        values = ", ".join(self.math(d) for d in direction)
        return rf"\dot{{x}} = ({values})" if len(direction) > 1 else rf"\dot{{x}} = {values}"

    def contributions(self, row) -> str:
        """2.000 + (-0.284): the numbers that accumulate at a branch."""
        parts = [latex_number(c) for c in row.contributions]
        return " + ".join(p if not p.startswith("-") else f"({p})" for p in parts)

    def line_name(self, line) -> str:
        return "" if line.name is None or line.is_input else self.m(line.name)

    def gradient(self) -> str:
        return ", ".join(latex_number(g) for g in self.trace.gradient)

    def text(self, words: str) -> str:
        return words if self.fmt == "md" else environment().filters["tex"](words)

    def code(self, words: str) -> str:
        return f"`{words}`" if self.fmt == "md" else rf"\texttt{{{words}}}"

    def listing(self, lines) -> str:
        """v_2 = max(v_{-1}, v_0) and v_4 = ReLU(v_3), as inline maths."""
        items = [self.m(f"{self.math(line.symbol)} = {self.math(line.expr)}") for line in lines]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    def graph(self, adjoints: bool = True) -> str:
        return tikz(self.trace, adjoints)


def _variables(trace: TraceData, fmt: str, methods, picture: str | None = None) -> dict:
    return {"t": trace, "c": TraceContext(trace, fmt), "methods": methods, "zip": zip, "picture": picture,
            "show_forward": trace.mode in ("forward", "both"), "show_reverse": trace.mode in ("reverse", "both")}


def render_trace(trace: TraceData, fmt: str = "tex", methods=None, picture: str | None = None) -> str:
    """The whole document: `.tex` (compiles with pdflatex, graph in TikZ) or `.md` (Markdown tables, showing
    the graph from the image file `picture` if given, e.g. the SVG written beside it)."""
    methods = compare_methods(trace) if methods is None else methods
    return environment().get_template(f"trace.{fmt}.j2").render(**_variables(trace, fmt, methods, picture))


GRAPH_PLACE = "derive-graph.svg"  # where the page's graph goes: the Markdown body shows this picture


def render_trace_page(trace: TraceData, methods=None, adjoints: bool = False) -> str:
    """The trace as one self-contained web page: the Markdown body of `trace_body.j2` as HTML with MathML,
    the computational graph as inline SVG (Graphviz), or, where `dot` is missing, a sentence saying so."""
    from ..write import html, html_maths
    from .graph import dot_path

    drawn = dot_path() is not None
    body = trace_body_html(trace, methods, adjoints)
    title = html_maths.words(trace.title or "Evaluation trace")
    page = environment().get_template("trace.html.j2").render(page_title=title, page_heading=title, body=body,
                                                              drawn=drawn)
    return html.with_contents(page)


def trace_body_latex(trace: TraceData, methods=None) -> str:
    """The trace's tables and sentences as LaTeX without the preamble (`trace_body.j2`), for a notebook."""
    methods = compare_methods(trace) if methods is None else methods
    return environment().get_template("trace_body.j2").render(**_variables(trace, "tex", methods, None))


def trace_body_html(trace: TraceData, methods=None, adjoints: bool = False) -> str:
    """The body of the trace's page: `trace_body.j2` (its Markdown) as HTML with MathML, the graph inline."""
    from ..write import html_maths
    from .graph import dot_path, graph_file

    methods = compare_methods(trace) if methods is None else methods
    drawn = dot_path() is not None
    body = environment().get_template("trace_body.j2").render(
        **_variables(trace, "md", methods, picture=GRAPH_PLACE if drawn else None))
    body = html_maths.from_markdown(body)
    if drawn:
        svg = html_maths.inline_svg(graph_file(trace, ".svg", adjoints).decode("utf-8"), "The computational graph")
        body = re.sub(rf'<p><img src="{GRAPH_PLACE}" alt="[^"]*" ?/?></p>', lambda _: f'<figure class="graph">{svg}</figure>', body)
    return body


def summary(trace: TraceData) -> str:
    """One line for the terminal: value, gradient, passes, the consistency check's verdict."""
    c = trace.consistency
    point = ", ".join(f"{x}={sympy.sstr(p)}" for x, p in zip(trace.inputs, trace.point))
    gradient = ", ".join(number(g) for g in trace.gradient)
    passes = trace.forward.passes
    return (f"f = {number(trace.value)} at {point}; gradient ({gradient}); forward mode {passes} "
            f"pass{'es' if passes > 1 else ''}, reverse mode 1 pass; consistency check: "
            f"{'PASS' if c.passed else 'FAIL'} (forward vs reverse {c.forward_vs_reverse:.1e}, against sympy.diff "
            f"{c.against_symbolic:.1e}{_derivation_note(trace)}, tolerance {c.tolerance:.0e}){_kink_note(trace)}"
            f"{_expansion_note(trace)}")


def _derivation_note(trace: TraceData) -> str:
    against = trace.consistency.against_derivation
    return "" if against is None else f", adjoints against derive's matrix gradient {against:.1e}"


def _expansion_note(trace: TraceData) -> str:
    e = trace.expansion
    if e is None:
        return ""
    sizes = ", ".join(f"{d} = {e.size}" for d in e.dimensions)
    return f"; traced entry by entry{' at ' + sizes if sizes else ''} ({len(trace.inputs)} inputs, {len(trace.lines) - len(trace.inputs)} lines)"


def _kink_note(trace: TraceData) -> str:
    if not trace.kinks:
        return ""
    lines = ", ".join(f"{line.symbol} = {sympy.sstr(line.expr)}" for line in trace.kinks)
    return f"; the point is at a kink of {lines}, where the derivative does not exist (sympy.diff not judged)"


def trace_json(trace: TraceData, methods=None) -> str:
    """Everything in the trace as JSON: numbers as floats, and at 20 digits as text."""
    methods = compare_methods(trace) if methods is None else methods
    p = printer()
    c = trace.consistency
    data = {
        "title": trace.title,
        "function": {"latex": p.doprint(trace.function), "sympy": sympy.srepr(trace.function)},
        "inputs": [x.name for x in trace.inputs],
        "point": {x.name: sympy.sstr(v) for x, v in zip(trace.inputs, trace.point)},
        "value": float(trace.value),
        "gradient": {x.name: float(g) for x, g in zip(trace.inputs, trace.gradient)},
        "gradient_digits": {x.name: exact_digits(g) for x, g in zip(trace.inputs, trace.gradient)},
        "symbolic_gradient": {x.name: {"latex": p.doprint(g), "value": float(val)}
                              for x, g, val in zip(trace.inputs, trace.symbolic_gradient, trace.symbolic_values)},
        "trace": [_line_json(line, p) for line in trace.lines],
        "forward": {"passes": trace.forward.passes,
                    "directions": [[sympy.sstr(d) for d in direction] for direction in trace.forward.directions],
                    "rows": [{"tangent": p.doprint(r.symbol), "latex": p.doprint(r.expr),
                              "values": [float(x) for x in r.values]} for r in trace.forward.rows]},
        "reverse": {"passes": trace.reverse.passes,
                    "rows": [{"adjoint": p.doprint(r.symbol), "accumulation": p.doprint(r.chain),
                              "latex": p.doprint(r.expr), "consumers": list(r.consumers),
                              "contributions": [float(x) for x in r.contributions], "value": float(r.value)}
                             for r in trace.reverse.rows]},
        "kinks": [line.index for line in trace.kinks],
        "consistency": {"passed": c.passed, "forward": [float(x) for x in c.forward],
                        "reverse": [float(x) for x in c.reverse], "symbolic": [float(x) for x in c.symbolic],
                        "forward_vs_reverse": c.forward_vs_reverse, "against_symbolic": c.against_symbolic,
                        "tolerance": c.tolerance, "against_derivation": c.against_derivation},
        "expansion": _expansion_json(trace),
        "methods": [{"method": m.method, "formula": m.formula, "cost": m.cost, "arithmetic": m.arithmetic, "values": list(m.values),
                     "absolute_error": m.absolute_error, "relative_error": m.relative_error} for m in methods],
    }
    return json.dumps(data, indent=2) + "\n"


def _expansion_json(trace: TraceData) -> dict | None:
    """A matrix problem: the sizes it was traced at, each matrix's shape, derive's gradient per entry."""
    e = trace.expansion
    if e is None:
        return None
    return {"size": e.size, "dimensions": [d.name for d in e.dimensions],
            "matrices": {m.name: list(shape) for m, shape in e.matrices},
            "derived_gradient": {x.name: float(g) for x, g in zip(trace.inputs, trace.derived)}}


def _line_json(line, p) -> dict:
    return {"index": line.index, "line": p.doprint(line.symbol), "op": line.op,
            "name": line.name.name if line.name is not None else None, "latex": p.doprint(line.expr),
            "sympy": sympy.sstr(line.expr), "operands": list(line.operands),
            "partials": [p.doprint(x) for x in line.partials], "partial_values": [float(x) for x in line.partial_values],
            "rules": list(line.rules), "value": float(line.value), "value_digits": exact_digits(line.value)}
