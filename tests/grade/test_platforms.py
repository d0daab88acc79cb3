"""Course platforms: `derive autograder` builds Gradescope's zip and PrairieLearn's grader folder, which are
then run as the platforms run them, against temporary roots laid out as theirs; `derive grade --results-dir`
writes one Gradescope results.json per student. Feedback never shows the gradient unless the rubric says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cli_helpers import assert_bad_input, assert_no_traceback, run_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BATCH = EXAMPLES / "one_layer_batch.yaml"
TWO = EXAMPLES / "two_layer_batch.yaml"

RIGHT = r"X^T((\hat y - y)\odot\sigma'(XW))"
SIGN = r"X^T((y - \hat y)\odot\sigma'(XW))"
W2 = r"\frac{\partial L}{\partial W^{(2)}} = H^T((\hat y - y)\odot\sigma'(HW^{(2)}))"
W2_WRONG = r"\frac{\partial L}{\partial W^{(2)}} = H^T(\hat y - y)"
TRUTH_W2 = "H^T ((\\hat{y} - y) \\odot \\sigma'(H W^{(2)}))"


def with_rubric(folder: Path, source: Path, rubric: str) -> Path:
    path = folder / source.name
    path.write_text(source.read_text(encoding="utf-8") + "\n" + rubric, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gradescope")
    problem = with_rubric(folder, TWO, "rubric:\n  points: {\"W^{(1)}\": 3, \"W^{(2)}\": 2}\n")
    result = run_cli(folder, "autograder", problem, "-o", "autograder.zip")
    assert result.returncode == 0, result.stderr
    return folder / "autograder.zip"


def gradescope_root(tmp_path: Path, zip_path: Path, files: dict) -> Path:
    """/autograder as Gradescope lays it out: the zip in source/, run_autograder copied to the root,
    the student's files in submission/, an empty results/."""
    root = tmp_path / "autograder"
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text, encoding="utf-8")
    return root


