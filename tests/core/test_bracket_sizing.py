r"""Brackets sized by what they hold (issue 15): plain around a line of text's height, \left ... \right only
around something taller. `sized_brackets` runs over everything the printer and `as_written` print."""

import re

import pytest

from derive.core.printing import sized_brackets

DROPPED = [  # (printed by SymPy's methods, as the document prints it)
    (r"\left(x^{2}\right)", r"(x^{2})"),
    (r"\sigma\left(W^{(1)} x\right)", r"\sigma(W^{(1)} x)"),
    (r"\left(a \left(b\right)\right)^{2}", r"(a (b))^{2}"),  # nested: inner first, then the outer
    (r"\max\left(0, \left(x^T - a^T\right) A\right)", r"\max(0, (x^T - a^T) A)"),
    (r"\left[x > 0\right]", r"[x > 0]"),
    (r"\left\{x\right\}", r"\{x\}"),
    (r"\left\lVert y - \hat{y} \right\rVert^{2}", r"\lVert y - \hat{y} \rVert^{2}"),
    (r"\left|x\right|", r"\lvert x\rvert"),  # \lvert: a sign after it stays a sign (|-x|)
    (r"\left|-x\right|y", r"\lvert-x\rvert y"),
    (r"\left\|x\right\| + \left\vert y\right\vert", r"\lVert x\rVert + \lvert y\rvert"),
    (r"\left (a\right )", r"(a)"),
    (r"\leftarrow \left(x\right) \rightarrow", r"\leftarrow (x) \rightarrow"),
    (r"\text{as \left( written \right)} \left(y\right)", r"\text{as \left( written \right)} (y)"),  # text untouched
    (r"\left(\hat{y} - y\right) \cdot \left(\hat{y} \left(1 - \hat{y}\right) x\right)",
     r"(\hat{y} - y) \cdot (\hat{y} (1 - \hat{y}) x)"),
]

KEPT = [  # taller than a line, or no plain form: printed as they are
    r"\left(\frac{a}{b}\right)",
    r"\left(a + \tfrac{1}{2}\right)",
    r"\sigma\left(\sum_{i=1}^{3} w_{i} x_{i}\right)",
    r"\left(\prod_{i} x_{i}\right)",
    r"\left(\begin{matrix}1 & 2\end{matrix}\right)",
    r"\left(\sqrt{x}\right)",
    r"\left(\max_{i} x_{i}\right)",
    r"\left(a \middle| b\right)",
    r"\left. \frac{\partial \hat{y}}{\partial w}\right|_{\text{explicit}}",  # a . side has no plain form
    r"\left.\frac{\partial \hat{y}}{\partial w}\right\vert_{\text{explicit}}",
    r"\left( a + b \right.",  # half of a pair split over two lines of a display
    r"\left. c + d \right)",
    r"\left\langle x \left(\frac{1}{2}\right) \right\rangle",
    r"\left\lceil x \right\rceil",  # a delimiter without a plain form here
]

NESTED = [  # an outer pair holding a pair still sized keeps its size; pairs match by nesting
    (r"\left(a \left(\frac{1}{2}\right)\right)", r"\left(a \left(\frac{1}{2}\right)\right)"),
    (r"\left(\left(x\right) \left. \frac{a}{b} \right|_{0}\right) + \left(y\right)",
     r"\left((x) \left. \frac{a}{b} \right|_{0}\right) + (y)"),
    (r"\tanh\left(\frac{\left(a\right)}{b}\right)", r"\tanh\left(\frac{(a)}{b}\right)"),
    (r"\left[ \left(x\right) \right] \left( a \right]", r"[ (x) ] ( a ]"),
    (r"\left\lVert \left(x\right) \right\rVert \left\{ \left| \frac{1}{2} \right| \right\}",
     r"\lVert (x) \rVert \left\{ \left| \frac{1}{2} \right| \right\}"),
]


@pytest.mark.parametrize("printed, sized", DROPPED + NESTED)
def test_brackets_are_plain_around_a_line_of_text(printed, sized):
    assert sized_brackets(printed) == sized


@pytest.mark.parametrize("printed", KEPT)
def test_brackets_around_something_taller_keep_their_size(printed):
    assert sized_brackets(printed) == printed


@pytest.mark.parametrize("printed", [p for p, _ in DROPPED + NESTED] + KEPT)
def test_sizing_is_idempotent_and_keeps_left_and_right_balanced(printed):
    sized = sized_brackets(printed)
    assert sized_brackets(sized) == sized
    lefts, rights = (len(re.findall(rf"\\{side}(?![a-zA-Z])", sized)) for side in ("left", "right"))
    assert lefts == rights or printed.count(r"\left") != printed.count(r"\right")


@pytest.mark.parametrize("printed, sized", DROPPED + NESTED)
def test_plain_brackets_still_convert_to_mathml(printed, sized):
    from latex2mathml.converter import convert

    assert "<math" in convert(sized)
