"""examples/tutorial.ipynb: committed as examples/make_tutorial.py writes it (no outputs), and executed here
top to bottom by a Jupyter kernel (nbclient), which fails on the first cell that raises; then what the cells
displayed is read back: the derivation, the solution, the check report and the trace display themselves
richly (HTML with MathML, LaTeX and plain text), and the printed results say what the text around them says.

The kernel runs this interpreter with the derive under test first on its path, in a temporary folder holding
copies of the example problems (as Jupyter runs a notebook in the notebook's own folder), so that the files
the notebook writes land there.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
NOTEBOOK = EXAMPLES / "tutorial.ipynb"
CELL_TIMEOUT = 180  # seconds per cell; the slowest takes about 1 s on an idle machine
WHICH_DERIVE = "import derive\nprint(derive.__file__)"


def generator():
    spec = importlib.util.spec_from_file_location("make_tutorial", EXAMPLES / "make_tutorial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tagged(notebook, tag: str):
    cells = [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


def rich_output(cell) -> dict:
    """The mime bundle of the cell's displayed value (its execute_result or display_data)."""
    bundles = [output["data"] for output in cell.outputs if output.output_type in ("execute_result", "display_data")]
    assert bundles, f"cell {cell.id} displayed nothing"
    return bundles[-1]


def printed(cell) -> str:
    return "".join(output.text for output in cell.outputs if output.output_type == "stream" and output.name == "stdout")


def value_shown(cell) -> str:
    return rich_output(cell)["text/plain"]


def python_kernelspec(folder: Path) -> Path:
    """A kernelspec folder whose python3 kernel is this interpreter, so that no user's kernel is picked."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}))
    return folder


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """(the executed notebook, the folder it ran in)."""
    folder = tmp_path_factory.mktemp("tutorial")
    for problem in EXAMPLES.glob("*.yaml"):
        shutil.copy(problem, folder)
    jupyter = python_kernelspec(tmp_path_factory.mktemp("jupyter"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(WHICH_DERIVE, id="which-derive"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(jupyter))
        patch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path_factory.mktemp("runtime")))
        patch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))  # no profile, no startup files
        patch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
        patch.setenv("MPLBACKEND", "agg")
        client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=120,
                                resources={"metadata": {"path": str(folder)}})
        client.execute(env=dict(os.environ))  # raises CellExecutionError at the first cell that fails
    return notebook, folder


# -- the committed file ------------------------------------------------------------------------------------

def test_the_committed_notebook_is_what_make_tutorial_writes():
    assert NOTEBOOK.read_text(encoding="utf-8") == generator().notebook_text(), \
        "examples/tutorial.ipynb differs from its generator: run python examples/make_tutorial.py"


def test_the_committed_notebook_has_no_outputs_and_is_valid():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 20
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert notebook.metadata.kernelspec.name == "python3"


def test_the_problem_file_shown_in_the_notebook_is_the_example_file():
    source = tagged(nbformat.read(NOTEBOOK, as_version=4), "problem-file").source
    shown = re.search(r"```yaml\n(.*?)```", source, re.S).group(1)
    assert yaml.safe_load(shown) == yaml.safe_load((EXAMPLES / "two_layer_batch.yaml").read_text(encoding="utf-8"))


def test_the_notebook_speaks_to_students_not_developers():
    text = NOTEBOOK.read_text(encoding="utf-8").lower()
    for word in ("seed", "registry", "issue", "todo", "derive/", "internal"):
        assert word not in text, word


# -- the notebook run --------------------------------------------------------------------------------------

def test_every_cell_runs_in_a_kernel_that_imports_the_derive_under_test(executed):
    notebook, _ = executed
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code)
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert Path(printed(code[-1]).strip()) == ROOT / "derive" / "__init__.py"


@pytest.mark.parametrize("tag", ["derivation", "solution"])
def test_a_derivation_and_a_solution_display_as_html_with_mathml_and_as_latex(executed, tag):
    bundle = rich_output(tagged(executed[0], tag))
    assert "<math" in bundle.get("text/html", ""), sorted(bundle)
    assert r"\frac{\partial L}{\partial" in bundle.get("text/latex", ""), sorted(bundle)
    assert bundle.get("text/plain")


@pytest.mark.parametrize("tag", ["check", "trace"])
def test_a_check_report_and_a_trace_display_as_html_with_mathml_and_as_latex(executed, tag):
    bundle = rich_output(tagged(executed[0], tag))
    assert "<math" in bundle.get("text/html", ""), sorted(bundle)
    assert bundle.get("text/latex") and bundle.get("text/plain"), sorted(bundle)


def test_the_scalar_unit_gradient_and_its_check(executed):
    notebook, _ = executed
    assert value_shown(tagged(notebook, "result")) == "x*yhat*(1 - yhat)*(-y + yhat)"
    assert "'ChainRule'" in value_shown(tagged(notebook, "steps")) and "'Final'" in value_shown(tagged(notebook, "steps"))
    assert value_shown(tagged(notebook, "verdict")) == "'pass'"


def test_the_matrix_gradients_agree_with_the_notebooks_own_finite_differences(executed):
    notebook, _ = executed
    compact = printed(tagged(notebook, "compact"))
    assert "dL/dW^{(1)} = X.T*Delta^{(2)}" in compact and "dL/dW^{(2)} = H.T*Delta^{(1)}" in compact
    lines = printed(tagged(notebook, "finite-difference")).splitlines()
    assert len(lines) == 2 and all(line.endswith("agree: True") for line in lines), lines
    assert value_shown(tagged(notebook, "trace-gradient")).endswith(", True)")


def test_verify_accepts_the_correct_answer_and_diagnoses_the_sign_error(executed):
    notebook, _ = executed
    assert printed(tagged(notebook, "verify-correct")).startswith("correct")
    sign = tagged(notebook, "verify-sign")
    assert "sign error" in printed(sign) and value_shown(sign) == "('incorrect', 'sign')"
    assert "a factor is missing" in printed(tagged(notebook, "verify-missing"))


def test_the_worked_solution_is_written_to_files(executed):
    notebook, folder = executed
    assert value_shown(tagged(notebook, "write")) == "['two_layer_batch.md', 'two_layer_batch.tex']"
    tex = (folder / "tutorial-output" / "two_layer_batch.tex").read_text(encoding="utf-8")
    markdown = (folder / "tutorial-output" / "two_layer_batch.md").read_text(encoding="utf-8")
    assert tex.startswith(r"\documentclass") and r"\end{document}" in tex
    assert "$$" in markdown and "W^{(2)}" in markdown


def test_the_worked_solution_is_written_as_a_web_page(executed):
    import re

    notebook, folder = executed
    assert value_shown(tagged(notebook, "write-html")) == "'two_layer_batch.html'"
    page = (folder / "tutorial-output" / "two_layer_batch.html").read_text(encoding="utf-8")
    tex = (folder / "tutorial-output" / "two_layer_batch.tex").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    numbered = re.findall(r'<tr class="[a-z]+" id="eq-([^"]+)"', page)
    assert numbered and numbered == re.findall(r"\\tag\{([^{}]+)\}", tex)  # the document's equations, numbered alike
