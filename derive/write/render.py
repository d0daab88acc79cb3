"""Rendering steps into worked solutions: Jinja2 templates for the words, `derive.core.printing` for the maths.

One template per step kind (`templates/step_<kind>.j2`), each with an `intro` block (a sentence, may be
empty) and a `rows` block (lines of an `align`); document templates per output format (`.tex`, `.md`).
Equation numbers are given here, in printing order, starting at (1) (or at (0), `first_equation`); a step
refers to earlier ones by key. This module reads steps; it never differentiates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import jinja2
from sympy import Derivative, MatrixSymbol, Symbol, preorder_traversal
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, Transpose

from ..core import steps as st
from sympy.printing.precedence import PRECEDENCE

from ..core.printing import DerivePrinter, partial, sized_brackets
from .markdown import portable
from . import html_maths
from .layout import fit_display
from .resources import resource_dir
from ..core import matrix_ops as mo
from ..core.matrix_engine import final_form
from ..core.matrix_rules import MATRIX_RULES
from ..core.matrix_tidy import tidy
from ..core.rules import RULES


_ENV: jinja2.Environment | None = None
NOTE_WIDTH = 60  # characters of an annotation that a line has room for beside short maths (public; layout decides)


def environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
            block_start_string="<%", block_end_string="%>",
            variable_start_string="<<", variable_end_string=">>",
            comment_start_string="<#", comment_end_string="#>",
            undefined=jinja2.StrictUndefined, autoescape=False,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
        _ENV.filters["tex"] = _escape_tex
        _ENV.filters["tex_inline"] = lambda text, context: context.m(text)
        _ENV.filters["portable_markdown"] = portable  # wraps every .md document (derive.write.markdown)
        _ENV.filters["html_prose"] = html_maths.prose  # wraps a page's parts (derive.write.html_maths)
        _ENV.filters["html_words"] = html_maths.words
    return _ENV


@dataclass
class Part:
    """One problem's worked solution, as plain data: a document holds one part or several."""

    title: str
    network: object  # derive.core.network.Network
    loss: Symbol
    sections: list  # [(wrt, [steps first derived for it])]
    general: list = field(default_factory=list)
    check: object = None  # derive.check.CheckReport or None
    description: str = ""
    check_extras: tuple = ()  # shown with the check on request: "sweep" (the plot), "comparison" (the table)
    layout: str = "denominator"  # or "numerator": dL/dW printed with the shape of W^T (see `numerator_steps`)


@dataclass
class DocumentData:
    """Everything a document template needs: a title, the parts, and the output format."""

    title: str
    parts: list
    fmt: str = "tex"
    first_equation: int = 1  # the number of the first equation: 1, or 0


def ranks(network) -> dict[Symbol, int]:
    """Print order for factors: inputs last, later definitions (nearer the loss) first."""
    order = {s: -1 for s in network.inputs.values()}
    order.update({name: i for i, name in enumerate(network.definitions)})
    return order


def delta_names(steps, network) -> dict[Symbol, Symbol]:
    """Names for the delta terms: a single one is Delta, several are Delta^{(1)}, ... numbered from the input
    side (by the definition they sit in); delta instead of Delta where the network has a symbol Delta."""
    found = {s.symbol: s for s in steps if isinstance(s, st.Delta)}
    order = {name: i for i, name in enumerate(network.definitions)}
    deltas = sorted(found, key=lambda d: (order.get(found[d].inside, 0), d.name))
    letter = "delta" if any(s.name.startswith("Delta") for s in network.all_symbols()) else "Delta"
    def named(delta, name):
        return MatrixSymbol(name, *delta.shape) if isinstance(delta, MatrixSymbol) else Symbol(name, real=True)

    if len(deltas) == 1:
        return {deltas[0]: named(deltas[0], letter)}
    return {d: named(d, f"{letter}^{{({k})}}") for k, d in enumerate(deltas, start=1)}


