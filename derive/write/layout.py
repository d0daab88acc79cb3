"""Fitting a LaTeX display to the page: the annotations beside an `align`'s lines are set so that no line runs
past the margin and no equation tag is pushed onto a line of its own.

An annotation shares the line with its equation when the line has room for it; otherwise it wraps in a box as
wide as the room left, and where too little is left it goes on a line of its own under the equation (the
equation keeps its tag). Widths are estimated in points from the characters TeX sets (11pt Computer Modern,
a 16 cm text width); the estimates err on the wide side, so that a line judged to fit does.
"""

from __future__ import annotations

import re

TEXT_WIDTH = 455.0  # pt: an 11pt article on A4 or letter with 2.5 cm margins (geometry) is 16 cm wide
TAG_ROOM = 40.0  # pt: a tag "(12)" and the smallest gap amsmath keeps before it, with a little to spare
COLUMN_GAP = 24.0  # pt: amsmath's least separation of an align's two column pairs, and the '&=' spacing
NARROWEST_BOX = 85.0  # pt: an annotation box narrower than this (3 cm) reads badly; it moves under the line
SMALL_CHAR = 4.6  # pt: the mean width of a \small text character (with the spaces between words)

_TEXT_NOTE = re.compile(r"^\\text\{\\small (?P<words>.*)\}$", re.S)
_BOX_NOTE = re.compile(r"^\\parbox\[t\]\{[^{}]*\}\{\\raggedright\\small (?P<words>.*)\}$", re.S)
_TAG = re.compile(r"\s*(\\label\{[^{}]*\}\\tag\{[^{}]*\}|\\notag)\s*$")
_ROW_BREAK = re.compile(r"[ \t]*\\\\[ \t]*\n")

# Estimated widths in pt of what maths commands print (11pt); a command not listed counts as one letter.
_COMMAND_WIDTH = {
    "left": 0.0, "right": 0.0, "hat": 0.0, "bar": 0.0, "tilde": 0.0, "mathbf": 0.0, "mathrm": 0.0,
    "operatorname": 0.0, "text": 0.0, "mathit": 0.0, "boldsymbol": 0.0, "qquad": 22.0, "quad": 11.0,
    "odot": 14.0, "oslash": 14.0, "cdot": 8.0, "to": 17.0, "times": 14.0, "sum": 14.0, "frac": 0.0,
    "partial": 6.5, "log": 15.0, "exp": 15.0, "tanh": 22.0, "max": 18.0, "min": 17.0, "ldots": 15.0,
    "cdots": 15.0, ",": 2.0, ";": 3.5, "!": -2.0, "lVert": 6.0, "rVert": 6.0, "circ": 6.0, "otimes": 14.0,
    "operatorname{ReLU}": 26.0, "mathbb": 0.0, "displaystyle": 0.0, "small": 0.0, "sqrt": 9.0,
}
_CHAR_WIDTH = {"+": 14.0, "-": 14.0, "=": 14.0, "<": 14.0, ">": 14.0, "(": 4.5, ")": 4.5, "[": 3.5, "]": 3.5,
               ",": 5.0, ".": 3.0, " ": 0.0, "'": 3.0, "|": 3.5, "1": 5.5, "/": 5.5}
_LETTER = 6.2  # pt: a letter or digit in maths italic, on the wide side


def maths_width(tex: str) -> float:
    """The estimated width in pt of inline maths `tex` as TeX sets it (scripts smaller, fractions as their
    wider part), on the wide side: measured against TeX, the character counts run 15% short."""
    return 1.15 * _counted_width(tex)


