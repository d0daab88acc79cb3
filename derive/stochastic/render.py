"""Rendering an `EstimateReport`: the comparison document (.tex with a pgfplots plot, .md), JSON, and a PNG plot.

The words live in `templates/estimate*.j2`; the maths of the derivations comes from derive's engine (the
score of the router, an expert's gradient) rendered by `derive.write.render`, and numbers are printed here.
This module reads reports; it neither differentiates nor samples.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from ..write import render
from .problem import NetworkExpert
from .symbolic import expert_derivation, log_softmax_derivation, sympy_exact_gradient, sympy_expert_gradient

ENTRIES_PER_LINE = 5  # entries of a printed vector on one line: nine four-digit entries overran the margin
MARKS = ("*", "square*", "triangle*", "o", "diamond*", "pentagon*")


class Numbers:
    """What the estimate templates may call: numbers, vectors and matrices as maths, inline maths, escaping."""

    def __init__(self, fmt: str):
        self.fmt = fmt

    def m(self, maths: str) -> str:
        return f"${maths}$" if self.fmt == "md" else rf"\({maths}\)"

    def text(self, words: str) -> str:
        return words if self.fmt == "md" else render._escape_tex(words)

    @staticmethod
    def num(value: float, digits: int = 4) -> str:
        value = float(value)
        if value == 0 or math.isinf(value):
            return "0" if value == 0 else (r"\infty" if value > 0 else r"-\infty")
        if 1e-3 <= abs(value) < 1e5:
            return f"{value:.{digits}g}"
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return rf"{mantissa} \cdot 10^{{{int(exponent)}}}"

    def matrix(self, values) -> str:
        rows = np.atleast_2d(np.asarray(values, dtype=float))
        body = r" \\ ".join(" & ".join(self.num(v) for v in row) for row in rows)
        return rf"\begin{{pmatrix}} {body} \end{{pmatrix}}"

    def row(self, values) -> str:
        return rf"\left({self._entries(values)}\right)"

    def column(self, values) -> str:
        """A column vector printed as a transposed row: (a, b, c)^T."""
        return rf"\left({self._entries(values)}\right)^T"

    def _entries(self, values) -> str:
        """The entries, comma-separated; a long vector wraps, ENTRIES_PER_LINE to a line, so that it stays
        inside the margin."""
        numbers = [self.num(v) for v in np.ravel(values)]
        if len(numbers) <= ENTRIES_PER_LINE:
            return ", ".join(numbers)
        lines = [", ".join(numbers[i:i + ENTRIES_PER_LINE]) for i in range(0, len(numbers), ENTRIES_PER_LINE)]
        columns = "l" if self.fmt == "md" else "@{}l@{}"  # KaTeX and MathJax know no @{}: a little padding there
        return rf"\begin{{array}}{{{columns}}}" + r", \\ ".join(lines) + r"\end{array}"


def _engine_body(report, fmt: str) -> str:
    """derive's own worked solutions for d log p_i / d W_r and for an expert's d L / d u, numbered in sequence."""
    problem = report.problem
    parts = [log_softmax_derivation(problem.k, problem.d).part(with_check=False)]
    trained = [problem.experts[i] for i in problem.trained_experts]
    if any(not isinstance(expert, NetworkExpert) for expert in trained):
        parts.append(expert_derivation(problem.d, problem.loss).part(with_check=False))
    parts += [expert.loss_solution(problem.loss, problem.y).part(with_check=False)
              for expert in trained if isinstance(expert, NetworkExpert)]
    return render.render_body(render.DocumentData("", parts, fmt))


def _parameter_groups(report) -> list[tuple[int, str]]:
    """The trained experts' weights as maths, grouped by expert: [(expert number, "a_{1}, a_{2}, v"), ...]."""
    from ..core.printing import latex

    groups: dict = {}
    for index, name in report.model.labels:
        expert = report.problem.experts[index]
        if isinstance(expert, NetworkExpert):
            maths = latex(next(s for s in expert.parameters if s.name == name))
        else:
            maths = "u_{" + name[2:] + "}"
        groups.setdefault(index + 1, []).append(maths)
    return [(number, ", ".join(names)) for number, names in groups.items()]


