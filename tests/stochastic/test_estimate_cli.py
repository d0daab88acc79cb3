"""`derive estimate` run for real (a subprocess in a temporary folder), and its document compiled by pdflatex.

Good input: exit 0, the file in the asked format, a real PNG plot, the same numbers for the same seed.
Bad input: exit 2, one `derive: error:` line, no traceback, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import pytest

from conftest import require_pdflatex
from cli_helpers import assert_bad_input, assert_no_traceback, part_files, run_cli, write_problem

matplotlib.use("Agg")

ROUTER = Path(__file__).resolve().parents[2] / "examples" / "router.yaml"


def test_estimate_writes_json_with_the_verdicts(tmp_path):
    result = run_cli(tmp_path, "estimate", ROUTER, "--samples", "100000", "--seed", "3", "-o", "out.json")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    verdicts = {e["name"]: e["verdict"] for e in data["estimators"]}
    assert verdicts["reinforce"] == "consistent with unbiased"
    assert verdicts["straight-through"].startswith("biased (max |bias| = ")
    assert len(data["exact_gradient"]) == 3 and len(data["exact_gradient"][0]) == 2
    assert abs(sum(data["p"]) - 1) < 1e-12
    assert "straight-through: biased" in result.stdout and "; biased by design" in result.stdout
    assert part_files(tmp_path) == []


def test_estimate_is_reproducible_with_a_seed(tmp_path):
    outputs = []
    for name, seed in (("a.json", "5"), ("b.json", "5"), ("c.json", "6")):
        result = run_cli(tmp_path, "estimate", ROUTER, "--samples", "2000", "--seed", seed, "-o", name)
        assert result.returncode == 0, result.stderr
        outputs.append((tmp_path / name).read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] != outputs[2]


def test_estimate_chosen_estimators_and_tau(tmp_path):
    result = run_cli(tmp_path, "estimate", ROUTER, "--estimator", "reinforce", "--estimator", "gumbel-softmax",
                     "--tau", "2.0", "--samples", "5000", "-o", "out.json")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [e["name"] for e in data["estimators"]] == ["reinforce", "gumbel-softmax"]


def test_estimate_writes_markdown_and_a_real_png(tmp_path):
    result = run_cli(tmp_path, "estimate", ROUTER, "--samples", "20000", "-o", "out.md", "--plot", "plot.png")
    assert result.returncode == 0, result.stderr
    markdown = (tmp_path / "out.md").read_text(encoding="utf-8")
    assert "$$" in markdown and "![error against the number of draws](plot.png)" in markdown
    assert "| straight-through |" in markdown
    from matplotlib import image

    pixels = image.imread(tmp_path / "plot.png")
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 300
    assert pixels[..., :3].std() > 0.05  # not blank


def test_estimate_tex_compiles_with_pdflatex(tmp_path):
    require_pdflatex()
    result = run_cli(tmp_path, "estimate", ROUTER, "--samples", "20000", "-o", "out.pdf")
    assert_no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_estimate_tex_on_standard_output(tmp_path):
    result = run_cli(tmp_path, "estimate", ROUTER, "--samples", "2000")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\\documentclass") and "\\begin{loglogaxis}" in result.stdout
    assert "score function (REINFORCE), no baseline:" in result.stderr


# -- bad input --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, expected", [
    (["--tau", "0"], "temperature tau must be a number > 0"),
    (["--tau", "-1"], "temperature tau must be a number > 0"),
    (["--samples", "1"], "number of samples must be an integer >= 2"),
    (["--seed", "-1"], "seed must be an integer >= 0"),
    (["--estimator", "reinforse"], "unknown estimator 'reinforse'"),
    (["--plot", "plot.jpg"], "must end in .png"),
])
def test_estimate_bad_options(tmp_path, args, expected):
    result = run_cli(tmp_path, "estimate", ROUTER, *args, "-o", "out.tex")
    assert expected in assert_bad_input(result, tmp_path)


@pytest.mark.parametrize("text, expected", [
    ("stochastic:\n  probabilities: [0.5, 0.6]\n  experts: [[1.0], [1.0]]\n", "sum to 1.1, not 1"),
    ("stochastic:\n  probabilities: [1.2, -0.2]\n  experts: [[1.0], [1.0]]\n", "entry 1 is 1.2"),
    ("stochastic:\n  x: [1.0]\n  W_r: [[1.0], [2.0]]\n  experts: [[1.0], [1.0]]\n  tau: -0.5\n", "tau must be a number > 0"),
    ("title: [unclosed\n", "malformed YAML"),
])
def test_estimate_bad_problem_files(tmp_path, text, expected):
    problem = write_problem(tmp_path, text)
    message = assert_bad_input(run_cli(tmp_path, "estimate", problem, "-o", "out.tex"), tmp_path)
    assert expected in message and "p.yaml" in message


@pytest.mark.parametrize("command", ["solve", "check"])
def test_other_commands_on_a_stochastic_problem_point_to_estimate(tmp_path, command):
    message = assert_bad_input(run_cli(tmp_path, command, ROUTER, "-o" if command == "solve" else "--points",
                                       "out.tex" if command == "solve" else "1"), tmp_path)
    assert "router.yaml" in message and "use 'derive estimate'" in message and "derive solve" not in message


def test_too_few_estimates_give_no_verdict(tmp_path):
    result = run_cli(tmp_path, "estimate", ROUTER, "--samples", "8", "-o", "out.json")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    loo = {e["name"]: e for e in data["estimators"]}["loo"]
    assert loo["verdict"] == "undecided (only 2 estimates; a z-test needs at least 30)"
    assert loo["consistent_with_unbiased"] is None


@pytest.mark.parametrize("args", [["-o", "out.json", "--plot", "missing/plot.png"],
                                  ["-o", "missing/out.json", "--plot", "plot.png"]])
def test_missing_folder_writes_nothing(tmp_path, args):
    """Both paths are checked before anything is written: no output without its plot, no plot without its output."""
    message = assert_bad_input(run_cli(tmp_path, "estimate", ROUTER, "--samples", "200", *args), tmp_path)
    assert "missing" in message and "does not exist" in message
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "plot.png").exists()
