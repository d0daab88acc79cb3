"""What `derive solve` costs per depth: derive, check, document, and how the total grows per doubling of depth.

Shared by `scalar_depth.py` and `depth.py`. A solve is what the command does: `Solution.derive` for every
parameter, the default numeric check (`Solution.check()`: central differences at 3 points plus the step sweep),
and the LaTeX document with the check's verdict. Each depth runs `repeat` times (SymPy's cache cleared before
each run, so that no run profits from another); the table shows the fastest run and the range, because the
machine may be shared. The target: the total grows linearly in depth within a factor 1.5, i.e. at most
2 x 1.5 = 3 times per doubling.
"""

from __future__ import annotations

import time

from sympy.core.cache import clear_cache

from derive.solve.derivation import Solution

GROWTH_LIMIT = 3.0  # per doubling of depth: linear (2) within a factor 1.5


def solve(build, depth: int) -> tuple[float, float, float, str]:
    """(derive, check, document seconds, verdict) of one solve of the network `build(depth)` returns."""
    net, loss, parameters = build(depth)
    clear_cache()
    start = time.perf_counter()
    solution = Solution.derive(net, loss, parameters)
    derived = time.perf_counter()
    solution.report = solution.check()
    checked = time.perf_counter()
    solution.document()
    written = time.perf_counter()
    return derived - start, checked - derived, written - checked, solution.report.verdict


def solve_table(build, depths, repeat: int = 3, limit: float | None = None) -> dict:
    """Print one Markdown row per depth (fastest of `repeat` solves, and the range of the totals) and return
    {depth: fastest total}; depths after one whose fastest solve exceeds `limit` seconds are skipped."""
    print("| depth | derive (s) | check (s) | document (s) | solve incl. check (s) | range (s) | x per doubling "
          "| verdict |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|", flush=True)
    totals: dict = {}
    solve(build, depths[0])  # loads the templates, the printer and NumPy's functions, which no depth should pay for
    for depth in depths:
        runs = [solve(build, depth) for _ in range(repeat)]
        best = min(runs, key=lambda r: sum(r[:3]))
        total = sum(best[:3])
        spread = [sum(r[:3]) for r in runs]
        previous = totals.get(depth // 2) if depth % 2 == 0 else None
        growth = f"{total / previous:.2f}" if previous else "–"
        totals[depth] = total
        print(f"| {depth} | {best[0]:.3f} | {best[1]:.3f} | {best[2]:.3f} | {total:.3f} | "
              f"{min(spread):.2f}–{max(spread):.2f} | {growth} | {best[3]} |", flush=True)
        if limit is not None and total > limit:
            break
    return totals


def growth_target(totals: dict) -> str:
    """Whether every doubling measured stayed within GROWTH_LIMIT."""
    ratios = {d: totals[d] / totals[d // 2] for d in totals if d % 2 == 0 and d // 2 in totals}
    if not ratios:
        return "- growth per doubling: not measured (needs two depths, one twice the other)"
    worst = max(ratios, key=ratios.get)
    met = "met" if ratios[worst] <= GROWTH_LIMIT else "NOT met"
    return (f"- solve including the check grows at most {ratios[worst]:.2f}x per doubling (worst: depth {worst // 2} "
            f"-> {worst}; target <= {GROWTH_LIMIT:g}x, linear within a factor 1.5): {met}")


def time_target(totals: dict, depth: int, seconds: float, what: str) -> str:
    if depth not in totals:
        return f"- {what} of depth {depth} solved and checked in under {seconds:g} s: not measured"
    met = "met" if totals[depth] < seconds else "NOT met"
    return f"- {what} of depth {depth} solved and checked in {totals[depth]:.2f} s (target < {seconds:g} s): {met}"
