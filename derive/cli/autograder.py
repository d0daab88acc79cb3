"""`derive autograder PROBLEM -o autograder.zip`: the grader a course platform runs per submission
(Gradescope's autograder zip, or with `--platform prairielearn` a PrairieLearn external-grader folder)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import check_writable, write_atomically


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
        _write_folder(output, platforms.prairielearn_files(problem, time_limit or 8.0, trust_problem, seed))
        click.echo(f"wrote {output}/: tests/ is the question's tests folder, image/ builds the grading image, "
                   f"info.json holds the question's externalGradingOptions")


def _write_folder(folder: Path, files: dict) -> None:
    """Create `folder` with `files`, all or nothing: built beside it, then renamed into place."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DeriveError(f"cannot write '{folder}': it exists and is not an empty folder")
    if not folder.absolute().parent.is_dir():
        raise DeriveError(f"cannot write {folder}: the folder {folder.absolute().parent} does not exist")
    scratch = Path(tempfile.mkdtemp(dir=folder.absolute().parent, prefix=f".{folder.name}.", suffix=".part"))
    try:
        for name, content in files.items():
            path = scratch / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        os.chmod(scratch, 0o755)
        os.rename(scratch, folder)
    except OSError as error:
        raise DeriveError(f"cannot write {folder}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
