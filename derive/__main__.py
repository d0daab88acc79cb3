"""`python -m derive`: the command line, as the `derive` script runs it."""

from .cli.commands import run

run()