def _expert_mean_rows(report, n: "Numbers") -> list[str]:
    """Per estimator two lines (the mean, then its standard error): nine or more entries do not fit on one."""
    rows = []
    for r in report.results:
        if r.experts is not None:
            rows += [rf"\bar{{g}}^{{\theta}}_{{\text{{{n.text(r.name)}}}}} &= {n.row(r.experts.mean)},",
                     rf"\mathrm{{se}} &= {n.row(r.experts.standard_error)}"]
    return rows


def _score_values(report, n: Numbers) -> list[str]:
    """The score-function estimate's k possible values (logit part), each with its probability."""
    model = report.model
    rows = []
    for i in range(report.problem.k):
        gz = model.L[i] * (np.eye(report.problem.k)[i] - model.p)
        rows.append(rf"i = {i + 1}: &\quad L_{{{i + 1}}} (e_{{{i + 1}}} - p) = {n.column(gz)} "
                    rf"&& \text{{with probability }} p_{{{i + 1}}} = {n.num(model.p[i])}")
    return rows


def _mean_rows(report, n: Numbers) -> list[str]:
    return [rf"\bar{{g}}_{{\text{{{n.text(r.name)}}}}} &= {n.matrix(r.mean)}, \qquad \mathrm{{se}} = {n.matrix(r.standard_error)}"
            for r in report.results]


def _plot_series(report) -> list[dict]:
    return [{"label": r.label, "mark": MARKS[i % len(MARKS)], "points": r.curve} for i, r in enumerate(report.results)]


def render_report(report, fmt: str, plot: str | None = None) -> str:
    """The comparison document: `fmt` "tex" (compiles with pdflatex, plot in pgfplots) or "md" (plot as a table)."""
    template = render.environment().get_template(f"estimate.{fmt}.j2")
    return template.render(**_variables(report, fmt, plot))


def _variables(report, fmt: str, plot: str | None, engine: str | None = None) -> dict:
    """What estimate_body.j2 reads; `engine` in place of derive's derivations rendered in `fmt`."""
    check = sympy_exact_gradient(report.problem)
    expert_check = sympy_expert_gradient(report.problem) if report.model.labels else None
    return dict(r=report, model=report.model, problem=report.problem, n=Numbers(fmt),
                engine=_engine_body(report, fmt) if engine is None else engine, series=_plot_series(report), plot=plot,
                jacobian=np.diag(report.model.p) - np.outer(report.model.p, report.model.p),
                sf_values=_score_values(report, Numbers(fmt)), mean_rows=_mean_rows(report, Numbers(fmt)),
                sympy_gap=float(np.max(np.abs(check - report.exact))) if check is not None else None,
                networks=[i + 1 for i, e in enumerate(report.problem.experts) if isinstance(e, NetworkExpert)],
                parameter_groups=_parameter_groups(report),
                expert_mean_rows=_expert_mean_rows(report, Numbers(fmt)),
                expert_gap=float(np.max(np.abs(np.asarray(expert_check) - report.expert_gradient)))
                if expert_check else None)


def report_json(report) -> str:
    """The study for machines: the problem's numbers, the exact gradient and each estimator's figures."""
    model = report.model
    data = {
        "title": report.problem.title, "node": report.problem.node, "parameter": report.problem.parameter,
        "samples": report.samples, "seed": report.seed, "alpha": report.alpha,
        "p": model.p.tolist(), "expert_outputs": model.e.tolist(), "losses": model.L.tolist(),
        "exact_gradient": report.exact.tolist(), "correction": report.correction,
        "expert_parameters": [{"expert": index + 1, "name": name} for index, name in model.labels],
        "expert_exact_gradient": report.expert_gradient.tolist(),
        "estimators": [_result_json(r) for r in report.results],
    }
    return json.dumps(data, indent=2) + "\n"


