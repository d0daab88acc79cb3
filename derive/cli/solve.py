"""`derive solve PROBLEM`: a worked solution of a problem file, checked numerically."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import compile_pdf, write_atomically
from .formats import output_format


@click.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wrt", "wrt", multiple=True, metavar="NAME",
              help="Differentiate with respect to NAME (repeatable); default: the problem's 'wrt'.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file: .tex, .pdf (runs pdflatex), .md, .html (a web page) or .json. Default: .tex on standard output.")
@click.option("--points", default=3, show_default=True, type=click.IntRange(1, 1000),
              help="Random points for the numeric check.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed for the check's random points.")
@click.option("--method", default="central", show_default=True, help="The check's method (see 'derive check --help').")
@click.option("--plot", is_flag=True, help="Add the check's step sweep plot to the document (.tex, .pdf, .html).")
@click.option("--compare", is_flag=True, help="Add the table comparing every check method to the document.")
@click.option("--exercise", is_flag=True,
              help="Write the exercise sheet instead: the network and the gradients asked for, no results (.tex, .pdf, .md).")
@click.option("--hints", metavar="LEVEL",
              help="The exercise sheet's hints: none, chain (the chain-rule skeleton) or deltas (and the deltas to "
                   "name). Default: the problem's 'hints', else none.")
@click.option("--first-equation", type=click.IntRange(0, 1), default=None,
              help="Number the equations from 1 or from 0; default: the problem's 'first_equation', else 1.")
@click.option("--layout", type=click.Choice(["denominator", "numerator"]), default=None,
              help="Write the gradients in this layout (numerator: dL/dW has the shape of W^T); default: the problem's 'layout', else denominator.")
def solve(problem: Path, wrt: tuple[str, ...], output: Path | None, points: int, seed: int, method: str, plot: bool,
          compare: bool, exercise: bool, hints: str | None, first_equation: int | None, layout: str | None):
    """Derive the gradients of PROBLEM (a YAML problem file) as a worked solution, or with --exercise the
    exercise sheet a student receives (numbered as the solution).

    Prints the numeric check's verdict; exits 1 if the check fails, 2 on bad input.
    """
    from ..solve.problem import Problem
    from ..write.exercise import hint_level

    fmt = output_format(output)
    if hints is not None:
        hint_level(hints)
        if not exercise:
            raise DeriveError("--hints is for the exercise sheet: add --exercise")
    if exercise and fmt in (".json", ".html"):
        raise DeriveError(f"cannot write the exercise sheet '{output}': it must end in .tex, .pdf or .md")
    if not problem.is_file():
        raise DeriveError(f"no problem file '{problem}'")
    loaded = Problem.from_yaml(problem)
    loaded.layout = layout or loaded.layout
    solution = loaded.solve(list(wrt) or None)
    first = loaded.first_equation if first_equation is None else first_equation
    if exercise:
        _write_exercise(solution.part(False, loaded.description), fmt, hint_level(hints, loaded.hints), output, first)
        return
    solution.report = solution.check(points=points, seed=seed, method=method, compare=compare)
    extras = ("sweep",) * plot + ("comparison",) * compare
    if fmt == ".json":
        content = solution.to_json()
    elif fmt == ".md":
        content = solution.markdown(description=loaded.description, check_extras=extras, first_equation=first)
    elif fmt == ".html":
        content = solution.html(description=loaded.description, check_extras=extras, first_equation=first)
    else:
        content = solution.document(description=loaded.description, check_extras=extras, first_equation=first)
    _emit(content, fmt, output)
    click.echo(solution.report.summary(), err=output is None)
    sys.exit(0 if solution.report.passed else 1)


def _write_exercise(part, fmt: str, hints: str, output: Path | None, first_equation: int = 1) -> None:
    """The exercise sheet of `part` in `fmt`, to `output` (standard output if None); no check is run."""
    from ..write.exercise import render_exercise

    _emit(render_exercise(part, "md" if fmt == ".md" else "tex", hints, first_equation), fmt, output)


def _emit(content: str, fmt: str, output: Path | None) -> None:
    """`content` (LaTeX compiled first for a .pdf) to `output`, atomically, or to standard output if None."""
    if fmt == ".pdf":
        content = compile_pdf(content)
    if output is None:
        click.echo(content, nl=False)
    else:
        write_atomically(output, content)
        click.echo(f"wrote {output}")
