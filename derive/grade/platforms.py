"""Grading on a course platform: Gradescope's autograder and PrairieLearn's external grader.

Both platforms run a grader once per submission, in a container, on the files the student handed in:

- Gradescope: `autograder.zip` holds `setup.sh` (run once when the image is built: Python, a virtual
  environment, derive installed from the wheel in the zip), `run_autograder` (run per submission: grades
  `$AUTOGRADER_ROOT/submission/`, default `/autograder`, writes `$AUTOGRADER_ROOT/results/results.json`),
  the problem with its rubric, and derive's wheel;
- PrairieLearn: a folder with `tests/` (the question's tests folder: `grader.py` and the problem), `image/`
  (a Dockerfile and derive's wheel: the grading image), and `info.json` (the question's
  `externalGradingOptions`); the grader reads `$DERIVE_GRADE_ROOT/student/`, default `/grade`, and writes
  `$DERIVE_GRADE_ROOT/results/results.json`.

One submission is every regular file in the submission folder, read as one text (answers separated by
blank lines, as in `derive grade`). Feedback per gradient is `batch.feedback`: the diagnosis and one sample
point, the derived gradient only when the rubric says `show_answer: true`, "no answer" for a gradient the
student did not answer. The wheel is built here from the running package (no network, no build tool), so
the platform installs exactly the derive that built the grader.

What does not live here: grading itself (`batch.py`), the command (`cli/autograder.py`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

from ..core.errors import DeriveError
from ..read.answers import AnswerError
from .batch import TIME_LIMIT, Rubric, StudentResult, feedback, grade, load_problem, load_rubric, read_submission
from .submissions import student_name, submission_tree

PROBLEM_NAME = "problem.yaml"
ROOT_VARIABLES = {"gradescope": "AUTOGRADER_ROOT", "prairielearn": "DERIVE_GRADE_ROOT"}
DEFAULT_ROOTS = {"gradescope": "/autograder", "prairielearn": "/grade"}


# -- one submission -----------------------------------------------------------------------------------------

def grade_submission(problem_path: Path, folder: Path, time_limit: float = TIME_LIMIT, trust: bool = False,
                     seed: int = 0) -> tuple:
    """(StudentResult, notes) for the files in `folder` taken as one student's submission; `notes` are
    lines about files that could not be read (the rest is still graded). `trust`: the instructor allowed a
    `syntax: sympy` problem (its parser evaluates Python) when building the grader; `seed` draws the sample
    points (the grader's own, drawn when it was built)."""
    problem = load_problem(problem_path, trust=trust)
    rubric = load_rubric(problem_path, problem)
    wrts = [w.name for w in problem.wrt]
    texts, notes = [], []
    try:
        files, hidden, notes = submission_tree(folder)
    except (DeriveError, OSError):
        files, hidden = [], []
    for path in files:
        try:
            texts.append(read_submission(path))
        except AnswerError as error:
            notes.append(error.message)
    notes += [f"{student_name(str(p.relative_to(folder)))}: not graded (a hidden file: its name starts with '.')"
              for p in hidden]
    if not files:
        notes.append("no file was submitted" + (" (only hidden files)" if hidden else ""))
    if not "".join(texts).strip():
        result = StudentResult("submission", {}, 0.0, sum(rubric.worth(w) for w in wrts))
        return result, notes
    with tempfile.TemporaryDirectory(prefix="derive-submission-") as scratch:
        (Path(scratch) / "submission.tex").write_text("\n\n".join(texts), encoding="utf-8")
        batch = grade(problem_path, Path(scratch), jobs=1, time_limit=time_limit, trust_problem=trust, seed=seed)
    return batch.results[0], notes


def _answers(problem_path: Path, rubric: Rubric) -> dict:
    """{variable: the derived gradient in LaTeX} when the rubric shows answers, else {}."""
    if not rubric.show_answer:
        return {}
    solution = load_problem(problem_path).solve()
    return {d.wrt.name: d.result_latex() for d in solution.derivations}


def _scores(result: StudentResult, rubric: Rubric, wrts: list[str]) -> list[float]:
    return [rubric.score(w, v["outcome"], (v.get("diagnosis") or {}).get("kind")) if v else 0.0
            for w in wrts for v in [result.verdicts.get(w)]]


def _summary(result: StudentResult, scores: list[float], notes: list[str]) -> str:
    lines = [f"Score: {sum(scores):g} of {result.max_score:g} points."]
    lines += [note[:1].upper() + note[1:] + ("" if note.endswith(".") else ".") for note in notes]
    if result.error:
        lines.append(f"Your submission could not be graded: {result.error}")
    return "\n".join(lines)


# -- the results files --------------------------------------------------------------------------------------

def gradescope_results(result: StudentResult, rubric: Rubric, wrts: list[str], seconds: float,
                       answers: dict | None = None, notes: list[str] = ()) -> dict:
    """Gradescope's results.json for one student: one test per gradient."""
    scores = _scores(result, rubric, wrts)
    tests = [{"name": f"dL/d{w}", "score": score, "max_score": rubric.worth(w),
              "status": "passed" if (result.verdicts.get(w) or {}).get("outcome") == "correct" else "failed",
              "output": feedback(_without_error(result), only=w, wrts=wrts, answers=answers),
              "output_format": "text", "visibility": "visible"} for w, score in zip(wrts, scores)]
    return {"score": round(sum(scores), 6), "execution_time": round(seconds, 3),
            "output": _summary(result, scores, list(notes)), "output_format": "text", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def prairielearn_results(result: StudentResult, rubric: Rubric, wrts: list[str], answers: dict | None = None,
                         notes: list[str] = ()) -> dict:
    """PrairieLearn's results.json for one submission: score in [0, 1], one test per gradient."""
    scores = _scores(result, rubric, wrts)
    total = sum(rubric.worth(w) for w in wrts)
    tests = [{"name": f"dL/d{w}", "points": score, "max_points": rubric.worth(w),
              "message": feedback(_without_error(result), only=w, wrts=wrts, answers=answers)}
             for w, score in zip(wrts, scores)]
    summary = _summary(result, scores, list(notes))
    return {"gradable": True, "score": round(sum(scores) / total, 6) if total else 0.0, "message": summary,
            "output": summary + "\n\n" + feedback(_without_error(result), wrts=wrts, answers=answers),
            "tests": tests}


def _without_error(result: StudentResult) -> StudentResult:
    """The result without its submission-wide error (said once at the top, not in every test)."""
    return StudentResult(result.student, result.verdicts, result.score, result.max_score)


def run(platform: str, problem_path: Path, root: Path, time_limit: float = TIME_LIMIT, trust: bool = False,
        seed: int = 0) -> Path:
    """Grade the submission under `root` as `platform` lays it out and write its results.json there; a
    failure of the grader itself still writes a results file saying so (never a missing file)."""
    start = time.perf_counter()
    student = root / ("submission" if platform == "gradescope" else "student")
    target = root / "results" / "results.json"
    try:
        problem = load_problem(problem_path, trust=trust)
        rubric = load_rubric(problem_path, problem)
        wrts = [w.name for w in problem.wrt]
        result, notes = grade_submission(problem_path, student, time_limit, trust, seed)
        answers = _answers(problem_path, rubric)
        if platform == "gradescope":
            data = gradescope_results(result, rubric, wrts, time.perf_counter() - start, answers, notes)
        else:
            data = prairielearn_results(result, rubric, wrts, answers, notes)
    except Exception as error:  # the grader failed, not the student: say so on the platform
        message = f"derive could not grade this submission ({type(error).__name__}: {error}); ask your instructor"
        data = ({"score": 0.0, "execution_time": round(time.perf_counter() - start, 3), "output": message,
                 "visibility": "visible", "stdout_visibility": "hidden", "tests": []}
                if platform == "gradescope" else {"gradable": False, "score": 0.0, "message": message})
    target.parent.mkdir(parents=True, exist_ok=True)
    from ..write.output import write_atomically

    write_atomically(target, json.dumps(data, indent=2, ensure_ascii=False))
    return target


def root_from_environment(platform: str) -> Path:
    return Path(os.environ.get(ROOT_VARIABLES[platform]) or DEFAULT_ROOTS[platform])


# -- building the graders -----------------------------------------------------------------------------------

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
apt-get update
apt-get install -y --no-install-recommends python3 python3-pip python3-venv
python3 -m venv "$ROOT/derive-venv"
"$ROOT/derive-venv/bin/python" -m pip install --upgrade pip
"$ROOT/derive-venv/bin/python" -m pip install "$ROOT/source/%(wheel)s"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades $AUTOGRADER_ROOT/submission/ (default /autograder)
# and writes $AUTOGRADER_ROOT/results/results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${DERIVE_PYTHON:-$ROOT/derive-venv/bin/python}"
exec "$PYTHON" -c 'import sys; from pathlib import Path
from derive.grade.platforms import root_from_environment, run
root = root_from_environment("gradescope")
run("gradescope", root / "source" / "problem.yaml", root, time_limit=%(time_limit)r, trust=%(trust)r,
    seed=%(seed)r)' "$@"
"""

PRAIRIELEARN_GRADER = '''"""PrairieLearn runs this for every submission (entrypoint `python3 /grade/tests/grader.py`): it grades
$DERIVE_GRADE_ROOT/student/ (default /grade) and writes $DERIVE_GRADE_ROOT/results/results.json."""

from pathlib import Path

from derive.grade.platforms import root_from_environment, run

run("prairielearn", Path(__file__).resolve().parent / "problem.yaml", root_from_environment("prairielearn"),
    time_limit=%(time_limit)r, trust=%(trust)r, seed=%(seed)r)
'''

DOCKERFILE = """# The grading image for PrairieLearn: build it, push it to Docker Hub, and name it in info.json.
FROM python:3.11-slim
COPY %(wheel)s /tmp/
RUN pip install --no-cache-dir /tmp/%(wheel)s && rm /tmp/%(wheel)s
"""


def check_problem(problem_path: Path, trust: bool = False):
    """The problem and its rubric, read now so that a bad file fails the build, not every student; a
    `syntax: sympy` problem only with `trust` (its parser evaluates Python)."""
    from .verify import Judge

    problem = load_problem(problem_path, trust=trust)
    load_rubric(problem_path, problem)
    for wrt in problem.wrt:  # what every submission will need: a problem too deep to grade fails here, once
        Judge(problem, wrt)
    return problem


def gradescope_zip(problem_path: Path, time_limit: float = TIME_LIMIT, trust: bool = False,
                   seed: int | None = None) -> bytes:
    """The autograder.zip Gradescope takes, for the problem at `problem_path`; `seed` for the sample points
    (None: drawn now, at random, so that no student can know the points from derive's source)."""
    check_problem(problem_path, trust)
    wheel_name, wheel = build_wheel()
    files = {"setup.sh": SETUP_SH % {"wheel": wheel_name}, "run_autograder": RUN_AUTOGRADER % {"time_limit": time_limit, "trust": trust, "seed": _seed(seed)},
             PROBLEM_NAME: Path(problem_path).read_bytes(), wheel_name: wheel}
    return _zip(files, executable={"setup.sh", "run_autograder"})


def prairielearn_files(problem_path: Path, time_limit: float = 8.0, trust: bool = False, seed: int | None = None) -> dict:
    """{relative path: content} of the PrairieLearn grader folder for the problem at `problem_path` (`seed` as
    for `gradescope_zip`)."""
    problem = check_problem(problem_path, trust)
    wheel_name, wheel = build_wheel()
    timeout = int(min(600, 20 + 1.5 * time_limit * max(1, len(problem.wrt))))
    options = {"externalGradingOptions": {"enabled": True, "image": "YOUR-DOCKER-HUB-NAME/derive-grader",
                                          "entrypoint": "python3 /grade/tests/grader.py", "timeout": timeout}}
    return {"tests/grader.py": PRAIRIELEARN_GRADER % {"time_limit": time_limit, "trust": trust,
                                                          "seed": _seed(seed)},
            f"tests/{PROBLEM_NAME}": Path(problem_path).read_bytes(),
            "image/Dockerfile": DOCKERFILE % {"wheel": wheel_name}, f"image/{wheel_name}": wheel,
            "info.json": json.dumps(options, indent=2) + "\n"}


def _seed(seed: int | None) -> int:
    import secrets

    return secrets.randbelow(2 ** 31) if seed is None else int(seed)


def _zip(files: dict, executable: set) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100755 if name in executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return out.getvalue()


# -- derive's own wheel --------------------------------------------------------------------------------------

def build_wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a wheel of the running derive: its package, templates and examples, and the
    dependencies of its distribution, so that `pip install` needs no build tool and no copy of this repo."""
    from .. import __version__
    from ..write.resources import resource_dir

    package = Path(__file__).resolve().parents[1]
    files = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_file() and "__pycache__" not in relative.parts and relative.parts[0] not in ("templates", "examples") \
                and path.suffix not in (".pyc", ".pyo"):
            files[f"derive/{relative.as_posix()}"] = path.read_bytes()
    for name in ("templates", "examples"):
        folder = resource_dir(name)
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[f"derive/{name}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    info = f"derive-{__version__}.dist-info"
    metadata = ["Metadata-Version: 2.1", "Name: derive", f"Version: {__version__}", "Requires-Python: >=3.10"]
    metadata += [f"Requires-Dist: {requirement}" for requirement in _requirements()]
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: derive\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nderive = derive.cli.main:run\n"
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    return f"derive-{__version__}-py3-none-any.whl", _zip(files, executable=set())


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def _requirements() -> list[str]:
    """derive's run-time dependencies: from pyproject.toml in a source checkout, else from the installed
    distribution's metadata."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    if pyproject.is_file():
        try:
            import tomllib
        except ImportError:  # Python 3.10
            tomllib = None
        if tomllib is not None:
            return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"])
    from importlib.metadata import PackageNotFoundError, requires

    try:
        return [r for r in requires("derive") or [] if "extra ==" not in r]
    except PackageNotFoundError:
        raise DeriveError("cannot find derive's dependencies (no pyproject.toml, no installed metadata)") from None


# -- a class graded at once ---------------------------------------------------------------------------------

def results_dir_files(batch, problem_path: Path) -> dict:
    """{"<student>/results.json": text}: one Gradescope results.json per student of `batch` (the student's
    file name as one folder name, `~2` added where two names would give the same folder)."""
    problem = load_problem(problem_path)
    rubric = load_rubric(problem_path, problem)
    wrts = [w.name for w in problem.wrt]
    answers = _answers(problem_path, rubric)
    seconds = batch.seconds / max(1, len(batch.results))
    files, used = {}, set()
    for result in batch.results:
        name = _student_folder(result.student)
        name = next(n for n in (name, *(f"{name}~{i}" for i in range(2, len(used) + 3))) if n not in used)
        used.add(name)
        data = gradescope_results(result, rubric, wrts, seconds, answers)
        files[f"{name}/results.json"] = json.dumps(data, indent=2, ensure_ascii=False)
    return files


def write_results_dir(folder: Path, batch, problem_path: Path) -> list[Path]:
    """`results_dir_files` written as the new folder `folder`, all or nothing; the paths written."""
    from ..write.output import write_folder_atomically

    files = results_dir_files(batch, problem_path)
    write_folder_atomically(folder, files)
    return [Path(folder) / name for name in files]


def _student_folder(name: str) -> str:
    """The student's file name as one folder name: never empty, '.', '..' or containing a separator."""
    clean = "".join("_" if c in "/\\\0" or not c.isprintable() else c for c in name).strip()
    return clean if clean not in ("", ".", "..") else f"_{clean}"
