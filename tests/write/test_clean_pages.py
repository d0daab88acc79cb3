"""Clean pages: every document derive writes (solve with and without the check's plot and comparison, demo,
demo --all, trace, estimate, the check's standalone plot) for every example and a few larger problems compiles
without an Overfull or Underfull box and without an equation tag pushed onto a line of its own."""

from __future__ import annotations

import pytest

from conftest import require_pdflatex
from documents_of_every_kind import build, kinds, pictures
from page_audit import page_flaws

KINDS = kinds() + pictures()


def test_every_kind_and_example_is_audited():
    ids = {name for name, _, _ in KINDS}
    assert {"demo", "demo-all", "estimate-router", "estimate-router_mlp", "trace-two_layer_vector",
            "solve-plot-compare-mlp_softmax", "solve-mlp3", "solve-ridge", "trace-mlp_decay",
            "check-plot-one_layer_scalar", "check-plot-mlp_softmax"} <= ids
    assert len(ids) >= 45


def test_the_audit_sees_an_overfull_box_and_a_tag_alone():
    pdflatex = require_pdflatex()
    wide = r"\[" + " + ".join(["x_{1}"] * 80) + r"\]"
    crowded = r"\begin{align} a &= " + " + ".join(["b"] * 50) + r" \tag{1} \end{align}"
    tex = ("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n" + wide + "\n" + crowded
           + "\n\\end{document}\n")
    flaws = page_flaws(tex, pdflatex)
    assert any(flaw.startswith("Overfull \\hbox") for flaw in flaws), flaws
    assert any(flaw.startswith("Tag alone on its line") for flaw in flaws), flaws


@pytest.mark.parametrize("kind, path", [(kind, path) for _, kind, path in KINDS], ids=[name for name, _, _ in KINDS])
def test_pages_are_clean(kind, path):
    pdflatex = require_pdflatex()
    assert page_flaws(build(kind, path), pdflatex) == []
