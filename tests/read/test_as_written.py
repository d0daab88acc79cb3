"""The normaliser of definitions as written: spacing, bracket sizing and name forms change, nothing else."""

from __future__ import annotations

import pytest

from derive.read.as_written import as_written

CASES = [  # (as the instructor wrote it, as the document prints it)
    (r"-(y\log\hat y + (1-y)\log(1-\hat y))",
     r"-(y \log\hat{y} + (1 - y) \log(1 - \hat{y}))"),
    ("(1+a)/2", r"(1 + a)/2"),
    ("w_1 x_1 + w_2 x_2 + b", "w_{1} x_{1} + w_{2} x_{2} + b"),
    ("v h + w x", "v h + w x"),
    ("(y - Xw)^T (y - Xw)", r"(y - Xw)^T (y - Xw)"),
    (r"\frac{\lambda}{2}\lVert W\rVert^2", r"\frac{\lambda}{2} \lVert W \rVert^{2}"),
    (r"\frac12 \bigl( y-\hat{y}\bigr)^2", r"\frac{1}{2} (y - \hat{y})^{2}"),
    (r"\sigma\left(X W^{[1]}\right)", r"\sigma(X W^{(1)})"),
    (r"\operatorname{relu}(z) + \|x\|^2", r"\operatorname{ReLU}(z) + \lVert x \rVert^{2}"),
    (r"\mathrm{ReLU}(z)\,\cdot\;\relu(z)", r"\operatorname{ReLU}(z) \cdot \operatorname{ReLU}(z)"),
    (r"\ln(1 + \exp(z))", r"\log(1 + \exp(z))"),
    (r"\sum_{i=1}^{3} w_i x_i", r"\sum_{i=1}^{3} w_{i} x_{i}"),
    (r"e^{-y w x}", r"e^{-y w x}"),
    (r"-\frac{1}{n}\mathbf 1^T \log(\hat Y)", r"-\frac{1}{n} \mathbf{1}^T \log(\hat{Y})"),
    (r"\left. x \right.", "x"),
    ("a   -   -b", "a - -b"),
    (r"\frac{x^2}{2}", r"\frac{x^{2}}{2}"),
    (r"x^{\circ 2} \odot y", r"x^{\circ 2} \odot y"),
    (r"\tanh(\frac{(a)}{b})", r"\tanh\left(\frac{(a)}{b}\right)"),
]


@pytest.mark.parametrize("written, printed", CASES)
def test_normalised_as_the_printer_writes(written, printed):
    assert as_written(written) == printed


@pytest.mark.parametrize("written, printed", CASES)
def test_normalising_is_idempotent(written, printed):
    assert as_written(printed) == printed


def test_brackets_left_open_in_a_group_are_not_sized():
    # \left( in one brace group and \right) in another would not compile: such a pair stays as written
    assert as_written(r"\frac{(a}{b)}") == r"\frac{(a}{b)}"


def test_bm_is_written_as_boldsymbol():
    assert as_written(r"\bm x + \bm{y}") == r"\boldsymbol{x} + \boldsymbol{y}"


def test_text_with_a_command_only_derive_reads_is_left_to_the_printer():
    import sympy

    from derive.read.as_written import printable

    x = sympy.Symbol("x")
    assert printable(x, r"\sigmoid(x)") == r"\sigma(x)"
    assert printable(x, r"\mystery x") is None