def run_autograder(root: Path) -> dict:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "DERIVE_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, capture_output=True,
                          text=True, timeout=240)
    assert_no_traceback(done)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_the_zip_holds_what_gradescope_needs(gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        with archive.open("derive-0.1.0-py3-none-any.whl") as wheel_file:
            wheel = zipfile.ZipFile(wheel_file).namelist()
    assert {"setup.sh", "run_autograder", "problem.yaml", "derive-0.1.0-py3-none-any.whl"} <= names
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert "apt-get install -y --no-install-recommends python3 python3-pip python3-venv" in setup
    assert "pip install \"$ROOT/source/derive-0.1.0-py3-none-any.whl\"" in setup
    assert "derive/templates/feedback.txt.j2" in wheel and "derive/grade/platforms.py" in wheel
    assert "derive-0.1.0.dist-info/METADATA" in wheel and not any("__pycache__" in n for n in wheel)


def test_run_autograder_grades_correct_incorrect_and_missing_answers(tmp_path, gradescope_zip):
    root = gradescope_root(tmp_path, gradescope_zip, {"answers.tex": W2_WRONG + "\n"})
    data = run_autograder(root)
    assert {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"} <= set(data)
    assert data["score"] == 0 and data["stdout_visibility"] == "hidden"
    tests = {t["name"]: t for t in data["tests"]}
    assert set(tests) == {"dL/dW^{(1)}", "dL/dW^{(2)}"}
    for test in tests.values():
        assert {"name", "score", "max_score", "status", "output", "output_format", "visibility"} <= set(test)
        assert test["output"] and test["status"] == "failed" and test["score"] == 0
    assert tests["dL/dW^{(1)}"]["output"] == "dL/dW^{(1)}: no answer" and tests["dL/dW^{(1)}"]["max_score"] == 3
    wrong = tests["dL/dW^{(2)}"]["output"]
    assert "incorrect" in wrong and "for example" in wrong and "factor is missing" in wrong
    assert TRUTH_W2 not in json.dumps(data) and "the gradient:" not in wrong  # no show_answer: never the answer

    (root / "submission" / "answers.tex").write_text(W2 + "\n", encoding="utf-8")
    data = run_autograder(root)
    tests = {t["name"]: t for t in data["tests"]}
    assert data["score"] == 2 and tests["dL/dW^{(2)}"]["status"] == "passed"
    assert tests["dL/dW^{(2)}"]["score"] == tests["dL/dW^{(2)}"]["max_score"] == 2


def test_run_autograder_without_a_file_says_no_answer(tmp_path, gradescope_zip):
    data = run_autograder(gradescope_root(tmp_path, gradescope_zip, {}))
    assert data["score"] == 0 and "No file was submitted" in data["output"]
    assert [t["output"] for t in data["tests"]] == ["dL/dW^{(1)}: no answer", "dL/dW^{(2)}: no answer"]


def test_run_autograder_on_an_unreadable_file_says_why_and_grades_nothing(tmp_path, gradescope_zip):
    root = gradescope_root(tmp_path, gradescope_zip, {})
    (root / "submission" / "answers.pdf").write_bytes(b"%PDF\x00\x01")
    data = run_autograder(root)
    assert data["score"] == 0 and "binary" in data["output"]
    assert all(t["output"].endswith("no answer") for t in data["tests"])


def test_show_answer_in_the_rubric_shows_the_gradient(tmp_path):
    problem = with_rubric(tmp_path, TWO, "rubric:\n  show_answer: true\n")
    assert run_cli(tmp_path, "autograder", problem, "-o", "ag.zip").returncode == 0
    data = run_autograder(gradescope_root(tmp_path, tmp_path / "ag.zip", {"a.tex": W2_WRONG}))
    wrong = {t["name"]: t for t in data["tests"]}["dL/dW^{(2)}"]["output"]
    assert f"the gradient: {TRUTH_W2}" in wrong


def test_show_answer_must_be_true_or_false(tmp_path):
    problem = with_rubric(tmp_path, BATCH, "rubric:\n  show_answer: maybe\n")
    message = assert_bad_input(run_cli(tmp_path, "autograder", problem, "-o", "ag.zip"), tmp_path, None)
    assert "show_answer: give true or false" in message and not (tmp_path / "ag.zip").exists()


def test_prairielearn_grader_against_a_temporary_root(tmp_path):
    problem = with_rubric(tmp_path, BATCH, "rubric:\n  points: {W: 4}\n  partial: {sign: 0.5}\n")
    result = run_cli(tmp_path, "autograder", problem, "--platform", "prairielearn", "-o", "pl")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pl" / "tests" / "grader.py").is_file() and (tmp_path / "pl" / "image" / "Dockerfile").is_file()
    options = json.loads((tmp_path / "pl" / "info.json").read_text())["externalGradingOptions"]
    assert options["entrypoint"] == "python3 /grade/tests/grader.py" and options["timeout"] > 8
    dockerfile = (tmp_path / "pl" / "image" / "Dockerfile").read_text()
    assert "pip install --no-cache-dir /tmp/derive-0.1.0-py3-none-any.whl" in dockerfile

    def grade(files: dict) -> dict:
        root = tmp_path / "grade"
        for old in (root / "student").glob("*"):
            old.unlink()
        (root / "student").mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (root / "student" / name).write_text(text, encoding="utf-8")
        done = subprocess.run([sys.executable, str(tmp_path / "pl" / "tests" / "grader.py")], capture_output=True,
                              text=True, timeout=240, env={**os.environ, "DERIVE_GRADE_ROOT": str(root)})
        assert_no_traceback(done)
        assert done.returncode == 0, done.stderr
        return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))

    right, sign, missing = grade({"a.tex": RIGHT}), grade({"a.tex": SIGN}), grade({})
    for data in (right, sign, missing):
        assert data["gradable"] is True and 0 <= data["score"] <= 1 and data["message"] and data["output"]
        assert [set(t) >= {"name", "points", "max_points", "message"} for t in data["tests"]] == [True]
    assert right["score"] == 1 and right["tests"][0]["points"] == 4 == right["tests"][0]["max_points"]
    assert sign["score"] == 0.5 and "negative of the gradient" in sign["tests"][0]["message"]
    assert missing["score"] == 0 and missing["tests"][0]["message"] == "dL/dW: no answer"


def test_a_grader_that_fails_still_writes_results(tmp_path):
    from derive.grade.platforms import run

    target = run("prairielearn", tmp_path / "gone.yaml", tmp_path)
    data = json.loads(target.read_text())
    assert data["gradable"] is False and "could not grade" in data["message"]
    data = json.loads(run("gradescope", tmp_path / "gone.yaml", tmp_path).read_text())
    assert data["score"] == 0 and "could not grade" in data["output"] and data["tests"] == []