def _result_json(result) -> dict:
    return {
        "name": result.name, "label": result.label, "biased_by_design": result.biased_by_design,
        "verdict": result.verdict, "consistent_with_unbiased": result.consistent if result.decided else None, "draws": result.draws,
        "mean": result.mean.tolist(), "standard_error": result.standard_error.tolist(), "z": _finite(result.z),
        "bias": result.bias.tolist(), "max_abs_z": _finite(result.max_abs_z), "bonferroni_limit": result.threshold,
        "correction": result.correction, "rejected": result.rejected.tolist(),
        "total_variance_per_draw": result.total_variance,
        "error_curve": [{"draws": n, "rms_error": e} for n, e in result.curve],
        "experts": _comparison_json(result.experts, result.experts_rule),
    }


def _comparison_json(comparison, rule: str) -> dict | None:
    if comparison is None:
        return None
    return {
        "rule": rule, "biased_by_design": comparison.biased_by_design, "verdict": comparison.verdict,
        "consistent_with_unbiased": comparison.consistent if comparison.decided else None,
        "mean": comparison.mean.tolist(), "standard_error": comparison.standard_error.tolist(),
        "z": _finite(comparison.z), "bias": comparison.bias.tolist(), "rejected": comparison.rejected.tolist(),
        "max_abs_z": _finite(comparison.max_abs_z), "bonferroni_limit": comparison.threshold,
    }


def _finite(values):
    """JSON has no infinity: a z-score against a zero standard error is written as null."""
    array = np.asarray(values, dtype=float)
    listed = np.where(np.isfinite(array), array, np.nan).tolist()
    if isinstance(listed, float):
        return None if math.isnan(listed) else listed
    if listed and not isinstance(listed[0], list):
        return [None if math.isnan(v) else v for v in listed]
    return [[None if math.isnan(v) else v for v in row] for row in listed]


def write_plot(report, path) -> None:
    """A log-log PNG of each estimator's RMS error against the number of draws, written atomically."""
    from ..write.output import write_atomically

    write_atomically(path, plot_png(report))


ENGINE_PLACE, PLOT_PLACE = "DERIVEENGINEPLACE", "derive-plot.svg"  # where a page's derivations and plot go


def render_report_page(report) -> str:
    """The comparison as one self-contained web page: the Markdown body of `estimate_body.j2` as HTML with
    MathML, derive's derivations as on a solution's page (numbered, annotated, folding), the plot as SVG."""
    from ..write import html, html_maths

    title = html_maths.words(report.problem.title or "Gradient estimators for a stochastic node")
    page = render.environment().get_template("estimate.html.j2").render(
        page_title=title, page_heading=title, body=report_body_html(report))
    return html.with_contents(page)


def report_body_html(report) -> str:
    """The page's main part (`render_report_page`), also what a notebook shows."""
    from ..write import html_maths

    template = render.environment().get_template("estimate_body.j2")
    body = html_maths.from_markdown(template.render(**_variables(report, "md", PLOT_PLACE, ENGINE_PLACE)))
    engine = html_maths.prose(_engine_body(report, "html"))
    body = body.replace(f"<p>{ENGINE_PLACE}</p>", engine)
    plot = html_maths.inline_svg(plot_png(report, "svg").decode("utf-8"), "Error against the number of draws")
    return re.sub(rf'<img src="{PLOT_PLACE}" alt="[^"]*" ?/?>', lambda _: f'<figure class="plot">{plot}</figure>', body)


def report_body_latex(report) -> str:
    """The comparison's body as LaTeX without the preamble (`estimate_body.j2`), for a notebook."""
    return render.environment().get_template("estimate_body.j2").render(**_variables(report, "tex", None))


def plot_png(report, fmt: str = "png") -> bytes:
    """The error plot as PNG bytes (or `fmt` "svg"; matplotlib, Agg), so that a caller can check every path
    before writing."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for result in report.results:
        if result.curve:
            draws, errors = zip(*result.curve)
            axes.loglog(draws, errors, marker="o", label=result.label)
    axes.set_xlabel("router draws N")
    axes.set_ylabel("RMS error of the N-draw mean (Frobenius)")
    axes.set_title(report.problem.title or "Gradient estimators")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()
