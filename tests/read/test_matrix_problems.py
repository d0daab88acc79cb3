"""Problem files with shapes, read by `Problem.from_text`: good ones solve and check, bad ones fail in one line.

Good: the seed-style batch problem (X^T Delta, in the document's names) and the `mlp:` shorthand, each against
`sympy.diff` (the shared oracle) and central differences. Bad: a table of files, each raising a `DeriveError`
whose one-line message says what was wrong and where (file, line, definition); the same through
`derive solve` exits 2 with one `derive: error:` line. Bugs found are strict xfails saying what goes wrong.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from derive.core.errors import DeriveError, LatexError, MissingRuleError, ProblemError
from derive.core.matrix_ops import ShapeMismatch
from derive.core.printing import latex
from derive import Problem

from matrix_oracle import assert_matches_oracle

SEED = r"""
title: One sigmoid unit on a batch
symbols:
  X: [n, 3]
  W: [3, 1]
  y: [n, 1]
definitions:
  - \hat{y} = \sigma(X W)
  - L = \frac{1}{2}\lVert y - \hat{y}\rVert^2
loss: L
wrt: [W]
"""


def load(text: str) -> Problem:
    return Problem.from_text(textwrap.dedent(text).lstrip("\n"), "p.yaml")


def printed_compact(solution) -> dict[str, str]:
    """Each gradient's compact form as the document prints it (deltas renamed by layer)."""
    return {g["variable"]: g["compact_latex"] for g in json.loads(solution.to_json())["gradients"]}


# -- good problems ---------------------------------------------------------------------------------------

def test_seed_style_batch_problem_gives_x_transpose_delta():
    solution = load(SEED).solve()
    (derivation,) = solution.derivations
    assert derivation.wrt.shape == (3, 1)
    assert latex(derivation.compact) == r"X^T \Delta^{(1)}"
    assert printed_compact(solution) == {"W": r"X^T \Delta"}
    assert r"X^T \Delta" in solution.document(check=False)
    assert_matches_oracle(solution, points=1)
    report = solution.check()
    assert report.passed, report.summary()


@pytest.mark.parametrize("text, printed", [
    pytest.param("mlp: {sizes: [3, 2, 1], activations: tanh, loss: squared, bias: true, batch: n}\n",
                 {"W^{(1)}": r"X^T \Delta^{(1)}", "b^{(1)}": r"\Delta^{(1)T} \mathbf{1}",
                  "W^{(2)}": r"A^{(1)T} \Delta^{(2)}", "b^{(2)}": r"\Delta^{(2)T} \mathbf{1}"}, id="two-layers-squared"),
    pytest.param("title: bce\nmlp:\n  sizes: [2, 1]\n  loss: bce\n  bias: false\n  batch: 3\n  weight_decay: lambda\n",
                 {"W^{(1)}": r"\lambda W^{(1)} + X^T \Delta"}, id="one-layer-bce-decay"),
])
def test_mlp_shorthand(text, printed):
    problem = load(text)
    solution = problem.solve()
    assert [w.name for w in problem.wrt] == list(printed)
    for d in solution.derivations:
        assert d.result.shape == d.wrt.shape
    assert printed_compact(solution) == printed
    assert_matches_oracle(solution, points=1)
    report = solution.check(points=2)
    assert report.passed, report.summary()


def test_mlp_shorthand_softmax_cross_entropy_fuses_the_output_delta():
    """Y is one-hot (declared by the builder), so the output delta is (Yhat - Y) / n."""
    solution = load("mlp: {sizes: [2, 3], loss: cross-entropy, bias: false, batch: n}\n").solve()
    assert solution.network.one_hot == {solution.network.symbol("Y")}
    assert printed_compact(solution) == {"W^{(1)}": r"X^T \Delta"}
    delta = json.loads(solution.to_json())["deltas"][0]
    assert delta["value_latex"] == r"\frac{1}{n} (\hat{Y} - Y)"
    assert solution.check(points=2).passed



RIDGE = r"""
symbols:
  X: [n, 3]
  w: [3, 1]
  y: [n, 1]
  lambda: scalar
definitions:
  - L = (y - X w)^T (y - X w) + \lambda \lVert w \rVert^2
loss: L
wrt: [w]
"""
RIDGE_GRADIENT = r"2 \lambda w - 2 X^T (y - X w)"


def test_ridge_regression_written_as_a_quadratic_form_solves():
    """A 1x1 product plus a scalar function of a matrix (r^T r + lambda ||w||^2) mixes as scalars do."""
    solution = load(RIDGE).solve()
    assert latex(solution.derivations[0].compact) == RIDGE_GRADIENT
    assert_matches_oracle(solution, points=1)
    assert solution.check(points=2).passed


