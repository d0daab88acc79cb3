"""A clock time limit around one piece of work, without signals in threads: `within` and `TimeLimitReached`.

In a process's main thread an interval timer (`ITIMER_REAL`) interrupts the work; anywhere else (a thread, a
dask worker) the work runs in a child process forked for it and is killed at the deadline. The work reports
the stage it is in (`report("numeric", note)`, the note saying what is known so far), so that a timeout can
say where it happened; in a child the reports
and the result come back through a pipe. The timeout is a `BaseException`, so that no `except Exception`
inside the work swallows it.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import threading
import time
from typing import Callable


class TimeLimitReached(BaseException):
    """The work ran out of time; `stage` and `note` are from its last report ('' if none)."""

    def __init__(self, seconds: float, stage: str = "", note: str = ""):
        super().__init__(f"time limit of {seconds:g} s reached" + (f" in the {stage} layer" if stage else ""))
        self.seconds = seconds
        self.stage = stage
        self.note = note


class ChildCrashed(RuntimeError):
    """The child process running the work ended without a result (killed, or out of memory in C code)."""


Report = Callable[[str, str], None]  # (stage, note)


def within(work: Callable[[Report], object], seconds: float | None, child_setup: Callable[[], None] | None = None,
           start: tuple[str, str] = ("", "")):
    """`work(report)` with at most `seconds` of clock time (None: no limit); raises `TimeLimitReached`.
    Exceptions from the work are raised here as they are (from a child: re-raised after pickling).
    `child_setup()` runs first in a forked child (a memory limit, say); it is not run in the main thread.
    `start` is the (stage, note) the work is in until it reports another (a child may be killed before)."""
    if seconds is None:
        return work(lambda stage, note="": None)
    if seconds <= 0:
        raise ValueError(f"a time limit must be positive, not {seconds:g}")
    if threading.current_thread() is threading.main_thread():
        return _with_timer(work, seconds, start)
    return _in_child(work, seconds, child_setup, start)


class _Expired(BaseException):
    pass


def _with_timer(work, seconds: float, start: tuple[str, str]):
    reports = [start]

    def expire(signum, frame):
        raise _Expired

    previous = signal.signal(signal.SIGALRM, expire)
    outer = signal.setitimer(signal.ITIMER_REAL, seconds)
    started = time.monotonic()
    try:
        return work(lambda stage, note="": reports.append((stage, note)))
    except _Expired:
        raise TimeLimitReached(seconds, *reports[-1]) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0]:  # a timer the caller had set keeps running, less the time spent here
            signal.setitimer(signal.ITIMER_REAL, max(outer[0] - (time.monotonic() - started), 1e-6), outer[1])


def _frame(kind: str, value) -> bytes:
    data = pickle.dumps((kind, value))
    return struct.pack(">I", len(data)) + data


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _frames(data: bytes) -> list:
    """The complete (kind, value) frames in `data`; a frame cut off by a kill is left out."""
    found, at = [], 0
    while at + 4 <= len(data):
        (size,) = struct.unpack(">I", data[at:at + 4])
        if at + 4 + size > len(data):
            break
        found.append(pickle.loads(data[at + 4:at + 4 + size]))
        at += 4 + size
    return found


def _in_child(work, seconds: float, setup: Callable[[], None] | None, start: tuple[str, str]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, compute, write, leave without running the parent's clean-up
        os.close(read)
        try:
            try:
                if setup is not None:
                    setup()
                result = _frame("result", work(lambda stage, note="": _write_all(write, _frame("stage", (stage, note)))))
            except Exception as error:  # noqa: BLE001 - handed to the parent, which raises it
                result = _frame("error", error)
            _write_all(write, result)
            os.close(write)
        finally:
            os._exit(0)
    os.close(write)
    data, deadline, finished = b"", time.monotonic() + seconds, False
    with os.fdopen(read, "rb", buffering=0) as pipe:
        while not finished and (left := deadline - time.monotonic()) > 0 and select.select([pipe], [], [], left)[0]:
            chunk = pipe.read(1 << 16)
            finished = not chunk
            data += chunk
    if not finished:
        os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    frames = _frames(data)
    outcome = next((f for f in frames if f[0] in ("result", "error")), None)
    if outcome is None:
        if finished:
            raise ChildCrashed("the process doing the work ended without a result")
        raise TimeLimitReached(seconds, *next((v for k, v in reversed(frames) if k == "stage"), start))
    if outcome[0] == "error":
        raise outcome[1]
    return outcome[1]