class Context:
    """What a template may call: maths through the one printer, numbers, references, plain-text escaping."""

    def __init__(self, part: Part, all_steps: list, fmt: str, first_number: int = 1, level: int = 1,
                 derived: list | None = None):
        self.fmt = fmt
        self.level = level
        self.layout = part.layout
        self.network = part.network
        self.network_loss = part.loss
        self.printer = DerivePrinter(ranks(part.network), delta_names(derived or all_steps, part.network))
        self.steps = {step.key: step for step in all_steps}
        self.numbers: dict = {}
        self.said: set[str] = set()  # rule notes already given
        self.exemplars: dict = {}  # recursion key -> (key of the layer step it was first derived at, that layer)
        for step in all_steps:
            self.numbers.setdefault(step.key, first_number + len(self.numbers))

    @property
    def small(self) -> str:
        """Annotations beside equations are set small in LaTeX (MathJax's \\text takes no size)."""
        return "\\small " if self.fmt == "tex" else ""

    def note(self, words: str, beside: str = "") -> str:
        """An annotation beside an equation (`beside`, its maths). In LaTeX, `fit` sets its width when the
        display is complete (beside the equation, wrapped, or under it); Markdown keeps one line."""
        return rf"\text{{{self.small}{words}}}"

    def aligned(self, rows: list[str]) -> str:
        """The rows of a display as a page's table (`html_maths.aligned`)."""
        return html_maths.aligned(rows)

    def result_number(self, name: str) -> int | None:
        """The number of the equation that states the gradient of the loss with respect to `name` (its final
        form), or None: where a page's check links a gradient to its derivation."""
        if name not in {s.name for s in self.network.all_symbols()}:
            return None  # "direction": the check along a random direction tests every gradient at once
        wrt = self.symbol(name)
        for key in (("final", self.network_loss, wrt), ("gradient", self.network_loss, wrt),
                    ("local", self.network_loss, wrt)):
            if key in self.numbers:
                return self.numbers[key]
        return None

    def fit(self, rows: str) -> str:
        """The rows of a display, fitted to the page in LaTeX (see `layout.fit_display`)."""
        return fit_display(rows) if self.fmt == "tex" else rows

    def math(self, expr) -> str:
        return self.printer.doprint(expr)

    def definition(self, step) -> str:
        """A definition's right-hand side as the problem file wrote it (normalised by `derive.read.as_written`),
        or printed when it has no text or its expression has changed since it was read."""
        expr, text = self.network.written.get(step.name, (None, None)) if hasattr(self.network, "written") else (None, None)
        return text if text is not None and expr == step.rhs else self.math(step.rhs)

    def m(self, expr) -> str:
        """Inline maths for the narrative."""
        text = expr if isinstance(expr, str) else self.math(expr)
        return f"${text}$" if self.fmt == "md" else rf"\({text}\)"

    def partial(self, of, wrt, explicit: bool = False) -> str:
        return partial(of, wrt, self.printer, explicit)

    def tag(self, step) -> str:
        n = self.numbers[step.key]
        return rf"\tag{{{n}}}" if self.fmt == "md" else rf"\label{{eq:{n}}}\tag{{{n}}}"

    def ref(self, key) -> str:
        n = self.numbers[key]
        return f"({n})" if self.fmt == "md" else rf"\eqref{{eq:{n}}}"

    def refs(self, keys) -> str:
        """(2) & (3), or (7), (11) & (15): references joined as in the seed article."""
        refs = [self.ref(k) for k in keys]
        last = r" \& " if self.fmt == "tex" else " and "
        return refs[0] if len(refs) == 1 else ", ".join(refs[:-1]) + last + refs[-1]

    def matrix_rows(self, step) -> list[tuple[str, str]]:
        """The lines of a matrix step as (kind, maths): "chain" (with dL/dv), "shown" (substituted) and
        "simplified" (textbook form), skipping a line that repeats the one before."""
        rows = [("chain", self.math(step.chain))]
        for kind, expr in (("shown", step.shown), ("simplified", step.simplified)):
            if expr is not None and self.math(expr) != rows[-1][1]:
                rows.append((kind, self.math(expr)))
        return rows

    def layer_range(self, step) -> str:
        r"""l = 2, \ldots, 4 for consecutive layers, else l \in \{1, 3\}."""
        layers = list(step.layers)
        index = self.math(step.index)
        if layers == list(range(layers[0], layers[-1] + 1)) and len(layers) > 2:
            return rf"{index} = {layers[0]}, \ldots, {layers[-1]}"
        return rf"{index} \in \{{{', '.join(map(str, layers))}\}}"

    @staticmethod
    def split_uses(keys) -> tuple[list, list]:
        """The definitions a step reads, and the earlier gradients and deltas it substitutes."""
        return [k for k in keys if k[0] == "definition"], [k for k in keys if k[0] != "definition"]

    def product_line(self, step) -> str:
        """The substituted factors side by side (each bracketed by precedence), or "" if that adds nothing:
        it is the result already, or a factor is an earlier gradient kept by name."""
        if any(f.has(Derivative) for factors in step.terms for f in factors):
            return ""
        line = sized_brackets(" + ".join(
            r" \cdot ".join(self.printer.parenthesize(f, PRECEDENCE["Mul"], strict=False) for f in factors)
            for factors in step.terms
        ))
        return "" if line == self.math(step.shown) else line

    def delta_of(self, final) -> Symbol:
        """The delta symbol a Final step is written in."""
        return self.steps[final.uses[0]].symbol

    def text(self, words: str) -> str:
        """Plain words, with LaTeX's special characters escaped in `.tex`."""
        if self.fmt == "html":
            return html_maths.words(words)
        return words if self.fmt == "md" else _escape_tex(words)

    def symbol(self, name: str) -> Symbol:
        return self.network.symbol(name)

    @staticmethod
    def sci(value: float) -> str:
        """A number in scientific notation as LaTeX: 3.2 \\cdot 10^{-11}."""
        if value == 0:
            return "0"
        mantissa, exponent = f"{value:.1e}".split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"

    def inline_list(self, exprs) -> str:
        """x, y and z, each as inline maths."""
        return self.listing([self.m(e) for e in exprs])

    @staticmethod
    def listing(words) -> str:
        words = list(words)
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def rules(self, names) -> str:
        """'by the product, power and sum rules' for an annotation; 'directly' when no rule was needed."""
        short = [n.removesuffix(" rule") for n in names]
        if not short:
            return "directly"
        return f"by the {self.listing(short)} rule" + ("s" if len(short) > 1 else "")

    def slashed(self, of, wrt) -> str:
        r"""\partial L / \partial w, for tables where a fraction would be too small to read."""
        return rf"\partial {self.math(of)} / \partial {self.math(wrt)}"

    def rule_notes(self, step) -> list[str]:
        """The remarks on the rules a step used (their words: `rule_note` in templates/macros.j2), each said once
        in a part."""
        registry = MATRIX_RULES if isinstance(step, (st.Pullback, st.Delta)) else RULES
        keys = [n for n in dict.fromkeys(r.note for r in registry if r.name in getattr(step, "rules", ()) and r.note)
                if n not in self.said]
        self.said.update(keys)
        macros = environment().get_template("macros.j2").make_module({"c": self})
        return [str(macros.rule_note(key)).strip() or key for key in keys]  # a note not keyed there is its words

    # -- shapes (matrix networks) --------------------------------------------------------------------
    @property
    def has_matrices(self) -> bool:
        return self.network.has_matrices

    @staticmethod
    def transposed(expr):
        """expr^T (the shape a gradient has in numerator layout)."""
        return mo.transpose(expr)

    def dims(self, shape) -> str:
        return rf"{self.math(shape[0])} \times {self.math(shape[1])}"

    def shaped(self, symbol) -> str:
        r"""[X]_{n \times 3} as in the seed article; a scalar is 1 x 1."""
        shape = symbol.shape if mo.is_matrix(symbol) else (1, 1)
        return rf"[{self.math(symbol)}]_{{\scriptscriptstyle {self.dims(shape)}}}"

    def shapes(self) -> list[str]:
        """Every input and definition with its shape."""
        return [self.shaped(s) for s in (*self.network.inputs.values(), *self.network.definitions)]

    def products(self, expr) -> list[str]:
        """A one-line shape check for each matrix product in `expr`: (3 x n)(n x 1) -> 3 x 1."""
        lines = []
        for node in preorder_traversal(expr):
            if isinstance(node, MatMul):
                factors = [f for f in node.args if mo.is_matrix(f)]
                if len(factors) > 1:
                    inner = "".join(rf"[{self.math(f)}]_{{{self.dims(f.shape)}}}" for f in factors)
                    lines.append(rf"{inner} \to {self.dims(node.shape)}")
        return list(dict.fromkeys(lines))


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape_tex(words: str) -> str:
    """Escape LaTeX's special characters, leaving $...$ maths (as written in a problem's description) alone."""
    pieces = re.split(r"(\$[^$]+\$)", words)
    return "".join(p if p.startswith("$") and p.endswith("$") and len(p) > 1 else
                   re.sub(r"[\\&%$#_{}~^]", lambda m: _TEX_SPECIAL[m.group()], p) for p in pieces)


