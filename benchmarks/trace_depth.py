"""Evaluation traces of scalar sigmoid chains, depth 2 .. 32: trace lines, seconds per stage, document size.

    python benchmarks/trace_depth.py [--max-depth 32]

For each depth d the network is h_k = sigma(w_k h_{k-1}) (h_0 = x), L = (h_d - y)^2 / 2, traced at x = 0.5,
y = 1, w_k = 1 / k (inputs: x, y and the d weights). Stages: `derive.trace` (the trace, both tables, the
consistency check, including sympy.diff of the expanded loss for every input), the method comparison
(`compare_methods`, float64 finite differences, derive's derivation, backprop) and the LaTeX document.
Prints one line per depth.
"""

from __future__ import annotations

import argparse
import time

from derive import Problem
from derive.tracing.tracer import trace
from derive.builders import sigmoid_chain as chain
from derive.tracing.methods import compare_methods
from derive.tracing.render import render_trace


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-depth", type=int, default=32)
    depth_limit = parser.parse_args().max_depth
    print("| depth | inputs | trace lines | trace s | methods s | document s | LaTeX chars | max error, modes vs sympy.diff |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    depth = 2
    while depth <= depth_limit:
        net, loss, weights = chain(depth)
        problem = Problem(net, loss, list(weights), f"sigmoid chain, depth {depth}")
        point = {"x": 0.5, "y": 1, **{w.name: f"1/{k}" for k, w in enumerate(weights, start=1)}}
        traced, trace_seconds = timed(lambda: trace(problem, point))
        methods, method_seconds = timed(lambda: compare_methods(traced))
        tex, render_seconds = timed(lambda: render_trace(traced, "tex", methods))
        lines = sum(1 for line in traced.lines if not line.is_input)
        print(f"| {depth} | {len(traced.inputs)} | {lines} | {trace_seconds:.2f} | {method_seconds:.2f} | "
              f"{render_seconds:.2f} | {len(tex):,} | {traced.consistency.against_symbolic:.1e} |", flush=True)
        depth *= 2


if __name__ == "__main__":
    main()
