"""Finding the folders shipped with derive: `templates/` and `examples/`.

In an installed wheel they sit inside the package (`derive/templates`); in a source checkout they are
the top-level folders beside `derive/` (this module lives in `derive/write/`).
"""

from __future__ import annotations

from pathlib import Path


def resource_dir(name: str) -> Path:
    """The folder `name` inside the installed package, or beside it in a source checkout."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / name, package.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"derive's {name} folder is missing from the installation")
