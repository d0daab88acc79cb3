"""Every document derive writes, for every example and a few larger problems: solve (plain, and with the
check's plot and comparison), demo and demo --all, trace (the mlp shorthand's too, where it has no one-hot
target), estimate; and, apart (`pictures`), the pgfplots picture `derive check --plot sweep.tex` writes. Each document is built lazily by name, so
pytest can spread the compilations over its workers; the page and wording tests share the list."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
LARGER = Path(__file__).resolve().parent / "larger_problems"


# The smallest document a user \\inputs the check's pgfplots picture in (as the solution's preamble loads it).
STANDALONE_PLOT = (
    "\\documentclass[11pt]{article}\n\\usepackage{amsmath}\n\\usepackage[margin=2.5cm]{geometry}\n"
    "\\usepackage{pgfplots}\n\\pgfplotsset{compat=1.16}\n\\begin{document}\n\\begin{center}\nPICTURE\n"
    "\\end{center}\n\\end{document}\n")


def _is_stochastic(path: Path) -> bool:
    return "stochastic" in yaml.safe_load(path.read_text(encoding="utf-8"))


def _problems() -> list[Path]:
    return sorted(EXAMPLES.glob("*.yaml")) + sorted(LARGER.glob("*.yaml"))


def trace_point(path: Path) -> str | None:
    """A point to trace a problem file at (its inputs; sizes n set to 2), or None when traces refuse it (one-hot
    targets, as the mlp shorthand's cross-entropy has)."""
    symbols = yaml.safe_load(path.read_text(encoding="utf-8")).get("symbols")
    if symbols is None:
        from derive.solve.problem import Problem

        network = Problem.from_yaml(path).network
        if network.one_hot:
            return None
        symbols = {s.name: (list(s.shape) if hasattr(s, "shape") else "scalar") for s in network.inputs.values()}
    shapes = symbols if isinstance(symbols, dict) else {name: "scalar" for name in symbols}
    values = iter(((k % 7) - 3) / 4 + 0.125 for k in range(1000))
    parts = []
    for name, shape in shapes.items():
        if shape == "scalar":
            parts.append(f"{name}={next(values)}")
            continue
        rows, columns = (int(size) if str(size).isdigit() else 2 for size in shape)
        matrix = ",".join("[" + ",".join(str(next(values)) for _ in range(columns)) + "]" for _ in range(rows))
        parts.append(f"{name}=[{matrix}]")
    return ", ".join(parts)


def kinds() -> list[tuple[str, str, Path | None]]:
    """(id, kind, problem file) of every document: the ids name the kind and the problem."""
    found: list[tuple[str, str, Path | None]] = [("demo", "demo", None), ("demo-all", "demo-all", None)]
    for path in _problems():
        if _is_stochastic(path) or path.stem == "router_mlp":
            found.append((f"estimate-{path.stem}", "estimate", path))
            if _is_stochastic(path):
                continue
        found.append((f"solve-{path.stem}", "solve", path))
        found.append((f"solve-plot-compare-{path.stem}", "solve-plot-compare", path))
        if trace_point(path) is not None:
            found.append((f"trace-{path.stem}", "trace", path))
    return found


def pictures() -> list[tuple[str, str, Path | None]]:
    """(id, kind, problem file) of the pictures derive writes on their own, for every example: the check's step
    sweep (`derive check P --plot sweep.tex`), audited as pages in the smallest document that \\inputs it
    (no words to read, so not among `kinds`)."""
    return [(f"check-plot-{path.stem}", "check-plot", path) for path in sorted(EXAMPLES.glob("*.yaml"))
            if not _is_stochastic(path)]


@lru_cache(maxsize=None)
def build(kind: str, path: Path | None, fmt: str = "tex") -> str:
    """The document of this kind, in LaTeX (`tex`) or Markdown (`md`), as the CLI writes it."""
    if kind in ("demo", "demo-all"):
        from derive.cli.demo import seed_003_document

        return seed_003_document(fmt, everything=kind == "demo-all")[0]
    if kind == "estimate":
        from derive.stochastic.estimators import estimate

        report = estimate(path, None, samples=2000, seed=0, tau=None)
        return report.document() if fmt == "tex" else report.markdown()
    if kind == "trace":
        from derive.tracing.tracer import trace

        traced = trace(path, trace_point(path))
        return traced.document() if fmt == "tex" else traced.markdown()
    from derive.solve.problem import Problem

    problem = Problem.from_yaml(path)
    solution = problem.solve()
    if kind == "check-plot":  # `derive check P --plot sweep.tex`: a picture to \input (LaTeX only)
        from derive.write.plots import sweep_pgfplots

        picture = sweep_pgfplots(solution.check(points=3, seed=0, method="central"))
        return STANDALONE_PLOT.replace("PICTURE", picture)
    compare = kind == "solve-plot-compare"
    solution.report = solution.check(points=3, seed=0, method="central", compare=compare)
    extras = ("sweep", "comparison") if compare else ()
    if fmt == "md":
        return solution.markdown(description=problem.description, check_extras=extras)
    return solution.document(description=problem.description, check_extras=extras)
