r"""derive grade --report: the class report's figures (class_report.py), its page (class_page.py) and the CLI.

One class of twelve is graded once, by the CLI, with --csv and both reports: the HTML and the JSON must agree
with the CSV (one set of results), the most common mistake is the one planted most often, the mistakes name no
one and the undecided answers name their submission. The figures' edge cases use hand-made results."""

from __future__ import annotations

import csv
import io
import json
import re
import textwrap
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import sympy

from derive.grade.batch import Batch, Rubric, StudentResult
from derive.grade.class_page import answer_mathml, class_page, histogram
from derive.grade.class_report import OUTCOMES, SCHEMA, class_report, mistakes, possible_scores, score_bins
from cli_helpers import assert_bad_input, assert_no_traceback, part_files, run_cli

TWO = Path(__file__).resolve().parents[2] / "examples" / "two_layer_batch.yaml"
W1, W2 = "W^{(1)}", "W^{(2)}"
W1_RIGHT = r"X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)"
W1_SIGN = r"X^T\left(\left((y - \hat y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\odot\sigma'(XW^{(1)})\right)"
W1_MISSING = r"X^T\left(\left((\hat y - y)\odot\sigma'(HW^{(2)})\right)W^{(2)T}\right)"
W2_RIGHT = r"H^T((\hat y - y)\odot\sigma'(HW^{(2)}))"
W2_SIGN = r"H^T((y - \hat y)\odot\sigma'(HW^{(2)}))"
W2_MISSING = r"H^T(\hat y - y)"
W2_UNDECIDED = r"H^T((\hat y - y)\odot\sigma'(HW^{(2)})) + \log(W^{(2)} \odot W^{(2)} - 100)"


def answer(wrt: str, text: str) -> str:
    return rf"\frac{{\partial L}}{{\partial {wrt}}} = {text}"


def both(w1: str, w2: str) -> str:
    return answer(W1, w1) + "\n\n" + answer(W2, w2) + "\n"


CLASS = {  # student: submission; sign errors in W^(1) are the commonest mistake (3), then in W^(2) (2)
    "amelia.tex": both(W1_RIGHT, W2_RIGHT), "bruno.tex": both(W1_RIGHT, W2_RIGHT.replace("H^T", "H^T ")),
    "chidi.tex": both(W1_SIGN, W2_SIGN), "dana.tex": both(W1_SIGN, W2_RIGHT), "emeka.tex": both(W1_RIGHT, W2_SIGN),
    "farah.tex": both(W1_MISSING, W2_RIGHT), "gustav.tex": both(W1_SIGN.replace("X^T", "X^T "), W2_MISSING),
    "hiroshi.tex": both(W1_RIGHT, W2_UNDECIDED), "ines.tex": answer(W2, W2_RIGHT), "jonas.pdf": b"%PDF\x00\x01",
    "kemal.tex": both(r"X^T(\hat y - y", W2_RIGHT), "lena.tex": both(W1_RIGHT, W2_RIGHT),
}
NAMES = [Path(name).stem for name in CLASS]
RUBRIC = "rubric:\n  partial: {sign: 0.5}\n"  # scores 0, 0.5, ..., 2: five bins


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded once by the CLI: (folder, CSV rows, JSON report, HTML report)."""
    folder = tmp_path_factory.mktemp("class")
    problem = folder / "two_layer_batch.yaml"
    problem.write_text(TWO.read_text(encoding="utf-8") + "\n" + RUBRIC, encoding="utf-8")
    (folder / "subs").mkdir()
    for name, content in CLASS.items():
        path = folder / "subs" / name
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    result = run_cli(folder, "grade", problem.name, "subs", "--csv", "grades.csv", "--report", "class.html",
                     "--report", "class.json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO((folder / "grades.csv").read_text(encoding="utf-8"))))
    return (folder, rows, json.loads((folder / "class.json").read_text(encoding="utf-8")),
            (folder / "class.html").read_text(encoding="utf-8"))


class PageFigures(HTMLParser):
    """What the page shows: per gradient row its outcome counts, and the histogram's bars."""

    def __init__(self, page: str):
        super().__init__()
        self.outcomes, self.bars, self.mistake_kinds = {}, [], []
        self._row, self._cell = None, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-wrt" in attrs and "data-kind" not in attrs:
            self._row = self.outcomes.setdefault(attrs["data-wrt"], {})
        if tag == "tr" and "data-kind" in attrs:
            self.mistake_kinds.append((attrs["data-wrt"], attrs["data-kind"]))
        if tag == "td" and "data-outcome" in attrs:
            self._cell = attrs["data-outcome"]
        if tag == "rect" and attrs.get("class") == "bar":
            self.bars.append((attrs["data-score"], int(attrs["data-students"])))

    def handle_data(self, data):
        if self._cell and data.strip():
            self._row[self._cell] = int(data.split()[0])
            self._cell = None


