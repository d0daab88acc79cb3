"""Batch grading speed: `derive grade` on generated classes of typical answers, 2 worker processes.

    python benchmarks/grading.py [--students 200] [--jobs 2]

For each example problem (one_layer_scalar, one_layer_batch, two_layer_batch, mlp_softmax) a folder of
`--students` submissions is written: correct answers in other forms and the usual mistakes (sign, factor,
missing sigma', transpose, shape), each made distinct by a factor \frac{i}{i} (= 1) so that deduplication
does not hide the work. Every answer is decided in a pre-started worker process (forked after the problem
is derived, killed at its deadline), as `derive grade` does. Prints, per problem: answers per second from
start to end (reading the problem, deriving it, starting the workers included; derive's modules imported
before, by a first small class) and while deciding (from the
first decision to the last), distinct answers decided, the outcomes, and the peak resident memory of the
worker processes (from getrusage of the children). Then the isolation's cost when answers hang:
`--slow` answers that each run past the time limit, in a class of typical ones (each slow answer costs one
time limit in one worker; the others are still decided).

    python benchmarks/grading.py --problems one_layer_batch --students 1000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

from derive.grade.batch import grade

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

TYPICAL = {
    "one_layer_scalar": ("w", [r"@(\hat y - y)\hat y(1-\hat y)x", r"@(y - \hat y)\hat y(1-\hat y)x",
                               r"@(\hat y - y)x", r"@(\sigma(wx) - y)\sigma'(wx)x", r"@(\hat y - y)\sigma(wx)x"]),
    "one_layer_batch": ("W", [r"@X^T((\hat y - y)\odot\sigma'(XW))", r"@((\hat y - y)\odot\sigma'(XW))^T X",
                              r"@X^T(\hat y - y)", r"@X^\top((\hat y - y)\odot\hat y\odot(1 - \hat y))",
                              r"@X(\hat y - y)"]),
    "two_layer_batch": ("W^{(1)}", [
        r"@X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)",
        r"@X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\right)",
        r"@X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot H\odot(1-H)\right)"]),
    "mlp_softmax": ("W^{(2)}", [r"\frac{1}{n} @ A^{(1)T}(\hat Y - Y)", r"@A^{(1)T}(\hat Y - Y)",
                                r"\frac{1}{n} @(\hat Y - Y)^T A^{(1)}"]),
}


def write_class(folder: Path, problem: str, students: int) -> None:
    wrt, forms = TYPICAL[problem]
    for i in range(students):
        form = forms[i % len(forms)]
        answer = form.replace("@", rf"\frac{{{i + 1}}}{{{i + 1}}}")  # = 1, but every text is distinct
        left = rf"\frac{{\partial L}}{{\partial {wrt}}} = "
        (folder / f"student{i:04d}.tex").write_text(left + answer, encoding="utf-8")


# An answer multiplies 6000x6000 matrices (seconds of one BLAS call); sizes written in an answer are bounded
# by the problem's own, so the slow class is graded on one_layer_batch with 6000 features (WIDE).
SLOW = (r"\frac{{\mathbf{{1}}_{{6000}}^T \operatorname{{diag}}(\mathbf{{1}}_{{6000}}) "
        r"\operatorname{{diag}}(\mathbf{{1}}_{{6000}}) \mathbf{{1}}_{{6000}}}}{{6000}} X^T(\hat y - y) + {i} W - {i} W")
WIDE = (EXAMPLES / "one_layer_batch.yaml").read_text(encoding="utf-8").replace("[n, 3]", "[n, 6000]").replace(
    "[3, 1]", "[6000, 1]")


def timed_grade(path: Path, folder: Path, jobs: int, time_limit: float = 20.0):
    """(batch, seconds from start to end, seconds from the first decision to the last)."""
    ends: list[float] = []
    start = time.perf_counter()
    batch = grade(path, folder, jobs=jobs, time_limit=time_limit, progress=lambda n: ends.append(time.perf_counter()))
    return batch, time.perf_counter() - start, (ends[-1] - ends[0]) if len(ends) > 1 else float("nan")


def children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--problems", nargs="*", default=list(TYPICAL), choices=list(TYPICAL))
    parser.add_argument("--slow", type=int, default=4, help="answers that run past the time limit (0: skip)")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds, for the --slow run")
    args = parser.parse_args()
    print(f"--jobs {args.jobs}, each answer in a pre-started worker process killed at its deadline")
    print(f"{'problem':18} {'answers':>7} {'distinct':>8} {'seconds':>8} {'answers/s':>9} {'deciding/s':>10}  outcomes")
    with tempfile.TemporaryDirectory() as tmp:  # derive's modules imported first, as `derive grade` has them
        write_class(Path(tmp), args.problems[0], 2)
        grade(EXAMPLES / f"{args.problems[0]}.yaml", Path(tmp), jobs=1)
    for problem in args.problems:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_class(folder, problem, args.students)
            batch, seconds, deciding = timed_grade(EXAMPLES / f"{problem}.yaml", folder, args.jobs)
        outcomes = Counter(v["outcome"] for r in batch.results for v in r.verdicts.values())
        print(f"{problem:18} {batch.answers:7d} {batch.decided:8d} {seconds:8.2f} {batch.answers / seconds:9.1f} "
              f"{(batch.decided - 1) / deciding:10.1f}  {dict(outcomes)}")
    print(f"peak resident memory of a worker process: {children_peak_mb():.0f} MB")
    if args.slow:
        slow_class(args)


def slow_class(args) -> None:
    """--slow answers that run past the time limit among --students typical ones, on one_layer_batch
    with 6000 features, against the same class without them."""
    seconds = {}
    for slow in (0, args.slow):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "submissions"
            folder.mkdir()
            write_class(folder, "one_layer_batch", args.students)
            for i in range(slow):
                (folder / f"slow{i:02d}.tex").write_text(SLOW.format(i=i + 1), encoding="utf-8")
            problem = Path(tmp) / "wide.yaml"
            problem.write_text(WIDE, encoding="utf-8")
            batch, seconds[slow], _ = timed_grade(problem, folder, args.jobs, args.time_limit)
    outcomes = Counter(v["outcome"] for r in batch.results for v in r.verdicts.values())
    floor = args.slow * args.time_limit / args.jobs
    print(f"one_layer_batch (6000 features), {args.students} typical answers: {seconds[0]:.2f} s; with {args.slow} "
          f"more past --time-limit {args.time_limit:g}: {seconds[args.slow]:.2f} s (the time limits alone: "
          f"{floor:.1f} s), {dict(outcomes)}")

if __name__ == "__main__":
    main()
