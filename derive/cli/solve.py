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
              help="Write to this file: .tex, .pdf (runs pdflatex), .md or .json. Default: .tex on standard output.")
@click.option("--points", default=3, show_default=True, type=click.IntRange(1, 1000),
              help="Random points for the numeric check.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Seed for the check's random points.")
@click.option("--method", default="central", show_default=True, help="The check's method (see 'derive check --help').")
@click.option("--plot", is_flag=True, help="Add the check's step sweep plot to the document (.tex, .pdf).")
@click.option("--compare", is_flag=True, help="Add the table comparing every check method to the document.")
@click.option("--layout", type=click.Choice(["denominator", "numerator"]), default=None,
              help="Write the gradients in this layout (numerator: dL/dW has the shape of W^T); default: the problem's 'layout', else denominator.")
def solve(problem: Path, wrt: tuple[str, ...], output: Path | None, points: int, seed: int, method: str, plot: bool,
          compare: bool, layout: str | None):
    """Derive the gradients of PROBLEM (a YAML problem file) as a worked solution.

    Prints the numeric check's verdict; exits 1 if the check fails, 2 on bad input.
    """
    from ..solve.problem import Problem

    fmt = output_format(output)
    if not problem.is_file():
        raise DeriveError(f"no problem file '{problem}'")
    loaded = Problem.from_yaml(problem)
    loaded.layout = layout or loaded.layout
    solution = loaded.solve(list(wrt) or None)
    solution.report = solution.check(points=points, seed=seed, method=method, compare=compare)
    extras = ("sweep",) * plot + ("comparison",) * compare
    if fmt == ".json":
        content: str | bytes = solution.to_json()
    elif fmt == ".md":
        content = solution.markdown(description=loaded.description, check_extras=extras)
    else:
        content = solution.document(description=loaded.description, check_extras=extras)
        if fmt == ".pdf":
            content = compile_pdf(content)
    if output is None:
        click.echo(content, nl=False)
    else:
        write_atomically(output, content)
        click.echo(f"wrote {output}")
    click.echo(solution.report.summary(), err=output is None)
    sys.exit(0 if solution.report.passed else 1)