@pytest.mark.parametrize("rhs", [
    r"\operatorname{sum}(\exp(X W) \oslash \exp(X W))",
    r"\operatorname{sum}((X W)^{\circ 3})",
    r"\operatorname{sum}((X W)^{\circ 2} \odot (X W)^{\circ -1})",
], ids=["oslash", "hadamard-power", "hadamard-power-negative"])
def test_reader_reads_the_printers_entrywise_notation(rhs):
    assert load(shaped(f"L = {rhs}")).solve().check(points=1).passed


# -- bad problems ------------------------------------------------------------------------------------------

SHAPES = "symbols:\n  X: [n, 3]\n  W: [{w}, 1]\n  y: [n, 1]\n  A: [3, 3]\n  c: scalar\n"


def shaped(*definitions: str, w: int = 3, wrt: str = "[W]", extra: str = "") -> str:
    """A problem over X: n x 3, W: w x 1, y: n x 1, A: 3 x 3, c scalar; definitions start on line 8."""
    lines = "".join(f"  - {d}\n" for d in definitions)
    return SHAPES.format(w=w) + "definitions:\n" + lines + f"loss: L\nwrt: {wrt}\n" + extra


BAD = [
    pytest.param(shaped(r"\hat{y} = \sigma(X W)", r"L = \lVert y - \hat{y} \rVert^2", w=4), ShapeMismatch,
                 ["p.yaml, line 8, definition of yhat", "cannot multiply", "X (nx3)", "W (4x1)",
                  "3 columns against 4 rows"], id="matmul-shapes"),
    pytest.param(shaped(r"L = \lVert X W + A \rVert^2"), ShapeMismatch,
                 ["p.yaml, line 8, definition of L", "cannot add", "A (3x3)", "(X W) (nx1)"], id="add-shapes"),
    pytest.param(shaped(r"L = \operatorname{sum}(X W \odot A)"), ShapeMismatch,
                 ["p.yaml, line 8, definition of L", "entrywise product", "(nx1)", "(3x3)"], id="hadamard-shapes"),
    pytest.param(shaped(r"L = \operatorname{tr}(X W)"), ShapeMismatch,
                 ["p.yaml, line 8, definition of L", "trace needs a square matrix", "(nx1)"], id="trace-not-square"),
    pytest.param(shaped(r"\hat{y} = \sigma(X W)", r"L = y - \hat{y}"), ProblemError,
                 ["p.yaml, line 9, definition of L", "the loss L is not scalar", "nx1 matrix"], id="loss-not-scalar"),
    pytest.param("symbols:\n  X: [n, 3, 2]\n  W: [3, 1]\ndefinitions:\n  - L = \\lVert X W \\rVert^2\nloss: L\nwrt: [W]\n",
                 ProblemError, ["p.yaml, line 1", "symbol X has shape", "a shape is [rows, columns]"], id="shape-3-sizes"),
    pytest.param("symbols:\n  X: n\n  W: [3, 1]\ndefinitions:\n  - L = \\lVert W \\rVert^2\nloss: L\nwrt: [W]\n",
                 ProblemError, ["p.yaml, line 1", "symbol X has shape n", "a shape is [rows, columns]"], id="shape-not-list"),
    pytest.param("symbols:\n  X: [0, 3]\n  W: [3, 1]\ndefinitions:\n  - L = \\lVert X W \\rVert^2\nloss: L\nwrt: [W]\n",
                 ProblemError, ["p.yaml, line 1", "each size is a positive integer or a name"], id="shape-zero"),
    pytest.param("title: t\nmlp: {sizes: [3, 1], dropout: 0.5}\n", ProblemError,
                 ["p.yaml, line 2", "unknown mlp option 'dropout'", "known: activations"], id="mlp-unknown-option"),
    pytest.param("mlp: {sizes: [3, 4, 4, 1], activations: [tanh]}\n", ProblemError,
                 ["p.yaml, line 1", "2 hidden layer(s) need 2 activation(s), not 1"], id="mlp-activation-count"),
    pytest.param("mlp: {sizes: [3, 2], loss: cross-entropy, output: sigmoid}\n", ProblemError,
                 ["p.yaml, line 1", "cross-entropy loss needs the softmax output"], id="mlp-cross-entropy-output"),
    pytest.param("mlp: {sizes: [3, 2, 1], activations: gelu}\n", ProblemError,
                 ["p.yaml, line 1", "unknown activation 'gelu'"], id="mlp-unknown-activation"),
    pytest.param(shaped(r"L = \operatorname{sum}(\sigma'(X W))"), MissingRuleError,
                 ["p.yaml, line 8, definition of L", "no derivative rule for the operation sigmoid'"],
                 id="no-rule-sigma-prime"),
    pytest.param(shaped(r"L = \lVert X W \rVert^2", extra="one_hot: [c]\n"), ProblemError,
                 ["p.yaml, line 11", "one_hot names c, which is not a matrix"], id="one-hot-scalar"),
    pytest.param(shaped(r"L = \lVert y - \sigma(X W) \rVert^2", wrt="[y]", extra="one_hot: [y]\n"), ProblemError,
                 ["cannot differentiate with respect to y", "one-hot"], id="wrt-one-hot"),
    pytest.param(shaped(r"L = \lVert X W + \mathbf{1}_m \rVert^2"), LatexError,
                 ["p.yaml, line 8, definition of L", "unknown dimension m", "declared shapes use: n"], id="unknown-dimension"),
    pytest.param(shaped(r"L = \operatorname{sum}(\operatorname{softmax}(c))"), ShapeMismatch,
                 ["p.yaml, line 8, definition of L", "softmax needs a matrix"], id="softmax-of-scalar"),
    pytest.param(shaped(r"L = \lVert A \rVert_2^2", wrt="[A]"), LatexError,
                 ["p.yaml, line 8, definition of L", "spectral norm"], id="spectral-norm"),
]


