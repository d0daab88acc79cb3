"""`derive check PROBLEM`: the derived gradients checked numerically (or exactly) by a chosen method."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import DeriveError


@click.command("check")
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wrt", "wrt", multiple=True, metavar="NAME", help="Check only the gradient for NAME (repeatable).")
@click.option("--method", default="central", show_default=True,
              help="central, forward, richardson, complex-step, directional or exact.")
@click.option("--points", default=3, show_default=True, type=click.IntRange(1, 1000), help="Random points.")
@click.option("--at", "at", multiple=True, metavar="POINT",
              help="Check at this point instead, e.g. 'w=0, x=1.5' (repeatable; inputs left out are drawn).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed for the random points and directions.")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True)
@click.option("--step", type=float, help="Relative step h (x +- h max(1, |x|)); default: the method's for the dtype.")
@click.option("--probes", default=3, show_default=True, type=click.IntRange(1, 1000),
              help="Random unit directions per point (directional method).")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the step sweep plot: .png, .pdf, .svg (matplotlib) or .tex (pgfplots).")
@click.option("--compare", is_flag=True, help="Also measure every method at one point against the exact gradient.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check_command(problem: Path, wrt, method, points, at, seed, dtype, step, probes, plot, compare, fmt):
    """Check PROBLEM's derived gradients numerically (or exactly); exit 0 pass, 1 fail, 2 bad input."""
    import json

    from ..check.gradient_check import parse_point
    from ..write.plots import write_sweep
    from ..solve.problem import Problem

    if not problem.is_file():
        raise DeriveError(f"no problem file '{problem}'")
    solution = Problem.from_yaml(problem).solve(list(wrt) or None)
    chosen = [parse_point(text) for text in at] or points
    report = solution.check(chosen, seed, method, dtype=dtype, step=step, probes=probes, compare=compare)
    if plot is not None:
        write_sweep(report, plot)
    if fmt == "json":
        click.echo(json.dumps({"problem": str(problem), "loss": solution.loss.name, **report.to_dict()}, indent=2))
    else:
        click.echo(report.summary(solution.loss.name))
        if compare:
            click.echo(report.comparison_text())
        if plot is not None:
            click.echo(f"wrote {plot}")
    sys.exit(0 if report.passed else 1)
