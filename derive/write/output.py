"""Writing results to disk: atomic file writes and PDF compilation with a real pdflatex.

pdflatex runs in a temporary directory, without shell escape, halting on the first error, twice (so
references resolve); an undefined reference after the second run is an error. Nothing is written to
the destination unless everything succeeded.

All or nothing: `write_all_atomically` writes several outputs (a CSV and a results.json) to temporary
`.part` files first and renames them only when every one is written, so a failure leaves none of them and no
`.part` file. A SIGTERM is turned into an orderly exit (`terminate_as_exit`), so that temporary files and
pdflatex's temporary folder are removed as on any other failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path

from ..core.errors import DeriveError, PdfError

TEX_INSTALL_HINT = "install TeX Live (Debian: apt-get install texlive-latex-base texlive-latex-recommended)"
TERMINATED = 128 + signal.SIGTERM  # the exit status of a command stopped by SIGTERM, as a shell reports it


def write_atomically(path: str | Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder, so no half-written file remains."""
    write_all_atomically({path: data})


def write_all_atomically(outputs: dict) -> None:
    """Write every {path: data} or none: each to a `.part` file beside it, renamed only once all are written.
    Text is UTF-8 (a lone surrogate from an undecodable file name is written as `\udcff`, never an error)."""
    encoded = [(Path(path), _encoded(data)) for path, data in outputs.items()]
    written: list = []  # (temporary, destination)
    try:
        for path, data in encoded:
            check_writable(path)
            written.append((_part_file(path, data), path))
        for temporary, path in written:
            os.replace(temporary, path)
    except OSError as error:
        raise DeriveError(f"cannot write {path}: {error.strerror or error}") from None
    finally:  # also on SIGTERM or Ctrl-C: no .part file stays behind
        for temporary, _ in written:
            Path(temporary).unlink(missing_ok=True)


def _encoded(data: str | bytes) -> bytes:
    return data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data


def _part_file(path: Path, data: bytes) -> str:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def check_writable(path: str | Path) -> None:
    """Fail now, before any work, where `write_atomically(path, ...)` would fail later: a missing folder, a
    folder, a folder that cannot be written to."""
    path = Path(path)
    if not path.parent.is_dir():
        raise DeriveError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise DeriveError(f"cannot write {path}: it is a folder")
    try:  # access() is not enough (root passes it on a read-only file system): try a file
        fd, probe = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise DeriveError(f"cannot write {path}: {error.strerror or error}") from None
    os.close(fd)
    os.unlink(probe)


def check_empty_folder(folder: str | Path) -> None:
    """Fail now where `write_folder_atomically(folder, ...)` would fail later: a missing parent folder, or a
    `folder` that exists and is not an empty folder (nothing is ever written over)."""
    folder = Path(folder)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DeriveError(f"cannot write '{folder}': it exists and is not an empty folder")
    if not folder.absolute().parent.is_dir():
        raise DeriveError(f"cannot write {folder}: the folder {folder.absolute().parent} does not exist")


@contextlib.contextmanager
def folder_in_place(folder: str | Path, files: dict):
    """Create `folder` with `files` ({relative path: text or bytes}), all or nothing: they are written to a
    `.part` folder beside it, which is renamed into place; if the block then fails (the other outputs of the
    same command could not be written), the folder is removed again, so the set is all or nothing."""
    folder = Path(folder)
    check_empty_folder(folder)
    scratch = Path(tempfile.mkdtemp(dir=folder.absolute().parent, prefix=f".{folder.name}.", suffix=".part"))
    placed = False
    try:
        try:
            for name, content in files.items():
                path = scratch / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(_encoded(content))
            os.chmod(scratch, 0o777 & ~_umask())
            os.rename(scratch, folder)
        except OSError as error:
            raise DeriveError(f"cannot write {folder}: {error.strerror or error}") from None
        placed = True
        yield folder
    except BaseException:
        if placed:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def write_folder_atomically(folder: str | Path, files: dict) -> None:
    """Create `folder` with `files`, all or nothing (`folder_in_place`)."""
    with folder_in_place(folder, files):
        pass


class Terminated(SystemExit):
    """SIGTERM, raised where the process was, so that `finally` and `with` blocks clean up."""

    def __init__(self):
        super().__init__(TERMINATED)


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def terminate_as_exit():
    """Within this block, SIGTERM raises `Terminated` (exit status 143) instead of killing the process
    where it stands; elsewhere, or outside the main thread, nothing changes."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    with terminate_as_exit(), tempfile.TemporaryDirectory(prefix="derive-") as folder:
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
