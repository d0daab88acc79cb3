"""The practice page's parts on their own: the token bucket (with a clock of the test's), the exercise
sheet's Markdown as HTML (an align's lines with their numbers, inline maths, lists, escaped text), and the
MathML allow-list."""

from __future__ import annotations

import pytest

from derive.serve.limits import RateLimit
from derive.core.mathml import UnsafeMathML, sanitized
from derive.serve.statement import statement_html


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_a_bucket_allows_its_burst_then_its_rate_and_says_how_long_to_wait():
    clock = Clock()
    bucket = RateLimit(per_minute=60, burst=3, clock=clock)
    assert [bucket.wait("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.wait("a") == pytest.approx(1.0)  # one a second
    assert bucket.wait("b") == 0.0  # another client has its own bucket
    clock.now = 1.0
    assert bucket.wait("a") == 0.0 and bucket.wait("a") > 0


def test_the_sheets_markdown_becomes_html_with_numbered_lines():
    html = statement_html("# Title\n\n*Exercise.*\n\n## The network\n\nA unit with input $x$ & a <b>.\n\n"
                          "$$\n\\begin{align}\nh &= \\sigma(w x) \\tag{1} \\\\\nL &= h^{2} \\tag{2}\n\\end{align}\n$$\n\n"
                          "1. $\\frac{\\partial L}{\\partial w}$\n2. $w$\n")
    assert "Title" not in html and "Exercise" not in html
    assert "<h3>The network</h3>" in html  # under the page's h2, the problem's title
    assert "&amp; a &lt;b&gt;." in html  # the text is escaped
    assert html.count('<td class="number">') == 2 and "(1)</td>" in html and "(2)</td>" in html
    assert "<ol><li><math" in html and html.count("<li>") == 2


def test_the_allow_list_keeps_mathml_and_refuses_anything_else():
    kept = sanitized('<math xmlns="http://www.w3.org/1998/Math/MathML"><mi onclick="x()" mathvariant="bold">a&lt;</mi></math>')
    assert kept == '<math xmlns="http://www.w3.org/1998/Math/MathML"><mi mathvariant="bold">a&lt;</mi></math>'
    for markup in ('<math xmlns="http://www.w3.org/1998/Math/MathML"><mtext><script>x</script></mtext></math>',
                   '<!DOCTYPE math [<!ENTITY a "aa">]><math xmlns="http://www.w3.org/1998/Math/MathML">&a;</math>',
                   '<svg xmlns="http://www.w3.org/2000/svg"></svg>', "<math>unclosed"):
        with pytest.raises(UnsafeMathML):
            sanitized(markup)


@pytest.mark.parametrize("text", ["{" * 60 + "x" + "}" * 60, r"\sqrt" * 1500 + "x", r"\frac" * 800 + "ab"])
def test_deep_maths_is_refused_whatever_the_server_set_its_recursion_limit_to(text):
    import sys

    from derive.core.errors import DeriveError
    from derive.serve.mathml import preview

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)  # as a library in the same process might have
    try:
        with pytest.raises(DeriveError, match="nests too deeply to show"):
            preview(text)
    finally:
        sys.setrecursionlimit(old)


def test_maths_nested_as_deep_as_the_reader_reads_is_shown():
    from derive.serve.mathml import preview

    assert preview("{" * 40 + "x" + "}" * 40).startswith("<math")
