"""The maths of a web page: aligned displays as tables of MathML, prose with its inline maths and references.

The templates write a page's maths as they write LaTeX (inline `\\(...\\)`, the rows of an `align` with
`&`, `\\tag`, `\\notag` and `\\text{...}` notes, references `\\eqref{eq:3}`); this module turns it into HTML:

- `aligned(rows)`: one display as a `<table class="display">`, one `<tr>` per row, the left side, the right
  side (from its `=`, so the rows align at `=`), the note as HTML text and the tag; a numbered row has the id
  `eq-N` and its number visible. A row noted "shapes" is a shape line (class `shape`), which a page can hide.
- `prose(text)`: a part's text, the words wrapped in paragraphs, `\\(...\\)` as inline MathML, `\\eqref` as a
  link to the equation's row.
- `words(text)`: plain words for a page (HTML-escaped), `$...$` maths in them (a problem's description) kept
  as `\\(...\\)` for `prose`.
- `from_markdown(text)`: a Markdown body (a trace's, an estimate report's) as HTML with its `$` maths as
  MathML, through markdown-it.

The maths itself is converted by `derive.core.mathml` from the printer's LaTeX; nothing here prints maths.
"""

from __future__ import annotations

import html
import re

from ..core.mathml import mathml

_ROW_BREAK = re.compile(r"\\\\(?=\s|$)")
_TAG = re.compile(r"\\tag\{([^{}]*)\}")
_LABEL = re.compile(r"\\label\{[^{}]*\}|\\notag\b|\\nonumber\b")
_EQREF = re.compile(r"\\eqref\{eq:([^{}]*)\}")
_INLINE = re.compile(r"\\\((.+?)\\\)", re.S)
_MATH_ELEMENT = re.compile(r"(<math\b.*?</math>)", re.S)
_BLOCK = re.compile(r"\s*</?(?:h[1-6]|p|div|table|details|summary|section|ul|ol|li|figure|svg|nav|tr|td|th|thead|tbody)\b")
_SHAPES_NOTE = "shapes"


def reference(number: str) -> str:
    """A link to equation `number`'s row: (3)."""
    return f'<a class="ref" href="#eq-{number}" data-eq="{number}">({number})</a>'


def words(text: str) -> str:
    """Plain words (a problem's title or description) for a page: escaped, with `$...$` maths kept as `\\(...\\)`."""
    pieces = re.split(r"(\$[^$]+\$)", text)
    return "".join(rf"\({p[1:-1]}\)" if len(p) > 1 and p.startswith("$") and p.endswith("$") else html.escape(p, quote=False)
                   for p in pieces)


def _cells(row: str) -> list[str]:
    """A row's cells, split at `&` outside braces (`\\&` is an ampersand)."""
    cells, depth, start, i = [], 0, 0, 0
    while i < len(row):
        char = row[i]
        if char == "\\":
            i += 2
            continue
        depth += (char == "{") - (char == "}")
        if char == "&" and depth == 0:
            cells.append(row[start:i])
            start = i + 1
        i += 1
    cells.append(row[start:])
    return cells


def _note_text(tex: str) -> str | None:
    """The words of a note `\\text{...}` (its inline maths as `\\(...\\)`), or None if the note is maths."""
    tex = tex.strip()
    if not (tex.startswith(r"\text{") and tex.endswith("}")):
        return None
    inner = tex[len(r"\text{"):-1]
    depth = 0
    for char in inner:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return None  # \text{a} x \text{b}: not one note
    return re.sub(r"\\(?:small|footnotesize)\b\s*", "", inner)


def _note_html(tex: str) -> str:
    text = _note_text(tex)
    if text is None:
        return mathml(tex)
    pieces = re.split(r"(\\\(.+?\\\))", text)
    out = []
    for piece in pieces:
        if piece.startswith(r"\(") and piece.endswith(r"\)"):
            out.append(mathml(piece[2:-2]))
        else:
            piece = _EQREF.sub(lambda m: "\0" + m.group(1) + "\0", piece)
            escaped = html.escape(piece.replace(r"\&", "&").replace("~", " ").replace(r"\ ", " "), quote=False)
            out.append(re.sub("\0([^\0]*)\0", lambda m: reference(m.group(1)), escaped))
    return "".join(out)