def csv_outcomes(rows) -> dict:
    return {w: {k: sum(r[f"{w} outcome"] == k for r in rows) for k in OUTCOMES} for w in (W1, W2)}


def test_the_json_agrees_with_the_csv(graded):
    _, rows, report, _ = graded
    assert report["schema"] == SCHEMA and report["students"] == len(rows) == len(CLASS)
    assert {g["wrt"]: g["outcomes"] for g in report["gradients"]} == csv_outcomes(rows)
    scores = Counter(float(r["score"]) for r in rows)
    assert {b["low"]: b["students"] for b in report["histogram"]} == {s: scores[s] for s in (0, 0.5, 1, 1.5, 2)}
    assert all(b["low"] == b["high"] for b in report["histogram"])
    assert report["scores"]["mean"] == pytest.approx(sum(float(r["score"]) for r in rows) / len(rows), abs=1e-4)
    assert report["max_score"] == 2.0 and report["scores"]["max"] == 2.0


def test_the_page_agrees_with_the_csv(graded):
    _, rows, report, page = graded
    shown = PageFigures(page)
    assert shown.outcomes == csv_outcomes(rows)
    scores = Counter(float(r["score"]) for r in rows)
    assert shown.bars == [(f"{s:g}", scores[s]) for s in (0, 0.5, 1, 1.5, 2)]
    assert shown.mistake_kinds == [(m["wrt"], m["kind"]) for m in report["mistakes"]]


def test_the_counts_of_the_planted_class(graded):
    _, _, report, _ = graded
    outcomes = {g["wrt"]: g["outcomes"] for g in report["gradients"]}
    assert outcomes[W1] == {"correct": 5, "incorrect": 4, "undecided": 0, "invalid": 1, "missing": 2}
    assert outcomes[W2] == {"correct": 7, "incorrect": 3, "undecided": 1, "invalid": 0, "missing": 1}
    assert [(m["wrt"], m["kind"], m["students"]) for m in report["mistakes"]] == [
        (W1, "sign", 3), (W2, "sign", 2), (W1, "missing_factor", 1), (W2, "missing_factor", 1)]
    assert report["mistakes"][0]["share"] == 0.25
    assert "negative of the gradient" in report["mistakes"][0]["example"]["diagnosis"]
    assert report["histogram"][2] == {"low": 1.0, "high": 1.0, "students": 5}


def test_the_example_of_a_mistake_is_the_answer_as_read(graded):
    _, _, report, _ = graded
    sign = report["mistakes"][0]["example"]["answer"]  # as derive read it: gustav's extra space is gone
    assert r"y - \hat{y}" in sign and sign.startswith("X^T")


def test_mistakes_name_no_one_and_undecided_answers_name_their_submission(graded):
    _, _, report, page = graded
    section = page[page.index('id="mistakes"'):page.index('id="undecided"')]
    assert "<math" in section  # the examples are rendered as maths
    for name in NAMES:
        assert name not in section
        assert name not in json.dumps(report["mistakes"])
    assert [(u["student"], u["wrt"]) for u in report["undecided"]] == [("hiroshi.tex", W2)]
    assert "hiroshi.tex" in page[page.index('id="undecided"'):]
    assert [n["student"] for n in report["not_graded"]] == ["jonas.pdf"]


