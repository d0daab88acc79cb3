"""The `derive` command line: one module per command, each reading its input and calling the library.

- `main`: the command group, `--version`, the one-line errors and exit statuses, `run` (the entry point);
- `solve`, `check`, `trace`, `verify`, `grade`, `estimate`, `demo`, `autograder`: one module per command;
- `formats`: the output formats the commands write, chosen by the file's extension.

A command's library modules are imported inside the command, so `derive --help` and `derive --version` load
only click and these modules.

The top of the house: nothing in derive imports it.
"""
