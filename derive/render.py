"""Rendering steps into worked solutions: Jinja2 templates for the words, `derive.printing` for the maths.

One template per step kind (`templates/step_<kind>.j2`), each with an `intro` block (a sentence, may be
empty) and a `rows` block (lines of an `align`); document templates per output format (`.tex`, `.md`).
Equation numbers are given here, in printing order, starting at (0) as in the seed article; a step
refers to earlier ones by key. This module reads steps; it never differentiates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from sympy import Expr, Symbol

from . import steps as st
from .printing import DerivePrinter, partial
from .rules import RULES


def templates_dir() -> Path:
    """`derive/templates` inside an installed wheel, the top-level `templates/` in a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "templates", here.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("derive's templates folder is missing from the installation")


_ENV: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates_dir())),
            block_start_string="<%", block_end_string="%>",
            variable_start_string="<<", variable_end_string=">>",
            comment_start_string="<#", comment_end_string="#>",
            undefined=jinja2.StrictUndefined, autoescape=False,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        )
    return _ENV


@dataclass
class DocumentData:
    """Everything a document template needs, as plain data."""

    title: str
    network: object  # derive.network.Network
    loss: Symbol
    sections: list  # [(wrt, [steps first derived for it])]
    general: list = field(default_factory=list)
    check: object = None  # derive.check.CheckReport or None
    fmt: str = "tex"


def ranks(network) -> dict[Symbol, int]:
    """Print order for factors: inputs last, later definitions (nearer the loss) first."""
    order = {s: -1 for s in network.inputs.values()}
    order.update({name: i for i, name in enumerate(network.definitions)})
    return order


def delta_names(steps) -> dict[Symbol, Symbol]:
    """Show a single delta term as plain Delta; several keep their numbers Delta^{(1)}, Delta^{(2)}."""
    deltas = {s.symbol for s in steps if isinstance(s, st.Delta)}
    deltas |= {f for s in steps if isinstance(s, (st.Final, st.General)) for f in s.result.free_symbols
               if f.name.startswith("Delta^")}
    return {next(iter(deltas)): Symbol("Delta", real=True)} if len(deltas) == 1 else {}


class Context:
    """What a template may call: maths through the one printer, numbers, references, plain-text escaping."""

    def __init__(self, data: DocumentData, all_steps: list):
        self.fmt = data.fmt
        self.network = data.network
        self.printer = DerivePrinter(ranks(data.network), delta_names(all_steps))
        self.numbers: dict = {}
        for step in all_steps:
            self.numbers.setdefault(step.key, len(self.numbers))

    def math(self, expr) -> str:
        return self.printer.doprint(expr)

    def m(self, expr) -> str:
        """Inline maths for the narrative."""
        text = expr if isinstance(expr, str) else self.math(expr)
        return f"${text}$" if self.fmt == "md" else rf"\({text}\)"

    def partial(self, of, wrt, explicit: bool = False) -> str:
        return partial(of, wrt, self.printer, explicit)

    def number(self, key) -> int:
        return self.numbers[key]

    def tag(self, step) -> str:
        n = self.numbers[step.key]
        return rf"\tag{{{n}}}" if self.fmt == "md" else rf"\label{{eq:{n}}}\tag{{{n}}}"

    def ref(self, key) -> str:
        n = self.numbers[key]
        return f"({n})" if self.fmt == "md" else rf"\eqref{{eq:{n}}}"

    def refs(self, keys) -> str:
        return r" \& ".join(self.ref(k) for k in keys) if self.fmt == "tex" else " & ".join(self.ref(k) for k in keys)

    def factor(self, expr: Expr) -> str:
        """A factor of a product, bracketed when it is a sum or itself a product."""
        text = self.math(expr)
        return rf"\left({text}\right)" if (expr.is_Add or expr.is_Mul) and len(expr.args) > 1 else text

    def text(self, words: str) -> str:
        """Plain words, with LaTeX's special characters escaped in `.tex`."""
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

    @staticmethod
    def rule_notes(step) -> list[str]:
        return [r.note for r in RULES if r.name in getattr(step, "rules", ()) and r.note]


_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def _escape_tex(words: str) -> str:
    return re.sub(r"[\\&%$#_{}~^]", lambda m: _TEX_SPECIAL[m.group()], words)


def _kind(step) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(step).__name__).lower()


def render_step(step, context: Context) -> tuple[str, str]:
    """A step's (intro sentence, align rows)."""
    template = environment().get_template(f"step_{_kind(step)}.j2")
    variables = template.new_context({"step": step, "c": context})
    intro = "".join(template.blocks["intro"](variables)).strip()
    rows = "".join(template.blocks["rows"](variables)).strip()
    return intro, rows


def blocks(steps, context: Context) -> list[tuple[str, list[str]]]:
    """Steps grouped for display: a new align block starts wherever a step has a sentence of its own."""
    grouped: list[tuple[str, list[str]]] = []
    for step in steps:
        intro, rows = render_step(step, context)
        if intro or not grouped:
            grouped.append((intro, [rows]))
        else:
            grouped[-1][1].append(rows)
    return grouped


def _all_steps(data: DocumentData) -> list:
    definitions = [st.Definition(name, rhs) for name, rhs in data.network.definitions.items()]
    return definitions + [s for _, steps in data.sections for s in steps] + list(data.general)


def _template_variables(data: DocumentData) -> dict:
    all_steps = _all_steps(data)
    context = Context(data, all_steps)
    definitions = [s for s in all_steps if isinstance(s, st.Definition)]
    return {
        "c": context,
        "data": data,
        "definitions": blocks(definitions, context)[0][1] if definitions else [],
        "sections": [(wrt, blocks(steps, context)) for wrt, steps in data.sections],
        "general": blocks(data.general, context) if data.general else [],
        "wrts": [wrt for wrt, _ in data.sections],
    }


def render_document(data: DocumentData) -> str:
    """A whole document: `.tex` (compiles with pdflatex) or `.md` (Markdown with `$$` maths)."""
    return environment().get_template(f"document.{data.fmt}.j2").render(**_template_variables(data))


def render_body(data: DocumentData) -> str:
    """The document's body without preamble: the network, the steps, the general forms."""
    return environment().get_template("body.j2").render(**_template_variables(data))


def render_aligned(data: DocumentData) -> str:
    """Every equation of the derivation as rows of one align environment, numbered, without prose."""
    variables = _template_variables(data)
    rows = list(variables["definitions"])
    for _, grouped in variables["sections"]:
        rows += [r for _, group in grouped for r in group]
    rows += [r for _, group in variables["general"] for r in group]
    return " \\\\\n".join(rows)
