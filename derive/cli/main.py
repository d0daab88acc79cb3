"""The `derive` command line: `solve`, `check`, `trace`, `verify`, `grade`, `estimate`, `demo`, `--version`.

Each command is a module of this package: it reads its input, calls the library, and writes through
`derive.write.output`; the work lives in the library, imported inside the command, so `derive --help` and
`derive --version` load click and nothing more.

Bad input prints one line, `derive: error: ...`, on standard error and exits with status 2; a failed
numeric check exits with status 1. Output files are written atomically, or not at all.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from ..core.errors import DeriveError
from . import autograder, check, demo, estimate, grade, solve, trace, verify

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


for command in (solve.solve, demo.demo, estimate.estimate, trace.trace_command, verify.verify, grade.grade,
                check.check_command, autograder.autograder):
    main.add_command(command)


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
