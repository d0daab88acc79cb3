"""Markdown that renders wherever it is read: GitHub, Jupyter, KaTeX, MathJax 3 and pandoc.

Every `.md` document passes through `portable` (a filter of the `.md` templates), which finds each maths span
as pandoc's `tex_math_dollars` does (`$$ display $$`, `$inline$`, outside code) and rewrites its TeX into the
part that every one of these readers understands alike:

- GitHub runs its Markdown pass over the maths before MathJax sees it: a backslash before punctuation is an
  escape (`\\{` arrives as `{`, `\\,` as `,`), `_` and `*` can open emphasis, `<` opens an HTML tag, `|` ends a
  table cell. So braces are `\\lbrace`/`\\rbrace`, spaces `\\ `, bars `\\vert`/`\\Vert`, a `_` after a bracket is
  followed by a space (`]_ {n}`: no emphasis can open there), `*` is `\\ast`, `<`/`>` are `\\lt`/`\\gt`. A row
  break `\\\\` always ends its line, the one form GitHub hands on whole.
- GitHub takes a `$` inside maths for a delimiter: maths inside `\\text{...}` (`$Y$`) leaves the text.
- pandoc's TeX reader (texmath, for `--mathml`) knows `\\nonumber` but not `\\notag`, nor `\\thinspace`.
- A display is a paragraph of its own (a blank line either side), as GitHub expects it.

Only notation changes, never the mathematics: the printer (`derive.core.printing`) stays the one place that
writes maths; this module only chooses spellings that survive the trip.
"""

from __future__ import annotations

import re

_SPELLINGS = {  # backslash + punctuation, which GitHub's Markdown pass would eat, as words every reader knows
    r"\{": r"\lbrace", r"\}": r"\rbrace", r"\|": r"\Vert",
    r"\,": r"\ ", r"\:": r"\ ", r"\;": r"\ ", r"\>": r"\ ", r"\!": "",
}
_TOKEN = re.compile(r"\\\\|\\[a-zA-Z]+|\\.|[|*<>~_]|\]\(|\n", re.S)


def portable_tex(tex: str, display: bool = True) -> str:
    """`tex` spelled so that GitHub's Markdown pass, KaTeX, MathJax and texmath all read the same maths; a row
    break ends its line unless `display` is false (maths in a table row stays on its line)."""
    tex = _maths_out_of_text(tex)
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(tex):
        out.append(tex[position:match.start()])
        token = match.group()
        previous = (out[-1] or (out[-2] if len(out) > 1 else ""))[-1:]
        out.append(_respelled(token, previous, tex[match.end():match.end() + 1], display))
        position = match.end()
    out.append(tex[position:])
    return "".join(out)


def _maths_out_of_text(tex: str) -> str:
    """`\\text{rows of $Y$ sum}` as `\\text{rows of }Y\\text{ sum}`: GitHub takes a `$` inside maths for a
    delimiter (its page asks for `\\$` there), so maths inside text leaves the text instead."""
    out, position = [], 0
    for match in re.finditer(r"\\text\{", tex):
        if match.start() < position:
            continue
        depth, j = 1, match.end()
        while j < len(tex) and depth:
            depth += {"{": 1, "}": -1}.get(tex[j], 0) if tex[j - 1] != "\\" else 0
            j += 1
        inner = tex[match.end():j - 1]
        out.append(tex[position:match.start()])
        out.append("\\text{" + re.sub(r"(?<!\\)\$([^$]+)(?<!\\)\$", lambda m: "}" + m.group(1) + "\\text{", inner) + "}")
        position = j
    out.append(tex[position:])
    return "".join(out).replace("\\text{}", "")


def _respelled(token: str, previous: str, following: str, display: bool) -> str:
    if token == "\\\\":  # a row break ends its line (GitHub keeps `\\` whole only there)
        return "\\\\\n" if display and following not in ("\n", "") else token
    if token == r"\notag":
        return r"\nonumber"
    if token in _SPELLINGS:
        word = _SPELLINGS[token]
        return word + " " if word[-1:].isalpha() and following.isalpha() else word
    if token == "|":
        return r"\vert " if following.isalpha() else r"\vert"
    if token == "*":
        return r"\ast " if following.isalpha() else r"\ast"
    if token in ("<", ">"):
        word = r"\lt" if token == "<" else r"\gt"
        return word + " " if following.isalpha() else word
    if token == "~":
        return r"\ "
    if token == "_":  # after a letter or digit `_` cannot open emphasis; elsewhere a space after it stops it
        return "_" if previous.isalnum() or following.isspace() else "_ "
    if token == "](":
        return "] ("  # never a Markdown link
    return token


def maths_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, display) of every maths span, delimiters included, found as pandoc's `tex_math_dollars`
    finds them: outside fenced code and code spans, `\\$` is a dollar, `$$...$$` is display maths (no blank
    line inside), `$...$` inline maths (no space just inside either `$`, no digit just after the closing one)."""
    spans = []
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        if at_line_start and text.startswith("```", i):
            close = text.find("\n```", i + 3)
            line_end = text.find("\n", close + 4) if close >= 0 else -1
            i = n if line_end < 0 else line_end + 1
            continue
        char = text[i]
        at_line_start = char == "\n"
        if char == "\\":
            i += 2
        elif char == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            close = text.find("`" * run, i + run)
            i = i + run if close < 0 else close + run
        elif text.startswith("$$", i):
            close = text.find("$$", i + 2)
            if close < 0 or "\n\n" in text[i:close]:
                i += 2
            else:
                spans.append((i, close + 2, True))
                i = close + 2
        elif char == "$":
            end = _inline_end(text, i)
            if end is None:
                i += 1
            else:
                spans.append((i, end, False))
                i = end
        else:
            i += 1
    return spans


def _inline_end(text: str, start: int) -> int | None:
    if start + 1 >= len(text) or text[start + 1].isspace():
        return None
    j = start + 1
    while j < len(text):
        if text[j] == "\\":
            j += 2
            continue
        if text[j] == "\n" and text[j + 1:j + 2] == "\n":
            return None
        if text[j] == "$":
            if not text[j - 1].isspace() and not text[j + 1:j + 2].isdigit():
                return j + 1
            return None
        j += 1
    return None


def portable(document: str) -> str:
    """The Markdown `document` with every maths span in its portable spelling and every display a paragraph
    of its own."""
    pieces, position = [], 0
    for start, end, display in maths_spans(document):
        pieces.append(document[position:start])
        if display:
            tex = portable_tex(document[start + 2:end - 2].strip())
            pieces[-1] = pieces[-1].rstrip(" \n")
            pieces.append(("\n\n" if start > 0 else "") + "$$\n" + tex + "\n$$\n\n")
            position = end
            while position < len(document) and document[position] in " \n":
                position += 1
        else:
            in_table = document[document.rfind("\n", 0, start) + 1:start].lstrip().startswith("|")
            pieces.append("$" + portable_tex(document[start + 1:end - 1], display=not in_table) + "$")
            position = end
    pieces.append(document[position:])
    return "".join(pieces)
