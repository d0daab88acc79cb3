r"""Slashes that a person could mean two ways, refused in a problem file rather than guessed.

`(y - \hat{y})^2 / 2`, `w^2/2`, `x / (2 w)` and `1/2 (y - x)^2` (a number over a number is that number) mean
one thing each. `x^2 / 4 w` does not: on paper some read it as x^2 / (4 w), others as (x^2 / 4) w, and the
two readers would differ (the scalar grammar binds `4 w` first, the matrix reader reads left to right). A
slash whose denominator is followed directly by another factor is therefore refused in a problem file's
definitions, quoting the instructor's text and saying how to write either meaning. An explicit product after
it (`x / 2 \cdot w`) is read from the left. (A student's answer read two ways is "undecided" instead: see
`answers`.)

What does not live here: reading (`parse`, `matrix_parse`).
"""

from __future__ import annotations

import re

from ..core.errors import LatexError

_ARGUMENTS = {"frac": 2, "dfrac": 2, "tfrac": 2, "cfrac": 2, "sqrt": 1, "hat": 1, "bar": 1, "tilde": 1,
              "widehat": 1, "widetilde": 1, "overline": 1, "mathbf": 1, "boldsymbol": 1, "bm": 1, "mathrm": 1,
              "operatorname": 1, "text": 1, "textrm": 1, "mathit": 1, "mathbb": 1, "mathsf": 1, "vec": 1}
_NOT_FACTORS = {"cdot", "times", "odot", "circ", "oslash", "div", "right", "rVert", "rvert", "quad", "qquad",
                "bigr", "Bigr", "biggr", "Biggr", "le", "leq", "ge", "geq", "neq", "to", "}"}
_SPACES = re.compile(r"(?:\s|\\[,;:! ]|~)*")
_CLOSE = {"(": ")", "[": "]", "{": "}"}
_INTEGER_BEFORE = re.compile(r"(?<![\w.}^_])\d+\s*$")


def refuse_ambiguous_slash(text: str) -> None:
    """Raise a `LatexError` quoting `text` if one of its slashes can be read two ways."""
    for slash in (m.start() for m in re.finditer(r"(?<!\\)/", text)):
        start = _skip(text, slash + 1)
        end = _operand_end(text, start)
        if end is None:
            continue  # not an operand the scan knows: the reader says what is wrong
        after = _skip(text, end)
        numbers = _INTEGER_BEFORE.search(text[:slash]) and text[start:end].strip().isdigit()
        if after < len(text) and _starts_factor(text, after) and not numbers:
            denominator, factor = text[start:end].strip(), text[after:_operand_end(text, after) or after + 1]
            raise LatexError(
                f"'{text}' can be read two ways at position {slash} ('{text[slash:after + len(factor)].strip()}'): "
                f"write the fraction with \\frac, \\frac{{...}}{{{denominator} {factor}}} to divide by both or "
                f"\\frac{{...}}{{{denominator}}} {factor} to divide by {denominator} only")


def _skip(text: str, i: int) -> int:
    return _SPACES.match(text, i).end()


def _operand_end(text: str, i: int) -> int | None:
    """Where the factor that starts at `i` ends (with its powers and subscripts), or None if none starts there."""
    if i < len(text) and text[i] in "+-":
        i = _skip(text, i + 1)
    if i >= len(text):
        return None
    if text[i].isdigit():
        i = re.compile(r"\d+(?:\.\d+)?").match(text, i).end()
    elif text[i].isalpha():
        i += 1
    elif text[i] == "|":
        i = _norm_end(text, i)
    elif text[i] in _CLOSE:
        i = _group_end(text, i)
    elif text[i] == "\\":
        i = _command_end(text, i)
    else:
        return None
    return None if i is None else _postfix_end(text, i)


def _command_end(text: str, i: int) -> int | None:
    match = re.compile(r"\\([A-Za-z]+|.)").match(text, i)
    if match is None:
        return None
    name, i = match.group(1), match.end()
    if name in _NOT_FACTORS:
        return None
    if name == "left":
        j = _skip(text, i)
        if text.startswith((r"\lVert", r"\|", r"\lvert", "|"), j):
            return _norm_end(text, j)
        return _group_end(text, j) if j < len(text) and text[j] in "([" else None
    if name in ("lVert", "|", "lvert"):
        return _norm_end(text, match.start())
    for _ in range(_ARGUMENTS.get(name, 0)):
        j = _skip(text, i)
        if j < len(text) and text[j] == "[" and name == "sqrt":
            j = _skip(text, _group_end(text, j) or len(text))
        if j >= len(text):
            return None
        i = _group_end(text, j) if text[j] == "{" else j + 1
        if i is None:
            return None
    j = _skip(text, i)  # a function applied: \sigma(z), \log(x)
    if j < len(text) and (text[j] == "(" or text.startswith(r"\left(", j)) and name not in _ARGUMENTS:
        return _group_end(text, j + 5 if text[j] == "\\" else j)
    return i


_BARS = {r"\lVert": r"\rVert", r"\lvert": r"\rvert", r"\|": r"\|", "|": "|"}


def _norm_end(text: str, i: int) -> int | None:
    """The position after the bar that closes the norm or absolute value opened at `i` (with its subscript)."""
    opening = next(bar for bar in _BARS if text.startswith(bar, i))
    close = text.find(_BARS[opening], i + len(opening))
    return None if close < 0 else close + len(_BARS[opening])


def _group_end(text: str, i: int) -> int | None:
    """The position after the bracket that closes the one at `i` (brackets of any kind nest)."""
    depth = 0
    for j in range(i, len(text)):
        if text[j] in _CLOSE:
            depth += 1
        elif text[j] in _CLOSE.values():
            depth -= 1
            if depth == 0:
                return j + 1
    return None


def _postfix_end(text: str, i: int) -> int:
    """Past the powers, subscripts and primes written after a factor (x^2, w_{1}, W^T)."""
    while True:
        j = _skip(text, i)
        if j < len(text) and text[j] == "'":
            i = j + 1
        elif j < len(text) and text[j] in "^_":
            k = _skip(text, j + 1)
            if k >= len(text):
                return i
            if text[k] == "{":
                end = _group_end(text, k)
                if end is None:
                    return i
                i = end
            elif text[k] == "\\":
                i = re.compile(r"\\([A-Za-z]+|.)").match(text, k).end()
            else:
                i = k + 1
        else:
            return i


def _starts_factor(text: str, i: int) -> bool:
    """Whether another factor starts at `i` (a letter, a number, a bracket or a command that is not an operator)."""
    if text[i].isalnum() or text[i] in "([":
        return True
    command = re.compile(r"\\([A-Za-z]+)").match(text, i)
    return command is not None and command.group(1) not in _NOT_FACTORS
