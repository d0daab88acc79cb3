r"""Reading a submissions folder that may be hostile, and writing students' names where people will read them.

A submission is read only if it is a regular file inside the folder: it is opened without following a
symbolic link (`O_NOFOLLOW`) and without blocking (`O_NONBLOCK`, so a FIFO cannot hang the batch), its type and
size are checked on the open file (`fstat`), and at most `MAX_FILE_BYTES` + 1 bytes are ever read. A link
(to `/etc/passwd`, to `../../x`, to `/dev/zero`), a FIFO, a device or a folder is reported as "not a regular
file" without being opened for reading. Files whose names start with `.` are not graded; the batch lists them.

A file name is anyone's bytes: `student_name` makes it one printable line (undecodable bytes as `\xff`, control
characters such as a newline as `\n`), so that no name can forge another student's line; `spreadsheet_cell`
neutralises a cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return); feedback
quotes at most an `excerpt` of a student's own text.

What does not live here: splitting a submission into answers and grading it (`batch.py`).
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..core.errors import DeriveError
from ..read.answers import AnswerError

MAX_FILE_BYTES = 64_000
MAX_EXCERPT = 400  # characters of a student's own text quoted back in feedback

_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def read_bounded(path: Path, limit: int, what: str = "a submission") -> bytes:
    """At most `limit` bytes of the regular file `path` (never a link, FIFO or device); `OSError`-free:
    an `AnswerError` says what the file is instead."""
    path = Path(path)
    name = student_name(path.name)
    try:
        mode = os.lstat(path).st_mode
    except OSError as error:
        raise AnswerError(f"cannot read '{name}': {error.strerror or error}") from None
    if not stat.S_ISREG(mode):
        raise AnswerError(f"'{name}' is not a regular file ({_kind(mode)}); it was not read")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as error:  # replaced by a link or a FIFO since lstat
        if error.errno in (errno.ELOOP, errno.ENXIO):
            raise AnswerError(f"'{name}' is not a regular file; it was not read") from None
        raise AnswerError(f"cannot read '{name}': {error.strerror or error}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise AnswerError(f"'{name}' is not a regular file ({_kind(opened.st_mode)}); it was not read")
        if opened.st_size > limit:
            raise AnswerError(f"'{name}' is {opened.st_size} bytes; {what} may be at most {limit}")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 65536))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise AnswerError(f"cannot read '{name}': {error.strerror or error}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:  # it grew while being read
        raise AnswerError(f"'{name}' is more than {limit} bytes; {what} may be at most {limit}")
    return data


def read_submission(path: Path) -> str:
    """A submission's text; `AnswerError` for a file that is missing, not a regular file, too large, binary
    or not UTF-8."""
    data = read_bounded(path, MAX_FILE_BYTES)
    name = student_name(Path(path).name)
    if b"\0" in data:
        raise AnswerError(f"'{name}' is a binary file, not LaTeX text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnswerError(f"'{name}' is not UTF-8 text (byte {error.start})") from None


def read_text(path: Path) -> str:
    """A problem file's text (the instructor's: a link is followed, but a FIFO or device is refused and the
    read is bounded); a `ProblemError` naming the file otherwise."""
    from ..read.problem import read_problem_file

    return read_problem_file(path)


def submission_files(folder: Path) -> list[Path]:
    """Every entry of `folder` to grade, sorted: all but hidden files (links and FIFOs too: they are
    reported as not regular files, not silently dropped)."""
    return [p for p in _entries(folder) if not p.name.startswith(".")]


MAX_DEPTH = 4  # folders inside one student's submission followed this deep
MAX_ENTRIES = 200  # entries of one student's submission looked at, at most


def submission_tree(folder: Path) -> tuple[list[Path], list[Path], list[str]]:
    """One student's submission, folders included (a Gradescope upload of a folder, a GitHub repository):
    (files to read, hidden entries, notes). Folders are entered only when they are folders themselves, never
    through a symbolic link, `MAX_DEPTH` deep and `MAX_ENTRIES` entries at most; what is left out is noted."""
    files, hidden, notes = [], [], []
    pending = [(Path(folder), 0)]
    seen = 0
    while pending:
        current, depth = pending.pop(0)
        for entry in _entries(current):
            seen += 1
            if seen > MAX_ENTRIES:
                notes.append(f"only the first {MAX_ENTRIES} files and folders were looked at")
                return files, hidden, notes
            if entry.name.startswith("."):
                hidden.append(entry)
            elif stat.S_ISDIR(_mode(entry)):
                if depth + 1 > MAX_DEPTH:
                    notes.append(f"{student_name(str(entry.relative_to(folder)))}: not graded (a folder more than "
                                 f"{MAX_DEPTH} levels deep)")
                else:
                    pending.append((entry, depth + 1))
            else:
                files.append(entry)
    return files, hidden, notes


def _mode(path: Path) -> int:
    try:
        return os.lstat(path).st_mode
    except OSError:
        return 0


def hidden_files(folder: Path) -> list[Path]:
    """The entries of `folder` whose names start with `.`: not graded, but listed so nobody is lost."""
    return [p for p in _entries(folder) if p.name.startswith(".")]


def _entries(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DeriveError(f"no submissions folder '{student_name(str(folder))}'")
    try:
        return sorted(folder.iterdir())
    except OSError as error:
        raise DeriveError(f"cannot list the submissions folder '{folder}': {error.strerror or error}") from None


def student_name(name: str) -> str:
    """A file name as one printable line: undecodable bytes as `\\xff`, control characters escaped."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def spreadsheet_cell(value):
    """A CSV cell that a spreadsheet shows as text: one starting with = + - @ tab or CR gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """At most `limit` characters of `text` (a student's answer, or a message quoting it), marked when cut."""
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."
