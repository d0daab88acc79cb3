"""`derive trace`: the evaluation trace of a problem's loss (or of an expression) at a point, forward and reverse
mode."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..write.output import write_atomically


@click.command("trace")
@click.argument("problem", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expr", "expression", metavar="LATEX", help="Trace this LaTeX expression instead of a problem file.")
@click.option("--at", "at", metavar="NAME=VALUE,...",
              help="The point, e.g. x1=2,x2=5: every input needs a value; a matrix as rows, X=[[1,2],[3,4]].")
@click.option("--mode", type=click.Choice(["forward", "reverse", "both"]), default="both", show_default=True,
              help="Which tables the document shows (the consistency check always runs both).")
@click.option("--direction", metavar="NAME=VALUE,...",
              help="One forward pass along this tangent (inputs not named are 0); default: one pass per input.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file: .tex, .pdf, .md, .html (a web page), .json, or the graph alone as .svg, .png or .dot. "
                   "Default: .tex on standard output.")
@click.option("--graph", type=click.Path(dir_okay=False, path_type=Path),
              help="Also draw the computational graph: .svg or .png (Graphviz dot), or .dot.")
@click.option("--adjoints", is_flag=True, help="In the graph, show the adjoints flowing back (reverse mode).")
@click.option("--size", default=2, show_default=True, type=click.IntRange(1, 16),
              help="A matrix problem is traced entry by entry with its symbolic sizes (n) set to this.")
def trace_command(problem, expression, at, mode, direction, output, graph, adjoints, size):
    """The evaluation trace of PROBLEM's loss (or of --expr) at --at, with forward- and reverse-mode tables.

    Exits 1 if forward mode, reverse mode and sympy.diff disagree, 2 on bad input.
    """
    from ..tracing.tracer import trace_files

    files, summary, passed = trace_files(problem, expression, at, mode, direction, output, graph, adjoints, size)
    for path, content in files:
        if path is None:
            click.echo(content, nl=False)
        else:
            write_atomically(path, content)
            click.echo(f"wrote {path}", err=output is None)
    click.echo(summary, err=output is None)
    sys.exit(0 if passed else 1)
