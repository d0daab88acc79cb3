"""The practice page in a real browser, against `derive serve` started on a free port of 127.0.0.1: it loads
with no console error and nothing leaving the machine, typing shows a MathML preview, and a correct answer,
a sign error and a malformed one show "correct", "incorrect: sign" and the reader's one-line error, read
out by the form's live region. Screenshots are kept as artefacts."""

from __future__ import annotations

import pytest

from serve_helpers import CORRECT, EXAMPLE, MALFORMED, ROOT, SIGN_ERROR, Served

from .browser import open_page, screenshot


@pytest.fixture(scope="module")
def served():
    with Served(EXAMPLE, ROOT / "examples" / "two_layer_batch.yaml", "--rate", "600") as server:
        yield server
    assert server.returncode == 0 and "Traceback" not in server.stderr, server.stderr


def _verdict_after(page, answer: str) -> str:
    from playwright.sync_api import expect

    form = page.locator("#problem-one_layer_scalar form.answer")
    form.locator("textarea").fill(answer)
    verdict = form.locator(".verdict")
    form.locator("button.check").click()
    expect(verdict).not_to_have_text("Checking…", timeout=60_000)
    expect(verdict).not_to_have_text("", timeout=60_000)
    return verdict.text_content()


def test_the_page_loads_offline_with_no_error_and_the_statement_in_mathml(browser, served):
    page = open_page(browser, served.url)
    assert page.title() == "Practice: 1 layer network, 1 input (scalar)"
    statement = page.locator("#problem-one_layer_scalar .statement")
    assert statement.locator("math").count() >= 5 and "(2)" in statement.text_content()
    assert page.locator("#problem-two_layer_batch").is_hidden()
    page.select_option("#problem", "two_layer_batch")  # the picker shows the other problem at once
    assert page.locator("#problem-two_layer_batch").is_visible()
    assert page.locator("#problem-one_layer_scalar").is_hidden()
    screenshot(page, "practice-two-layer-batch")
    assert page.derive_errors == [] and page.derive_blocked == []
    page.close()


def test_typing_shows_a_mathml_preview(browser, served):
    page = open_page(browser, served.url)
    textarea = page.locator("#answer-one_layer_scalar")
    textarea.focus()
    page.keyboard.type(r"\frac{\partial L}{\partial w} = x")
    preview = page.locator("#problem-one_layer_scalar .preview math mfrac")
    preview.wait_for(timeout=30_000)
    assert page.locator("#problem-one_layer_scalar .preview math").get_attribute("display") == "block"
    assert page.derive_errors == [] and page.derive_blocked == []
    page.close()


def test_correct_sign_error_and_malformed_answers_show_their_verdicts(browser, served):
    page = open_page(browser, served.url)
    assert page.locator("#problem-one_layer_scalar .verdict").get_attribute("aria-live") == "polite"
    assert _verdict_after(page, CORRECT) == "correct"
    assert _verdict_after(page, SIGN_ERROR) == "incorrect: sign"
    assert "negative" in page.locator("#problem-one_layer_scalar .details").text_content()
    screenshot(page, "practice-sign-error")
    malformed = _verdict_after(page, MALFORMED)
    assert malformed.startswith("cannot read") and "\n" not in malformed
    screenshot(page, "practice-malformed")
    assert page.derive_errors == [] and page.derive_blocked == []
    page.close()


def test_ctrl_enter_checks_from_the_keyboard(browser, served):
    from playwright.sync_api import expect

    page = open_page(browser, served.url)
    page.locator("#answer-one_layer_scalar").focus()
    page.keyboard.type(CORRECT)
    page.keyboard.press("Control+Enter")
    expect(page.locator("#problem-one_layer_scalar .verdict")).to_have_text("correct", timeout=60_000)
    page.close()
