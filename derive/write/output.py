"""Writing results to disk: atomic file writes and PDF compilation with a real pdflatex.

pdflatex runs in a temporary directory, without shell escape, halting on the first error, twice (so
references resolve); an undefined reference after the second run is an error. Nothing is written to
the destination unless everything succeeded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..core.errors import DeriveError, PdfError

TEX_INSTALL_HINT = "install TeX Live (Debian: apt-get install texlive-latex-base texlive-latex-recommended)"


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, so no half-written file remains."""
    path = Path(path)
    if not path.parent.exists():
        raise DeriveError(f"cannot write {path}: the folder {path.parent} does not exist")
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise DeriveError(f"cannot write {path}: {error.strerror or error}") from None


def check_writable(path: str | Path) -> None:
    """Fail now, before any work, where `write_atomically(path, ...)` would fail later: a missing folder, a folder."""
    path = Path(path)
    if not path.parent.exists():
        raise DeriveError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise DeriveError(f"cannot write {path}: it is a folder")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def pdflatex_path() -> str | None:
    return shutil.which("pdflatex")


def compile_pdf(tex: str, timeout: float = 120) -> bytes:
    """The PDF that pdflatex makes of `tex`; a PdfError quoting pdflatex's first error otherwise."""
    pdflatex = pdflatex_path()
    if pdflatex is None:
        raise PdfError(f"pdflatex is not installed, so no PDF can be made: {TEX_INSTALL_HINT}, or write .tex")
    with tempfile.TemporaryDirectory(prefix="derive-") as folder:
        source = Path(folder) / "solution.tex"
        source.write_text(tex, encoding="utf-8")
        command = [pdflatex, "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error", source.name]
        for _ in range(2):
            try:
                run = subprocess.run(command, cwd=folder, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                raise PdfError(f"pdflatex did not finish within {timeout:.0f} s") from None
            if run.returncode != 0:
                raise PdfError(f"pdflatex failed: {_first_error(run.stdout.decode('utf-8', 'replace'))}")
        log = (Path(folder) / "solution.log").read_text(encoding="utf-8", errors="replace")
        if "undefined references" in log or "Reference `" in log:
            raise PdfError("pdflatex reported undefined references")
        return (Path(folder) / "solution.pdf").read_bytes()


def _first_error(log: str) -> str:
    lines = log.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("!"):
            return " ".join(part.strip() for part in lines[i : i + 3])
    return "see its log (no error line found)"
