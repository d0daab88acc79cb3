"""`Solution` and `Derivation`: what the user holds after differentiating, tying engine, renderer and checker.

The engine (`derive.core.engine`) makes the steps; this module collects them per gradient, hands them to
the renderer (`derive.write.render`) as plain data and to the checker (`derive.check`) as expressions.
A `Solution` is several gradients of one loss sharing their common steps; a `Derivation` is one of them.
"""

from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import sympy
from sympy import Expr, Symbol

from ..write import render
from ..core import steps as st

from ..check.gradient_check import CheckReport, central_difference_check, matrix_difference_check  # noqa: F401 (tests patch these)
from ..core.errors import CheckError
from ..core.engine import GradientBuilder, derive
from ..core.matrix_engine import derive_matrix, final_form
from ..core.network import Network
from ..core.printing import latex as print_latex


class Solution:
    """The gradients of `loss` with respect to each of `wrts`, derived together."""

    def __init__(self, network: Network, loss: Symbol, wrts: list[Symbol], builder: GradientBuilder, title: str = "",
                 layout: str = "denominator"):
        self.network = network
        self.layout = layout  # how documents write the gradients; derived and checked in denominator layout
        self.loss = loss
        self.wrts = wrts
        self.title = title or network.title
        self.builder = builder
        self._report: CheckReport | None = None
        self.derivations = [Derivation(self, w) for w in wrts]

    @classmethod
    def derive(cls, network: Network, loss, wrts: list, title: str = "", layout: str = "denominator") -> "Solution":
        loss = network.symbol(loss if isinstance(loss, str) else loss.name)
        wrts = list(dict.fromkeys(network.symbol(w if isinstance(w, str) else w.name) for w in wrts))
        engine = derive_matrix if network.has_matrices else derive
        return cls(network, loss, wrts, engine(network, loss, wrts), title, layout=layout)

    @property
    def steps(self) -> list[st.Step]:
        return list(self.builder.steps.values())

    def derivation(self, wrt) -> "Derivation":
        name = wrt if isinstance(wrt, str) else wrt.name
        return next(d for d in self.derivations if d.wrt.name == name)

    def _own_steps(self) -> dict:
        """{variable: the steps first derived for its gradient, in printed order}, for every gradient in one walk:
        each derivation's walk stops at steps an earlier one reached (their own steps were reached with them), so
        a deep network costs its number of steps, not that times its depth."""
        if getattr(self, "_owned", None) is None:
            owner: dict = {}
            for d in self.derivations:
                for key in d._walk(stop=owner):
                    owner[key] = d.wrt
            self._owned = {}
            for step in self.steps:
                if step.key in owner and not isinstance(step, st.Definition):
                    self._owned.setdefault(owner[step.key], []).append(step)
        return self._owned

    def _sections(self) -> list:
        """[(variable, its own steps)], with a family w_1 ... w_n whose own steps differ only in the index stated
        once, at w_i (the general form first, not n copies of one step before "in general")."""
        sections, done = [], set()
        families = self._generalised()
        for d in self.derivations:
            family = next((g for g in families if d.wrt in g.members), None)
            if family is None:
                sections.append((d.wrt, d.own_steps()))
            elif family.key not in done:
                done.add(family.key)
                sections.append((family.wrt, families[family]))
        return sections

    def _generalised(self) -> dict:
        """{General step: the steps of its w_i}, for each family whose members' own steps are one step each with
        the index renamed (the steps the members share, such as their delta, are stated once, unrenamed)."""
        if getattr(self, "_families", None) is None:
            self._families = {}
            own = self._own_steps()
            for general in (s for s in self.steps if isinstance(s, st.General)):
                steps = _general_steps(general, own, {m: self.derivation(m)._closure() for m in general.members})
                if steps is not None:
                    self._families[general] = steps
        return self._families

    def general_steps(self) -> list:
        """The general forms: dL/dw_i for indexed scalars, and the per-layer recursions of a deep network."""
        return [s for s in self.steps if isinstance(s, (st.General, st.Recursion))]

    def check(self, points=3, seed: int = 0, method: str = "central", **options) -> CheckReport:
        """Every gradient against `method` at `points` seeded random points (or the points given).

        Methods: central (default), forward, richardson, complex step, directional, exact; options: dtype
        ("float64" or "float32"), step, probes, sweep (default True), compare (the table of every method),
        size (for matrix networks). See `derive.check.check_gradients`."""
        if any(w in self.network.definitions for w in self.wrts):
            return _merge([d.check(points, seed, method, **options) for d in self.derivations])
        inputs = sorted(self.network.inputs.values(), key=lambda s: s.name)
        gradients = {d.wrt: d.result for d in self.derivations}
        return _run_check(self.network, self.loss, gradients, inputs, points, seed, method, options)

    def evaluate(self, values: dict) -> dict:
        """{variable name: its gradient} at `values` ({name or symbol: number or array} of the inputs), each as
        `Derivation.evaluate` gives it, from one forward pass."""
        from ..check.evaluation import evaluate_in

        results = evaluate_in(self.network, [d.result for d in self.derivations], values)
        return {d.wrt.name: _declared_shape(self.network, d.wrt, r) for d, r in zip(self.derivations, results)}

    @property
    def report(self) -> CheckReport:
        """The numeric check with default settings, computed once (assign to keep another)."""
        if self._report is None:
            self._report = self.check()
        return self._report

    @report.setter
    def report(self, value: CheckReport) -> None:
        self._report = value

    def part(self, with_check: bool = True, description: str = "", check_extras: tuple = ()) -> render.Part:
        """This solution as one part of a document (plain data for the renderer); `check_extras` may ask for
        "sweep" (the step sweep plot, LaTeX only) and "comparison" (the table of methods) after the check."""
        if "comparison" in check_extras and with_check and not self.report.comparison:
            self.report = self.check(compare=True)
        return render.Part(
            title=self.title or "Gradients",
            network=self.network,
            loss=self.loss,
            sections=self._sections(),
            general=[g for g in self.general_steps() if g not in self._generalised()],
            check=self.report if with_check else None,
            description=description,
            check_extras=tuple(check_extras),
            layout=self.layout,
        )

    def latex(self) -> str:
        """The body of the worked solution (definitions and every step), without the preamble."""
        return render.render_body(render.DocumentData(self.title, [self.part(False)], "tex"))

    def document(self, check: bool = True, description: str = "", check_extras: tuple = (),
                 first_equation: int = 1) -> str:
        """A complete LaTeX document (`.tex`) of the worked solution, ending with the numeric check (and, with
        `check_extras`, the step sweep plot and the comparison of methods); equations numbered from
        `first_equation` (1, or 0)."""
        part = self.part(check, description, check_extras)
        return render.render_document(render.DocumentData(self.title or "Gradients", [part], "tex", first_equation))

    def markdown(self, check: bool = True, description: str = "", check_extras: tuple = (),
                 first_equation: int = 1) -> str:
        """The worked solution as Markdown with `$$` mathematics."""
        part = self.part(check, description, check_extras)
        return render.render_document(render.DocumentData(self.title or "Gradients", [part], "md", first_equation))

    def html(self, check: bool = True, description: str = "", check_extras: tuple = (),
             first_equation: int = 1) -> str:
        """The worked solution as one self-contained web page (HTML with MathML, styles and script inline);
        the same words, numbering and check as `document`."""
        from ..write.html import solution_page

        part = self.part(check, description, check_extras)
        return solution_page(render.DocumentData(self.title or "Gradients", [part], "html", first_equation))

    def to_json(self) -> str:
        """Per gradient: the variable, the result as LaTeX and as SymPy `srepr`, and the check report; with the
        layout the results are written in ("layout"; in numerator layout a vector's or matrix's gradient, and
        each delta, is the transpose of the denominator-layout one). The check's entries are the variable's own
        entries (dL/dW[i, j]) in either layout."""
        report = self.report
        names = render.delta_names(self.steps, self.network)
        deltas = [s for s in self.steps if isinstance(s, st.Delta)]
        swap = render.numerator_swap([s.symbol for s in deltas], names) if self.layout == "numerator" else None

        def laid(expr):
            return expr if swap is None else render.in_numerator_layout(expr, swap)

        def tex(expr):
            return print_latex(laid(expr), render.ranks(self.network), names)

        gradients = [
            {
                "variable": d.wrt.name,
                "variable_latex": print_latex(d.wrt),
                "result_latex": tex(d.result),
                "result_srepr": sympy.srepr(laid(d.result)),
                "compact_latex": tex(d.compact),
                "expanded_srepr": sympy.srepr(laid(d.expanded())),
                "check": [e for e in report.to_dict()["entries"] if e["variable"] == d.wrt.name],
            }
            for d in self.derivations
        ]
        deltas = [{"symbol_latex": print_latex(s.symbol, rename=names), "site_latex": print_latex(s.site),
                   "value_latex": tex(s.value if s.chain is None else final_form(s))} for s in deltas]
        check = {key: value for key, value in report.to_dict().items() if key != "entries"}  # entries: per gradient
        return json.dumps({"title": self.title, "loss": self.loss.name, "layout": self.layout, "verdict": report.verdict,
                           "check_method": report.method, "check": check, "deltas": deltas, "gradients": gradients},
                          indent=2)

    def _repr_latex_(self) -> str:
        return "\\begin{align}" + render.render_aligned(self.part(False), "md") + "\\end{align}"

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's display: the worked solution as HTML with MathML (with the check if one was run: displaying
        runs none), its equations as LaTeX, and a line of plain text."""
        return _bundle(self.part(self._report is not None), self._repr_latex_(), repr(self), include, exclude)

    def __repr__(self) -> str:
        wrts = ", ".join(w.name for w in self.wrts)
        return f"<Solution {self.title or 'Gradients'}: d{self.loss}/d({wrts})>"


class Derivation:
    """d(loss)/d(wrt), step by step: `.result` in the named intermediates, `.steps`, `.latex()`, ..."""

    def __init__(self, solution: Solution, wrt: Symbol):
        self.solution = solution
        self.wrt = wrt
        self._needed: set | None = None
        self.loss = solution.loss
        self.network = solution.network

    @property
    def result(self) -> Expr:
        """The gradient written in the named intermediates, e.g. (yhat - y)*yhat*(1 - yhat)*x."""
        return sympy.sympify(self.solution.builder.gradient(self.wrt)[0])

    @property
    def final(self) -> st.Final | None:
        return self.solution.builder.steps.get(("final", self.loss, self.wrt))

    @property
    def compact(self) -> Expr:
        """The gradient in its compact form (with the delta term, where there is one)."""
        if hasattr(self.solution.builder, "compact_form"):
            return self.solution.builder.compact_form(self.wrt)
        return self.final.result if self.final else self.result

    def expanded(self) -> Expr:
        """The gradient in the network's inputs only (every named intermediate substituted)."""
        return self.network.expand(self.result)

    @property
    def steps(self) -> tuple[st.Step, ...]:
        """Every step this gradient rests on, definitions first, in the order they are printed."""
        needed = self._closure()
        return tuple(s for s in self.solution.steps if s.key in needed)

    def _closure(self) -> set:
        """The keys of every step this gradient rests on (computed once: steps never change)."""
        if self._needed is None:
            self._needed = self._compute_closure()
        return self._needed

    def _compute_closure(self) -> set:
        definitions = {s.key for s in self.solution.builder.steps.values() if isinstance(s, st.Definition)}
        return definitions | self._walk(stop=definitions)

    def _walk(self, stop) -> set:
        """The keys of the steps this gradient rests on, from its last step back, not entering keys in `stop`."""
        builder = self.solution.builder
        todo = [k for k in (("final", self.loss, self.wrt), builder.gradient(self.wrt)[1]) if k in builder.steps]
        reached: set = set()
        while todo:
            key = todo.pop()
            if key in reached or key in stop or key not in builder.steps:
                continue
            reached.add(key)
            step = builder.steps[key]
            todo += list(step.uses)
            if isinstance(step, (st.Substitution,)):
                todo.append(("chain", self.loss, step.wrt))
        return reached

    def own_steps(self) -> list[st.Step]:
        """The steps first derived for this gradient (earlier gradients' steps are referenced, not repeated)."""
        return list(self.solution._own_steps().get(self.wrt, []))

    def evaluate(self, values: dict):
        """The gradient at `values` ({name or symbol: number or array} of the inputs): a NumPy array of the
        variable's shape (symbolic sizes such as n read off the arrays; 1 x 1 for a variable declared [1, 1]),
        a NumPy float for a scalar (an array of them for arrays of scalar points). Evaluated as the check does:
        a forward pass through the definitions, then the gradient in its named intermediates, in numerically
        stable forms."""
        from ..check.evaluation import evaluate_in

        return _declared_shape(self.network, self.wrt, evaluate_in(self.network, [self.result], values)[0])

    def check(self, points=3, seed: int = 0, method: str = "central", **options) -> CheckReport:
        """This gradient against `method` (see `Solution.check`) at `points` seeded random points or given ones.

        The gradient with respect to an intermediate holds that intermediate as a leaf.
        """
        keep = {self.wrt} if self.wrt in self.network.definitions else set()
        inputs = sorted(set(self.network.inputs.values()) | keep, key=lambda s: s.name)
        return _run_check(self.network, self.loss, {self.wrt: self.result}, inputs, points, seed, method, options)

    def result_latex(self) -> str:
        return print_latex(self.result, render.ranks(self.network))


    def part(self, with_check: bool = True) -> render.Part:
        return render.Part(
            title=self.solution.title or "Gradient",
            network=self.network,
            loss=self.loss,
            sections=[(self.wrt, [s for s in self.steps if not isinstance(s, st.Definition)])],
            check=self.check() if with_check else None,
            layout=self.solution.layout,
        )

    def latex(self) -> str:
        """The align body of this derivation: definitions, then every step, numbered (rows of `align`)."""
        return render.render_aligned(self.part(with_check=False))

    def document(self, check: bool = True) -> str:
        """A complete LaTeX document for this one gradient."""
        return render.render_document(render.DocumentData(self.solution.title, [self.part(check)], "tex"))

    def markdown(self, check: bool = True) -> str:
        """This gradient's worked solution as Markdown with `$$` mathematics."""
        return render.render_document(render.DocumentData(self.solution.title, [self.part(check)], "md"))

    def html(self, check: bool = True) -> str:
        """This gradient's worked solution as one self-contained web page."""
        from ..write.html import solution_page

        return solution_page(render.DocumentData(self.solution.title or "Gradient", [self.part(check)], "html"))

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        """Jupyter's display: this gradient's steps as HTML with MathML, as LaTeX, and as plain text."""
        return _bundle(self.part(False), self._repr_latex_(), repr(self), include, exclude)

    def _repr_latex_(self) -> str:
        return "\\begin{align}" + render.render_aligned(self.part(False), "md") + "\\end{align}"

    def __repr__(self) -> str:
        return f"<Derivation d{self.loss}/d{self.wrt} = {sympy.sstr(self.result)}>"