def _kind(step) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(step).__name__).lower()


def render_step(step, context: Context, after_conclusion: bool = False) -> tuple[str, str]:
    """A step's (intro sentence, align rows); `after_conclusion`: it cannot join the display before it."""
    template = environment().get_template(f"step_{_kind(step)}.j2")
    variables = template.new_context({"step": step, "c": context, "after_conclusion": after_conclusion})
    intro = "".join(template.blocks["intro"](variables)).strip()
    rows = "".join(template.blocks["rows"](variables)).strip()
    return intro, rows


_OPENS_A_GROUP = (st.Definition, st.ChainRule, st.Accumulate, st.LocalDerivative)  # a Pullback is a conclusion


def blocks(steps, context: Context) -> list[tuple[str, list[str]]]:
    """Steps grouped for display: a chain rule with its factors; a new block wherever a step has a
    sentence of its own or follows a conclusion (a substitution, delta or final form)."""
    grouped: list[tuple[str, list[str]]] = []
    previous = None
    for step in steps:
        after_conclusion = bool(grouped) and not isinstance(previous, _OPENS_A_GROUP)
        intro, rows = render_step(step, context, after_conclusion)
        if intro or not grouped or after_conclusion:
            grouped.append((intro, [rows]))
        else:
            grouped[-1][1].append(rows)
        previous = step
    return grouped


