"""The computational graph of a trace as a picture: TikZ for LaTeX documents, Graphviz `dot` for SVG and PNG.

Nodes are the trace's lines, labelled with their operation and value; edges run from an operand to the line
using it, labelled with the local partial's value. With `adjoints`, each edge also carries what flows back
along it in reverse mode, \\bar v_i \\partial v_i / \\partial v_k, and each node its adjoint: an add passes
its adjoint on unchanged (it distributes), a max sends it to one operand only (it routes), a product sends each
operand the other's value times it (it swaps), and a node with several users adds up what comes back.
`dot` runs as a subprocess without a shell. Reads traces, never builds them.
"""

from __future__ import annotations

import re
import shutil
import subprocess

from sympy import Add
from sympy.printing.str import StrPrinter

from ..core.errors import DeriveError
from ..core.printing import DerivePrinter
from .data import TraceData

GRAPH_FORMATS = (".svg", ".png", ".dot")


def layers(trace: TraceData) -> dict[int, int]:
    """The depth of each line: 0 for the inputs, one more than the deepest operand otherwise."""
    depth: dict[int, int] = {}
    for line in trace.lines:
        depth[line.index] = 0 if line.is_input else 1 + max(depth[k] for k in line.operands)
    return depth


def number(value, digits: int = 3) -> str:
    """A value as the tables print it: 3 decimals, or 3 significant digits in scientific notation."""
    x = float(value)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        return f"{x:.{digits}f}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def latex_number(value) -> str:
    mantissa, _, exponent = number(value).partition("e")
    return rf"{mantissa} \cdot 10^{{{exponent}}}" if exponent else mantissa


def printer(settings: dict | None = None) -> DerivePrinter:
    """The one printer, ordering factors as a trace reads: tangents and adjoints first, then v_{-1} before v_0;
    `settings` are SymPy's LaTeX printer's (`long_frac_ratio`)."""
    return _TracePrinter(settings=settings)


class _TracePrinter(DerivePrinter):
    def _factor_order(self, factor) -> tuple:
        names = [s.name for s in getattr(factor, "free_symbols", ())]
        marked = any(n.startswith(("vdot", "vbar")) for n in names)
        indices = [int(n.rsplit("_", 1)[1]) for n in names if re.fullmatch(r"v(dot|bar)?_-?\d+", n)]
        return (not marked, min(indices, default=0), bool(factor.is_Add))

    def _print_Mul(self, expr):
        from ..core.printing import _UnevaluatedMul

        coefficient, factors = expr.as_coeff_mul()
        if len(factors) < 2:
            return super(DerivePrinter, self)._print_Mul(expr)
        return super(DerivePrinter, self)._print_Mul(_UnevaluatedMul(coefficient, sorted(factors, key=self._factor_order)))


# -- TikZ -------------------------------------------------------------------------------------------------
def tikz(trace: TraceData, adjoints: bool = False, width_cm: float = 15.0, height_cm: float = 20.0) -> str:
    """A tikzpicture of the graph, inputs on the left, scaled to fit `width_cm` by `height_cm`. Where Graphviz
    is installed it places the nodes, the edges' curves (routed around the nodes) and the edges' labels (set
    apart from each other and from the nodes); without it, the nodes stand in columns by depth."""
    p = printer()
    labels = {line.index: _tikz_label(trace, line, p, adjoints) for line in trace.lines}
    edges = [(k, line.index, value) for line in trace.lines for k, value in zip(line.operands, line.partial_values)]
    edge_labels = {(k, i): _edge_label(trace, k, i, value, adjoints) for k, i, value in edges}
    layout = _graphviz_layout(trace, labels, edge_labels)
    if layout is None:
        return _columns_tikz(trace, adjoints, width_cm, labels, edge_labels)
    (width, height), places, curves = layout
    scale = min(1.0, width_cm / max(width, 1e-9), height_cm / max(height, 1e-9))
    out = [rf"\begin{{tikzpicture}}[scale={scale:.3f}, transform shape, >=stealth,"
           r" op/.style={draw, rounded corners, align=center, font=\small, fill=white, inner sep=2pt},"
           r" partial/.style={font=\scriptsize, align=center, inner sep=1pt}]"]
    for index, (x, y) in places.items():
        out.append(rf"\node[op] ({_node(index)}) at ({x:.2f},{y:.2f}) {{{labels[index]}}};")
    for (k, i), (points, label_at) in curves.items():
        path = f"({points[0][0]:.2f},{points[0][1]:.2f})"
        for j in range(1, len(points) - 2, 3):
            (ax, ay), (bx, by), (cx, cy) = points[j:j + 3]
            path += f" .. controls ({ax:.2f},{ay:.2f}) and ({bx:.2f},{by:.2f}) .. ({cx:.2f},{cy:.2f})"
        out.append(rf"\draw[->] {path};")
        if label_at is not None:
            out.append(rf"\node[partial] at ({label_at[0]:.2f},{label_at[1]:.2f}) {{{edge_labels[(k, i)]}}};")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def _tikz_label(trace: TraceData, line, p, adjoints: bool) -> str:
    label = rf"\({p.doprint(line.symbol)} = {p.doprint(line.expr)}\)\\ \({latex_number(line.value)}\)"
    if adjoints:
        label += rf"\\ \textcolor{{red!70!black}}{{\({p.doprint(trace.reverse.adjoint(line.index).symbol)} = "
        label += rf"{latex_number(trace.reverse.adjoint(line.index).value)}\)}}"
    return label