def _bundle(part: render.Part, latex: str, plain: str, include, exclude) -> dict:
    """{"text/html", "text/latex", "text/plain"} for Jupyter, narrowed by `include` and `exclude`."""
    from ..write.html import solution_fragment

    bundle = {"text/html": lambda: solution_fragment(render.DocumentData(part.title, [part], "html")),
              "text/latex": lambda: latex, "text/plain": lambda: plain}
    return {kind: make() for kind, make in bundle.items()
            if (include is None or kind in include) and (exclude is None or kind not in exclude)}


@contextmanager
def _located(network: Network, loss: Symbol):
    """Name the loss's definition (file and line) in a check that could not be carried out."""
    from ..check.gradient_check import CheckOptionError
    from ..check.methods import StepError

    try:
        yield
    except (CheckOptionError, StepError):
        raise
    except CheckError as error:
        raise error.located(network.where.get(loss, f"loss {loss}")) from None


def _run_check(network: Network, loss: Symbol, gradients: dict, inputs: list, points, seed: int, method: str,
               options: dict) -> CheckReport:
    """The check of `gradients` (in the named intermediates) by a forward pass through the network's definitions;
    an intermediate among `inputs` is held as a leaf."""
    definitions = list(network.definitions.items())
    with _located(network, loss):
        if network.has_matrices:
            return matrix_difference_check(loss, gradients, inputs, points, seed, one_hot=network.one_hot,
                                           method=method, definitions=definitions, **options)
        return central_difference_check(loss, gradients, inputs, points, seed, method=method,
                                        definitions=definitions, **options)


