"""Scalar chains of sigmoid units, depth 2 .. 64: derive's time and LaTeX size, beside plain SymPy; then what
`derive solve` costs (derive, check, document) at depth 2 .. 128.

    python benchmarks/scalar_depth.py [--max-depth 64] [--sympy-limit 16] [--solve-depth 128] [--repeat 3]

For each depth d the network is h_k = sigma(w_k h_{k-1}) (h_0 = x), L = (h_d - y)^2 / 2, and the
gradients for all d weights are derived and rendered (`Solution.latex()`). Plain SymPy differentiates
the same loss written out in x, y and the weights and prints it with `sympy.latex`, up to --sympy-limit.
Prints one line per depth: seconds, peak MB (tracemalloc) and LaTeX characters. The second table is the
solve including the numeric check (`solve_timing.py`), with its growth per doubling, and the targets: at most
3x per doubling (linear within a factor 1.5), depth 128 in under 10 s. Figures are printed, not asserted.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import sympy

from derive.builders import sigmoid_chain as chain
from solve_timing import growth_target, solve_table, time_target


def derive_and_render(depth: int) -> str:
    net, loss, weights = chain(depth)
    return net.gradients(loss, weights).latex()


def measure(function, memory: bool = True):
    """(result, seconds, peak MB): timed on its own, then run again under tracemalloc for the peak
    (tracing slows allocation-heavy code several times over, so it must not share the timed run)."""
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    if not memory:
        return result, seconds, float("nan")
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-depth", type=int, default=64)
    parser.add_argument("--sympy-limit", type=int, default=16)
    parser.add_argument("--solve-depth", type=int, default=128, help="deepest chain solved with the check")
    parser.add_argument("--repeat", type=int, default=3, help="solves per depth (the fastest is shown)")
    args = parser.parse_args()
    print(f"{'depth':>5} {'derive s':>9} {'MB':>7} {'LaTeX chars':>12} | {'sympy s':>8} {'LaTeX chars':>12}")
    depth = 2
    while depth <= args.max_depth:
        text, seconds, peak = measure(lambda: derive_and_render(depth))
        line = f"{depth:>5} {seconds:>9.3f} {peak:>7.1f} {len(text):>12,}"
        if depth <= args.sympy_limit:
            net, loss, weights = chain(depth)
            expanded = net.expand(loss)
            plain, plain_seconds, _ = measure(
                lambda: "".join(sympy.latex(sympy.diff(expanded, w)) for w in weights), memory=False)
            line += f" | {plain_seconds:>8.3f} {len(plain):>12,}"
        print(line, flush=True)
        depth *= 2
    print()
    print("Solve including the check (derive, Solution.check(), document):")
    depths = [2 ** k for k in range(1, 20) if 2 ** k <= args.solve_depth]
    totals = solve_table(chain, depths, args.repeat)
    print()
    print("Targets:")
    print(growth_target(totals))
    print(time_target(totals, 128, 10, "the sigmoid chain"))


if __name__ == "__main__":
    main()
