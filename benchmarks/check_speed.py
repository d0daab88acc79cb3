"""The directional check (seed 001) of a 3-layer perceptron with over 100k parameters, against checking every entry.

Builds `derive.builders.mlp([320, 300, 30, 1])` (tanh, sigmoid output, biases, a batch of 8 rows: 105,361
parameters), derives all its gradients, then times `Solution.check(method="directional")` (3 random unit
directions, 2 loss evaluations each, plus one evaluation of the derived gradient) and the central differences
of 64 entries (128 forward passes, batched), from which the cost of checking every entry is extrapolated. Target: directional check
under 2 s on 2 cores. Run: python benchmarks/check_speed.py
"""

from __future__ import annotations

import time

import numpy as np

from derive.builders import mlp
from derive.check import MatrixProblem
from derive.methods import PRECISIONS


def main() -> None:
    start = time.perf_counter()
    net, loss, params = mlp([320, 300, 30, 1], activations="tanh", loss="squared", bias=True, batch=8)
    solution = net.gradients(loss, params)
    count = sum(int(np.prod(p.shape)) for p in params)
    derived = time.perf_counter() - start
    print(f"3-layer MLP 320-300-30-1, batch 8: {count:,} parameters, derived in {derived:.2f} s")

    for probes in (1, 3, 10):
        start = time.perf_counter()
        report = solution.check(points=1, method="directional", probes=probes, sweep=False)
        seconds = time.perf_counter() - start
        worst = max(e.relative_error for e in report.entries)
        print(f"directional check, {probes:>2} direction(s): {seconds:.2f} s, verdict {report.verdict}, "
              f"max relative error {worst:.1e}")

    start = time.perf_counter()
    report = solution.check(points=1, method="directional", probes=3, sweep=True)
    print(f"directional check with the step sweep (3 methods x 29 steps): {time.perf_counter() - start:.2f} s")

    inputs = sorted(net.inputs.values(), key=lambda s: s.name)
    gradients = {d.wrt: d.expanded() for d in solution.derivations}
    problem = MatrixProblem(net.expand(loss), gradients, inputs, PRECISIONS["float64"])
    objective, _ = problem.draw(np.random.default_rng(0))
    entries = 64
    rows = np.repeat(objective.theta[None, :], 2 * entries, axis=0)
    rows[np.arange(entries), np.arange(entries)] += 1e-5
    rows[entries + np.arange(entries), np.arange(entries)] -= 1e-5
    start = time.perf_counter()
    objective.loss(rows)
    per_entry = (time.perf_counter() - start) / entries
    print(f"central differences of {entries} entries (batched forward passes): {per_entry * 1e3:.1f} ms per entry; "
          f"every entry: ~{per_entry * count:.0f} s ({per_entry * count / 60:.1f} min) extrapolated")


if __name__ == "__main__":
    main()
