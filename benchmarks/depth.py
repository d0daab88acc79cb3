"""Sigmoid MLPs of depth 2 .. 128: derive's time, peak memory and LaTeX size, beside plain SymPy.

    python benchmarks/depth.py [--depths 2,4,8,16,32,64,128] [--sympy-limit 60]

For each depth d the network is `mlp([3] + [4] * (d - 1) + [1])` (sigmoid layers with biases, squared
loss, batch of n rows). derive's figure is `Solution.derive` for every parameter plus the LaTeX document
(`document(check=False)`); the peak (tracemalloc) comes from a second run, because tracing slows
allocation-heavy code several times over. SymPy's cache is cleared before each run so that no depth
profits from the one before; a depth-2 run first loads the templates.

Plain SymPy gets the same network's scalar form for n = 2 (`check.explicit_instance`) and is timed on
`sympy.diff` for every weight and bias entry plus `sympy.latex` of each result. Each depth runs in its
own process, stopped after --sympy-limit seconds; deeper depths are skipped once one is stopped.
Prints a Markdown table and then the targets, each with whether it is met. A second table is the solve
including the numeric check (`solve_timing.py`: derive, `Solution.check()`, document) up to --solve-depth, with its
growth per doubling; its targets: at most 3x per doubling (linear within a factor 1.5), depth 64 in under 10 s.
Figures are printed, not asserted.

    python benchmarks/depth.py [--depths 2,4,...] [--sympy-limit 60] [--solve-depth 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import tracemalloc

import sympy
from sympy.core.cache import clear_cache

from derive.builders import mlp
from derive.check.gradient_check import explicit_instance
from derive.solve.derivation import Solution
from solve_timing import growth_target, solve_table, time_target

DEPTHS = (2, 4, 8, 16, 32, 64, 128)


def network(depth: int):
    """(network, loss, parameters) for `depth` layers: 3 inputs, hidden layers of 4, one output."""
    return mlp([3] + [4] * (depth - 1) + [1], activations="sigmoid", loss="squared", bias=True, batch="n")


def derive_and_render(depth: int) -> str:
    net, loss, parameters = network(depth)
    return Solution.derive(net, loss, parameters).document(check=False)


def measure(function):
    """(result, seconds, peak MB): timed on its own, then run again under tracemalloc for the peak."""
    clear_cache()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    clear_cache()
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def plain_sympy(depth: int, connection) -> None:
    """In a child process: send "ready" once the scalar loss is built, then (seconds, LaTeX characters)."""
    net, loss, _ = network(depth)
    inputs = sorted(net.inputs.values(), key=lambda s: s.name)
    scalar_loss, _, entry_inputs, owner = explicit_instance(net.expand(loss), {}, inputs, size=2)
    parameters = [e for e in entry_inputs if owner[e].startswith(("W", "b"))]
    connection.send("ready")
    start = time.perf_counter()
    text = "".join(sympy.latex(sympy.diff(scalar_loss, e)) for e in parameters)
    connection.send((time.perf_counter() - start, len(text)))


def plain_sympy_within(depth: int, limit: float):
    """(seconds, LaTeX characters) from `plain_sympy`, or None if it had not finished after `limit` seconds."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("spawn").Process(target=plain_sympy, args=(depth, sender), daemon=True)
    child.start()
    try:
        # building the scalar loss is not timed, but it must not hang either
        if not receiver.poll(limit) or receiver.recv() != "ready" or not receiver.poll(limit):
            return None
        return receiver.recv()
    finally:
        child.terminate()
        child.join()