def _mlp(options: str, *pieces: str, bug: str = ""):
    """A bad `mlp:` shorthand (on line 1); `bug` makes it a strict xfail with that reason."""
    marks = [pytest.mark.xfail(reason=bug, strict=True)] if bug else []
    return pytest.param(f"mlp: {options}\n", ProblemError, ["p.yaml, line 1", *pieces], id=f"mlp {options}",
                        marks=marks)


BAD_MLP_OPTIONS = [
    _mlp("{sizes: [3, 1], batch: -1}", "batch must be a positive integer or a name such as n, not -1"),
    _mlp("{sizes: [3, 1], batch: 0}", "batch must be a positive integer", "not 0"),
    _mlp("{sizes: [3, 1], batch: 1.5}", "batch must be a positive integer", "not 1.5"),
    _mlp("{sizes: [3, 1], batch: true}", "batch must be a positive integer", "not True"),
    _mlp("{sizes: [3, 1], batch: 2n}", "batch must be a positive integer", "not '2n'"),
    _mlp("{sizes: [3, 1], batch: X}", "batch X is the name of a matrix of the network"),
    _mlp("{sizes: [true, 1]}", "positive integer sizes", "not [True, 1]"),
    _mlp("{sizes: 3}", "sizes must be a list", "not 3"),
    _mlp("{sizes: [3, 1], weight_decay: 3}", "weight_decay must be the name of the decay coefficient", "not 3"),
    _mlp("{sizes: [3, 1], weight_decay: X}", "weight_decay X is already a name in the network"),
    _mlp("{sizes: [3, 1], loss: hinge}", "unknown loss 'hinge'"),
    _mlp("{sizes: [3, 1], bias: maybe}", "bias must be true or false", "not 'maybe'"),
]


def test_weight_decay_clash_suggests_a_free_name():
    with pytest.raises(ProblemError) as caught:
        load("mlp: {sizes: [3, 1], batch: lambda, weight_decay: lambda}\n")
    assert "already a name" in str(caught.value) and "such as lambda" not in str(caught.value)


def load_solve_check(text: str):
    solution = load(text).solve()
    return solution.check(points=1)


@pytest.mark.parametrize("text, error, pieces", BAD + BAD_MLP_OPTIONS)
def test_bad_problem_fails_in_one_line(text, error, pieces):
    with pytest.raises(error) as caught:
        load_solve_check(text)
    message = str(caught.value)
    assert "\n" not in message, message
    for piece in pieces:
        assert piece in message, (piece, message)


def test_missing_rule_is_raised_when_solving_not_when_reading():
    problem = load(shaped(r"L = \operatorname{sum}(\sigma'(X W))"))
    with pytest.raises(MissingRuleError):
        problem.solve()


# -- the command line --------------------------------------------------------------------------------------

def run_derive(tmp_path, text: str) -> subprocess.CompletedProcess:
    path = tmp_path / "p.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    command = [shutil.which("derive")] if shutil.which("derive") else [sys.executable, "-m", "derive"]
    return subprocess.run([*command, "solve", str(path)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=240, stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess, *pieces: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error: "), result.stderr
    for piece in pieces:
        assert piece in lines[0], (piece, lines[0])
    assert result.stdout == ""


def test_cli_shape_mismatch_exits_2_with_one_line(tmp_path):
    result = run_derive(tmp_path, shaped(r"\hat{y} = \sigma(X W)", r"L = \lVert y - \hat{y} \rVert^2", w=4))
    assert_one_line_error(result, "p.yaml, line 8, definition of yhat", "X (nx3)", "W (4x1)")
    assert re.fullmatch(r"derive: error: \S*p\.yaml, line 8, definition of yhat: cannot multiply .*\n", result.stderr)


def test_cli_bad_mlp_batch_exits_2_with_one_line(tmp_path):
    assert_one_line_error(run_derive(tmp_path, "mlp: {sizes: [3, 1], batch: -1}\n"), "p.yaml, line 1",
                          "batch must be a positive integer")


def test_errors_are_derive_errors():
    """Every class the table expects is a DeriveError, which the CLI turns into one line and status 2."""
    assert all(issubclass(e, DeriveError) for e in (ShapeMismatch, ProblemError, LatexError, MissingRuleError))
