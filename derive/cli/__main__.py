"""`python -m derive.cli`: the command line, as the `derive` script runs it."""

from .main import run

run()
