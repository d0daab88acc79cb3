r"""Writing web pages: per example, the seconds `derive solve -o x.html` spends on the page (after deriving and
checking, which it shares with the .tex) against the LaTeX document, and the page's size.

    python benchmarks/pages.py [--repeat 3] [--samples 20000]

For each example problem: the gradients are derived (`Problem.solve`) and checked (`Solution.report`) once,
untimed here (benchmarks/solve_timing.py and check_speed.py time them); then `Solution.html()` (the templates,
every maths span through latex2mathml and the allow-list, the contents) and `Solution.document()` (the
LaTeX) are timed --repeat times each: the page's first run (the first example's includes loading latex2mathml and
compiling the templates) and its fastest, the LaTeX's fastest, the page's size in kB and its count of
`<math>` elements. The stochastic examples (router.yaml, router_mlp.yaml) are studied once with --samples
draws per estimator and `EstimateReport.html()` is timed the same way (the error plot drawn as SVG included).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import derive
from derive.stochastic.estimators import estimate

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
STOCHASTIC = ("router.yaml", "router_mlp.yaml")


def timed(make, repeat: int) -> tuple[float, float, str]:
    """(the first run's seconds, the fastest run's, what it made)."""
    seconds, made = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        made = make()
        seconds.append(time.perf_counter() - start)
    return seconds[0], min(seconds), made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--samples", type=int, default=20_000)
    args = parser.parse_args()
    print(f"{'example':<18} {'page 1st s':>10} {'page s':>8} {'.tex s':>8} {'page kB':>8} {'<math>':>7}")
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name in STOCHASTIC:
            report = estimate(path, samples=args.samples, seed=0)
            first, page_seconds, page = timed(report.html, args.repeat)
            _, tex_seconds, _ = timed(report.document, args.repeat)
        else:
            problem = derive.Problem.from_yaml(path)
            solution = problem.solve()
            solution.report  # noqa: B018 - the check, run once and kept, as solve runs it once for every format
            first, page_seconds, page = timed(lambda: solution.html(description=problem.description), args.repeat)
            _, tex_seconds, _ = timed(lambda: solution.document(description=problem.description), args.repeat)
        print(f"{path.stem:<18} {first:>10.3f} {page_seconds:>8.3f} {tex_seconds:>8.3f} {len(page.encode()) / 1024:>8.1f} "
              f"{page.count('<math'):>7}")


if __name__ == "__main__":
    main()