def _edge_label(trace: TraceData, k: int, i: int, value, adjoints: bool) -> str:
    label = rf"\({latex_number(value)}\)"
    if adjoints:
        line = next(line for line in trace.lines if line.index == i)
        label += rf"\\ \textcolor{{red!70!black}}{{\(\leftarrow {latex_number(_flow(trace, line, k))}\)}}"
    return label


def _label_size(label: str, points: float) -> tuple[float, float]:
    r"""The estimated width and height in inches of a TikZ label (lines split at \\), set at `points`."""
    from ..write.layout import maths_width

    lines = re.split(r"\\\\ ", label)
    widest = max(maths_width(re.sub(r"\\textcolor\{[^{}]*\}|\\\(|\\\)", "", line)) for line in lines)
    return widest * points / 11.0 / 72.0 + 0.12, len(lines) * points * 1.25 / 72.0 + 0.1


def _graphviz_layout(trace: TraceData, labels: dict, edge_labels: dict):
    """Graphviz's layout of the graph, in cm: ((width, height), {node: centre}, {edge: (Bezier points, label
    centre)}), with each node and edge label as large as its TikZ text; None without Graphviz (or if it fails).
    dot keeps nodes apart (nodesep, ranksep), routes each edge as a spline around the nodes, and places each
    edge label as a box of its own that nothing else overlaps."""
    dot = dot_path()
    if dot is None:
        return None
    out = ["digraph trace {", "  rankdir=LR; nodesep=0.25; ranksep=0.45; splines=spline; forcelabels=true;",
           '  node [shape=box, fixedsize=true, label=""]; edge [arrowhead=none];']
    for index, label in labels.items():
        width, height = _label_size(label, 10.0)
        out.append(f"  {_node(index)} [width={width:.3f}, height={height:.3f}];")
    for (k, i), label in edge_labels.items():
        width, height = _label_size(label, 8.0)
        # a label of this many en spaces (0.5 em each at 8pt) is as wide as the TikZ text, and as tall
        spaces = max(1, round(width * 72.0 / 4.0))
        lines = "\\n".join([" " * spaces] * label.count("\\\\ ") + [" " * spaces])
        out.append(f'  {_node(k)} -> {_node(i)} [label="{lines}", fontsize=8];')
    out.append("}")
    try:
        run = subprocess.run([dot, "-Tplain"], input="\n".join(out).encode(), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return None
    if run.returncode != 0:
        return None
    return _read_plain(run.stdout.decode("utf-8", "replace"))


def _read_plain(plain: str):
    inch = 2.54
    size, places, curves = (0.0, 0.0), {}, {}
    for line in plain.splitlines():
        fields = line.split()
        if fields[:1] == ["graph"]:
            size = (float(fields[2]) * inch, float(fields[3]) * inch)
        elif fields[:1] == ["node"]:
            places[_index(fields[1])] = (float(fields[2]) * inch, float(fields[3]) * inch)
        elif fields[:1] == ["edge"]:
            count = int(fields[3])
            numbers = [float(v) * inch for v in fields[4:4 + 2 * count]]
            points = list(zip(numbers[0::2], numbers[1::2]))
            rest = line.split(None, 4 + 2 * count)[-1]
            at = re.match(r'\s*"[^"]*"\s+([-\d.]+)\s+([-\d.]+)', rest)
            label_at = (float(at.group(1)) * inch, float(at.group(2)) * inch) if at else None
            curves[(_index(fields[1]), _index(fields[2]))] = (points, label_at)
    return size, places, curves


def _index(name: str) -> int:
    return int(name[1:]) if name[0] == "v" else -int(name[1:])


def _columns_tikz(trace: TraceData, adjoints: bool, width_cm: float, labels: dict, edge_labels: dict) -> str:
    """The graph with its nodes in columns by depth, edges straight (without Graphviz)."""
    depth = layers(trace)
    rows: dict[int, int] = {}
    place = {}
    for line in trace.lines:
        column = depth[line.index]
        place[line.index] = (column * 3.6, -rows.get(column, 0) * (2.4 if adjoints else 1.9))
        rows[column] = rows.get(column, 0) + 1
    scale = min(1.0, width_cm / (max(depth.values()) * 3.6 + 3.0))
    out = [rf"\begin{{tikzpicture}}[scale={scale:.3f}, transform shape, >=stealth,"
           r" op/.style={draw, rounded corners, align=center, font=\small, fill=white},"
           r" partial/.style={font=\scriptsize, fill=white, inner sep=1pt},"
           r" flow/.style={font=\scriptsize, text=red!70!black, fill=white, inner sep=1pt}]"]
    for line in trace.lines:
        x, y = place[line.index]
        out.append(rf"\node[op] ({_node(line.index)}) at ({x:.2f},{y:.2f}) {{{labels[line.index]}}};")
    for line in trace.lines:
        for k, value in zip(line.operands, line.partial_values):
            edge = rf"\draw[->] ({_node(k)}) -- node[partial, pos=0.45, above=1pt] {{\({latex_number(value)}\)}}"
            if adjoints:
                edge += rf" node[flow, pos=0.45, below=1pt] {{\(\leftarrow {latex_number(_flow(trace, line, k))}\)}}"
            out.append(edge + f" ({_node(line.index)});")
    out.append(r"\end{tikzpicture}")
    return "\n".join(out)


def _node(index: int) -> str:
    return f"v{index}" if index > 0 else f"x{-index}"


def _flow(trace: TraceData, line, k: int):
    """What flows back from `line` to its operand k: \\bar v_line times the local partial."""
    row = trace.reverse.adjoint(k)
    return row.contributions[row.consumers.index(line.index)]


# -- Graphviz ---------------------------------------------------------------------------------------------
def dot_source(trace: TraceData, adjoints: bool = False) -> str:
    """The graph in Graphviz's language, left to right, plain-text labels."""
    out = ["digraph trace {", '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fillcolor=white, '
           'fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];']
    for line in trace.lines:
        label = f"{_plain(line.symbol)} = {_plain(line.expr)}\\n{number(line.value)}"
        if line.name is not None and not line.is_input:
            label = f"{line.name.name}: {label}"
        extra = ""
        if adjoints:
            row = trace.reverse.adjoint(line.index)
            label += f"\\n{_plain(row.symbol)} = {number(row.value)}"
        out.append(f'  {_node(line.index)} [label="{_quoted(label)}"{extra}];')
    for line in trace.lines:
        for k, partial, value in zip(line.operands, line.partials, line.partial_values):
            label = number(value) if partial.is_number else f"{_plain(partial)} = {number(value)}"
            if adjoints:
                label += f"\\n← {number(_flow(trace, line, k))}"
            colour = ', fontcolor="#a00000"' if adjoints else ""
            out.append(f'  {_node(k)} -> {_node(line.index)} [label="{_quoted(label)}"{colour}];')
    out.append("}")
    return "\n".join(out) + "\n"


_SUBSCRIPT = str.maketrans("-0123456789", "₋₀₁₂₃₄₅₆₇₈₉")


class _PlainPrinter(StrPrinter):
    """SymPy's string form with the positive terms of a sum first (v_4 - v_3, not -v_3 + v_4)."""

    def _print_Add(self, expr, order=None):
        terms = list(expr.as_ordered_terms())
        ordered = [t for t in terms if not t.could_extract_minus_sign()] + [t for t in terms if t.could_extract_minus_sign()]
        return super()._print_Add(Add(*ordered, evaluate=False), order="none")


def _plain(expr) -> str:
    """v_-1*v_0 as v₋₁·v₀: SymPy's string form with subscripts, bars and dots as Unicode."""
    text = _PlainPrinter().doprint(expr).replace("**", "^").replace("*", "·")
    text = re.sub(r"\bvbar_(-?\d+)", lambda m: "v̄" + m.group(1).translate(_SUBSCRIPT), text)
    text = re.sub(r"\bvdot_(-?\d+)", lambda m: "v̇" + m.group(1).translate(_SUBSCRIPT), text)
    return re.sub(r"\bv_(-?\d+)", lambda m: "v" + m.group(1).translate(_SUBSCRIPT), text)


def _quoted(text: str) -> str:
    return text.replace('"', r'\"')


def dot_path() -> str | None:
    return shutil.which("dot")


def render_graph(source: str, fmt: str, timeout: float = 60) -> bytes:
    """The picture Graphviz draws of `source`: fmt "svg" or "png" (`dot` run without a shell)."""
    dot = dot_path()
    if dot is None:
        raise DeriveError("Graphviz 'dot' is not installed, so no SVG or PNG can be drawn "
                          "(Debian: apt-get install graphviz); write .dot or .tex instead")
    try:
        run = subprocess.run([dot, f"-T{fmt}"], input=source.encode("utf-8"), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DeriveError(f"dot did not finish within {timeout:.0f} s") from None
    if run.returncode != 0:
        message = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise DeriveError(f"dot failed: {message[0] if message else 'no message'}")
    return run.stdout


def graph_file(trace: TraceData, suffix: str, adjoints: bool = False) -> str | bytes:
    """The graph's content for a file ending in `suffix`: .svg, .png or .dot."""
    if suffix not in GRAPH_FORMATS:
        raise DeriveError(f"a graph is written as {', '.join(GRAPH_FORMATS)}, not {suffix or 'a file without suffix'}")
    source = dot_source(trace, adjoints)
    return source if suffix == ".dot" else render_graph(source, suffix[1:])
