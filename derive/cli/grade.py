"""`derive grade PROBLEM SUBMISSIONS`: every submission graded against the problem and its rubric."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import check_empty_folder, check_writable, folder_in_place, write_all_atomically


@click.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("submissions", type=click.Path(file_okay=False, path_type=Path))
@click.option("--gradescope", type=click.Path(dir_okay=False, path_type=Path), help="Write Gradescope results.json here.")
@click.option("--results-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write one Gradescope results.json per student here: DIR/<student>/results.json (a new or empty "
              "folder; written with --csv and --gradescope all or none).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the grades as CSV here.")
@click.option("--report", "reports", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the class report here: a page for the instructor (.html) or its figures (.json); may be "
              "given once per format.")
@click.option("--jobs", default=2, show_default=True, type=click.IntRange(1, 256), help="Worker processes.")
@click.option("--time-limit", default=20.0, show_default=True, type=click.FloatRange(0.1, 3600), help="Seconds per answer.")
@click.option("--memory-limit", default=2048, show_default=True, type=click.IntRange(256, 1 << 20), help="MB per worker.")
@click.option("--executor", "address", metavar="ADDRESS", help="A dask.distributed scheduler (derive[dask]); default: local processes.")
@click.option("--trust-problem", is_flag=True, help="Allow a problem with 'syntax: sympy' (its parser evaluates Python).")
def grade(problem: Path, submissions: Path, gradescope: Path | None, results_dir: Path | None, csv_path: Path | None,
          reports: tuple, jobs: int, time_limit: float, memory_limit: int, address: str | None, trust_problem: bool):
    """Grade every file in SUBMISSIONS (one per student) against PROBLEM and its rubric."""
    from ..grade.batch import dask_executor, grade as grade_all, load_problem, submission_files

    report_formats = {path: report_format(path) for path in reports}
    for path in (gradescope, csv_path, *reports):  # a bad output path fails before the class is graded, not after
        if path:
            check_writable(path)
    if results_dir:
        check_empty_folder(results_dir)
    wrts = [w.name for w in load_problem(problem, trust=trust_problem).wrt]
    files = submission_files(submissions)
    if not files:
        raise DeriveError(f"no submission files in '{submissions}' (one file per student)")
    count = len(files) * len(wrts)
    executor = dask_executor(address) if address else None
    with click.progressbar(length=count, label="grading", file=sys.stderr) as bar:
        batch = grade_all(problem, submissions, executor=executor, jobs=jobs, time_limit=time_limit,
                          memory=memory_limit << 20, progress=bar.update, trust_problem=trust_problem)
    from ..grade.batch import load_rubric

    outputs = {}  # written all or none
    if gradescope:
        outputs[gradescope] = batch.to_gradescope(load_rubric(problem, load_problem(problem, trust=True)), wrts)
    if csv_path:
        outputs[csv_path] = batch.to_csv(wrts)
    if reports:  # the same results as the CSV's
        from ..grade.class_page import report_files

        outputs.update(report_files(batch, problem, report_formats))
    if results_dir:  # the folder, the CSV and the results.json: all or none of them
        from ..grade.platforms import results_dir_files

        with folder_in_place(results_dir, results_dir_files(batch, problem)):
            write_all_atomically(outputs)
    else:
        write_all_atomically(outputs)
    for name in batch.hidden:
        click.echo(f"{name}: not graded (a hidden file: its name starts with '.')")
    for result in batch.results:
        click.echo(f"{result.student}: {result.score:g}/{result.max_score:g}")
    click.echo(f"{len(batch.results)} submissions, {batch.answers} answers ({batch.decided} distinct) in "
               f"{batch.seconds:.1f} s")


REPORT_FORMATS = {".html": "html", ".htm": "html", ".json": "json"}


def report_format(path: Path) -> str:
    """html or json, from the report's file name."""
    try:
        return REPORT_FORMATS[path.suffix.lower()]
    except KeyError:
        raise DeriveError(f"--report {path}: give a file name ending in .html (the page) or .json (the figures)") from None

