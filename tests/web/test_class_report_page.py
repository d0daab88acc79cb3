"""The class report (derive grade --report class.html) in a real browser: it loads from file:// with no console
error and no request leaving the machine, its histogram's SVG is drawn with a size and one bar per score bin,
and the students' answers are MathML laid out by the browser."""

from __future__ import annotations

import json
from pathlib import Path

from derive.grade.batch import grade
from derive.grade.class_page import report_files

from .browser import open_page, screenshot

BATCH = Path(__file__).resolve().parents[2] / "examples" / "one_layer_batch.yaml"
RIGHT = r"X^T((\hat y - y)\odot\sigma'(XW))"
CLASS = {"a.tex": RIGHT, "b.tex": RIGHT, "c.tex": r"X^T((y - \hat y)\odot\sigma'(XW))",
         "d.tex": r"X^T((y-\hat y)\odot\sigma'(XW))", "e.tex": r"X^T(\hat y - y)",
         "f.tex": RIGHT + r" + \log(W \odot W - 100)", "g.tex": r"((\hat y - y)\odot\sigma'(XW))^T X"}


def test_the_class_report_renders_its_histogram_offline(browser, tmp_path):
    problem = tmp_path / "p.yaml"
    problem.write_text(BATCH.read_text(encoding="utf-8") + "\nrubric:\n  partial: {sign: 0.5}\n", encoding="utf-8")
    (tmp_path / "subs").mkdir()
    for name, text in CLASS.items():
        (tmp_path / "subs" / name).write_text(text, encoding="utf-8")
    files = report_files(grade(problem, tmp_path / "subs"), problem,
                         {tmp_path / "class.html": "html", tmp_path / "class.json": "json"})
    figures = json.loads(files[tmp_path / "class.json"])
    (tmp_path / "class.html").write_text(files[tmp_path / "class.html"], encoding="utf-8")

    page = open_page(browser, (tmp_path / "class.html").as_uri())
    assert page.derive_errors == [] and page.derive_blocked == []
    svg = page.locator("svg#histogram")
    box = svg.bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    assert page.locator("svg#histogram title").first.text_content().startswith("Score distribution")
    bars = page.locator("svg#histogram rect.bar")
    assert bars.count() == len(figures["histogram"]) == 3  # scores 0, 0.5 and 1
    heights = [bars.nth(i).bounding_box()["height"] for i in range(bars.count())]
    counts = [b["students"] for b in figures["histogram"]]
    assert counts == [3, 2, 2] and heights[0] > heights[1] == heights[2] > 0
    assert abs(heights[1] / heights[0] - 2 / 3) < 0.02  # drawn to scale
    example = page.locator("#mistakes td.example math").first.bounding_box()
    assert example["width"] > 20 and example["height"] > 5  # MathML laid out, not raw text
    assert "f.tex" in page.locator("#undecided").text_content()
    assert screenshot(page, "class-report").stat().st_size > 0
    page.close()
