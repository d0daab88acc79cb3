"""A trace's page (`derive trace ... -o t.html`) and an estimator report's page (`derive estimate ... -o r.html`)
in a real Chromium: each loads from file:// with no console error and no request leaving the machine, its
maths is MathML laid out by the browser (not TeX left as text), its drawing (the computational graph, the
error plot) is inline SVG with a size; a screenshot of each is kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cli_helpers import assert_no_traceback, run_cli

from .browser import open_page, screenshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _written(folder: Path, *args) -> Path:
    result = run_cli(folder, *args)
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    return folder / args[args.index("-o") + 1]


def _laid_out_maths(page) -> list:
    """[width, height] of every <math> the browser drew."""
    return page.evaluate("() => [...document.querySelectorAll('main math')].map(m => {"
                         " const b = m.getBoundingClientRect(); return [b.width, b.height]; })")


def _visible_tex(page) -> list:
    text = page.evaluate("() => { const c = document.querySelector('main').cloneNode(true);"
                         " c.querySelectorAll('math, svg, script, style').forEach(e => e.remove()); return c.innerText; }")
    return re.findall(r"\\[A-Za-z]+|\$", text)


@pytest.mark.parametrize("args, name", [
    (("trace", "--expr", r"\ln x_1 + x_1 x_2 - \sin x_2", "--at", "x1=2,x2=5"), "trace-expression"),
    (("trace", str(EXAMPLES / "one_layer_scalar.yaml"), "--at", "x=1.5,y=1,w=-1/2"), "trace-one_layer_scalar"),
], ids=["expression", "problem"])
def test_a_trace_page_loads_offline_with_its_tables_as_mathml(browser, tmp_path, args, name):
    path = _written(tmp_path, *args, "-o", "t.html")
    page = open_page(browser, path.as_uri())
    assert page.derive_errors == [] and page.derive_blocked == []
    maths = _laid_out_maths(page)
    assert len(maths) >= 10 and all(w > 0 and h > 0 for w, h in maths)
    assert page.locator("main table").count() >= 2  # the forward and reverse tables
    assert _visible_tex(page) == []
    graph = page.locator("figure.graph svg")
    assert graph.count() == 1 and graph.bounding_box()["width"] > 100  # Graphviz is installed with the tests
    assert screenshot(page, name).stat().st_size > 0
    page.close()


def test_an_estimate_page_loads_offline_with_its_derivations_and_plot(browser, tmp_path):
    path = _written(tmp_path, "estimate", str(EXAMPLES / "router.yaml"), "--samples", "2000", "-o", "r.html")
    page = open_page(browser, path.as_uri())
    assert page.derive_errors == [] and page.derive_blocked == []
    maths = _laid_out_maths(page)
    assert len(maths) >= 50 and all(w > 0 and h > 0 for w, h in maths if w or h)
    assert sum(1 for w, h in maths if w > 0) >= 50  # folded derivations hide some; the rest are drawn
    numbered = page.locator("main tr[id^=eq-]")
    assert numbered.count() >= 1 and numbered.first.locator("math").count() >= 1
    plot = page.locator("figure.plot svg")
    assert plot.count() == 1 and plot.bounding_box()["height"] > 100
    assert _visible_tex(page) == []
    assert screenshot(page, "estimate-router").stat().st_size > 0
    page.close()
