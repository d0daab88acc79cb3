"""Monte Carlo speed of the gradient estimators on examples/router.yaml: 10^6 router draws of each.

    python benchmarks/estimators.py [--samples 1000000] [--repeat 3]

For each estimator, the time to draw the samples and compute the study's figures (mean, standard
errors, z-scores, total variance, the error curve) with `derive.stochastic.estimators.study`, best of --repeat
runs; then the whole `derive.estimate` call for all six. Target: each estimator under 2 s.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from derive.stochastic import estimators as est
from derive.stochastic.problem import StochasticProblem

ROUTER = Path(__file__).resolve().parent.parent / "examples" / "router.yaml"


def best_time(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    problem = StochasticProblem.from_yaml(ROUTER)
    model = est.Model.of(problem)
    print(f"{args.samples:,} router draws per estimator, best of {args.repeat}")
    print(f"{'estimator':<42} {'seconds':>8} {'draws/s':>12} {'variance/draw':>14}  verdict")
    for estimator in est.ESTIMATORS.values():
        results = []
        seconds = best_time(lambda: results.append(est.study(model, estimator, args.samples, np.random.default_rng(0))),
                            args.repeat)
        result = results[-1]
        print(f"{estimator.label:<42} {seconds:8.3f} {args.samples / seconds:12,.0f} {result.total_variance:14.4g}  "
              f"{result.verdict}")
    total = best_time(lambda: est.estimate(problem, samples=args.samples, seed=0), 1)
    print(f"{'derive.estimate, all six':<42} {total:8.3f}")


if __name__ == "__main__":
    main()
