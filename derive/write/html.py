"""Web pages: a worked solution, a trace or an estimator report as one self-contained HTML file, and the
fragments notebooks display.

A page is the document's templates rendered with fmt "html" (the same words as the PDF; the shell, styles
and script in `templates/page.*`), its maths MathML converted from the printer's LaTeX
(`derive.write.html_maths`, `derive.core.mathml`). It reads offline with no script; the inline script adds
folding, reference jumps and pop-ups, and hiding shape lines and annotations. Here the page gets its table
of contents; a fragment is the page's body without the shell, for Jupyter.
"""

from __future__ import annotations

import html
import re

from . import render

_HEADING = re.compile(r"<h([23])>(.*?)</h\1>", re.S)
_FRAGMENT_STYLE = """<style>
.derive-fragment table.display { border-collapse: collapse; }
.derive-fragment table.display td { padding: 0.2rem 0; vertical-align: middle; border: 0; background: none; }
.derive-fragment td.lhs { text-align: right; white-space: nowrap; padding-right: 0.15em; }
.derive-fragment td.rhs { text-align: left; white-space: nowrap; }
.derive-fragment td.note { color: #5a5a66; font-size: 0.86em; padding-left: 1.6em; text-align: left; }
.derive-fragment td.tag { text-align: right; padding-left: 1em; color: #5a5a66; }
.derive-fragment td.number { text-align: right; }
.derive-fragment math[display="block"] { display: inline math; }
</style>"""


def _slug(text: str, taken: set) -> str:
    words = re.sub(r"<math\b[^>]*alttext=\"([^\"]*)\".*?</math>", r" \1 ", text, flags=re.S)
    words = re.sub(r"<[^>]+>|\\[A-Za-z]+|[^A-Za-z0-9]+", "-", html.unescape(words)).strip("-").lower()
    slug, k = words or "section", 2
    while slug in taken:
        slug, k = f"{words}-{k}", k + 1
    taken.add(slug)
    return slug


def with_contents(page: str) -> str:
    """`page` with an id on each heading of its main part (h2; h3 too when the page has several parts) and a
    table of contents linking to them where `<!-- contents -->` stands."""
    taken: set = set()
    entries = []
    deepest = "3" if page.count("<section class=\"part\">") > 1 else "2"

    def named(match):
        level, text = match.group(1), match.group(2)
        if level > deepest:
            return match.group()
        slug = _slug(text, taken)
        entries.append((level, slug, text))
        return f'<h{level} id="{slug}">{text}</h{level}>'

    page = _HEADING.sub(named, page)
    if len(entries) < 2:
        return page.replace("<!-- contents -->\n", "")
    items = []
    for level, slug, text in entries:
        indent = ' class="sub"' if level == "3" else ""
        items.append(f'<li{indent}><a href="#{slug}">{text}</a></li>')
    nav = ('<nav class="contents" aria-labelledby="contents-heading"><h2 id="contents-heading">Contents</h2><ol>'
           + "".join(items) + "</ol></nav>\n")
    return page.replace("<!-- contents -->\n", nav, 1)


def solution_page(data: render.DocumentData) -> str:
    """A worked solution (`data`, whatever its fmt) as a self-contained page."""
    data = render.DocumentData(data.title, data.parts, "html", data.first_equation)
    return with_contents(render.render_document(data))


def solution_fragment(data: render.DocumentData) -> str:
    """The worked solution's body as HTML for a notebook: no shell, no script, a little style of its own."""
    data = render.DocumentData(data.title, data.parts, "html", data.first_equation)
    return fragment(html_maths_prose(render.render_body(data)))


def html_maths_prose(text: str) -> str:
    return render.environment().filters["html_prose"](text)


def fragment(body: str) -> str:
    """`body` (a page's main part) wrapped for display in a notebook."""
    return f'<div class="derive-fragment">{_FRAGMENT_STYLE}\n{body}\n</div>'


def page(title: str, body: str) -> str:
    """A page of `body` (HTML, maths already MathML) with `title`, in derive's shell (`templates/page.html.j2`)."""
    template = render.environment().from_string('<% extends "page.html.j2" %><% block main %><< body >><% endblock %>')
    escaped = html.escape(title, quote=False)
    return with_contents(template.render(page_title=escaped, page_heading=escaped, body=body))
