"""`python -m derive`: the command line, as the `derive` script runs it."""

from .cli.main import run

run()
