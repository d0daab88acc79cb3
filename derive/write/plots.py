"""Plots of the numeric check: the step sweep (error against step, log-log) as a matplotlib figure (PNG, PDF,
SVG; Agg backend, no display needed) or as pgfplots code for LaTeX documents (`templates/sweep.tex.j2`).

Reads a `derive.check.CheckReport`; knows nothing about derivations.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..core.errors import DeriveError
from .output import write_atomically

IMAGE_FORMATS = (".png", ".pdf", ".svg")
PLOT_FORMATS = IMAGE_FORMATS + (".tex",)


def sweep_pgfplots(report, width: str = r"0.7\textwidth") -> str:
    """The sweep as a pgfplots `tikzpicture` (needs \\usepackage{pgfplots} in the preamble)."""
    from .render import environment

    return environment().get_template("sweep.tex.j2").render(sweep=report.sweep, width=width)


def sweep_image(report, fmt: str = ".png") -> bytes:
    """The sweep drawn by matplotlib: one line per method, the fitted order in the legend, the round-off and
    truncation regimes marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.add_subplot()
    for series in report.sweep:
        points = [(h, e) for h, e in zip(series.steps, series.errors) if e > 0]
        order = "" if series.order is None else f", order {series.order:.2f} (expected {series.expected})"
        axes.loglog(*zip(*points), marker="o", markersize=3, label=f"{series.method}{order}")
    axes.invert_xaxis()
    axes.set_xlabel("step h")
    axes.set_ylabel("|numeric - derived|")
    axes.set_title(f"Step sweep ({report.dtype}): truncation error falls with h, round-off grows as h shrinks",
                   fontsize=9)
    axes.grid(True, which="major", alpha=0.4)
    axes.legend(fontsize=8)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt.lstrip("."), dpi=150)
    return buffer.getvalue()


def write_sweep(report, path: str | Path) -> None:
    """Write the sweep plot to `path`: .png, .pdf or .svg (matplotlib), .tex (pgfplots code)."""
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in PLOT_FORMATS:
        raise DeriveError(f"cannot plot to '{path}': the plot must end in {', '.join(PLOT_FORMATS)}")
    if not report.sweep:
        raise DeriveError("no step sweep to plot: at the first point every step would cross a kink (or the method, "
                          "such as exact, has no steps); no plot written")
    write_atomically(path, sweep_pgfplots(report) if fmt == ".tex" else sweep_image(report, fmt))
