"""The browser itself: a local page loads, runs its script, and a request off the machine is blocked."""

from __future__ import annotations

from .browser import open_page, screenshot


def test_a_local_page_runs_its_script_and_nothing_leaves_the_machine(browser, tmp_path):
    page_file = tmp_path / "page.html"
    page_file.write_text(
        "<!doctype html><html lang=en><title>t</title><body><p id=p>before</p>"
        "<img src='https://example.org/x.png' alt=''>"
        "<script>document.getElementById('p').textContent = 'after'</script></body></html>")
    page = open_page(browser, page_file.as_uri())
    assert page.text_content("#p") == "after"
    assert page.derive_blocked == ["https://example.org/x.png"]
    assert screenshot(page, "browser-self-test").stat().st_size > 0
    page.close()
