"""`verify` on a numerator-layout problem expects dL/dW in the shape of W^T: the answer in W's shape is then
the transpose, and the numerator answer is correct (and the reverse under the default layout)."""

from __future__ import annotations

from pathlib import Path

import derive
from derive.grade.verify import verify

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NUMERATOR = r"((\hat y - y)\odot\sigma'(XW))^T X"
DENOMINATOR = r"X^T((\hat y - y)\odot\sigma'(XW))"


def problem(layout: str) -> derive.Problem:
    text = (EXAMPLES / "one_layer_batch.yaml").read_text(encoding="utf-8") + f"layout: {layout}\n"
    return derive.Problem.from_text(text, "p.yaml")


def test_numerator_answer_correct_under_numerator():
    verdict = verify(problem("numerator"), "W", NUMERATOR)
    assert verdict.outcome == "correct" and verdict.expected_shape == "1 by 3"


def test_denominator_answer_transposed_under_numerator():
    verdict = verify(problem("numerator"), "W", DENOMINATOR)
    assert verdict.outcome == "incorrect" and verdict.diagnosis.kind == "transposed"
    assert "should be 1 by 3" in verdict.diagnosis.message and "W^T" in verdict.diagnosis.message


def test_wrong_answer_still_wrong_under_numerator():
    verdict = verify(problem("numerator"), "W", r"(\hat y - y)^T X")
    assert verdict.outcome == "incorrect" and verdict.diagnosis.kind != "transposed"


def test_denominator_unchanged():
    assert verify(problem("denominator"), "W", DENOMINATOR).outcome == "correct"
    verdict = verify(problem("denominator"), "W", NUMERATOR)
    assert verdict.outcome == "incorrect" and verdict.diagnosis.kind == "transposed"