def test_the_wheel_installs_without_network_and_finds_its_templates(tmp_path, gradescope_zip):
    with zipfile.ZipFile(gradescope_zip) as archive:
        archive.extract("derive-0.1.0-py3-none-any.whl", tmp_path)
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(tmp_path / "venv")], check=True,
                   timeout=120)
    python = tmp_path / "venv" / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    install = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q",
                              str(tmp_path / "derive-0.1.0-py3-none-any.whl")], capture_output=True, text=True,
                             timeout=240, env=env)
    assert install.returncode == 0, install.stderr
    probe = subprocess.run([str(python), "-c", "import derive.grade.platforms as p; "
                            "from derive.write.resources import resource_dir; print(p.__file__); "
                            "print(resource_dir('templates'))"], capture_output=True, text=True, timeout=120,
                           env=env, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    module, templates = probe.stdout.split()
    assert module.startswith(str(tmp_path / "venv")) and templates.startswith(str(tmp_path / "venv"))


def test_grade_results_dir_writes_one_gradescope_file_per_student(tmp_path):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "alice.tex").write_text(RIGHT, encoding="utf-8")
    (tmp_path / "subs" / "bob.tex").write_text(SIGN, encoding="utf-8")
    result = run_cli(tmp_path, "grade", BATCH, "subs", "--results-dir", "out", "--csv", "grades.csv")
    assert result.returncode == 0, result.stderr
    alice = json.loads((tmp_path / "out" / "alice.tex" / "results.json").read_text())
    bob = json.loads((tmp_path / "out" / "bob.tex" / "results.json").read_text())
    assert alice["score"] == 1 and alice["tests"][0]["status"] == "passed"
    assert bob["score"] == 0 and "negative" in bob["tests"][0]["output"] and bob["tests"][0]["output_format"] == "text"
    assert (tmp_path / "grades.csv").read_text().count("\n") >= 3


@pytest.mark.parametrize("args, message", [
    (["-o", "ag.tar"], "is a .zip file"),
    (["--platform", "prairielearn", "-o", "full"], "is not an empty folder"),
    (["-o", "nodir/ag.zip"], "does not exist"),
])
def test_autograder_bad_input_exits_2(tmp_path, args, message):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert message in assert_bad_input(run_cli(tmp_path, "autograder", BATCH, *args), tmp_path, None)


def test_autograder_bad_problem_exits_2(tmp_path):
    (tmp_path / "p.yaml").write_text("title: [unclosed\n", encoding="utf-8")
    assert_bad_input(run_cli(tmp_path, "autograder", "p.yaml", "-o", "ag.zip"), tmp_path, None)
    assert not (tmp_path / "ag.zip").exists()


def test_results_dir_folders_are_plain_names_and_never_collide(tmp_path):
    from derive.grade.batch import Batch, StudentResult
    from derive.grade.platforms import write_results_dir

    verdict = {"outcome": "correct", "wrt": "W", "read_as": "", "diagnosis": None, "reason": "", "evidence": []}
    names = ["a\nb", "a_b", "..", "x/y"]
    batch = Batch([StudentResult(n, {"W": verdict}, 1.0, 1.0) for n in names], 1.0, 1, 4)
    written = write_results_dir(tmp_path / "out", batch, BATCH)
    assert sorted(p.parent.name for p in written) == sorted(["a_b", "a_b~2", "_..", "x_y"])
    assert all(p.parent.parent == tmp_path / "out" and json.loads(p.read_text())["score"] == 1 for p in written)


SYMPY_PROBLEM = """\
title: a unit written in SymPy syntax
syntax: sympy
symbols: [x, y, w]
definitions:
  - yhat = sigmoid(w*x)
  - L = (y - yhat)**2 / 2
loss: L
wrt: [w]
"""


def test_an_autograder_for_a_sympy_problem_needs_trust(tmp_path):
    """`syntax: sympy` evaluates Python: building a grader for it is refused unless the instructor says
    --trust-problem, and the grader built then grades with the same trust."""
    problem = tmp_path / "p.yaml"
    problem.write_text(SYMPY_PROBLEM, encoding="utf-8")
    refused = run_cli(tmp_path, "autograder", problem, "-o", "autograder.zip")
    assert "--trust-problem" in assert_bad_input(refused, tmp_path, "autograder.zip")
    built = run_cli(tmp_path, "autograder", problem, "-o", "autograder.zip", "--trust-problem")
    assert built.returncode == 0, built.stderr
    right = r"(\hat{y} - y) \hat{y} (1 - \hat{y}) x"
    results = run_autograder(gradescope_root(tmp_path, tmp_path / "autograder.zip", {"answer.tex": right}))
    assert results["score"] == 1 and results["tests"][0]["status"] == "passed", results


