"""The practice page's JSON API and page through Starlette's TestClient: verdicts as `derive verify` gives
them (correct, a sign error, a malformed answer as the reader's one line), bounds (413, 429, an answer over the
reader's limit), unknown problems and gradients (404, one line), the answer log only with --log, the
correct gradient only where the rubric shows it, and the preview's MathML rebuilt from an allow-list."""

from __future__ import annotations

import json
import textwrap
import warnings

import pytest

from serve_helpers import CORRECT, EXAMPLE, MALFORMED, SIGN_ERROR

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from derive.serve.app import create_app
from derive.serve.config import Settings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _client(tmp_path=None, **settings) -> TestClient:
    settings.setdefault("problems", [str(EXAMPLE)])
    settings.setdefault("checks_per_minute", 10_000)
    return TestClient(create_app(Settings(**settings)))


@pytest.fixture(scope="module")
def client():
    return _client()


def _check(client, answer, problem="one_layer_scalar", gradient="w"):
    return client.post("/api/check", json={"problem": problem, "gradient": gradient, "answer": answer})


def test_a_correct_answer_is_correct_and_says_what_it_was_read_as(client):
    response = _check(client, CORRECT)
    assert response.status_code == 200
    body = response.json()
    assert (body["outcome"], body["line"]) == ("correct", "correct")
    assert body["read_as"].startswith("<math") and "<mi>x</mi>" in body["read_as"]
    assert "answer" not in body  # the rubric does not show the gradient


def test_the_negated_gradient_is_a_sign_error_and_never_shows_the_gradient(client):
    body = _check(client, SIGN_ERROR).json()
    assert (body["outcome"], body["line"]) == ("incorrect", "incorrect: sign")
    assert "negative" in body["diagnosis"]
    assert "answer" not in body


def test_a_malformed_answer_is_the_readers_one_line_error(client):
    body = _check(client, MALFORMED).json()
    assert body["outcome"] == "invalid"
    assert body["line"].startswith("cannot read") and "\n" not in body["line"]


def test_an_answer_over_the_readers_limit_is_refused_in_one_line(client):
    body = _check(client, "x + " * 1001).json()
    assert body["outcome"] == "invalid"
    assert body["line"] == "the answer is 4004 characters long; the limit is 4000"


@pytest.mark.parametrize("problem, gradient, words", [("nope", "w", "no problem 'nope' here (known: one_layer_scalar)"),
                                                       ("one_layer_scalar", "v", "asks for no gradient")])
def test_an_unknown_problem_or_gradient_is_404_with_one_line(client, problem, gradient, words):
    response = _check(client, CORRECT, problem, gradient)
    assert response.status_code == 404
    assert words in response.json()["error"] and "\n" not in response.json()["error"]


def test_a_body_over_the_limit_is_413_whether_declared_or_streamed(client):
    assert client.post("/api/check", content=b"{" + b" " * 20_000 + b"}").status_code == 413

    def chunks():  # no Content-Length: the body is counted as it arrives
        for _ in range(40):
            yield b" " * 1024

    response = client.post("/api/check", content=chunks())
    assert response.status_code == 413 and "limit" in response.json()["error"]


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'{"problem": 1, "gradient": "w", "answer": "x"}'])
def test_a_request_that_is_not_the_expected_json_is_400(client, body):
    response = client.post("/api/check", content=body)
    assert response.status_code == 400 and response.json()["error"]


def test_a_client_over_its_rate_gets_429_with_retry_after():
    client = _client(checks_per_minute=6)
    statuses = [_check(client, MALFORMED).status_code for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[-1] == 429  # a burst of 5, then one per 10 s
    refused = _check(client, MALFORMED)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_answers_are_logged_only_with_log(tmp_path, client):
    log = tmp_path / "answers.jsonl"
    logged = _client(log=str(log))
    _check(logged, CORRECT)
    _check(logged, SIGN_ERROR)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(x["problem"], x["gradient"], x["answer"], x["verdict"]) for x in lines] == [
        ("one_layer_scalar", "w", CORRECT, "correct"), ("one_layer_scalar", "w", SIGN_ERROR, "incorrect")]
    assert lines[1]["diagnosis"] == "sign" and lines[0]["time"].endswith("+00:00")
    assert (log.stat().st_mode & 0o077) == 0  # readable by its owner only
    before = sorted(p.name for p in tmp_path.iterdir())
    _check(client, CORRECT)  # the module's app has no log: nothing is written anywhere here
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_the_gradient_is_shown_after_a_wrong_answer_only_when_the_rubric_allows(tmp_path):
    shown = tmp_path / "shown.yaml"
    shown.write_text(EXAMPLE.read_text() + "rubric:\n  show_answer: true\n")
    client = _client(problems=[str(shown)])
    assert "answer" in _check(client, SIGN_ERROR, "shown").json()
    assert "answer" not in _check(client, CORRECT, "shown").json()


def test_the_page_lists_the_problems_with_their_statement_in_mathml_and_strict_headers(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.text
    assert "1 layer network, 1 input (scalar)" in page and page.count("<math") >= 5
    assert 'aria-live="polite"' in page and '<label for="answer-one_layer_scalar">' in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/1998/Math/MathML"', "")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert client.get("/static/practice.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/?problem=nope").status_code == 404


def test_the_preview_is_mathml_or_one_line(client):
    good = client.post("/api/preview", json={"text": r"$\frac{a}{b}$"}).json()
    assert good["mathml"].startswith("<math") and "<mfrac>" in good["mathml"]
    assert client.post("/api/preview", json={"text": r"\frac{"}).json()["error"].startswith("cannot show this yet")
    deep = client.post("/api/preview", json={"text": "{" * 1500 + "x" + "}" * 1500}).json()
    assert deep == {"error": "the maths nests too deeply to show"}


@pytest.mark.parametrize("text", [r"\text{<script>alert(1)</script>}", r"\text{<img src=x onerror=alert(1)>}"])
def test_markup_in_the_text_never_reaches_the_page(client, text):
    body = client.post("/api/preview", json={"text": text}).json()
    assert "<script" not in json.dumps(body) and "<img" not in json.dumps(body)


def test_attributes_off_the_allow_list_are_dropped(client):
    body = client.post("/api/preview", json={"text": r"\href{javascript:alert(1)}{x} \style{color:red}{y}"}).json()
    assert "mathml" in body and "javascript" not in body["mathml"] and "style=" not in body["mathml"]


def test_a_bad_problem_file_fails_before_serving(tmp_path):
    from derive.core.errors import DeriveError

    bad = tmp_path / "bad.yaml"
    bad.write_text(textwrap.dedent("""
        symbols: [x]
        definitions: [L = \\frac{x}{]
        loss: L
        wrt: [x]
    """))
    with pytest.raises(DeriveError):
        create_app(Settings(problems=[str(bad)]))
