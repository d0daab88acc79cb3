"""`derive autograder PROBLEM -o autograder.zip`: the grader a course platform runs per submission
(Gradescope's autograder zip, or with `--platform prairielearn` a PrairieLearn external-grader folder)."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import check_writable, write_atomically, write_folder_atomically


@click.command()
@click.argument("problem", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="The zip to write (Gradescope), or the folder to create (PrairieLearn).")
@click.option("--platform", type=click.Choice(["gradescope", "prairielearn"]), default="gradescope", show_default=True)
@click.option("--time-limit", type=click.FloatRange(0.1, 600), help="Seconds per answer [default: 20 on Gradescope, "
              "8 on PrairieLearn, whose jobs time out sooner].")
@click.option("--trust-problem", is_flag=True, help="Allow a problem with 'syntax: sympy' (its parser evaluates Python).")
@click.option("--seed", type=click.IntRange(0, 2 ** 31 - 1), help="The sample points' seed, built into the grader "
              "[default: drawn at random when it is built, so that students cannot know the points].")
def autograder(problem: Path, output: Path, platform: str, time_limit: float | None, trust_problem: bool,
               seed: int | None):
    """Build the grader PLATFORM runs for each submission to PROBLEM, with its rubric."""
    from ..grade import platforms

    if platform == "gradescope":
        if output.suffix.lower() != ".zip":
            raise DeriveError(f"cannot write '{output}': Gradescope's autograder is a .zip file")
        check_writable(output)
        write_atomically(output, platforms.gradescope_zip(problem, time_limit or 20.0, trust_problem, seed))
        click.echo(f"wrote {output}: upload it as the assignment's autograder (Ubuntu base image)")
    else:
        write_folder_atomically(output, platforms.prairielearn_files(problem, time_limit or 8.0, trust_problem, seed))
        click.echo(f"wrote {output}/: tests/ is the question's tests folder, image/ builds the grading image, "
                   f"info.json holds the question's externalGradingOptions")