def _merge(reports: list[CheckReport]) -> CheckReport:
    """One report of the per-gradient reports: every entry, redraws added up, other notes once, the first sweep
    and comparison."""
    from dataclasses import replace

    entries = tuple(e for r in reports for e in r.entries)
    redrawn = sum(int(n.split()[0]) for r in reports for n in r.notes if n.split()[0].isdigit())
    others = [n for r in reports for n in r.notes if not n.split()[0].isdigit()]
    notes = ((f"{redrawn} sample point(s) were redrawn (not finite, or near a kink)",) if redrawn else ()) + tuple(
        dict.fromkeys(others))
    return replace(reports[0], entries=entries, notes=notes)


def _general_steps(general: st.General, own: dict, closures: dict) -> list | None:
    """The first member's own steps with those particular to it written at the index i (the rest, shared by every
    member, as they are), if every member's own steps are exactly those at its index; else None."""
    from dataclasses import replace

    first, *rest = general.members
    if not rest or any(m not in own for m in general.members):
        return None
    particular = [s for s in own[first] if not all(s.key in closures[m] for m in rest)]
    if not particular or not isinstance(particular[0], (st.ChainRule, st.Accumulate)) or particular[0] is not own[first][0]:
        return None
    index = {m: _index_of(m) for m in general.members}
    try:
        at_i = {s.key: _generalise(s, t, index[first], index[rest[0]], general.index.name)
                for s, t in zip(particular, own[rest[0]], strict=True)}
    except (ValueError, TypeError):
        return None
    for m in rest:
        if [_at_index(g, general.index.name, index[m]) for g in at_i.values()] != list(own[m]):
            return None
    steps = [at_i.get(s.key, s) for s in own[first]]
    steps[0] = replace(steps[0], members=tuple(general.members))
    return steps


