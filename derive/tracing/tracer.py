"""`derive.trace`: the evaluation trace of a scalar function at a point, and the `Trace` it returns (the
trace's data with its output methods: document, Markdown, JSON, the graph); and `trace_files`, what the
`derive trace` command writes.

The target is a problem, a problem file, a SymPy expression or LaTeX text; a problem with matrices is first
expanded to its entries at concrete sizes (`matrix`), and its entries' adjoints are checked against derive's
matrix gradient. The lines and tables are built by `scalar`, the expression and point read by `reading`; the
data lives in `data`, the documents are written by `render` and the graph drawn by `graph`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import sympy
from sympy import Expr, Float, Symbol

from .data import TraceData, TraceError
from .reading import parse_expression, read_directions, read_point
from .scalar import Decomposer, consistency, evaluate_lines, finite_number, forward_table, relative_difference, reverse_table


class Trace(TraceData):
    """A function's evaluation trace at a point, its forward and reverse tables, and their agreement."""

    __slots__ = ()

    # -- output, through the modules that own it ------------------------------------------------------------
    def document(self) -> str:
        from .render import render_trace

        return render_trace(self, "tex")

    def markdown(self) -> str:
        from .render import render_trace

        return render_trace(self, "md")

    def html(self, adjoints: bool = False) -> str:
        """The trace as one self-contained web page (HTML with MathML; the graph inline if Graphviz is installed)."""
        from .render import render_trace_page

        return render_trace_page(self, adjoints=adjoints)

    def to_json(self) -> str:
        from .render import trace_json

        return trace_json(self)

    def graph(self, suffix: str = ".svg", adjoints: bool = False) -> str | bytes:
        """The computational graph drawn by Graphviz: ".svg" or ".png" (bytes), or ".dot" (its source, text)."""
        from .graph import graph_file

        return graph_file(self, suffix, adjoints)

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's display: the tables (and the graph, where Graphviz is installed) as HTML with MathML, the
        Markdown with its maths as LaTeX, and the one-line summary as text."""
        from ..write.html import fragment
        from .render import summary, trace_body_html, trace_body_latex

        bundle = {"text/html": lambda: fragment(trace_body_html(self)), "text/markdown": self.markdown,
                  "text/latex": lambda: trace_body_latex(self), "text/plain": lambda: summary(self)}
        return {kind: make() for kind, make in bundle.items()
                if (include is None or kind in include) and (exclude is None or kind not in exclude)}


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
    directions = read_directions(direction, inputs, expansion)
    decomposer = Decomposer(inputs, definitions)
    if not isinstance(decomposer.operand(output), Symbol) or len(decomposer.drafts) == len(inputs):
        raise TraceError(f"nothing to trace: {sympy.sstr(function)} has no operation")
    point_text = ", ".join(f"{x} = {sympy.sstr(point[x])}" for x in inputs)
    lines = evaluate_lines(decomposer.drafts, point, decomposer.names, point_text)
    forward = forward_table(lines, directions)
    reverse = reverse_table(lines)
    symbolic = tuple(sympy.diff(function, x) for x in inputs)
    symbolic_values = tuple(finite_number(g, point, lambda: f"the gradient of {sympy.sstr(function)} is not finite at {point_text}")
                            for g in symbolic)
    gradient = tuple(reverse.adjoint(line.index).value for line in lines if line.is_input)
    kept = tuple((name, definitions[name]) for name in definitions if name in decomposer.known)
    checked = consistency(forward, gradient, symbolic_values, any(line.at_kink for line in lines))
    derived = ()
    if expansion is not None:
        derived = _derived_entries(problem, expansion, inputs, point, point_text)
        checked = replace(checked, against_derivation=max(map(relative_difference, gradient, derived), default=0.0))
    return Trace(title, function, tuple(inputs), tuple(point[x] for x in inputs), lines, forward, reverse,
                 symbolic, symbolic_values, checked, mode, getattr(problem, "source", ""), kept, problem,
                 expansion, derived)


def _derived_entries(problem, expansion, inputs, point, point_text) -> tuple[Float, ...]:
    """derive's matrix gradient by every input, expanded to entries, at the point, in the order of `inputs`."""
    from .matrix import entry_gradients

    wrts = [m for m, _ in expansion.matrices] + [x for x in inputs if x in problem.network.inputs.values()]
    entries = entry_gradients(problem, expansion, wrts)
    return tuple(finite_number(entries[x], point, lambda: f"derive's gradient by {x} is not finite at {point_text}")
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


DOCUMENT_FORMATS = (".tex", ".pdf", ".md", ".html", ".json")


def trace_files(problem, expression, at, mode, direction, output, graph, adjoints, size: int = 2):
    """What `derive trace` writes: [(path or None for standard output, content)], the summary line, and
    whether the consistency check passed. Everything is computed before anything is written."""
    from pathlib import Path

    from ..core.errors import DeriveError
    from .graph import GRAPH_FORMATS, graph_file
    from ..write.output import compile_pdf
    from .render import render_trace, render_trace_page, summary, trace_json

    suffix = output.suffix.lower() if output is not None else ".tex"
    if suffix not in DOCUMENT_FORMATS + GRAPH_FORMATS:
        raise DeriveError(f"cannot write '{output}': the output must end in {', '.join(DOCUMENT_FORMATS + GRAPH_FORMATS)}")
    if graph is not None and graph.suffix.lower() not in GRAPH_FORMATS:
        raise DeriveError(f"cannot write the graph '{graph}': it must end in {', '.join(GRAPH_FORMATS)}")
    for path in (output, graph):
        if path is not None and not Path(path).parent.is_dir():
            raise DeriveError(f"cannot write {path}: the folder {Path(path).parent} does not exist")
    if (problem is None) == (expression is None):
        raise DeriveError("give a problem file or --expr 'LATEX', not both" if problem is not None
                          else "give a problem file or --expr 'LATEX' to trace")
    if problem is not None and not Path(problem).is_file():
        raise DeriveError(f"no problem file '{problem}'")
    traced = trace(Path(problem) if problem is not None else expression, at or {}, mode=mode, direction=direction,
                   size=size)
    if suffix in GRAPH_FORMATS:
        content = graph_file(traced, suffix, adjoints)
    else:
        picture = graph.name if graph is not None and graph.suffix.lower() != ".dot" else None
        content = {".json": trace_json, ".md": lambda t: render_trace(t, "md", picture=picture),
                   ".html": lambda t: render_trace_page(t, adjoints=adjoints)}.get(
            suffix, render_trace)(traced)
        content = compile_pdf(content) if suffix == ".pdf" else content
    files = [(output, content)]
    if graph is not None:
        files.append((graph, graph_file(traced, graph.suffix.lower(), adjoints)))
    return files, summary(traced), traced.consistency.passed
