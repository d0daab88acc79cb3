r"""The class report's speed: `derive grade --report` building its figures, JSON and page for a class of N.

    python benchmarks/class_report.py [--students 20 200 2000 20000]

A real class of six is graded once on two_layer_batch (a correct answer, a sign error, a missing factor, a
transpose, an undecided and an unreadable one, for both gradients); its verdicts are then dealt round N
students (student i gets answer i mod 6 for W^(1) and (i // 6) mod 6 for W^(2)), so the report sees real
verdicts, evidence and diagnoses. Prints, per N, the seconds to build the figures (`class_report`), the JSON
and the page, and their sizes. Grading itself is not timed (benchmarks/grading.py times it).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from derive.grade.batch import Batch, StudentResult, grade, load_problem, load_rubric
from derive.grade.class_page import class_page
from derive.grade.class_report import class_report

TWO = Path(__file__).resolve().parent.parent / "examples" / "two_layer_batch.yaml"
W1 = [r"X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)",
      r"X^T\left(\left((y - \hat y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)",
      r"X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\right)",
      r"\left(X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)\right)^T",
      r"X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right) + \log(W^{(1)} \odot W^{(1)} - 100)",
      r"X^T(\hat y - y"]
W2 = [r"H^T((\hat y - y)\odot\sigma'(HW^{(2)}))", r"H^T((y - \hat y)\odot\sigma'(HW^{(2)}))", r"H^T(\hat y - y)",
      r"((\hat y - y)\odot\sigma'(HW^{(2)}))^T H", r"H^T((\hat y - y)\odot\sigma'(HW^{(2)})) + \log(W^{(2)} \odot W^{(2)} - 100)",
      r"H^T(\hat y"]


def real_verdicts() -> list[StudentResult]:
    with tempfile.TemporaryDirectory() as folder:
        for i, (a, b) in enumerate(zip(W1, W2)):
            Path(folder, f"s{i}.tex").write_text(f"\\frac{{\\partial L}}{{\\partial W^{{(1)}}}} = {a}\n\n"
                                                 f"\\frac{{\\partial L}}{{\\partial W^{{(2)}}}} = {b}\n")
        return grade(TWO, folder).results


def dealt(results: list[StudentResult], students: int) -> Batch:
    made = []
    for i in range(students):
        one, two = results[i % 6].verdicts["W^{(1)}"], results[(i // 6) % 6].verdicts["W^{(2)}"]
        score = float(one["outcome"] == "correct") + float(two["outcome"] == "correct")
        made.append(StudentResult(f"student{i:05d}.tex", {"W^{(1)}": one, "W^{(2)}": two}, score, 2.0))
    return Batch(made, 1.0, 12, 2 * students)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[20, 200, 2000, 20000])
    args = parser.parse_args()
    problem = load_problem(TWO)
    rubric = load_rubric(TWO, problem)
    results = real_verdicts()
    print(f"{'students':>8} {'figures s':>10} {'json s':>8} {'page s':>8} {'json kB':>8} {'page kB':>8}")
    for n in args.students:
        batch = dealt(results, n)
        start = time.perf_counter()
        report = class_report(batch, problem, rubric, TWO.name)
        figures = time.perf_counter()
        text = report.to_json()
        json_done = time.perf_counter()
        page = class_page(report)
        page_done = time.perf_counter()
        print(f"{n:>8} {figures - start:>10.4f} {json_done - figures:>8.4f} {page_done - json_done:>8.4f} "
              f"{len(text.encode()) / 1024:>8.1f} {len(page.encode()) / 1024:>8.1f}")


if __name__ == "__main__":
    main()
