r"""Scalar index sums written out: `\sum_i w_i x_i` -> `(w_1 x_1 + w_2 x_2 + w_3 x_3)`, for answers and for
problem definitions (`\hat y = \sigma(\sum_{i=1}^{3} w_i x_i)` over declared w_1 .. w_3, x_1 .. x_3).

What does not live here: reading the written-out text (`parse`, `matrix_parse`).
"""

from __future__ import annotations

import re

from ..core.errors import LatexError

_SUM = re.compile(r"\\sum\s*_\s*(?:\{\s*([a-z])\s*(?:=\s*1\s*)?\}|([a-z]))(?:\s*\^\s*(?:\{\s*(\w+)\s*\}|(\w)))?")
MAX_SUMS = 5


def read_with_sums(parse, text: str, symbols: dict):
    """`parse(text, symbols)` with the index sums of `text` written out first; a message about the written-out
    text quotes the user's own text instead."""
    written_out = expand_sums(text, symbols)
    if written_out == text:
        return parse(text, symbols)
    try:
        return parse(written_out, symbols)
    except LatexError as error:
        reason = re.sub(r",? ?(?:at position \d+ )?(?:near |of |in )?'[^']*'", "", error.message).strip()
        raise LatexError(f"cannot read '{text}' with its sums written out: {reason}") from None


def expand_sums(text: str, symbols: dict) -> str:
    r"""`\sum_i w_i x_i` written out as `(w_1 x_1 + w_2 x_2 + w_3 x_3)`, over the indices the problem's names
    have (x_1 .. x_3), or up to a numeric upper limit (`\sum_{i=1}^{3}`). The summand runs to the next
    `+`, `-`, closing bracket or `=` at its own level; only subscripts `_i`, `_{i}` change."""
    for _ in range(MAX_SUMS):
        match = _SUM.search(text)
        if match is None:
            return text
        index = match.group(1) or match.group(2)
        end = _summand_end(text, match.end())
        summand = text[match.end():end]
        terms = [_substituted(summand, index, k) for k in _sum_range(summand, index, match, symbols)]
        text = text[:match.start()] + "(" + " + ".join(terms) + ")" + text[end:]
    if _SUM.search(text):
        raise LatexError(f"more than {MAX_SUMS} sums in one line")
    return text


def _summand_end(text: str, start: int) -> int:
    depth, i, right = 0, start, None
    while i < len(text):
        ch = text[i]
        command = re.match(r"\\(left|right)(?![A-Za-z])", text[i:])
        if command:  # the bracket after it is counted; a closing one at this level ends the summand here
            right = i if command.group(1) == "right" else None
            i += command.end()
            continue
        if ch in "({[":
            depth += 1
        elif ch in ")}]":
            if depth == 0:
                return right if right is not None else i
            depth -= 1
        elif depth == 0 and ch in "+-=" and text[start:i].strip():
            return i
        if not ch.isspace():
            right = None
        i += 2 if ch == "\\" and i + 1 < len(text) and not text[i + 1].isalpha() else 1
    return len(text)


def _sum_range(summand: str, index: str, match: re.Match, symbols: dict) -> range:
    upper = match.group(3) or match.group(4)
    if upper is not None:
        if not upper.isdigit() or not 1 <= int(upper) <= 20:
            raise LatexError(rf"\sum_{index}: the upper limit must be a number from 1 to 20, not {upper}")
        return range(1, int(upper) + 1)
    bases = set(re.findall(rf"([A-Za-z]+)\s*_\s*(?:\{{\s*{index}\s*\}}|{index}(?![A-Za-z0-9]))", summand))
    found = {int(name.split("_")[1]) for name in symbols if "_" in name and name.split("_")[0] in bases
             and name.split("_")[1].isdigit()}
    if not found:
        raise LatexError(rf"\sum_{index}: no name of the problem has the index {index} (write the terms out)")
    return range(1, max(found) + 1)


def _substituted(summand: str, index: str, k: int) -> str:
    return re.sub(rf"_\s*(?:\{{\s*{index}\s*\}}|{index}(?![A-Za-z0-9]))", f"_{{{k}}}", summand).strip()