def row(depth, derived, sizes, baseline, limit) -> str:
    seconds, peak, chars = derived
    half = sizes.get(depth // 2) if depth % 2 == 0 else None
    growth = f"{chars / half:.2f}" if half else "–"
    if baseline is None:
        plain = f"> {limit:g} | – | > {limit / seconds:,.0f}x"
    elif baseline == "skipped":
        plain = "skipped | – | –"
    else:
        plain = f"{baseline[0]:.3f} | {baseline[1]:,} | {baseline[0] / seconds:,.0f}x"
    return f"| {depth} | {seconds:.3f} | {peak:.1f} | {chars:,} | {growth} | {plain} |"


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def targets(derived: dict, baselines: dict, limit: float) -> list[str]:
    lines = []
    if 64 in derived and 32 in derived:
        growth = derived[64][2] / derived[32][2]
        lines.append(f"- LaTeX size at 64 / size at 32 = {growth:.2f} (target <= 2.2): {verdict(growth <= 2.2)}")
    else:
        lines.append("- LaTeX size at 64 / size at 32 <= 2.2: not measured (needs depths 32 and 64)")
    if 32 in derived:
        seconds = derived[32][0]
        lines.append(f"- depth 32 derived and rendered in {seconds:.3f} s (target < 1 s): {verdict(seconds < 1)}")
        lines.append(speed_up_target(derived, baselines, limit))
    else:
        lines.append("- depth 32 in under 1 s and 20x faster than plain SymPy: not measured (needs depth 32)")
    if 128 in derived:
        peak = derived[128][1]
        lines.append(f"- depth 128 peak memory {peak:.1f} MB (target < 500 MB): {verdict(peak < 500)}")
    else:
        lines.append("- depth 128 peak memory < 500 MB: not measured (needs depth 128)")
    return lines


def speed_up_target(derived: dict, baselines: dict, limit: float) -> str:
    seconds = derived[32][0]
    if isinstance(baselines.get(32), tuple):
        ratio = baselines[32][0] / seconds
        return f"- speed-up over plain SymPy at depth 32 = {ratio:,.0f}x (target >= 20x): {verdict(ratio >= 20)}"
    reached = [d for d, b in baselines.items() if isinstance(b, tuple)]
    stopped = [d for d, b in baselines.items() if b is None]
    deepest = (f"at depth {max(reached)}, the deepest it reached, the speed-up is "
               f"{baselines[max(reached)][0] / derived[max(reached)][0]:,.0f}x" if reached else "it reached no depth")
    if not stopped:
        return f"- speed-up over plain SymPy at depth 32: not measured (SymPy was not run at 32); {deepest}"
    bound = limit / seconds
    return (f"- speed-up over plain SymPy at depth 32 (target >= 20x): SymPy did not reach depth 32 within "
            f"{limit:g} s; {deepest}; it was stopped after {limit:g} s at depth {min(stopped)}, so at depth 32 "
            f"it takes more than {limit:g} s and the speed-up is more than {bound:,.0f}x: {verdict(bound >= 20)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", default=",".join(map(str, DEPTHS)), help="comma-separated depths")
    parser.add_argument("--sympy-limit", type=float, default=60, metavar="SECONDS",
                        help="stop each plain SymPy run after this long; skip deeper ones after a stop")
    parser.add_argument("--solve-depth", type=int, default=64, help="deepest network solved with the check")
    parser.add_argument("--repeat", type=int, default=3, help="solves per depth (the fastest is shown)")
    args = parser.parse_args()
    depths = sorted({int(d) for d in args.depths.split(",")})
    derive_and_render(2)  # loads the templates and the printer, which the first depth should not pay for
    print("| depth | derive time (s) | derive peak (MB) | LaTeX chars | growth | sympy time (s) "
          "| sympy LaTeX chars | speed-up |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    derived, baselines, sizes, running = {}, {}, {}, True
    for depth in depths:
        text, seconds, peak = measure(lambda: derive_and_render(depth))
        derived[depth] = (seconds, peak, len(text))
        sizes[depth] = len(text)
        baselines[depth] = plain_sympy_within(depth, args.sympy_limit) if running else "skipped"
        running = isinstance(baselines[depth], tuple) and baselines[depth][0] <= args.sympy_limit
        print(row(depth, derived[depth], sizes, baselines[depth], args.sympy_limit), flush=True)
    print()
    print("Targets:")
    print("\n".join(targets(derived, baselines, args.sympy_limit)))
    print()
    print("Solve including the check (derive, Solution.check(), document):")
    totals = solve_table(network, [d for d in depths if d <= args.solve_depth], args.repeat, limit=120)
    print()
    print("Targets:")
    print(growth_target(totals))
    print(time_target(totals, 64, 10, "the sigmoid MLP"))


if __name__ == "__main__":
    main()