def with_recursions(sections: list, general: list) -> tuple[list, list, dict]:
    """The sections with each layer recursion stated once, right after the first layer it was derived at
    (the exemplar), and each later layer's step replaced by the recursion at that layer (`ByRecursion`); a
    layer's dL/dA^(l) that only a replaced step needed is left out. Returns (sections, the general forms
    left, {recursion key: (exemplar key, its layer)})."""
    printed = [s for _, steps in sections for s in steps]
    recursions = [g for g in general if isinstance(g, st.Recursion) and any(s.key in g.uses for s in printed)]
    after, replaced, exemplars = {}, {}, {}
    for recursion in recursions:
        members = [s for s in printed if s.key in recursion.uses]
        after[members[0].key] = recursion
        exemplars[recursion.key] = (members[0].key, recursion.layers[recursion.uses.index(members[0].key)])
        for member in members[1:]:
            replaced[member.key] = _by_recursion(member, recursion, printed)
    kept = [s for s in printed if s.key not in replaced] + list(replaced.values())
    needed = {key for s in kept for key in s.uses}
    wrts = {wrt for wrt, _ in sections}

    def shown(step) -> list:
        if step.key in replaced:
            return [replaced[step.key]]
        if isinstance(step, st.Pullback) and step.wrt not in wrts and step.key not in needed:
            return []
        return [step] + ([after[step.key]] if step.key in after else [])

    sections = [(wrt, [s for step in steps for s in shown(step)]) for wrt, steps in sections]
    return sections, [g for g in general if g not in recursions], exemplars


