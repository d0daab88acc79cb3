"""The exercise sheet: the question a student receives, from the same problem and the same rendering as the
worked solution, without its results.

The sheet states the network, its shapes and its loss exactly as the solution does (the same equation
numbers), asks for the gradients in the solution's order, and at a chosen hint level adds the chain-rule
skeleton (which definitions each variable reaches the loss through) and the deltas to name (the
pre-activations whose gradients the solution names). The words are in `templates/exercise*.j2`; the maths is
printed by the one printer through the solution's own `Context`.
"""

from __future__ import annotations

from ..core import steps as st
from ..core.errors import DeriveError
from . import render

EXERCISE_FORMATS = (".tex", ".pdf", ".md")


def hint_level(level: str | None, default: str = "none") -> str:
    """`level` (or `default` when it is None) checked against the known hint levels: a one-line error if not."""
    level = default if level is None else level
    if level not in st.HINT_LEVELS:
        raise DeriveError(f"unknown hints level '{level}' (known: {', '.join(st.HINT_LEVELS)})")
    return level


def paths(network, wrt, loss) -> list[list]:
    """Every chain of definitions from `wrt` to `loss` ([wrt, ..., loss]), in definition order."""
    found: list[list] = []

    def walk(chain):
        if chain[-1] == loss:
            found.append(chain)
            return
        for user in network.consumers(chain[-1], loss):
            walk(chain + [user])

    walk([wrt])
    return found


class Hints:
    """What the hints say, as maths for the templates: per gradient its paths and chain-rule skeleton, and the
    deltas to name (symbol, pre-activation, the definition it sits in)."""

    def __init__(self, part: render.Part, context: render.Context, level: str):
        self.level = level
        self.part, self.c = part, context
        network = part.network
        self.skeletons = {wrt: self._skeleton(network, wrt, _member(wrt, steps)) for wrt, steps in part.sections}
        deltas = [s for _, steps in part.sections for s in steps if isinstance(s, st.Delta)]
        self.deltas = list({d.symbol: d for d in deltas}.values()) if level == "deltas" else []

    def _skeleton(self, network, wrt, member) -> tuple[list[str], str]:
        """(each path as `w \\to h \\to L`, the chain rule summed over the paths) for one gradient; with
        matrices the second is "" (a product of matrix partials is not how the gradient is written). A family
        derived once at w_i (`member`: one of w_1 ... w_n, whose paths it shares) is shown as w_i."""
        chains = [[wrt, *chain[1:]] for chain in paths(network, member, self.part.loss)]
        arrows = [r" \to ".join(self.c.math(s) for s in chain) for chain in chains]
        terms = []
        for chain in chains:
            factors = [self.c.partial(later, earlier, explicit=network.depends_indirectly(
                           later, member if earlier == wrt else earlier))
                       for earlier, later in reversed(list(zip(chain, chain[1:])))]
            terms.append(r" \cdot ".join(factors))
        return arrows, "" if network.has_matrices else " + ".join(terms)

    @property
    def chain(self) -> bool:
        return self.level in ("chain", "deltas")


def render_exercise(part: render.Part, fmt: str, hints: str = "none", first_equation: int = 1) -> str:
    """The exercise sheet of one part as a whole document: `tex` (compiles with pdflatex) or `md`, numbered
    as the solution is (from `first_equation`)."""
    variables = render._part_variables(part, fmt, first_equation, 1)
    variables["hints"] = Hints(part, variables["c"], hint_level(hints))
    template = render.environment().get_template(f"exercise.{fmt}.j2")
    return template.render(**variables)


def _member(wrt, steps):
    """A real variable behind `wrt`: the first member of a family derived once at w_i, or `wrt` itself."""
    return next((s.members[0] for s in steps if getattr(s, "members", None)), wrt)
