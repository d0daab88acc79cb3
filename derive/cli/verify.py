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
              help="Seconds of clock time; when they run out the deciding process is killed and the answer is "
                   "undecided (exit 3).")
@click.option("--memory-limit", default=2048, show_default=True, type=click.IntRange(256, 1 << 20),
              help="MB of address space for the deciding process; beyond it the answer is undecided (exit 3).")
def verify(problem: Path, wrt: str, answer: str | None, answer_file: Path | None, fmt: str, seed: int,
           time_limit: float, memory_limit: int):
    """Decide whether an answer is the gradient of PROBLEM's loss with respect to --wrt.

    Exits 0 correct, 1 incorrect, 3 undecided, 2 bad input."""
    from ..grade.batch import load_problem, read_submission
    from ..grade.deadline import ChildCrashed, limit_memory
    from ..grade.verdict import Verdict
    from ..grade.verify import verify as decide

    if (answer is None) == (answer_file is None):
        raise DeriveError("give the answer with exactly one of --answer or --answer-file")
    text = answer if answer is not None else read_submission(answer_file)
    loaded = load_problem(problem)
    # The answer is decided in a child process forked for it and killed at the deadline (`deadline.within`);
    # the cap set here is inherited by that child, which does all the allocating (this process only waits).
    limit_memory(memory_limit << 20)
    try:
        verdict = decide(loaded, wrt, text, seed=seed, time_limit=time_limit)
    except (MemoryError, ChildCrashed) as error:
        limit = f"the limit of {memory_limit} MB"
        reason = (f"the answer needed more memory than {limit} allows" if isinstance(error, MemoryError)
                  else f"the checking process ended without a decision (it may have needed more memory than {limit})")
        verdict = Verdict("undecided", wrt=wrt, read_as=text, reason=reason)
    click.echo(verdict.to_json() if fmt == "json" else verdict.summary())
    sys.exit(verdict.exit_code)
