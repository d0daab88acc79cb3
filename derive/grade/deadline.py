r"""Time and memory limits around untrusted work, enforced by killing the process doing it: `within`,
`Workers`, `TimeLimitReached`, `ChildCrashed`, `limit_memory`.

A timer in the deciding process cannot interrupt a long C call (a 6000x6000 matrix product), so the work
never runs in the process that watches the clock. `within` forks a child for one piece of work and kills it
at the deadline. `Workers` is a pool of pre-started worker processes for a batch (each prepares once, say
derives the problem, then takes one task at a time); a worker still busy at its task's deadline is killed,
reaped and replaced by a fresh one, so the batch carries on and no zombie is left. Memory is bounded by
`RLIMIT_AS` in the working process (`limit_memory`). The work reports the stage it is in (`report("numeric",
note)`, the note saying what is known so far), so that a timeout can say where it happened; reports and the
result come back through a pipe. The timeout is a `BaseException`, so that no `except Exception` swallows it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import select
import signal
import struct
import time
from collections import deque
from multiprocessing.connection import wait
from typing import Callable


class TimeLimitReached(BaseException):
    """The work ran out of time; `stage` and `note` are from its last report ('' if none)."""

    def __init__(self, seconds: float, stage: str = "", note: str = ""):
        super().__init__(f"time limit of {seconds:g} s reached" + (f" in the {stage} layer" if stage else ""))
        self.seconds = seconds
        self.stage = stage
        self.note = note


class ChildCrashed(RuntimeError):
    """The process running the work ended without a result (killed, or out of memory in C code)."""


Report = Callable[[str, str], None]  # (stage, note)


def limit_memory(memory: int | None) -> None:
    """Cap this process's address space at `memory` bytes (None: no cap): an allocation beyond it fails
    (MemoryError in Python, or the process dies in C code) instead of taking the machine's memory."""
    import resource

    if memory:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def _prctl():
    """libc's prctl, looked up in the parent, before it forks: loading a library in a child forked from a
    process with other threads (a test runner's, a server's) can crash it. None where there is none."""
    global _PRCTL
    if _PRCTL is _UNKNOWN:
        try:
            import ctypes

            _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):  # not Linux: the pipe's end stops the worker at its next task
            _PRCTL = None
    return _PRCTL


_UNKNOWN = object()
_PRCTL = _UNKNOWN


def _die_with_parent(prctl) -> None:
    """In a child: be killed when the parent dies (a SIGTERM or SIGKILL to it), not run on alone (Linux)."""
    if prctl is not None:
        prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG


def within(work: Callable[[Report], object], seconds: float | None, child_setup: Callable[[], None] | None = None,
           start: tuple[str, str] = ("", "")):
    """`work(report)` in a child process forked for it, killed after `seconds` of clock time (None: no limit,
    and the work runs here); raises `TimeLimitReached`. Exceptions from the work are raised here as they are
    (re-raised after pickling). `child_setup()` runs first in the child (a memory limit, say).
    `start` is the (stage, note) the work is in until it reports another (the child may be killed before)."""
    if seconds is None:
        return work(lambda stage, note="": None)
    if seconds <= 0:
        raise ValueError(f"a time limit must be positive, not {seconds:g}")
    return _in_child(work, seconds, child_setup, start)


def _frame(kind: str, value) -> bytes:
    data = pickle.dumps((kind, value))
    return struct.pack(">I", len(data)) + data


def _error_frame(error: BaseException) -> bytes:
    """The error as a frame; where it does not pickle (its arguments hold something that cannot cross a
    pipe, or a library has changed how its classes pickle), the same class with its message, or else a
    RuntimeError naming it, so that the parent always gets a reason and never an empty pipe."""
    for stand_in in (lambda: error, lambda: type(error)(str(error)),
                     lambda: RuntimeError(f"{type(error).__name__}: {error}")):
        try:
            return _frame("error", stand_in())
        except Exception:  # noqa: BLE001 - the next stand-in
            continue
    return _frame("error", RuntimeError("the work failed and its error could not be sent"))


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
    prctl = _prctl()
    pid = os.fork()
    if pid == 0:  # the child: report, compute, write, leave without running the parent's clean-up
        os.close(read)
        try:
            signal.signal(signal.SIGALRM, signal.SIG_DFL)  # a timer the parent had set is not the child's
            signal.setitimer(signal.ITIMER_REAL, 0)
            _die_with_parent(prctl)
            try:
                if setup is not None:
                    setup()
                result = _frame("result", work(lambda stage, note="": _write_all(write, _frame("stage", (stage, note)))))
            except Exception as error:  # noqa: BLE001 - handed to the parent, which raises it
                result = _error_frame(error)
            _write_all(write, result)
            os.close(write)
        finally:
            os._exit(0)
    os.close(write)
    data, deadline, finished = b"", time.monotonic() + seconds, False
    try:
        with os.fdopen(read, "rb", buffering=0) as pipe:
            while not finished and (left := deadline - time.monotonic()) > 0 and select.select([pipe], [], [], left)[0]:
                chunk = pipe.read(1 << 16)
                finished = not chunk
                data += chunk
    finally:  # also when this process is interrupted (Ctrl-C): the child does not outlive the wait
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


