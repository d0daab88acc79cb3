"""Evaluation traces of matrix problems, entry by entry: inputs, trace lines, seconds per stage, document size.

    python benchmarks/trace_matrix.py [--max-size 4]

examples/one_layer_batch.yaml (X: n x 3, y: n x 1, W: 3 x 1) at n = 1 .. max-size, and
examples/two_layer_vector.yaml (no symbolic size), each at a fixed point (entries 1/(i + j + 2), alternating
in sign). Stages: `derive.trace` (the expansion to entries, the trace, both tables, the consistency check with
sympy.diff and derive's matrix gradient expanded to the entries), the method comparison (`compare_methods`)
and the LaTeX document. Prints one line per case.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from derive.tracing.tracer import trace
from derive.tracing.methods import compare_methods
from derive.tracing.render import render_trace

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def matrix(rows: int, cols: int) -> list[list[str]]:
    return [[f"{(-1) ** (i + j)}/{i + j + 2}" for j in range(cols)] for i in range(rows)]


def text(name: str, rows: int, cols: int) -> str:
    return f"{name}=[" + ",".join("[" + ",".join(row) + "]" for row in matrix(rows, cols)) + "]"


def cases(max_size: int):
    for n in range(1, max_size + 1):
        at = ", ".join([text("X", n, 3), text("y", n, 1), text("W", 3, 1)])
        yield f"one_layer_batch n={n}", EXAMPLES / "one_layer_batch.yaml", at, n
    at = ", ".join([text("x", 3, 1), "y=1", text("W1", 4, 3), text("W2", 1, 4)])
    yield "two_layer_vector", EXAMPLES / "two_layer_vector.yaml", at, 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-size", type=int, default=4)
    args = parser.parse_args()
    print("| problem | inputs | trace lines | trace s | methods s | document s | LaTeX chars | passed |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name, path, at, size in cases(args.max_size):
        t, trace_s = timed(lambda: trace(path, at, size=size))
        methods, methods_s = timed(lambda: compare_methods(t))
        tex, document_s = timed(lambda: render_trace(t, "tex", methods))
        print(f"| {name} | {len(t.inputs)} | {len(t.lines) - len(t.inputs)} | {trace_s:.2f} | {methods_s:.2f} | "
              f"{document_s:.2f} | {len(tex):,} | {t.consistency.passed} |", flush=True)


if __name__ == "__main__":
    main()
