"""`derive verify PROBLEM --wrt NAME --answer LATEX`: is a student's answer the gradient?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import DeriveError


@click.command()
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
