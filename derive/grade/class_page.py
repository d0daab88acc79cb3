"""The class report as a page for the instructor: one self-contained HTML file that reads offline (inline CSS,
the histogram as inline SVG, answers as MathML, no script, nothing fetched; its Content-Security-Policy forbids
any), rendered from a `ClassReport` through `templates/class_report.html.j2`, which holds its words.

What lives here: the histogram's geometry (`histogram`), the students' answers as MathML (`answer_mathml`), the
diagnoses' sentences with their maths as MathML (`sentence_html`),
`class_page`, and the report's files for `derive grade --report` (`report_files`). The figures are `class_report.py`'s.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup

from ..core.errors import DeriveError
from ..core.mathml import mathml
from ..write.render import environment
from .batch import load_problem, load_rubric
from .class_report import ClassReport, class_report

@dataclass(frozen=True, slots=True)
class Bar:
    """One bin's bar in the histogram's coordinates (SVG user units, y downwards)."""

    x: float
    y: float
    width: float
    height: float
    label: str  # the score or the range of scores under it
    students: int


@dataclass(frozen=True, slots=True)
class Histogram:
    """The score histogram laid out: the plot's box, its bars and the ticks of the students' axis."""

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    bars: tuple
    ticks: tuple  # ((y, count), ...)


def histogram(report: ClassReport, width: int = 640, height: int = 300) -> Histogram:
    """The bars and ticks of the score histogram, one bar per bin of `report.histogram`."""
    left, top, right, bottom = 56, 20, width - 16, height - 56
    most = max([b.students for b in report.histogram] + [1])
    step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10 ** 9) if most / s <= 8)
    top_count = -(-most // step) * step  # the axis ends on a tick at or above the tallest bar
    scale = (bottom - top) / top_count
    slot = (right - left) / max(len(report.histogram), 1)
    bars = tuple(Bar(round(left + i * slot + slot * 0.1, 2), round(bottom - b.students * scale, 2),
                     round(slot * 0.8, 2), round(b.students * scale, 2), _bin_label(b.low, b.high), b.students)
                 for i, b in enumerate(report.histogram))
    ticks = tuple((round(bottom - c * scale, 2), c) for c in range(0, top_count + 1, step))
    return Histogram(width, height, left, top, right, bottom, bars, ticks)


def _bin_label(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


@functools.lru_cache(maxsize=4096)  # a class writes the same answers again and again
def answer_mathml(tex: str) -> Markup | None:
    """A student's answer (LaTeX, at most a few hundred characters) as MathML, or None when it does not convert
    (the page then shows the text, escaped). The MathML is `derive.core.mathml`'s, rebuilt from its allow-list,
    so that text in the answer (`\\text{<script>...}`, a stray `&`) can only ever be text on the page."""
    try:
        return Markup(mathml(tex))
    except DeriveError:
        return None


def sentence_html(text: str, maths=()) -> Markup:
    """A diagnosis sentence for the page: its words escaped, each of its pieces of LaTeX (`maths`, verbatim and
    in order, as the diagnosis wrote them) as MathML (as code where it does not convert)."""
    import html

    out, position = [], 0
    for piece in maths:
        found = text.find(piece, position) if piece else -1
        if found < 0:
            continue
        converted = answer_mathml(piece)
        out.append(html.escape(text[position:found], quote=False))
        out.append(converted if converted is not None else f"<code>{html.escape(piece, quote=False)}</code>")
        position = found + len(piece)
    out.append(html.escape(text[position:], quote=False))
    return Markup("".join(out))


@functools.cache
def _html_environment() -> jinja2.Environment:
    """derive.write's template environment, escaping what it puts in HTML."""
    return environment().overlay(autoescape=True)


def class_page(report: ClassReport) -> str:
    """The instructor's page of `report`."""
    return _html_environment().get_template("class_report.html.j2").render(
        report=report, data=report.to_dict(), histogram=histogram(report), mathml=answer_mathml, sentence=sentence_html,
        wrt_tex={g.wrt: g.latex for g in report.gradients})


def report_files(batch, problem_path: Path, formats: dict) -> dict:
    """{path: text} of the class report of `batch`, graded against the problem file `problem_path`, for each
    {path: "html" or "json"} in `formats`."""
    problem = load_problem(problem_path, trust=True)  # graded already, so refused before if it was not trusted
    report = class_report(batch, problem, load_rubric(problem_path, problem), Path(problem_path).name)
    return {path: class_page(report) if kind == "html" else report.to_json() for path, kind in formats.items()}
