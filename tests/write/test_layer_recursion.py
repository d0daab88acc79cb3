"""Deep networks: each per-layer recursion is derived once, at the first layer that needs it, and every later
layer's delta and weight gradient is read off it by number ("By (13) with l = 2"), so the document grows by a
few lines per layer. The rendered instances must be the very results the engine derived at those layers."""

from __future__ import annotations

import re

import pytest
from sympy import Symbol

from derive.core import steps as st
from derive.builders import mlp
from derive.core.matrix_recursions import _at_layer, final_form, sympy_str
from derive.write.output import compile_pdf
from derive.write.render import with_recursions

from conftest import require_pdflatex


def deep_solution(depth: int, activation: str = "sigmoid"):
    net, loss, params = mlp([3] + [4] * (depth - 1) + [1], activations=activation, loss="squared", bias=True,
                            batch="n")
    return net.gradients(loss, params)


def test_the_delta_recursion_is_stated_once_after_the_first_hidden_layer():
    text = deep_solution(4).latex()
    recursion = re.findall(r"\\Delta\^\{\(l\)\} &= .*\\label\{eq:(\d+)\}", text)
    assert len(recursion) == 1
    assert text.count("Let \\(\\Delta^{(") == 2  # the output layer's delta and the first hidden one, in full
    for layer in (2, 1):
        assert rf"By \eqref{{eq:{recursion[0]}}} with \(l = {layer}\):" in text
    assert "Collecting" not in text and "In general" not in text
    # the gradients at A^(1) and A^(2) are part of the recursion, not printed again
    assert r"\frac{\partial L}{\partial A^{(1)}} &=" not in text
    assert r"\frac{\partial L}{\partial A^{(3)}} &=" in text  # the exemplar's own step stays


def test_every_instance_is_the_engines_own_result_at_that_layer():
    solution = deep_solution(5, "tanh")
    part = solution.part(with_check=False)
    sections, general, exemplars = with_recursions(part.sections, part.general)
    steps = {s.key: s for s in solution.steps}
    instances = [s for _, found in sections for s in found if isinstance(s, st.ByRecursion)]
    assert len(instances) == 3 + 3 + 4  # deltas of layers 1-3, W^(3..5), b^(2..5)
    index = Symbol("l", integer=True, positive=True)
    for instance in instances:
        replaced = steps[instance.replaces]
        assert instance.result == final_form(replaced)
        recursion = steps[instance.uses[0]]
        assert instance.layer in recursion.layers
        assert sympy_str(_at_layer(instance.result, instance.layer, index)) == sympy_str(recursion.result)
    assert not general and len(exemplars) == 3


def test_numbers_and_references_stay_consistent():
    text = deep_solution(4).latex()
    labels = re.findall(r"\\label\{eq:(\d+)\}", text)
    assert labels == [str(k) for k in range(1, len(labels) + 1)]  # numbered from (1) in print order, each once
    for ref in set(re.findall(r"\\eqref\{eq:(\d+)\}", text)):
        assert ref in labels


def test_the_document_grows_by_a_constant_amount_per_layer():
    sizes = {depth: len(deep_solution(depth).latex()) for depth in (4, 8, 16)}
    growth = (sizes[16] - sizes[8]) / (sizes[8] - sizes[4])
    assert 1.8 < growth < 2.2, sizes


def test_a_deep_document_compiles():
    require_pdflatex()
    assert compile_pdf(deep_solution(4).document(check=False)).startswith(b"%PDF")


@pytest.mark.parametrize("fmt", ["tex", "md"])
def test_markdown_and_latex_both_refer_to_the_recursion(fmt):
    solution = deep_solution(3)
    text = solution.markdown(check=False) if fmt == "md" else solution.document(check=False)
    assert "with $l = 1$" in text if fmt == "md" else r"with \(l = 1\)" in text