# -- a pool of pre-started workers, each killed at its task's deadline -----------------------------------

START_RETRIES = 3

def _serve(connection, prepare, prepare_args, run, prctl=None) -> None:
    """A worker's life: prepare once, say so, then run tasks one at a time until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it kills the workers
    _die_with_parent(prctl)
    state = prepare(*prepare_args)
    connection.send(("ready", None))
    report = lambda stage, note="": connection.send(("stage", (stage, note)))  # noqa: E731
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):  # the parent is gone
            os._exit(0)
        try:
            connection.send(("result", run(state, task, report)))
        except Exception as error:  # noqa: BLE001 - the parent decides what a failure means
            connection.send(("error", error))


class _Worker:
    def __init__(self, context, prepare, prepare_args, run):
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_serve, args=(theirs, prepare, prepare_args, run, _prctl()),
                                       daemon=True)
        self.process.start()
        theirs.close()
        self.ready = False
        self.task = None  # (index, task, deadline, stage)

    def stop(self) -> None:
        self.process.kill()
        self.process.join()  # reaped: no zombie
        self.connection.close()


class Workers:
    """`jobs` pre-started worker processes: each runs `prepare(*prepare_args)` once (a memory limit, deriving
    the problem), then `run(state, task, report)` per task. `map(tasks, seconds)` (None: no limit) yields (index, kind, value)
    per task as it ends: kind "result" or "error" (value: what `run` returned or raised), "timeout" (value:
    `TimeLimitReached`; the worker was killed and replaced) or "crashed" (value: `ChildCrashed`; the worker
    died, and is replaced). A task's clock starts when it is handed to a ready worker. A worker that dies while
    preparing is started again, up to `START_RETRIES` times in all; then `map` raises `ChildCrashed`. Use as a
    context manager."""

    def __init__(self, jobs: int, prepare: Callable, prepare_args: tuple, run: Callable):
        self._context = multiprocessing.get_context("fork")
        self._spec = (prepare, prepare_args, run)
        self._start_failures = 0
        self._workers = [_Worker(self._context, *self._spec) for _ in range(jobs)]

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for worker in self._workers:  # killed, not asked: a worker may be deep in a task or still preparing
            worker.stop()
        self._workers = []

    def map(self, tasks: list, seconds: float):
        waiting = deque(enumerate(tasks))
        busy = 0
        while waiting or busy:
            for worker in self._workers:
                if worker.ready and worker.task is None and waiting:
                    index, task = waiting.popleft()
                    worker.connection.send(task)
                    worker.task = (index, task, time.monotonic() + seconds if seconds else math.inf, ("", ""))
                    busy += 1
            deadlines = [w.task[2] for w in self._workers if w.task is not None]
            soonest = min(deadlines, default=math.inf)
            timeout = None if soonest == math.inf else max(0.0, soonest - time.monotonic())
            for connection in wait([w.connection for w in self._workers], timeout):
                worker = next(w for w in self._workers if w.connection is connection)
                ended = self._receive(worker, seconds)
                if ended is not None:
                    busy -= 1
                    yield ended
            now = time.monotonic()
            for worker in [w for w in self._workers if w.task is not None and w.task[2] <= now]:
                index, _, _, stage = worker.task
                self._replace(worker)
                busy -= 1
                yield index, "timeout", TimeLimitReached(seconds, *stage)

    def _receive(self, worker: _Worker, seconds: float):
        try:
            kind, value = worker.connection.recv()
        except (EOFError, OSError):  # the worker died: out of memory in C code, or killed from outside
            index = worker.task[0] if worker.task is not None else None
            if index is None:  # died while preparing: started again, a few times, before the pool gives up
                self._start_failures += 1
                if self._start_failures > START_RETRIES:
                    raise ChildCrashed(f"the worker processes died while starting, {self._start_failures} times")
                self._replace(worker)
                return None
            self._replace(worker)
            return index, "crashed", ChildCrashed("the process doing the work ended without a result")
        if kind == "ready":
            worker.ready = True
            return None
        if kind == "stage":
            index, task, deadline, _ = worker.task
            worker.task = (index, task, deadline, value)
            return None
        index = worker.task[0]
        worker.task = None
        return index, kind, value

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        self._workers[self._workers.index(worker)] = _Worker(self._context, *self._spec)