def _index_of(symbol) -> str:
    from ..core.engine import _split_index
    return _split_index(symbol)[1]


def _generalise(a, b, i: str, j: str, index: str):
    """The common form of a (at index i) and b (at index j): stem_i where a has stem_<i> and b stem_<j>; a
    ValueError where they differ otherwise."""
    from dataclasses import fields, is_dataclass
    from ..core.engine import _split_index

    if a == b and not (isinstance(a, sympy.Basic) and a.free_symbols):
        return a
    if is_dataclass(a) and type(a) is type(b):
        return type(a)(**{f.name: _generalise(getattr(a, f.name), getattr(b, f.name), i, j, index) for f in fields(a)})
    if isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b):
        return tuple(_generalise(x, y, i, j, index) for x, y in zip(a, b))
    if isinstance(a, Symbol) and isinstance(b, Symbol):
        (stem_a, at_a), (stem_b, at_b) = _split_index(a), _split_index(b)
        if a == b:
            return a
        if stem_a is not None and stem_a == stem_b and (at_a, at_b) == (i, j):
            return Symbol(f"{stem_a}_{index}", **a.assumptions0)
        raise ValueError(f"{a} and {b} differ")
    if isinstance(a, sympy.Basic) and type(a) is type(b) and len(a.args) == len(b.args):
        if a == b:
            return a
        args = [_generalise(x, y, i, j, index) for x, y in zip(a.args, b.args)]
        return a.func(*args, evaluate=False) if isinstance(a, sympy.Derivative) else a.func(*args)
    raise ValueError(f"{a} and {b} differ")


def _at_index(step, index: str, j: str):
    """`step` (written at the index `index`) at index j: every stem_<index> renamed stem_<j>."""
    from dataclasses import fields, is_dataclass
    from ..core.engine import _reindex

    def at(x):
        if is_dataclass(x):
            return type(x)(**{f.name: at(getattr(x, f.name)) for f in fields(x)})
        if isinstance(x, tuple):
            return tuple(at(y) for y in x)
        if isinstance(x, sympy.Basic):
            return x.xreplace(_reindex(x, index, j))
        return x
    return at(step)


def _declared_shape(network, wrt, value):
    """A gradient's value in the shape its variable was declared with: 1 x 1 for one declared [1, 1] (held as a
    scalar), a value per point kept as it is."""
    shape = network.declared_shapes.get(wrt)
    if shape is None or np.size(value) != 1:
        return value
    return np.asarray(value, dtype=float).reshape(shape)