def test_the_json_schema(graded):
    _, _, report, _ = graded
    assert set(report) == {"schema", "title", "problem", "students", "max_score", "scores", "histogram", "gradients",
                           "mistakes", "undecided", "unreadable", "not_graded", "hidden_files", "seconds"}
    assert report["problem"] == "two_layer_batch.yaml" and report["title"].startswith("2 layer")
    assert set(report["scores"]) == {"mean", "median", "min", "max"}
    for g in report["gradients"]:
        assert set(g) == {"wrt", "points", "outcomes", "shares"} and set(g["outcomes"]) == set(OUTCOMES)
        assert sum(g["outcomes"].values()) == report["students"]
        assert g["shares"]["correct"] == round(g["outcomes"]["correct"] / report["students"], 4)
    for m in report["mistakes"]:
        assert set(m) == {"wrt", "kind", "students", "share", "example"} and set(m["example"]) == {"answer", "diagnosis", "maths"}
    assert set(report["undecided"][0]) == {"student", "wrt", "answer", "reason"}
    assert "sample points" in report["undecided"][0]["reason"]


# -- the command line's errors: before any grading, one line, nothing written --------------------------------

@pytest.mark.parametrize("args, message", [
    (["--report", "class.pdf"], "--report class.pdf: give a file name ending in .html (the page) or .json"),
    (["--report", "nodir/class.html"], "the folder nodir does not exist"),
    (["--report", "subs"], "is a directory"),
    (["--report", "class.html", "--results-dir", "subs"], "it exists and is not an empty folder"),
])
def test_cli_report_bad_path_fails_before_grading(tmp_path, args, message):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "a.tex").write_text(W2_RIGHT, encoding="utf-8")
    result = run_cli(tmp_path, "grade", TWO, "subs", "--csv", "grades.csv", *args)
    assert message in assert_bad_input(result, tmp_path, output="grades.csv")  # one line: no progress bar, no grading
    assert not (tmp_path / "class.pdf").exists() and not (tmp_path / "class.html").exists()
    assert part_files(tmp_path) == []


# -- the figures, from hand-made results ---------------------------------------------------------------------

def result(name: str, score: float, **verdicts) -> StudentResult:
    return StudentResult(name, verdicts, score, 1.0)


def verdict(outcome: str, read_as: str = "x", kind: str | None = None) -> dict:
    return {"outcome": outcome, "read_as": read_as, "reason": "why" if outcome == "undecided" else "",
            "diagnosis": {"kind": kind, "message": f"a {kind} slip"} if kind else None}


def test_possible_scores_give_one_bin_each_until_there_are_too_many():
    assert possible_scores(Rubric(partial={"sign": 0.5}), ["a"]) == [0.0, 0.5, 1.0]
    assert possible_scores(Rubric(points={"a": 2}, undecided=0.25), ["a", "b"]) == [0, 0.25, 0.5, 0.75, 1, 1.5, 2, 2.25, 3]
    many = Rubric(partial={"sign": 0.3, "factor": 0.7, "transposed": 0.1})
    assert possible_scores(many, ["a", "b", "c"]) is None


def test_equal_bins_put_each_score_in_its_bin_and_the_top_score_in_the_last():
    bins = score_bins([0, 0.29, 0.3, 1.5, 2.9999999, 3.0], None, 3.0)  # bins of 0.3: [0, 0.3), [0.3, 0.6), ...
    assert len(bins) == 10 and (bins[0].low, bins[1].low, bins[-1].high) == (0, 0.3, 3.0)
    assert [b.students for b in bins] == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]


def test_a_mistakes_example_is_its_commonest_answer_then_its_shortest():
    results = [result("a", 0, w=verdict("incorrect", "long - x", "sign")), result("b", 0, w=verdict("incorrect", "-x", "sign")),
               result("c", 0, w=verdict("incorrect", "long - x", "sign")), result("d", 0, w=verdict("incorrect", "2x", "factor")),
               result("e", 0, w=verdict("incorrect", "x^2", None)), result("f", 0, w=verdict("incorrect", "x^3", "factor"))]
    found = mistakes(results, ["w"])
    assert [(m.kind, m.students, m.answer) for m in found] == [("sign", 3, "long - x"), ("factor", 2, "2x"),
                                                              ("other", 1, "x^2")]
    assert found[1].diagnosis == "a factor slip"


class _Problem:
    title = "a <b>bold</b> title"
    loss, wrt = sympy.Symbol("L"), [sympy.Symbol("w")]


