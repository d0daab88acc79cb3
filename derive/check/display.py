"""A check report displayed in a notebook: its per-gradient summary as LaTeX and as HTML with MathML.

One row per gradient: the gradient's name, the largest relative error over the entries the method resolves,
the share of the error budget used, and the verdict's band; then the failing entries. The names are printed
by the one printer (`derive.core.printing`) and converted to MathML by `derive.core.mathml`; this module
writes no maths of its own.
"""

from __future__ import annotations

import html

import sympy

from ..core.mathml import mathml
from ..core.printing import latex as print_latex


def _name(variable: str, loss: str) -> str:
    if variable == "direction":
        return r"\text{along random directions}"
    return rf"\partial {print_latex(sympy.Symbol(loss))} / \partial {print_latex(sympy.Symbol(variable))}"


def _rows(report, loss: str) -> list[tuple[str, str, str, str]]:
    rows = []
    for name in report.variables():
        resolved = len(report._resolved(name))
        if not resolved:
            rows.append((_name(name, loss), "not tested", "-", "too small to resolve"))
            continue
        share = report.max_share(name)
        rows.append((_name(name, loss), f"{report.max_relative_error(name):.1e}",
                     "-" if share is None else f"{share:.2g}", report.band_of(name)))
    return rows


def report_latex(report, loss: str = "L") -> str:
    """The summary as a LaTeX array (for Jupyter's text/latex)."""
    body = r" \\ ".join(rf"{n} & \text{{{e}}} & \text{{{s}}} & \text{{{b}}}" for n, e, s, b in _rows(report, loss))
    head = (rf"\text{{numeric check ({report.method}): {report.verdict}}} \\ "
            r"\text{gradient} & \text{max relative error} & \text{share of budget} & \text{band} \\ ")
    return rf"$$\begin{{array}}{{llll}} {head}{body} \end{{array}}$$"


def report_html(report, loss: str = "L") -> str:
    """The summary as an HTML table, names as MathML, failing entries listed below it."""
    cells = "".join(f"<tr><td>{mathml(n)}</td><td>{html.escape(e)}</td><td>{html.escape(s)}</td>"
                    f"<td>{html.escape(b)}</td></tr>" for n, e, s, b in _rows(report, loss))
    failures = "".join(f"<li>{html.escape(e.describe(loss))}</li>" for e in report.failures()[:10])
    return (f'<div class="derive-check"><p>Numeric check ({html.escape(report.method)}, '
            f'{len(report.entries)} comparisons): <strong>{html.escape(report.verdict)}</strong></p>'
            '<table><thead><tr><th scope="col">gradient</th><th scope="col">max relative error</th>'
            '<th scope="col">share of the error budget</th><th scope="col">band</th></tr></thead>'
            f"<tbody>{cells}</tbody></table>" + (f"<p>Failing entries:</p><ul>{failures}</ul>" if failures else "")
            + "</div>")
