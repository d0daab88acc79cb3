"""The output formats the commands write, chosen by the output file's extension."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import DeriveError

FORMATS = (".tex", ".pdf", ".md", ".html", ".json")


def output_format(path: Path | None) -> str:
    """The format of the output file `path` (.tex for standard output); a one-line error for any other."""
    if path is None:
        return ".tex"
    if path.suffix.lower() not in FORMATS:
        raise DeriveError(f"cannot write '{path}': the output must end in {', '.join(FORMATS)}")
    return path.suffix.lower()
