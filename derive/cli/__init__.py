"""The `derive` command line: one module per command, each reading its input and calling the library.

`main` holds the command group, `--version` and the one-line errors; a command's library modules are imported
inside the command, so `derive --help` and `derive --version` load only click.

The top of the house: nothing in derive imports it.
"""