def _counted_width(tex: str) -> float:
    width, i = 0.0, 0
    while i < len(tex):
        char = tex[i]
        if char == "\\":
            name = re.match(r"\\([a-zA-Z]+|.)", tex[i:]).group(1)
            i += 1 + len(name)
            if name == "frac":
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                width += max(_counted_width(top), _counted_width(bottom)) + 2.0
            elif name in ("text", "mathrm", "operatorname") and i < len(tex) and tex[i] == "{":
                words, i = _group(tex, i)
                width += (26.0 if words == "ReLU" else len(words) * 5.5) if name != "text" else text_width(words) * 1.1
            else:
                width += _COMMAND_WIDTH.get(name, _LETTER)
        elif char in "_^":
            script, i = _group(tex, i + 1)
            width += 0.75 * _counted_width(script)
        elif char in "{}&":
            i += 1
        else:
            width += _CHAR_WIDTH.get(char, _LETTER)
            i += 1
    return width


def _group(tex: str, i: int) -> tuple[str, int]:
    """The braced group (or single character) starting at `i`, and the index after it."""
    while i < len(tex) and tex[i] == " ":
        i += 1
    if i >= len(tex):
        return "", i
    if tex[i] != "{":
        if tex[i] == "\\":
            name = re.match(r"\\([a-zA-Z]+|.)", tex[i:]).group(0)
            return name, i + len(name)
        return tex[i], i + 1
    depth = 0
    for j in range(i, len(tex)):
        depth += {"{": 1, "}": -1}.get(tex[j], 0)
        if depth == 0:
            return tex[i + 1:j], j + 1
    return tex[i + 1:], len(tex)


def text_width(words: str) -> float:
    """The estimated width in pt of \\small text `words`, its inline maths and references included."""
    width = 0.0
    for piece in re.split(r"(\\\(.*?\\\)|\\eqref\{[^{}]*\}|\\&)", words):
        if piece.startswith("\\("):
            width += 0.9 * maths_width(piece[2:-2])
        elif piece.startswith("\\eqref"):
            width += 15.0
        elif piece == "\\&":
            width += 8.0
        else:
            width += SMALL_CHAR * len(piece)
    return width


def _cells(row: str) -> list[str]:
    """The cells of an align row, split at the ampersands outside braces."""
    cells, depth, start = [], 0, 0
    for i, char in enumerate(row):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "&" and depth == 0 and row[i - 1] != "\\":
            cells.append(row[start:i])
            start = i + 1
    cells.append(row[start:])
    return cells


def fit_display(body: str) -> str:
    """The rows of an align (`body`, rows separated by `\\\\` and a newline) with each annotation set so that
    its line fits the text width: beside the equation, wrapped in a box, or on a line of its own below."""
    rows = _ROW_BREAK.split(body.strip())
    split = [_cells(row) for row in rows]
    left = max((maths_width(cells[0]) for cells in split if len(cells) >= 2), default=0.0)
    right = max((maths_width(cells[1]) for cells in split if len(cells) >= 2), default=0.0)
    room = TEXT_WIDTH - left - right - COLUMN_GAP - TAG_ROOM
    fitted = []
    for row, cells in zip(rows, split):
        fitted.extend(_fitted_row(row, cells, room, right))
    return " \\\\\n".join(fitted)


def _fitted_row(row: str, cells: list[str], room: float, right: float) -> list[str]:
    if len(cells) != 4:
        return [row]
    tag = _TAG.search(cells[3])
    note = cells[3][: tag.start()].strip() if tag else cells[3].strip()
    words = next((m.group("words") for m in (_TEXT_NOTE.match(note), _BOX_NOTE.match(note)) if m), None)
    if words is None:
        return [row]
    tagging = f" {tag.group(1)}" if tag else ""
    head = "&".join(cells[:3])
    natural = text_width(words)
    if natural <= room:
        return [rf"{head}& \text{{\small {words}}}{tagging}"]
    if room >= NARROWEST_BOX:
        return [rf"{head}& {_box(words, room)}{tagging}"]
    under = max(NARROWEST_BOX * 2, right - 22.0)
    moved = rf"\text{{\small {words}}}" if natural <= under else _box(words, under)
    return [f"{head}&{tagging}", rf"&\qquad {moved} && \notag"]


def _box(words: str, width: float) -> str:
    return rf"\parbox[t]{{{width:.0f}pt}}{{\raggedright\small {words}}}"
