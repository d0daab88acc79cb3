"""The errors derive raises for bad input, each a one-line message saying what was wrong and where.

Every error a user can cause is a `DeriveError`; the CLI prints `str(error)` and exits with status 2.
Nothing here knows about SymPy, files or templates: callers pass the location as plain text.
"""

from __future__ import annotations


class DeriveError(Exception):
    """Bad input: the message names what was wrong, `where` names the place (file, line, definition)."""

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def located(self, where: str) -> "DeriveError":
        """The same error with `where` prefixed to any place it already names."""
        inner = f"{where}, {self.where}" if self.where else where
        return type(self)(self.message, inner)


class ProblemError(DeriveError):
    """A problem (its symbols, definitions, loss or variables) is malformed."""


class LatexError(DeriveError):
    """A LaTeX right-hand side could not be read."""


class MissingRuleError(DeriveError):
    """The engine met an operation with no entry in the rule registry."""


class CheckError(DeriveError):
    """A numeric check could not be carried out (for example no valid sample point)."""


class PdfError(DeriveError):
    """pdflatex is missing or failed."""
