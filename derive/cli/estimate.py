"""`derive estimate PROBLEM`: gradient estimators for a network that samples a discrete choice, derived and
measured."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import compile_pdf, write_atomically
from .formats import output_format


@click.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--estimator", "estimators", multiple=True, metavar="NAME",
              help="Study this estimator (repeatable): reinforce, baseline, loo, straight-through, gumbel-softmax, "
                   "st-gumbel. Default: all.")
@click.option("--samples", default=100_000, show_default=True, type=int, help="Router draws per estimator (>= 2).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the Monte Carlo study.")
@click.option("--tau", type=float, default=None, help="Gumbel-softmax temperature (> 0); default: the problem's.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file: .tex, .pdf (runs pdflatex), .md, .html (a web page) or .json. Default: .tex on standard output.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the error-against-draws plot as a PNG (matplotlib).")
def estimate(problem: Path, estimators: tuple[str, ...], samples: int, seed: int, tau: float | None,
             output: Path | None, plot: Path | None):
    """Derive and compare gradient estimators for PROBLEM, a YAML file with a stochastic node (a router or gate)."""
    from ..stochastic.estimators import estimate as study

    fmt = output_format(output)
    if plot is not None and plot.suffix.lower() != ".png":
        raise DeriveError(f"cannot write the plot '{plot}': it must end in .png")
    if not problem.is_file():
        raise DeriveError(f"no problem file '{problem}'")
    for path in (output, plot):  # nothing is written unless every file can be
        if path is not None and not path.parent.exists():
            raise DeriveError(f"cannot write {path}: the folder {path.parent} does not exist")
    report = study(problem, list(estimators) or None, samples=samples, seed=seed, tau=tau)
    content = {".json": report.to_json, ".md": lambda: report.markdown(plot=plot.name if plot else None),
               ".html": report.html}.get(
        fmt, report.document)()
    if fmt == ".pdf":
        content = compile_pdf(content)
    if plot is not None:
        from ..stochastic.render import plot_png

        write_atomically(plot, plot_png(report))
    if output is None:
        click.echo(content, nl=False)
    else:
        write_atomically(output, content)
        click.echo(f"wrote {output}")
    if plot is not None:
        click.echo(f"wrote {plot}", err=output is None)
    click.echo(report.summary(), err=output is None)
