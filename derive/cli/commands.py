"""The `derive` command line: `solve`, `check`, `trace`, `verify`, `grade`, `estimate`, `demo`, `--version`.

Each command reads its input, calls the library, and writes through `derive.output`; the work lives in the
library modules (a command's own module is imported inside the command, so `derive --help` stays quick).

Bad input prints one line, `derive: error: ...`, on standard error and exits with status 2; a failed
numeric check exits with status 1. Output files are written atomically, or not at all.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from ..core.errors import DeriveError
from ..write.output import check_writable, compile_pdf, pdflatex_path, write_atomically

FORMATS = (".tex", ".pdf", ".md", ".json")


class _Group(click.Group):
    """Turns every DeriveError into one line and exit status 2, never a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DeriveError as error:
            click.echo(f"derive: error: {error}", err=True)
            sys.exit(2)
        except FileNotFoundError as error:
            click.echo(f"derive: error: {error}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="derive")
def main():
    """Derive neural-network gradients step by step, write them up as LaTeX, and check them numerically."""


def _output_format(path: Path | None) -> str:
    if path is None:
        return ".tex"
    if path.suffix.lower() not in FORMATS:
        raise DeriveError(f"cannot write '{path}': the output must end in {', '.join(FORMATS)}")
    return path.suffix.lower()


@main.command()
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
def solve(problem: Path, wrt: tuple[str, ...], output: Path | None, points: int, seed: int, method: str, plot: bool,
          compare: bool):
    """Derive the gradients of PROBLEM (a YAML problem file) as a worked solution.

    Prints the numeric check's verdict; exits 1 if the check fails, 2 on bad input.
    """
    from ..solve.problem import Problem

    fmt = _output_format(output)
    if not problem.is_file():
        raise DeriveError(f"no problem file '{problem}'")
    loaded = Problem.from_yaml(problem)
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


@main.command()
@click.option("-d", "--directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write into.")
@click.option("--name", default="derive-demo", show_default=True, help="File name without extension.")
@click.option("--all", "everything", is_flag=True,
              help="All five sections of the seed-003 article, the three it left empty included (matrices, two layers).")
def demo(directory: Path, name: str, everything: bool):
    """Write the seed-003 worked solution (sigmoid unit, squared loss): .tex, and .pdf where pdflatex exists."""
    from .demo import seed_003_document

    if not directory.is_dir():
        raise DeriveError(f"no folder '{directory}'")
    tex, reports = seed_003_document("tex", everything)
    write_atomically(directory / f"{name}.tex", tex)
    click.echo(f"wrote {directory / f'{name}.tex'}")
    if pdflatex_path():
        write_atomically(directory / f"{name}.pdf", compile_pdf(tex))
        click.echo(f"wrote {directory / f'{name}.pdf'}")
    else:
        click.echo("pdflatex not found: no PDF written (install texlive-latex-base and texlive-latex-recommended)")
    passed = all(r.passed for r in reports)
    click.echo(f"numeric check of every gradient: {'PASS' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)


@main.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--estimator", "estimators", multiple=True, metavar="NAME",
              help="Study this estimator (repeatable): reinforce, baseline, loo, straight-through, gumbel-softmax, "
                   "st-gumbel. Default: all.")
@click.option("--samples", default=100_000, show_default=True, type=int, help="Router draws per estimator (>= 2).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the Monte Carlo study.")
@click.option("--tau", type=float, default=None, help="Gumbel-softmax temperature (> 0); default: the problem's.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file: .tex, .pdf (runs pdflatex), .md or .json. Default: .tex on standard output.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the error-against-draws plot as a PNG (matplotlib).")
def estimate(problem: Path, estimators: tuple[str, ...], samples: int, seed: int, tau: float | None,
             output: Path | None, plot: Path | None):
    """Derive and compare gradient estimators for PROBLEM, a YAML file with a stochastic node (a router or gate)."""
    from ..stochastic.estimators import estimate as study

    fmt = _output_format(output)
    if plot is not None and plot.suffix.lower() != ".png":
        raise DeriveError(f"cannot write the plot '{plot}': it must end in .png")
    if not problem.is_file():
        raise DeriveError(f"no problem file '{problem}'")
    for path in (output, plot):  # nothing is written unless every file can be
        if path is not None and not path.parent.exists():
            raise DeriveError(f"cannot write {path}: the folder {path.parent} does not exist")
    report = study(problem, list(estimators) or None, samples=samples, seed=seed, tau=tau)
    content = {".json": report.to_json, ".md": lambda: report.markdown(plot=plot.name if plot else None)}.get(
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


@main.command("trace")
@click.argument("problem", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--expr", "expression", metavar="LATEX", help="Trace this LaTeX expression instead of a problem file.")
@click.option("--at", "at", metavar="NAME=VALUE,...",
              help="The point, e.g. x1=2,x2=5: every input needs a value; a matrix as rows, X=[[1,2],[3,4]].")
@click.option("--mode", type=click.Choice(["forward", "reverse", "both"]), default="both", show_default=True,
              help="Which tables the document shows (the consistency check always runs both).")
@click.option("--direction", metavar="NAME=VALUE,...",
              help="One forward pass along this tangent (inputs not named are 0); default: one pass per input.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file: .tex, .pdf, .md, .json, or the graph alone as .svg, .png or .dot. "
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


@main.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wrt", required=True, metavar="NAME", help="The variable the answer is the gradient for.")
@click.option("--answer", metavar="LATEX", help="The answer, in LaTeX (one expression or lines joined by =).")
@click.option("--answer-file", type=click.Path(dir_okay=False, path_type=Path), help="Read the answer from this file.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--seed", default=0, show_default=True, type=int, help="Seed for the sample points.")
@click.option("--time-limit", default=20.0, show_default=True, type=click.FloatRange(0, 3600, min_open=True),
              help="Seconds of clock time; when they run out the answer is undecided (exit 3).")
def verify(problem: Path, wrt: str, answer: str | None, answer_file: Path | None, fmt: str, seed: int,
           time_limit: float):
    """Decide whether an answer is the gradient of PROBLEM's loss with respect to --wrt.

    Exits 0 correct, 1 incorrect, 3 undecided, 2 bad input."""
    from ..grade.batch import load_problem, read_submission
    from ..grade.verify import verify as decide

    if (answer is None) == (answer_file is None):
        raise DeriveError("give the answer with exactly one of --answer or --answer-file")
    text = answer if answer is not None else read_submission(answer_file)
    verdict = decide(load_problem(problem), wrt, text, seed=seed, time_limit=time_limit)
    click.echo(verdict.to_json() if fmt == "json" else verdict.summary())
    sys.exit(verdict.exit_code)


@main.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.option("--gradescope", type=click.Path(dir_okay=False, path_type=Path), help="Write Gradescope results.json here.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the grades as CSV here.")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(1, 256), help="Worker processes.")
@click.option("--time-limit", default=20.0, show_default=True, type=click.FloatRange(0.1, 3600), help="Seconds per answer.")
@click.option("--memory-limit", default=2048, show_default=True, type=click.IntRange(256, 1 << 20), help="MB per worker.")
@click.option("--executor", "address", metavar="ADDRESS", help="A dask.distributed scheduler (derive[dask]); default: local processes.")
def grade(problem: Path, submissions: Path, gradescope: Path | None, csv_path: Path | None, jobs: int,
          time_limit: float, memory_limit: int, address: str | None):
    """Grade every file in SUBMISSIONS (one per student) against PROBLEM and its rubric."""
    from ..grade.batch import dask_executor, grade as grade_all, load_problem, submission_files

    for path in (gradescope, csv_path):  # a bad output path fails before the class is graded, not after
        if path:
            check_writable(path)
    wrts = [w.name for w in load_problem(problem).wrt]
    files = submission_files(submissions)
    if not files:
        raise DeriveError(f"no submission files in '{submissions}' (one file per student)")
    count = len(files) * len(wrts)
    executor = dask_executor(address) if address else None
    with click.progressbar(length=count, label="grading", file=sys.stderr) as bar:
        batch = grade_all(problem, submissions, executor=executor, jobs=jobs, time_limit=time_limit,
                          memory=memory_limit << 20, progress=bar.update)
    from ..grade.batch import load_rubric

    if gradescope:
        write_atomically(gradescope, batch.to_gradescope(load_rubric(problem, load_problem(problem)), wrts))
    if csv_path:
        write_atomically(csv_path, batch.to_csv(wrts))
    for result in batch.results:
        click.echo(f"{result.student}: {result.score:g}/{result.max_score:g}")
    click.echo(f"{len(batch.results)} submissions, {batch.answers} answers ({batch.decided} distinct) in "
               f"{batch.seconds:.1f} s")


@main.command("check")
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


def run(argv: list[str] | None = None) -> None:
    """The console entry point: click's usage errors become one line and exit status 2, too."""
    try:
        code = main.main(args=argv, prog_name="derive", standalone_mode=False)
    except click.exceptions.UsageError as error:
        if type(error).__name__ == "NoArgsIsHelpError":  # plain `derive`: show the help
            click.echo(error.ctx.get_help())
            sys.exit(0)
        context = f" (in 'derive {error.ctx.command_path.split(' ', 1)[1]}')" if error.ctx and " " in error.ctx.command_path else ""
        click.echo(f"derive: error: {error.format_message().rstrip('.')}{context}; see 'derive --help'", err=True)
        sys.exit(2)
    except click.exceptions.ClickException as error:
        click.echo(f"derive: error: {error.format_message()}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("derive: aborted", err=True)
        sys.exit(1)
    sys.exit(code or 0)


if __name__ == "__main__":
    run()