def test_the_page_escapes_names_and_answers_and_has_no_script():
    hostile = "<script>alert(1)</script>.tex"
    batch = Batch([result(hostile, 0, w=verdict("undecided", r"x + \text{<img src=x onerror=alert(1)>}")),
                   result("ok.tex", 1, w=verdict("correct"))], 1.0, 2, 2)
    page = class_page(class_report(batch, _Problem(), Rubric()))
    assert "<script" not in page and "<img" not in page and "<b>bold" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.tex" in page
    assert "Content-Security-Policy" in page and "http://" not in page.replace(
        "http://www.w3.org/2000/svg", "").replace("http://www.w3.org/1998/Math/MathML", "")  # names, not links


def test_answers_become_mathml_with_only_mathml_in_it():
    assert answer_mathml(r"X^T \left(\hat{y} - y\right)").startswith("<math")
    assert answer_mathml(r"\text{<script>alert(1)</script>} x") is None  # the page shows it as escaped text
    assert answer_mathml(r"x & y") is None and answer_mathml("\\frac{") is None
    linked = answer_mathml(r"\href{http://example.com}{y}")  # the address stays only in alttext, the LaTeX as text
    assert linked is None or "href=" not in linked and "example.com" not in linked.replace('alttext="\\href{http://example.com}{y}"', "")


def test_the_histogram_has_one_bar_per_bin_on_a_shared_axis():
    batch = Batch([result(f"s{i}", s) for i, s in enumerate([0, 0.5, 0.5, 1, 1, 1])], 1.0, 6, 6)
    report = class_report(batch, _Problem(), Rubric(partial={"sign": 0.5}))
    drawn = histogram(report)
    assert [(b.label, b.students) for b in drawn.bars] == [("0", 1), ("0.5", 2), ("1", 3)]
    assert drawn.bars[2].height == pytest.approx(drawn.bars[0].height * 3, abs=0.05)
    assert drawn.bars[0].y + drawn.bars[0].height == pytest.approx(drawn.bottom)
    assert drawn.ticks[0] == (drawn.bottom, 0) and drawn.ticks[-1][1] >= 3


def test_the_diagnoses_maths_is_mathml_on_the_page(graded):
    _, _, figures, page = graded
    missing = next(m for m in figures["mistakes"] if m["kind"] == "missing_factor")
    assert missing["example"]["maths"] and all(p in missing["example"]["diagnosis"] for p in missing["example"]["maths"])
    cell = re.search(rf'<tr data-kind="missing_factor" data-wrt="{re.escape(missing["wrt"])}">.*?</tr>', page, re.S).group()
    note = re.search(r'<span class="note">(.*?)</span></td>', cell, re.S).group(1)
    assert note.startswith("a factor is missing: <math") and note.count("<math") == len(missing["example"]["maths"])
    words = re.sub(r"<math\b.*?</math>", "", note, flags=re.S)
    assert "\\" not in words and "{" not in words  # no LaTeX left for the instructor to read


def test_a_diagnosis_sentence_keeps_its_words_as_text_and_its_maths_as_mathml():
    from derive.grade.class_page import sentence_html

    shown = sentence_html(r"\sigma where \sigma' belongs: \sigma(x) should be <b>", (r"\sigma", r"\sigma'", r"\sigma(x)"))
    assert shown.count("<math") == 3 and shown.endswith(" should be &lt;b&gt;") and " where " in shown
    assert sentence_html("no maths & no tags", ()) == "no maths &amp; no tags"
    assert sentence_html(r"odd \frac{ here", (r"\frac{",)) == r"odd <code>\frac{</code> here"


def test_unreadable_answers_are_listed_for_a_person_with_what_was_written(graded):
    _, rows, figures, page = graded
    assert figures["unreadable"] == [{"student": "kemal.tex", "wrt": W1, "answer": r"X^T(\hat y - y",
                                      "reason": figures["unreadable"][0]["reason"]}]
    assert "expected ')'" in figures["unreadable"][0]["reason"]  # the reader's one line
    section = re.search(r'<section aria-labelledby="unreadable-heading" id="unreadable">.*?</section>', page, re.S).group()
    assert "<code>kemal.tex</code>" in section and r"X^T(\hat y - y" in section and "for a person to look at" in section
    assert section.count("<tr>") == 2  # the heading row and kemal's