def _by_recursion(member, recursion: st.Recursion, printed: list) -> st.ByRecursion:
    result = final_form(member)
    deltas = tuple(s.key for s in printed if isinstance(s, st.Delta) and s.symbol in result.free_symbols)
    is_delta = isinstance(member, st.Delta)
    lhs = member.symbol if is_delta else mo.GradientOf(member.of, member.wrt)
    return st.ByRecursion(member.of, lhs, member.site if is_delta else None, recursion.index,
                          recursion.layers[recursion.uses.index(member.key)], result, member.key,
                          (recursion.key, *deltas))


def _part_variables(part: Part, fmt: str, first_number: int, level: int) -> dict:
    sections, general, exemplars = with_recursions(part.sections, part.general)
    definitions = [st.Definition(name, rhs) for name, rhs in part.network.definitions.items()]
    all_steps = definitions + [s for _, steps in sections for s in steps] + general
    derived = [s for _, steps in part.sections for s in steps]  # every delta, the replaced ones too, for their names
    context = Context(part, all_steps, fmt, first_number, level, derived)
    if part.layout == "numerator":
        sections, general = numerator_steps(sections, general, context.printer.rename, part.network)
    context.exemplars = exemplars
    return {
        "c": context,
        "part": part,
        "definitions": blocks(definitions, context)[0][1] if definitions else [],
        "sections": [(wrt, blocks(steps, context), _stated_in(part, wrt, context)) for wrt, steps in sections],
        "general": blocks(general, context) if general else [],
        "wrts": [wrt for wrt, _ in sections],
    }


# -- numerator layout ------------------------------------------------------------------------------------
# The engine derives in denominator layout (dL/dW has the shape of W), and the check compares numbers in that
# shape. In numerator layout every gradient of the loss with respect to a matrix or vector is the transpose:
# so the printed steps are transposed copies, and every gradient a line is written in (a delta, a dL/dV) stands
# for its numerator-layout self, i.e. the transpose of the denominator-layout one the engine used.
LAYOUTS = ("denominator", "numerator")


class NumeratorGradientOf(mo.GradientOf):
    """dL/dV in numerator layout: printed as dL/dV is, shaped as V^T."""

    @property
    def shape(self):
        rows, cols = self.args[1].shape
        return cols, rows


def numerator_steps(sections: list, general: list, rename: dict, network) -> tuple[list, list]:
    """The matrix steps of `sections` and `general` as printed in numerator layout; `rename` (the printer's
    names of the deltas) gains the names of the transposed deltas."""
    steps = [s for _, part in sections for s in part] + list(general)
    deltas = {s.symbol for s in steps if isinstance(s, st.Delta)}
    network_symbols = set(network.all_symbols())
    for g in steps:  # the layer-l deltas a recursion is written in (Delta^{(l)}, Delta^{(l+1)})
        if isinstance(g, st.Recursion):
            deltas |= {s for s in g.result.free_symbols | g.lhs.free_symbols if isinstance(s, MatrixSymbol)
                       and s.name.startswith("Delta") and s not in network_symbols}
    swap = numerator_swap(deltas, rename)

    def laid(expr):
        return in_numerator_layout(expr, swap)

    def step(s):
        if isinstance(s, st.Pullback) or (isinstance(s, st.Delta) and s.chain is not None):
            return replace(s, chain=laid(s.chain), shown=laid(s.shown), simplified=laid(s.simplified))
        if isinstance(s, (st.ByRecursion, st.Recursion)):
            return replace(s, result=laid(s.result))
        return s

    return [(wrt, [step(s) for s in steps]) for wrt, steps in sections], [step(g) for g in general]


