"""Batch grading speed: `derive grade` on generated classes of typical answers, 2 worker processes.

    python benchmarks/grading.py [--students 200] [--jobs 2]

For each example problem (one_layer_scalar, one_layer_batch, two_layer_batch, mlp_softmax) a folder of
`--students` submissions is written: correct answers in other forms and the usual mistakes (sign, factor,
missing sigma', transpose, shape), each made distinct by a factor \frac{i}{i} (= 1) so that deduplication
does not hide the work. Prints answers per second, distinct answers decided, the
outcomes, and the peak resident memory of the worker processes (from getrusage of the children).
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


def children_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    print(f"{'problem':18} {'answers':>7} {'distinct':>8} {'seconds':>8} {'answers/s':>9}  outcomes")
    for problem in TYPICAL:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_class(folder, problem, args.students)
            start = time.perf_counter()
            batch = grade(EXAMPLES / f"{problem}.yaml", folder, jobs=args.jobs)
            seconds = time.perf_counter() - start
        outcomes = Counter(v["outcome"] for r in batch.results for v in r.verdicts.values())
        print(f"{problem:18} {batch.answers:7d} {batch.decided:8d} {seconds:8.2f} {batch.answers / seconds:9.1f}  "
              f"{dict(outcomes)}")
    print(f"peak resident memory of a worker process: {children_peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