def test_run_autograder_says_what_it_did_with_a_hidden_file(tmp_path, gradescope_zip):
    results = run_autograder(gradescope_root(tmp_path, gradescope_zip, {".answer.tex": W2}))
    assert ".answer.tex: not graded (a hidden file" in results["output"], results["output"]
    assert "only hidden files" in results["output"]


def test_run_autograder_grades_files_in_folders_of_the_upload_but_follows_no_link(tmp_path, gradescope_zip):
    """A student who uploads a folder (or submits a repository) has their files in subfolders: they are
    graded; a link to a folder outside is not entered, and says so."""
    root = gradescope_root(tmp_path, gradescope_zip, {})
    (root / "submission" / "hw3" / "part2").mkdir(parents=True)
    (root / "submission" / "hw3" / "part2" / "answers.tex").write_text(W2 + "\n", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.tex").write_text("TOPSECRET", encoding="utf-8")
    (root / "submission" / "escape").symlink_to(tmp_path / "outside")
    results = run_autograder(root)
    tests = {t["name"]: t for t in results["tests"]}
    assert tests["dL/dW^{(2)}"]["status"] == "passed", results
    assert "'escape' is not a regular file (a symbolic link)" in results["output"], results["output"]
    assert "TOPSECRET" not in json.dumps(results)


def test_each_grader_draws_its_own_sample_points_unless_told(tmp_path):
    """With the seed fixed in derive's source, the points were known to anyone who read it; a grader now
    carries a seed drawn when it was built (or `--seed`), and grades with it."""
    import re

    seeds = []
    for name in ("a.zip", "b.zip"):
        assert run_cli(tmp_path, "autograder", TWO, "-o", name).returncode == 0
        with zipfile.ZipFile(tmp_path / name) as archive:
            seeds.append(re.search(r"seed=(\d+)", archive.read("run_autograder").decode()).group(1))
    assert seeds[0] != seeds[1]
    assert run_cli(tmp_path, "autograder", TWO, "-o", "c.zip", "--seed", "7").returncode == 0
    with zipfile.ZipFile(tmp_path / "c.zip") as archive:
        assert "seed=7)" in archive.read("run_autograder").decode()
    folder = tmp_path / "pl"
    assert run_cli(tmp_path, "autograder", TWO, "--platform", "prairielearn", "-o", folder, "--seed", "9").returncode == 0
    assert "seed=9)" in (folder / "tests" / "grader.py").read_text()
    bad = run_cli(tmp_path, "autograder", TWO, "-o", "d.zip", "--seed", "-1")
    assert bad.returncode == 2 and "seed" in bad.stderr.lower() and not (tmp_path / "d.zip").exists()


def test_grade_results_dir_and_csv_are_written_all_or_none(tmp_path):
    """The folder of results and the CSV are one output: when the CSV cannot be written, no folder is left
    (and no .part folder); a folder that holds files already is refused before grading, never written over."""
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "alice.tex").write_text(RIGHT, encoding="utf-8")
    (tmp_path / "grades.csv").mkdir()  # a folder where the CSV should go: it cannot be written
    failed = run_cli(tmp_path, "grade", BATCH, "subs", "--results-dir", "out", "--csv", "grades.csv")
    assert failed.returncode == 2 and "grades.csv" in failed.stderr, failed.stderr
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "old.json").write_text("{}")
    refused = run_cli(tmp_path, "grade", BATCH, "subs", "--results-dir", "full")
    assert refused.returncode == 2 and "is not an empty folder" in refused.stderr
    assert "grading" not in refused.stderr and [p.name for p in (tmp_path / "full").iterdir()] == ["old.json"]
    (tmp_path / "empty").mkdir()
    assert run_cli(tmp_path, "grade", BATCH, "subs", "--results-dir", "empty").returncode == 0
    assert (tmp_path / "empty" / "alice.tex" / "results.json").is_file()


def test_a_folder_placed_is_removed_when_the_outputs_written_with_it_fail(tmp_path):
    from derive.core.errors import DeriveError
    from derive.write.output import folder_in_place, write_all_atomically

    with pytest.raises(DeriveError, match="cannot write"):
        with folder_in_place(tmp_path / "out", {"alice/results.json": "{}"}):
            assert (tmp_path / "out" / "alice" / "results.json").read_text() == "{}"
            write_all_atomically({tmp_path / "missing" / "grades.csv": "a,b\n"})
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a .part folder
