"""The directional check (seed 001) of a 3-layer perceptron with over 100k parameters, against checking every
entry, and against the same check hand-written in PyTorch.

Builds `derive.builders.mlp([320, 300, 30, 1])` (tanh, sigmoid output, biases, a batch of 8 rows: 105,361
parameters), derives all its gradients, then times `Solution.check(method="directional")` (a random point,
3 random unit directions, 2 loss evaluations each, plus one evaluation of the derived gradient) and the central
differences of 64 entries (128 forward passes, batched), from which the cost of checking every entry is
extrapolated. The PyTorch check does the same work by hand: a random point drawn in [-2, 2], the loss and its
gradient by `torch.autograd`, 3 random unit directions, central differences along them. Each check runs
--repeat times, the two interleaved; the fastest and the range are printed (the machine may be shared).
Targets: the directional check under 2 s, and within 2x of PyTorch's. Without torch installed the comparison
is skipped with a line saying so (torch is not a dependency of derive). For single-threaded figures run
with OPENBLAS_NUM_THREADS=1 (PyTorch then gets one thread too).

    python benchmarks/check_speed.py [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from derive.builders import mlp
from derive.check.gradient_check import MatrixProblem
from derive.check.methods import PRECISIONS

SIZES = [320, 300, 30, 1]
BATCH = 8


def torch_check(torch, generator, probes: int = 3):
    """The directional check by hand in PyTorch (float64): returns the largest relative error along a direction."""
    X = torch.rand((BATCH, SIZES[0]), dtype=torch.float64, generator=generator) * 4 - 2
    Y = torch.rand((BATCH, SIZES[-1]), dtype=torch.float64, generator=generator) * 4 - 2
    shapes = [s for a, b in zip(SIZES[:-1], SIZES[1:]) for s in ((a, b), (b, 1))]
    theta = torch.rand(sum(a * b for a, b in shapes), dtype=torch.float64, generator=generator) * 4 - 2

    def loss(flat):
        parameters, start = [], 0
        for a, b in shapes:
            parameters.append(flat[start:start + a * b].reshape(a, b))
            start += a * b
        A = X
        for layer in range(len(SIZES) - 1):
            Z = A @ parameters[2 * layer] + parameters[2 * layer + 1].T
            A = torch.tanh(Z) if layer < len(SIZES) - 2 else torch.sigmoid(Z)
        return 0.5 * ((A - Y) ** 2).sum()

    leaf = theta.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(loss(leaf), leaf)
    h = np.finfo(float).eps ** (1 / 3) * max(1.0, float(theta.abs().max()))
    errors = []
    with torch.no_grad():
        for _ in range(probes):
            d = torch.randn(theta.numel(), dtype=torch.float64, generator=generator)
            d /= d.norm()
            numeric = (loss(theta + h * d) - loss(theta - h * d)) / (2 * h)
            analytic = d @ gradient
            errors.append(float(abs(numeric - analytic) / max(abs(float(analytic)), 1e-6)))
    return max(errors)


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def compare_with_torch(solution, repeat: int) -> None:
    try:
        import torch
    except ImportError:
        print("PyTorch comparison skipped: torch is not installed (pip install torch to run it)")
        return
    threads = int(os.environ.get("OPENBLAS_NUM_THREADS", os.cpu_count() or 1))
    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    ours, theirs = [], []
    solution.check(points=1, method="directional", probes=3, sweep=False)  # warm: both run once untimed
    torch_check(torch, generator)
    for seed in range(repeat):
        ours.append(timed(lambda: solution.check(points=1, seed=seed, method="directional", probes=3, sweep=False)))
        theirs.append(timed(lambda: torch_check(torch, generator)))
    ratio = min(ours) / min(theirs)
    print(f"directional check, 3 directions, {repeat} runs each ({threads} thread(s)): derive {min(ours) * 1e3:.1f} ms "
          f"(range {min(ours) * 1e3:.1f}-{max(ours) * 1e3:.1f}), PyTorch {torch.__version__} by hand "
          f"{min(theirs) * 1e3:.1f} ms (range {min(theirs) * 1e3:.1f}-{max(theirs) * 1e3:.1f})")
    print(f"- derive / PyTorch = {ratio:.2f} (fastest runs; target <= 2): {'met' if ratio <= 2 else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="runs of each directional check")
    args = parser.parse_args()
    start = time.perf_counter()
    net, loss, params = mlp(SIZES, activations="tanh", loss="squared", bias=True, batch=BATCH)
    solution = net.gradients(loss, params)
    count = sum(int(np.prod(p.shape)) for p in params)
    derived = time.perf_counter() - start
    print(f"3-layer MLP 320-300-30-1, batch 8: {count:,} parameters, derived in {derived:.2f} s")

    for probes in (1, 3, 10):
        start = time.perf_counter()
        report = solution.check(points=1, method="directional", probes=probes, sweep=False)
        seconds = time.perf_counter() - start
        worst = max(e.relative_error for e in report.entries)
        print(f"directional check, {probes:>2} direction(s): {seconds:.3f} s, verdict {report.verdict}, "
              f"max relative error {worst:.1e}")

    start = time.perf_counter()
    report = solution.check(points=1, method="directional", probes=3, sweep=True)
    seconds = time.perf_counter() - start
    print(f"directional check with the step sweep (3 methods x 29 steps): {seconds:.2f} s "
          f"(target < 2 s: {'met' if seconds < 2 else 'NOT met'})")
    compare_with_torch(solution, args.repeat)

    inputs = sorted(net.inputs.values(), key=lambda s: s.name)
    gradients = {d.wrt: d.result for d in solution.derivations}
    problem = MatrixProblem(loss, gradients, inputs, PRECISIONS["float64"], definitions=list(net.definitions.items()))
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