def numerator_swap(deltas, rename: dict) -> dict:
    """{Delta: D^T} for the matrix deltas, D the delta in numerator layout (the transposed shape); `rename`
    (the printer's names of the deltas) gains D's name, the same as Delta's."""
    swap = {d: Transpose(mo.MatrixSymbol(d.name, d.shape[1], d.shape[0])) for d in deltas if mo.is_matrix(d)}
    for d, t in swap.items():
        if d in rename:
            rename[t.arg] = mo.MatrixSymbol(rename[d].name, *t.arg.shape)
    return swap


def in_numerator_layout(expr, swap: dict):
    """A denominator-layout gradient `expr` as numerator layout writes it: its transpose, in the
    numerator-layout deltas of `swap` (see `numerator_swap`) and dL/dV; a scalar is unchanged (None stays None)."""
    if expr is None:
        return None
    expr = expr.xreplace(swap)
    placeholders = {e: Transpose(NumeratorGradientOf(*e.args)) for e in expr.atoms(mo.GradientOf)
                    if type(e) is mo.GradientOf and mo.is_matrix(e)}
    expr = expr.xreplace(placeholders)
    return tidy(_pushed_transpose(expr, set(swap.values()) | set(placeholders.values())))


def _pushed_transpose(x, gradients):
    """x^T, carried into products, sums and Hadamard products as far as the `gradients` (transposes) written
    in them ((X^T G^T)^T = G X); a part without one stays whole ((y - \\hat{y})^T, \\sigma'(X W)^T)."""
    if not mo.is_matrix(x):
        return x
    if isinstance(x, Transpose) and x in gradients:
        return x.arg
    if isinstance(x, (MatrixSymbol, Transpose)) or (not isinstance(x, MatMul) and not any(x.has(g) for g in gradients)):
        return mo.transpose(x) if isinstance(x, (MatrixSymbol, Transpose)) else Transpose(x)
    if isinstance(x, MatMul):
        scalars = [f for f in x.args if not mo.is_matrix(f)]
        return mo.matmul(*scalars, *(_pushed_transpose(f, gradients) for f in reversed(x.args) if mo.is_matrix(f)))
    if isinstance(x, MatAdd):
        return mo.sum_of(*(_pushed_transpose(t, gradients) for t in x.args))
    if isinstance(x, HadamardProduct):
        return mo.hadamard(*(_pushed_transpose(f, gradients) for f in x.args))
    return mo.transpose(x)


def _stated_in(part: Part, wrt: Symbol, context: Context) -> str | None:
    """Where an earlier section already states this gradient ("(8)"), or None if it is zero."""
    for key in (("final", part.loss, wrt), ("gradient", part.loss, wrt), ("local", part.loss, wrt)):
        if key in context.numbers:
            return context.ref(key)
    return None


def _rendered_parts(data: DocumentData) -> list[str]:
    texts, first = [], data.first_equation
    level = 1 if len(data.parts) == 1 else 2
    for part in data.parts:
        variables = _part_variables(part, data.fmt, first, level)
        first += len(variables["c"].numbers)
        texts.append(environment().get_template("part.j2").render(**variables))
    return texts


def render_document(data: DocumentData) -> str:
    """A whole document: `.tex` (compiles with pdflatex) or `.md` (Markdown with `$$` maths)."""
    template = environment().get_template(f"document.{data.fmt}.j2")
    return template.render(data=data, parts=list(zip(data.parts, _rendered_parts(data))))


def render_body(data: DocumentData) -> str:
    """The document's body without preamble: for each part the network, the steps, the general forms."""
    return "\n".join(_rendered_parts(data))


def render_aligned(part: Part, fmt: str = "tex", first_equation: int = 1) -> str:
    """Every equation of one part as rows of one align environment, numbered, without prose.

    With fmt "md" the rows carry tags but no labels, for MathJax (Jupyter) where labels must be unique.
    """
    variables = _part_variables(part, fmt, first_equation, 1)
    rows = list(variables["definitions"])
    for _, grouped, _ in variables["sections"]:
        rows += [r for _, group in grouped for r in group]
    rows += [r for _, group in variables["general"] for r in group]
    return " \\\\\n".join(rows)
