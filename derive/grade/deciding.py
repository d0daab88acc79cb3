"""Deciding a batch's answers in isolated processes: `run` (each distinct answer's verdict as a dictionary),
`decide` (one answer, for an executor given from outside).

Locally, `run` derives the problem once, then forks `deadline.Workers` that inherit the derivation, cap their
address space and decide one answer at a time; a worker still deciding at its answer's deadline is killed
and replaced. On an executor given from outside (threads, dask), each answer is decided in a child process
forked for it and killed at its deadline (`deadline.within`). Either way a timeout, a memory error or a
crash makes that answer undecided, with a reason saying which limit, and the batch carries on.
What does not live here: reading submissions and the rubric, the batch's results (`batch`), deciding one
answer (`verify`), the limits' machinery (`deadline`).
"""

from __future__ import annotations

from concurrent.futures import BrokenExecutor, Executor

from ..read.answers import AnswerError
from .deadline import limit_memory

_JUDGES: dict = {}


def _limit_memory(memory: int | None, warm: bool = True) -> None:
    """Cap the address space (a runaway answer gets MemoryError, not the machine), and keep the process's
    BLAS to one thread: the workers are the parallelism, and an answer killed at its deadline must not have
    had the other cores (4 over-limit answers took 5.7 s of a 2-core machine instead of 4 s)."""
    if warm:  # imported before the cap, so that a capped worker can still start
        from . import verify  # noqa: F401
        import numpy.random  # noqa: F401

    _one_blas_thread()
    limit_memory(memory)


def _one_blas_thread() -> None:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an install without it: BLAS keeps its threads
        return
    threadpool_limits(limits=1, user_api="blas")


def decide(problem, wrt: str, answer: str, seed: int, time_limit: float | None, memory: int | None) -> dict:
    """One answer's verdict as a dictionary, within `time_limit` seconds (`deadline.within`), for an executor
    given from outside (threads, dask): the answer is decided in a child process forked for it, under the
    memory limit, and killed at the deadline. The local pool (`_in_workers`) does not come through here."""
    from .deadline import ChildCrashed, TimeLimitReached, within

    from .diagnosis import diagnosis_budget

    judge = _judge(problem, wrt, seed)  # the problem is trusted: deriving it is not timed
    judge.diagnosis_seconds = diagnosis_budget(time_limit)

    def work(report):
        judge.report = report
        try:
            return _verdict(judge, wrt, answer)
        except MemoryError:
            return _undecided(wrt, answer, _memory_reason(memory))

    try:
        return within(work, time_limit, child_setup=lambda: _limit_memory(memory, warm=False))
    except TimeLimitReached as reached:
        return _undecided(wrt, answer, _timeout_reason(time_limit, reached))
    except ChildCrashed:
        return _undecided(wrt, answer, _crash_reason(memory))


def _timeout_reason(time_limit: float, reached) -> str:
    where = f" (in the {reached.stage} layer)" if reached.stage else ""
    return f"no decision within the time limit of {time_limit:g} s{where}: the checking process was stopped"


def _crash_reason(memory: int | None) -> str:
    limit = f" (it may have needed more memory than the limit of {memory >> 20} MB)" if memory else ""
    return f"the checking process ended without a decision on this answer{limit}"


def _start_reason(error, memory: int | None) -> str:
    limit = f" (the memory limit of {memory >> 20} MB may be too low to load the problem)" if memory else ""
    return f"no decision: {error}{limit}"


def _memory_reason(memory: int | None) -> str:
    limit = f" of {memory >> 20} MB" if memory else ""
    return f"the answer needed more memory than the limit{limit} allows"


def _prepare(judges: dict, memory: int | None) -> dict:
    """A pool worker's start: the judges (derived once, in the parent, and inherited through fork), then
    the memory cap."""
    _limit_memory(memory)
    return {"judges": judges, "memory": memory}


def _decide_in_worker(state: dict, task: tuple, report) -> dict:
    """One answer in a pool worker; the pool's parent keeps the clock and kills this process at the deadline."""
    wrt, answer = task
    judge = state["judges"][wrt]
    judge.report = report
    try:
        return _verdict(judge, wrt, answer)
    except MemoryError:
        return _undecided(wrt, answer, _memory_reason(state["memory"]))


