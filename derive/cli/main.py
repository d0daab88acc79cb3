"""The `derive` command line: `solve`, `check`, `trace`, `verify`, `grade`, `autograder`, `estimate`, `demo`,
`serve`, `--version`.

Each command is a module of this package: it reads its input, calls the library, and writes through
`derive.write.output`; the work lives in the library, imported inside the command, so `derive --help` and
`derive --version` load click and nothing more.

Exit statuses, the same for every command:

    0    success (a check passed, an answer is correct)
    1    a numeric check failed, an answer is incorrect
    2    bad input: one line, `derive: error: ...`, on standard error
    3    undecided (`verify`: no decision within the limits)
    70   an internal failure of derive (a bug: one line, `derive: internal error: ...`; set
         DERIVE_TRACEBACK=1 to see the traceback)
    130  interrupted by Ctrl-C (SIGINT)
    143  stopped by SIGTERM (temporary files and folders are removed first)

`serve` is the exception: Ctrl-C or SIGTERM is how a server ends, so once it has stopped it exits 0.

Output files are written atomically, or not at all.
"""

from __future__ import annotations

import os
import sys
import warnings

import click

from .. import __version__
from ..core.errors import DeriveError
from . import autograder, check, demo, estimate, grade, serve, solve, trace, verify

BAD_INPUT = 2
INTERNAL_ERROR = 70  # EX_SOFTWARE of sysexits.h: not 1, which means "incorrect" or "the check failed"
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class _Group(click.Group):
    """Turns every DeriveError into one line and exit status 2, any other failure into one line and
    status 70, Ctrl-C into status 130: never a traceback (unless DERIVE_TRACEBACK is set)."""

    def invoke(self, ctx):
        try:
            result = super().invoke(ctx)
        except SystemExit:  # a command's own verdict (0, 1, 3)
            _release_warnings()
            raise
        except (DeriveError, FileNotFoundError) as error:  # one line: held warnings are not shown
            click.echo(f"derive: error: {error}", err=True)
            sys.exit(BAD_INPUT)
        except KeyboardInterrupt:
            click.echo("derive: interrupted", err=True)
            sys.exit(INTERRUPTED)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # usage errors, --help: `run` reports them
        except Exception as error:  # a bug in derive, not the user's input
            if os.environ.get("DERIVE_TRACEBACK"):
                raise
            message = " ".join(str(error).split())[:200]
            click.echo(f"derive: internal error: {type(error).__name__}{': ' if message else ''}{message} "
                       "(a bug in derive; set DERIVE_TRACEBACK=1 to see where)", err=True)
            sys.exit(INTERNAL_ERROR)
        _release_warnings()
        return result


_HELD: list = []  # derive's warnings, shown when the command has done its work (bad input stays one line)


def _release_warnings() -> None:
    for line in dict.fromkeys(_HELD):
        click.echo(line, err=True)
    _HELD.clear()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="derive")
def main():
    """Derive neural-network gradients step by step, write them up as LaTeX, and check them numerically."""


for command in (solve.solve, demo.demo, estimate.estimate, trace.trace_command, verify.verify, grade.grade,
                check.check_command, autograder.autograder, serve.serve):
    main.add_command(command)


def _show_warning(message, category, filename, lineno, file=None, line=None, _default=warnings.showwarning):
    """derive's own warnings (such as `syntax: sympy` evaluating Python) as one line, `derive: warning: ...`."""
    if category.__module__.startswith("derive."):
        text = str(message)
        _HELD.append(f"derive: {text if text.startswith('warning:') else 'warning: ' + text}")
    else:
        _default(message, category, filename, lineno, file, line)


def run(argv: list[str] | None = None) -> None:
    """The console entry point: click's usage errors become one line and exit status 2, too."""
    warnings.showwarning = _show_warning
    from ..write.output import Terminated, terminate_as_exit

    try:
        with terminate_as_exit():  # SIGTERM unwinds, so temporary files and folders are removed
            code = main.main(args=argv, prog_name="derive", standalone_mode=False)
    except Terminated:
        click.echo("derive: terminated", err=True)
        sys.exit(Terminated().code)
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
    except (click.exceptions.Abort, KeyboardInterrupt):  # Ctrl-C outside a command (click makes it Abort)
        click.echo("derive: interrupted", err=True)
        sys.exit(INTERRUPTED)
    sys.exit(code or 0)


if __name__ == "__main__":
    run()
