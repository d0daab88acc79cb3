"""derive.verify on the labelled answers (tests/answers/labelled.yaml), the verdict object, untrusted input,
and the `derive verify` command run for real.

Every labelled answer states its expected outcome and diagnosis; the table covers the example problems,
correct answers in other forms, each kind of mistake, and bad input.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

import derive
from derive.read.answers import AnswerError
from derive.grade.verdict import DIAGNOSIS_KINDS
from derive.grade.verify import Judge, Verdict, verify
from cli_helpers import assert_bad_input, assert_no_traceback, run_cli

HERE = Path(__file__).resolve().parents[1]  # tests/
EXAMPLES = HERE.parent / "examples"
LABELLED = yaml.safe_load((HERE / "answers" / "labelled.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def judge(problem: str, wrt: str) -> Judge:
    return Judge(derive.Problem.from_yaml(EXAMPLES / f"{problem}.yaml"), wrt)


def test_the_labelled_set_is_large_and_covers_every_example_and_mistake():
    assert len(LABELLED) >= 60
    assert {case["problem"] for case in LABELLED} >= {"one_layer_scalar", "one_layer_vector", "relu_skip",
                                                      "one_layer_batch", "two_layer_vector", "two_layer_batch",
                                                      "mlp_softmax"}
    kinds = {case.get("diagnosis") for case in LABELLED}
    assert kinds >= {"sign", "factor", "missing_factor", "extra_factor", "sigma_for_sigma_prime", "wrong_index",
                     "transposed", "wrong_shape", "shape_mismatch"}
    assert {case["outcome"] for case in LABELLED} == {"correct", "incorrect", "undecided", "error"}


@pytest.mark.parametrize("case", LABELLED, ids=lambda c: f"{c['problem']}-{c['wrt']}-{c['answer'][:40]}")
def test_labelled_answer(case):
    if case["outcome"] == "error":
        with pytest.raises(AnswerError) as caught:
            judge(case["problem"], case["wrt"]).verdict(case["answer"])
        assert case["message"] in str(caught.value)
        return
    verdict = judge(case["problem"], case["wrt"]).verdict(case["answer"])
    assert verdict.outcome == case["outcome"], verdict.summary()
    assert verdict.read_as
    if case["outcome"] == "incorrect":
        assert verdict.diagnosis is not None and verdict.diagnosis.kind == case["diagnosis"], verdict.summary()
        assert verdict.diagnosis.kind in DIAGNOSIS_KINDS
    if "message" in case:
        assert case["message"] in verdict.summary(), verdict.summary()


def test_order_of_a_matrix_product_matters():
    r"""X^T \Delta is not \Delta^T X (the widely used checker says it is), nor \Delta X."""
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_batch.yaml")
    right = verify(problem, "W", r"X^T((\hat y - y)\odot\sigma'(XW))")
    flipped = verify(problem, "W", r"((\hat y - y)\odot\sigma'(XW))^T X")
    assert right.outcome == "correct" and flipped.outcome == "incorrect"
    assert flipped.diagnosis.kind == "transposed"
    assert "should be 3 by 1" in flipped.diagnosis.message and "is 1 by 3" in flipped.diagnosis.message


def test_sigma_prime_is_not_sigma():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    assert verify(problem, "w", r"(\hat y - y)\sigma'(wx)x").correct
    assert verify(problem, "w", r"(\hat y - y)\sigma(wx)x").diagnosis.kind == "sigma_for_sigma_prime"


def test_symbols_are_case_sensitive():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_batch.yaml")
    with pytest.raises(AnswerError, match="unknown symbol x"):
        verify(problem, "W", r"x^T(\hat y - y)")


def test_answers_in_intermediates_equal_answers_in_inputs():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    a = verify(problem, "w", r"(\hat y - y)\hat y (1 - \hat y) x")
    b = verify(problem, "w", r"(\sigma(wx) - y)\sigma(wx)(1 - \sigma(wx)) x")
    assert a.correct and b.correct


def test_numeric_verdict_carries_evidence_at_both_sizes():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_batch.yaml")
    verdict = verify(problem, "W", r"X^\top((\hat y - y)\odot\hat y\odot(1-\hat y))")
    assert verdict.outcome == "correct" and verdict.layer == "numeric"
    sizes = {e.size for e in verdict.evidence}
    assert len(verdict.evidence) >= 3 and {2, 3, 5} <= sizes and len(sizes - {2, 3, 5}) == 3
    assert sizes - {2, 3, 5} <= set(range(6, 13))  # three more, drawn from 6 to 12
    assert all(e.relative_error <= verdict.tolerance for e in verdict.evidence)
    wrong = verify(problem, "W", r"X^T(\hat y - y)")
    assert any(e.relative_error > wrong.tolerance for e in wrong.evidence)


def test_verdict_is_frozen_and_serialises():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    verdict = verify(problem, "w", r"(y - \hat y)\hat y(1-\hat y)x")
    assert isinstance(verdict, Verdict)
    with pytest.raises(AttributeError):
        verdict.outcome = "correct"
    data = json.loads(verdict.to_json())
    assert data["outcome"] == "incorrect" and data["diagnosis"]["kind"] == "sign"
    assert data["read_as"] == verdict.read_as and data["evidence"]


def test_multiline_names_the_first_wrong_line():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    verdict = verify(problem, "w", r"(\hat y - y)\sigma'(wx) x \\ &= (\hat y - y)\hat y(1-\hat y) x \\ &= (\hat y - y) x")
    assert verdict.outcome == "incorrect"
    assert [line.equal for line in verdict.lines] == [True, True, False]
    assert "line 3" in verdict.reason and "line 2 was still equal" in verdict.reason
    assert verdict.lines[2].diagnosis.kind == "missing_factor"


@pytest.mark.parametrize("answer, message", [
    ("x" * 5000, "limit"),
    ("(" * 60 + "x" + ")" * 60, "nested"),
    ("x^{10^{10}}", "exponent"),
    ("123456789012345678901234567890123 x", "digits"),
    ("\\input{/etc/passwd}", "undefined function"),
    ("x\x00", "control character"),
])
def test_untrusted_input_is_refused_with_a_reason(answer, message):
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    with pytest.raises(AnswerError, match=message):
        verify(problem, "w", answer)


def test_wrt_not_in_the_problem_is_bad_input():
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    with pytest.raises(derive.DeriveError):
        verify(problem, "q", "x")


@pytest.mark.parametrize("arguments, expected", [
    (lambda p: (p.network, "w", "x"), "verify needs a derive.Problem (derive.Problem.from_yaml(path)), not a Network"),
    (lambda p: (str(EXAMPLES / "one_layer_scalar.yaml"), "w", "x"), "read the file first: derive.Problem.from_yaml("),
    (lambda p: (p, 3, "x"), "verify needs the variable as a name such as 'W' (or its SymPy symbol), not the int 3"),
    (lambda p: (p, "w", "x", 1.5), "verify needs the seed as an integer >= 0, not the float 1.5"),
    (lambda p: (p, "w", "x", 0, "fast"), "verify needs the time limit as a number of seconds > 0 (or None), not the str 'fast'"),
], ids=["network", "path", "wrt", "seed", "time-limit"])
def test_an_argument_of_the_wrong_type_is_one_line_naming_what_was_expected(arguments, expected):
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    with pytest.raises(derive.DeriveError) as raised:
        verify(*arguments(problem))
    message = str(raised.value)
    assert expected in message and "\n" not in message and not isinstance(raised.value, (AttributeError, TypeError))
    assert derive.verify(problem, derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml").wrt[0],
                         r"x \hat{y}(1 - \hat{y})(\hat{y} - y)").outcome == "correct"  # a SymPy symbol is a name


# -- the command line ---------------------------------------------------------------------------------------

SCALAR = EXAMPLES / "one_layer_scalar.yaml"
BATCH = EXAMPLES / "one_layer_batch.yaml"


def test_cli_verify_correct_exits_0(tmp_path):
    result = run_cli(tmp_path, "verify", SCALAR, "--wrt", "w", "--answer", r"(\hat y - y)\hat y(1-\hat y)x")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("correct") and "read as: " in result.stdout


def test_cli_verify_incorrect_exits_1_with_diagnosis(tmp_path):
    result = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer", r"((\hat y - y)\odot\sigma'(XW))^T X")
    assert result.returncode == 1, result.stderr
    assert "incorrect" in result.stdout and "should be 3 by 1" in result.stdout


def test_cli_verify_undecided_exits_3(tmp_path):
    result = run_cli(tmp_path, "verify", SCALAR, "--wrt", "w", "--answer", r"x + \log(x^2 w^2 - 100)")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "undecided" in result.stdout


def test_cli_verify_json_from_a_file(tmp_path):
    (tmp_path / "a.tex").write_text(r"\frac{\partial L}{\partial W} = X^T(\hat y - y)", encoding="utf-8")
    result = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer-file", "a.tex", "--format", "json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert data["outcome"] == "incorrect" and data["diagnosis"]["kind"] == "missing_factor"


@pytest.mark.parametrize("args, message", [
    (["--answer", r"(\hat y - y"], "at the end"),
    (["--answer", ""], "empty"),
    (["--answer", r"\Delta x"], "unknown symbol Delta"),
    (["--answer", "x", "--answer-file", "a.tex"], "exactly one"),
    ([], "exactly one"),
    (["--answer-file", "missing.tex"], "missing.tex"),
])
def test_cli_verify_bad_input_exits_2(tmp_path, args, message):
    result = run_cli(tmp_path, "verify", SCALAR, "--wrt", "w", *args)
    assert message in assert_bad_input(result, tmp_path, output=None)


def test_cli_verify_binary_answer_file_exits_2(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF\x00\x01\x02")
    result = run_cli(tmp_path, "verify", SCALAR, "--wrt", "w", "--answer-file", "a.pdf")
    assert "binary" in assert_bad_input(result, tmp_path, output=None)


# -- the clock: a verify that runs out of time is undecided, never incorrect

DIAG_ANSWER = r"X^T \operatorname{diag}(\sigma'(X W)) (\hat{y} - y)"
LAYERS = ("derivation", "reading", "structural", "symbolic", "numeric")


def _batch_problem():
    return derive.Problem.from_yaml(EXAMPLES / "one_layer_batch.yaml")


def test_a_tiny_time_limit_makes_a_real_answer_undecided_naming_the_layer():
    verdict = verify(_batch_problem(), "W", DIAG_ANSWER, time_limit=0.001)
    assert verdict.outcome == "undecided" and verdict.exit_code == 3
    assert verdict.layer in LAYERS
    assert verdict.reason == f"time limit of 0.001 s reached in the {verdict.layer} layer"
    assert verdict.read_as  # what it was read as so far, never empty
    assert verify(_batch_problem(), "W", DIAG_ANSWER, time_limit=20).outcome == "correct"
    assert verify(_batch_problem(), "W", DIAG_ANSWER, time_limit=None).outcome == "correct"


def test_the_time_limit_works_outside_the_main_thread_and_bad_input_still_raises():
    from concurrent.futures import ThreadPoolExecutor

    problem = _batch_problem()
    with ThreadPoolExecutor(1) as pool:
        tiny = pool.submit(verify, problem, "W", DIAG_ANSWER, time_limit=0.001).result()
        ample = pool.submit(verify, problem, "W", DIAG_ANSWER, time_limit=20).result()
        bad = pool.submit(verify, problem, "W", r"(\hat y - y", time_limit=20)
        with pytest.raises(AnswerError, match="at the end"):
            bad.result()
    assert tiny.outcome == "undecided" and "time limit of 0.001 s reached in the" in tiny.reason
    assert ample.outcome == "correct" and ample.layer == "numeric"


@pytest.mark.parametrize("in_thread", [False, True])
def test_the_deadline_names_the_last_layer_reported(in_thread):
    import threading
    import time

    from derive.grade.deadline import TimeLimitReached, within

    def work(report):
        report("symbolic", "x")
        report("numeric", "read so far")
        time.sleep(5)

    caught = []

    def run():
        try:
            within(work, 0.2)
        except TimeLimitReached as reached:
            caught.append(reached)

    started = time.monotonic()
    if in_thread:
        thread = threading.Thread(target=run)
        thread.start()
        thread.join()
    else:
        run()
    assert time.monotonic() - started < 3
    assert str(caught[0]) == "time limit of 0.2 s reached in the numeric layer" and caught[0].note == "read so far"


def test_the_deadline_is_not_swallowed_by_except_exception():
    import time

    from derive.grade.deadline import TimeLimitReached, within

    def work(report):
        report("numeric")
        try:
            time.sleep(5)
        except Exception:  # noqa: BLE001 - what careless code inside a layer might do
            pass
        return "finished"

    with pytest.raises(TimeLimitReached):
        within(work, 0.1)


def test_cli_verify_time_limit_exits_3(tmp_path):
    result = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer", DIAG_ANSWER, "--time-limit", "0.001")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "undecided" in result.stdout and "reason: time limit of 0.001 s reached in the" in result.stdout
    assert_no_traceback(result)
    ample = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer", DIAG_ANSWER, "--time-limit", "30")
    assert ample.returncode == 0, ample.stdout + ample.stderr


def test_cli_verify_refuses_a_time_limit_that_is_not_positive(tmp_path):
    result = run_cli(tmp_path, "verify", BATCH, "--wrt", "W", "--answer", DIAG_ANSWER, "--time-limit", "0")
    assert "--time-limit" in assert_bad_input(result, tmp_path, output=None)