def _judge(problem, wrt: str, seed: int, loaded=None):
    """The `Judge` for one gradient, built once per process (`loaded`: the problem already read from `problem`)."""
    from ..solve.problem import Problem
    from .verify import Judge

    key = (problem, wrt, seed)
    if key not in _JUDGES:
        _JUDGES[key] = Judge(loaded or Problem.from_text(problem.text, problem.source), wrt, seed)
    return _JUDGES[key]


WRITTEN_KEPT = 500  # characters of an unreadable answer kept in its verdict, for a person to look at


def _verdict(judge, wrt: str, answer: str) -> dict:
    try:
        return judge.verdict(answer).to_dict()
    except AnswerError as error:
        return {"outcome": "invalid", "wrt": wrt, "read_as": "", "diagnosis": None, "reason": error.message,
                "evidence": [], "lines": [], "written": answer[:WRITTEN_KEPT]}


def _undecided(wrt: str, answer: str, reason: str) -> dict:
    return {"outcome": "undecided", "wrt": wrt, "read_as": answer, "diagnosis": None, "reason": reason,
            "evidence": [], "lines": []}


def run(problem, unique, executor, jobs, seed, time_limit, memory, progress, loaded=None) -> dict:
    """{task: verdict dict} for every distinct answer: in pre-started local workers (`_in_workers`), or on
    an executor given from outside, whose tasks lost to a broken pool are decided again in local workers."""
    if executor is None:
        return _in_workers(problem, unique, jobs, seed, time_limit, memory, progress, loaded=loaded)
    decided: dict = {}
    broken = _through(executor, unique, (problem, seed, time_limit, memory), decided, progress)
    decided.update(_in_workers(problem, broken, 1, seed, time_limit, memory, progress))
    return decided


def _in_workers(problem, tasks: list, jobs: int, seed, time_limit, memory, progress,
                retry: bool = True, loaded=None) -> dict:
    """{task: verdict dict} from `deadline.Workers`, forked after the problem is derived (once); an answer not
    decided by its deadline is undecided (its worker killed and replaced); an answer whose worker died is
    tried once more alone, and is undecided if it kills that worker too."""
    from .deadline import ChildCrashed, Workers

    if not tasks:
        return {}
    decided, crashed = {}, []
    from .diagnosis import diagnosis_budget

    judges = {w: _judge(problem, w, seed, loaded) for w in sorted({w for w, _ in tasks})}  # workers inherit them
    for judge in judges.values():
        judge.diagnosis_seconds = diagnosis_budget(time_limit)
    with Workers(max(1, min(jobs, len(tasks))), _prepare, (judges, memory), _decide_in_worker) as pool:
        try:
            for index, kind, value in pool.map(tasks, time_limit):
                task = tasks[index]
                if kind == "crashed" and retry:
                    crashed.append(task)
                    continue
                decided[task] = _ended(task, kind, value, time_limit, memory)
                if progress:
                    progress(1)
        except ChildCrashed as error:  # no worker could start (a memory limit too low to load the problem)
            for task in tasks:
                if task not in decided:
                    decided[task] = _undecided(*task, _start_reason(error, memory))
            return decided
    decided.update(_in_workers(problem, crashed, 1, seed, time_limit, memory, progress, retry=False, loaded=loaded))
    return decided


def _ended(task: tuple, kind: str, value, time_limit, memory) -> dict:
    """The verdict dict for a task that ended in a pool worker as `kind` (see `deadline.Workers.map`)."""
    if kind == "result":
        return value
    if kind == "timeout":
        return _undecided(*task, _timeout_reason(time_limit, value))
    if kind == "crashed":
        return _undecided(*task, _crash_reason(memory))
    return _undecided(*task, f"the checker failed: {type(value).__name__}: {value}")


def _through(pool: Executor, tasks: list, arguments: tuple, decided: dict, progress) -> list:
    """Decide `tasks` on `pool` into `decided`; returns the tasks lost to a broken pool."""
    futures = {pool.submit(decide, arguments[0], w, text, *arguments[1:]): (w, text) for w, text in tasks}
    broken = []
    for future, task in futures.items():
        try:
            decided[task] = future.result()
        except BrokenExecutor:
            broken.append(task)
            continue
        except Exception as error:  # a failure derive did not foresee: this answer only
            decided[task] = _undecided(task[0], task[1], f"the checker failed: {type(error).__name__}: {error}")
        if progress:
            progress(1)
    return broken
