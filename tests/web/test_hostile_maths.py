r"""Markup hidden in maths never reaches a page: `\text{<script>}`, `\href{javascript:...}`, a document type
declaring entities, whether the maths is a problem author's (the solution page), a student's answer (the
class report) or a student typing (the practice page's preview). All of them go through the one allow-list of
`derive.core.mathml`; what it cannot rebuild is refused (one line) or shown as escaped text."""

from __future__ import annotations

import json
import re
import warnings

import pytest

from cli_helpers import assert_no_traceback, run_cli, write_problem

from derive.core.mathml import UnsafeMathML, mathml, safe_mathml

HOSTILE = [r"\text{<script>alert(1)</script>}", r"\text{<img src=x onerror=alert(1)>}",
           r"\href{javascript:alert(1)}{x}", r"\text{<!DOCTYPE m [<!ENTITY a 'aaaa'>]>&a;}",
           r"\text{<?xml-stylesheet href='http://evil/x.xsl'?>}", r"\text{&lt;script&gt;alert(1)&lt;/script&gt;}"]


def _leaks(markup: str) -> list[str]:
    """What a browser would act on, outside the page's own script and styles and the LaTeX kept as text in
    `alttext` (an attribute's value, escaped)."""
    markup = re.sub(r"<script>\s*/\* derive.s web pages.*?</script>|<style>.*?</style>", "", markup, flags=re.S)
    markup = re.sub(r' alttext="[^"<]*"', "", markup)
    return re.findall(r"<(?:script|img|iframe)\b|<[^<>]*\s(?:on[a-z]+|href|src)=\"(?!#)|<!ENTITY|<\?xml-", markup)


@pytest.mark.parametrize("tex", HOSTILE)
def test_the_converter_never_writes_markup_that_is_not_mathml(tex):
    for convert in (mathml, safe_mathml):
        try:
            written = convert(tex)
        except UnsafeMathML:
            continue
        assert written.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML"') and not _leaks(written), written


@pytest.mark.parametrize("tex", HOSTILE)
def test_a_solution_page_never_carries_markup_from_the_problem(tex, tmp_path):
    description = json.dumps(f"A unit with input $x$ and ${tex}$.")  # JSON is YAML: the text as it is
    write_problem(tmp_path, r"""
        title: "hostile"
        description: DESCRIPTION
        symbols: [x, y, w]
        definitions:
          - \hat{y} = \sigma(w x)
          - L = \frac{1}{2} (y - \hat{y})^2
        loss: L
        wrt: [w]
    """.replace("DESCRIPTION", description))
    result = run_cli(tmp_path, "solve", "p.yaml", "-o", "out.html")
    assert_no_traceback(result)
    if result.returncode:  # refused: one line, no page
        assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "MathML" in result.stderr
        assert not (tmp_path / "out.html").exists()
    else:
        page = (tmp_path / "out.html").read_text(encoding="utf-8")
        assert "<math" in page and not _leaks(page)


def test_a_class_report_shows_hostile_answers_as_text():
    import sympy

    from derive.grade.batch import Batch, Rubric, StudentResult
    from derive.grade.class_page import class_page
    from derive.grade.class_report import class_report

    class Problem:
        title, loss, wrt = "hostile", sympy.Symbol("L"), [sympy.Symbol("w")]

    def verdict(i, tex):
        if i % 2:
            return {"outcome": "incorrect", "read_as": tex, "reason": "", "diagnosis": {"kind": f"k{i}", "message": "a slip"}}
        return {"outcome": "undecided", "read_as": tex, "reason": "why", "diagnosis": None}

    batch = Batch([StudentResult(f"s{i}.tex", {"w": verdict(i, tex)}, 0, 1.0) for i, tex in enumerate(HOSTILE)],
                  1.0, len(HOSTILE), len(HOSTILE))
    page = class_page(class_report(batch, Problem(), Rubric()))
    assert not _leaks(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # shown, as text


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_practice_preview_never_returns_markup():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from derive.serve.app import create_app
    from derive.serve.config import Settings
    from serve_helpers import EXAMPLE

    client = TestClient(create_app(Settings(problems=[str(EXAMPLE)], checks_per_minute=10_000)))
    for tex in HOSTILE:
        body = client.post("/api/preview", json={"text": tex}).json()
        assert set(body) in ({"mathml"}, {"error"}), body
        assert not _leaks(body.get("mathml", "")) and "<" not in body.get("error", "<")[1:], body
