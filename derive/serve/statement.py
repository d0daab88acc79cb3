r"""A problem's statement on the practice page: the exercise sheet (`derive.write.exercise`, its words in
`templates/exercise*.j2`) as HTML with its maths as MathML.

The sheet is rendered as Markdown by its own templates, and that Markdown (a small, known subset: headings,
paragraphs with `$...$`, `$$...$$` displays, an `align` of numbered lines, numbered and bulleted lists) is
turned into HTML here; an `align` becomes a table of its lines, each with its equation number, so that the
numbers read as in the sheet. Text is escaped; maths goes through `derive.core.mathml.safe_mathml`.
"""

from __future__ import annotations

import html
import re

from ..core.mathml import safe_mathml

_INLINE = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")
_TAG = re.compile(r"\\tag\{([^{}]*)\}|\\label\{[^{}]*\}|\\notag")
_ITEM = re.compile(r"^(\d+)\.\s+(.*)$|^[-*]\s+(.*)$")


def statement_html(markdown: str) -> str:
    """The exercise sheet's Markdown as HTML (its title and the word 'Exercise' left to the page)."""
    out, paragraph, items, kind = [], [], [], None
    lines = markdown.split("\n")

    def flush():
        nonlocal kind
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append(f"<{kind}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{kind}>")
            items.clear()
            kind = None

    i = 0
    while i < len(lines):
        line = lines[i].strip()
        i += 1
        if line.startswith("$$"):
            flush()
            body = [line[2:]]
            while i < len(lines) and not lines[i].strip().endswith("$$"):
                body.append(lines[i])
                i += 1
            if i < len(lines):
                body.append(lines[i].strip()[:-2])
                i += 1
            out.append(_display("\n".join(body).strip()))
        elif not line or line.startswith("# ") or line in ("*Exercise.*",):
            flush()
        elif line.startswith("#"):
            flush()
            level = min(6, len(line) - len(line.lstrip("#")) + 1)
            out.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif (item := _ITEM.match(line)) is not None:
            if paragraph:
                flush()
            wanted = "ol" if item.group(1) else "ul"
            if kind not in (None, wanted):
                flush()
            kind = wanted
            items.append(item.group(2) or item.group(3))
        else:
            if items:
                flush()
            paragraph.append(line)
    flush()
    return "\n".join(out)


def _inline(text: str) -> str:
    """Text with `$...$` maths: the text escaped, the maths as inline MathML."""
    pieces, at = [], 0
    for match in _INLINE.finditer(text):
        pieces.append(html.escape(text[at:match.start()]))
        pieces.append(safe_mathml(match.group(1)))
        at = match.end()
    pieces.append(html.escape(text[at:]))
    return "".join(pieces)


def _display(tex: str) -> str:
    """A display: an `align` as a table of its numbered lines, anything else as one block of MathML."""
    aligned = re.fullmatch(r"\\begin\{align\*?\}(.*)\\end\{align\*?\}", tex, re.S)
    if aligned is None:
        number = _number(tex)
        return _equations([(None, _TAG.sub("", tex).strip(), number)])
    rows = []
    for row in _rows(aligned.group(1)):
        number = _number(row)
        left, _, right = _TAG.sub("", row).partition("&")
        rows.append((left.strip(), right.strip(), number))
    return _equations(rows)


def _number(tex: str) -> str:
    tags = [m.group(1) for m in _TAG.finditer(tex) if m.group(1)]
    return tags[0] if tags else ""


def _rows(body: str) -> list[str]:
    r"""An align's lines: split at `\\` outside braces."""
    rows, depth, start, i = [], 0, 0, 0
    while i < len(body):
        if body[i] == "{":
            depth += 1
        elif body[i] == "}":
            depth -= 1
        elif body.startswith("\\\\", i) and depth == 0:
            rows.append(body[start:i])
            i += 2
            start = i
            continue
        elif body[i] == "\\":
            i += 1
        i += 1
    rows.append(body[start:])
    return [r.strip() for r in rows if r.strip()]


def _equations(rows: list) -> str:
    """Rows of (left side or None, right side, number) as a table: the numbers in their own column."""
    cells = []
    for left, right, number in rows:
        tag = f'<td class="number">({html.escape(number)})</td>' if number else '<td class="number"></td>'
        if left is None:
            cells.append(f'<tr><td class="whole" colspan="2">{safe_mathml(right, display=True)}</td>{tag}</tr>')
        else:
            cells.append(f'<tr><td class="left">{safe_mathml(left, display=True)}</td>'
                         f'<td class="right">{safe_mathml(right, display=True)}</td>{tag}</tr>')
    return f'<table class="equations" role="presentation">{"".join(cells)}</table>'
