"""Every example's solution page in a real Chromium: it loads from file:// with no console error and nothing
leaving the machine, shows MathML for every numbered equation, and its script works (folding, a reference's
jump and highlight, the pop-up on hover, hiding the shape lines and the notes). A screenshot of each is kept."""

from __future__ import annotations

import re

import pytest

from .browser import open_page, screenshot
from .pages import EXAMPLES, solution_page


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("pages")


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_page_loads_offline_with_mathml_for_every_equation(browser, folder, example):
    text = solution_page(example, folder)
    tags = re.findall(r'id="eq-(\d+)"', text)
    page = open_page(browser, (folder / f"{example.stem}.html").as_uri())
    assert page.derive_errors == [] and page.derive_blocked == []
    rows = page.evaluate("""() => [...document.querySelectorAll('[id^="eq-"]')].map(r =>
        [r.id, r.querySelectorAll('math').length, r.getBoundingClientRect().height])""")
    assert [r[0] for r in rows] == [f"eq-{t}" for t in tags] and tags
    assert all(count >= 1 for _, count, _ in rows)
    screenshot(page, f"solution-{example.stem}")
    page.close()


def test_folding_references_popups_and_hiding_work(browser, folder):
    example = next(p for p in EXAMPLES if p.stem == "two_layer_batch")
    solution_page(example, folder)
    page = open_page(browser, (folder / "two_layer_batch.html").as_uri())
    fold = page.locator("details.derivation").first
    assert fold.evaluate("d => d.open")
    fold.locator("summary").first.click()
    assert not fold.evaluate("d => d.open")
    page.click("button[data-action=unfold]")
    assert page.evaluate("() => [...document.querySelectorAll('details.derivation')].every(d => d.open)")
    page.click("button[data-action=fold]")
    assert page.evaluate("() => [...document.querySelectorAll('details.derivation')].every(d => !d.open)")
    page.click("button[data-action=unfold]")

    link = page.locator("main a.ref").last
    target = link.get_attribute("href").lstrip("#")
    link.hover()
    popup = page.locator("#equation-popup")
    assert popup.is_visible() and popup.locator("math").count() >= 1
    link.click()
    row = page.locator(f"#{target}")
    assert "highlight" in row.get_attribute("class") and row.is_visible()
    assert page.evaluate(f"() => {{ const b = document.getElementById('{target}').getBoundingClientRect();"
                         " return b.top >= 0 && b.bottom <= innerHeight; }")

    shapes = page.locator("tr.shape").first
    assert shapes.is_visible()
    page.click("button[data-action=shapes]")
    assert not shapes.is_visible()
    page.click("button[data-action=shapes]")
    assert shapes.is_visible()
    note = page.locator("td.note:not(:empty)").first
    page.click("button[data-action=notes]")
    assert not note.is_visible()
    assert page.derive_errors == [] and page.derive_blocked == []
    page.close()
