"""derive.core.mathml over every maths span derive writes for the examples: solve (plain, and with the plot and
comparison), demo, trace and estimate. Each span's MathML is well-formed, has no <merror>, and no backslash
command is left in the text a reader sees (only in `alttext`)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import pytest

from derive.core.errors import DeriveError
from derive.core.mathml import mathml

from documents_of_every_kind import EXAMPLES, build, kinds

EXAMPLE_KINDS = [k for k in kinds() if k[2] is None or k[2].parent == EXAMPLES]
_SPANS = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]|\\begin\{align\}(.*?)\\end\{align\}", re.S)
_MATHML = "{http://www.w3.org/1998/Math/MathML}"


def maths_of(document: str) -> list[tuple[str, bool]]:
    """(tex, display) of every inline maths span and of every cell of every aligned row in a LaTeX document."""
    found = []
    for match in _SPANS.finditer(document):
        if match.group(3) is None:
            found.append((match.group(1) or match.group(2), match.group(2) is not None))
            continue
        for row in re.split(r"\\\\(?![a-zA-Z])", match.group(3)):
            found += [(cell, True) for cell in row.split("&")]
    return found


def assert_clean(converted: str, tex: str) -> None:
    root = ElementTree.fromstring(converted)
    assert root.tag == _MATHML + "math" and root.get("alttext") is not None
    for element in root.iter():
        assert element.tag != _MATHML + "merror", tex
        assert not re.search(r"\\[A-Za-z]", element.text or ""), (tex, element.text)
        assert not re.search(r"\\[A-Za-z]", element.tail or ""), (tex, element.tail)


@pytest.mark.parametrize("kind,path", [k[1:] for k in EXAMPLE_KINDS], ids=[k[0] for k in EXAMPLE_KINDS])
def test_every_maths_span_converts(kind, path):
    spans = maths_of(build(kind, path))
    assert len(spans) > 10
    for tex, display in spans:
        assert_clean(mathml(tex, display), tex)


@pytest.mark.parametrize("tex,expected", [
    (r"\frac{\partial L}{\partial \hat{y}}", "<mfrac>"),
    (r"\text{\small by the chain rule; using \eqref{eq:3}}", "using\u00a0(3)"),
    (r"\text{since \(a = b\)}", "<mi>a</mi>"),
    (r"\lbrace 1, 3 \rbrace", ">{</mo>"),
    (r"x \gt 0", "<mo>&gt;</mo>"),
    (r"i = \arg\max_j p_j", "<mo>arg</mo>"),
    (r"\parbox[t]{120pt}{\raggedright\small by the sum rule}", "by\u00a0the"),
    (r"a \tag{4}\label{eq:4}", "<mi>a</mi>"),
])
def test_spellings_latex2mathml_lacks(tex, expected):
    converted = mathml(tex)
    assert expected in converted
    assert_clean(converted, tex)


def test_spacing_as_tex_sets_it():
    """Brackets and the partial sign take no operator space; a bracket pair around a line's height keeps its
    size; capital Greek is upright."""
    converted = mathml(r"\Delta \sigma\left(x\right) \partial L")
    assert '<mi mathvariant="normal">\u0394</mi>' in converted
    assert 'stretchy="false" fence="true" form="prefix" lspace="0em" rspace="0em">(' in converted
    assert '<mo lspace="0em" rspace="0em">\u2202</mo>' in converted
    assert 'stretchy="true"' in mathml(r"\left(\frac{1}{2}\right)")


def test_display_and_alttext():
    converted = mathml(r"x < y \notag", display=True)
    assert 'display="block"' in converted and 'alttext="x &lt; y"' in converted


@pytest.mark.parametrize("tex", [r"\unknowncommand x", r"\frac{1}{"])
def test_what_cannot_be_converted_is_a_one_line_error(tex):
    with pytest.raises(DeriveError, match="cannot write the maths"):
        mathml(tex)