def aligned(rows: list[str]) -> str:
    """The rows of one `align` display as a table (see the module's docstring)."""
    lines = []
    for row in _ROW_BREAK.split(" \\\\\n".join(rows)):
        if not row.strip():
            continue
        tag = _TAG.search(row)
        number = tag.group(1) if tag else None
        row = _LABEL.sub("", _TAG.sub("", row))
        cells = [c.strip() for c in _cells(row)]
        left, right = cells[0], " ".join(cells[1:2])
        rest = cells[2:]
        note = ""
        if len(rest) >= 2 and rest[0] == "" and _note_text(rest[-1]) is not None:
            note, rest = rest[-1], rest[1:-1]
        right = " ".join([right, *[r for r in rest if r]]).strip()
        kind = "shape" if _note_text(note) == _SHAPES_NOTE else "step"
        attributes = f' id="eq-{number}" data-eq="{number}"' if number else ""
        lines.append(
            f'<tr class="{kind}"{attributes}><td class="lhs">{_display(left)}</td>'
            f'<td class="rhs">{_display(right)}</td>'
            f'<td class="note">{_note_html(note) if note else ""}</td>'
            f'<td class="tag">{"(" + number + ")" if number else ""}</td></tr>')
    return '<div class="display-scroll"><table class="display">\n' + "\n".join(lines) + "\n</table></div>"


def _display(tex: str) -> str:
    return mathml(tex, display=True) if tex else ""


def _inline(text: str) -> str:
    """`\\(...\\)` as inline MathML and `\\eqref` as links, outside `<math>` elements already written."""
    pieces = _MATH_ELEMENT.split(text)
    for i in range(0, len(pieces), 2):
        piece = _INLINE.sub(lambda m: mathml(m.group(1)), pieces[i])
        pieces[i] = _EQREF.sub(lambda m: reference(m.group(1)), piece)
    return "".join(pieces)


def prose(text: str) -> str:
    """A part's text as HTML: runs of words in `<p>`, lines that open a block left as they are, maths and
    references converted (see the module's docstring)."""
    out, paragraph = [], []

    def close():
        if paragraph:
            out.append("<p>" + " ".join(paragraph) + "</p>")
            paragraph.clear()

    for line in text.split("\n"):
        if not line.strip():
            close()
        elif _BLOCK.match(line):
            close()
            out.append(line)
        else:
            paragraph.append(line.strip())
    close()
    return _inline("\n".join(out))


_PLACEHOLDER = "DERIVEMATHS{}X"


def from_markdown(text: str) -> str:
    """A Markdown body with `$`/`$$` maths (as the `.md` templates write it) as HTML with MathML: the maths
    is set aside, the Markdown converted by markdown-it (CommonMark and tables; raw HTML escaped), the maths
    put back."""
    from markdown_it import MarkdownIt

    from .markdown import maths_spans

    maths, pieces, position = [], [], 0
    for start, end, display in maths_spans(text):
        pieces.append(text[position:start])
        tex = text[start + 2:end - 2] if display else text[start + 1:end - 1]
        maths.append(mathml(tex.strip(), display=display))
        pieces.append(_PLACEHOLDER.format(len(maths) - 1))
        position = end
    pieces.append(text[position:])
    converted = MarkdownIt("commonmark", {"html": False}).enable("table").render("".join(pieces))
    return re.sub(r"DERIVEMATHS(\d+)X", lambda m: maths[int(m.group(1))], converted)


def inline_svg(svg: str, label: str) -> str:
    """An SVG drawing (matplotlib's, Graphviz's) for inlining in a page: without its XML prologue and
    comments, labelled for screen readers."""
    svg = re.sub(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", svg, flags=re.S).strip()
    svg = re.sub(r"\s*\n\s*", " ", svg)  # one line: a page's prose treats each line on its own
    return re.sub(r"<svg\b", f'<svg role="img" aria-label="{html.escape(label)}"', svg, count=1)
