r"""Reading a student's answer (untrusted LaTeX) into expressions over a problem's symbols.

An answer is one expression, or a derivation whose lines are joined by `=` (`align`, `\\ &=`). The math
delimiters and environments are stripped, a left-hand side such as `\frac{\partial L}{\partial W} =` is
recognised (and must name the variable asked for), and every line is read by derive's own reader
(`matrix_parse.parse_matrix_latex`: no eval, bounded length, nesting and exponents, declared names only,
case-sensitive, the order of matrix products kept, shapes checked).

A line whose shapes do not fit (`X \Delta` with X n x 3) is kept with its `ShapeMismatch` message: that is
a wrong answer, not bad input. Text that cannot be read raises `AnswerError` naming the line and position.
What does not live here: deciding whether an answer is right (`verify.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.errors import DeriveError, LatexError, ProblemError
from ..core.matrix_ops import ShapeMismatch, is_matrix
from .matrix_parse import MAX_LENGTH, parse_matrix_latex
from .matrix_tokens import _shown
from .parse import parse_latex, symbol_name
from .sums import MAX_SUMS, expand_sums  # noqa: F401  (MAX_SUMS: read from here too)
from ..core.printing import latex

MAX_LINES = 20


class AnswerError(DeriveError):
    """An answer that cannot be read: empty, not LaTeX derive reads, unknown symbols, the wrong variable."""


@dataclass(frozen=True, slots=True)
class AnswerLine:
    """One line of an answer: its text, the expression read (None if its shapes do not fit), the LaTeX it
    was read as, and the shape error (if any)."""

    number: int
    text: str
    expr: object
    read_as: str
    shape_error: str | None = None
    second_reading: object = None  # latex2sympy2_extended's reading of a scalar line, where it has one


_DELIMITERS = re.compile(r"\$\$?|\\\[|\\\]|\\\(|\\\)")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{\s*(?:align|aligned|equation|gather|gathered|split|multline|eqnarray)"
                          r"\*?\s*\}")
_LABELS = re.compile(r"\\(?:label|tag)\s*\{[^{}]*\}|\\(?:nonumber|notag)(?![A-Za-z])")
_PARTIAL = r"(?:\\partial|\\mathrm\s*\{\s*d\s*\}|d)"
_LOSS = r"(?:L|\\mathcal\s*\{\s*L\s*\}|\\mathcal\s*L|E|J)"
_LEFT_SIDES = (
    re.compile(rf"^\\[dt]?frac\s*\{{\s*{_PARTIAL}\s*{_LOSS}\s*\}}\s*\{{\s*{_PARTIAL}\s*(?P<wrt>.+)\}}$", re.S),
    re.compile(rf"^{_PARTIAL}\s*{_LOSS}\s*/\s*{_PARTIAL}\s*(?P<wrt>.+)$", re.S),
    re.compile(rf"^\\nabla_\s*(?:\{{(?P<wrt>.+)\}}|(?P<one>[A-Za-z]))\s*{_LOSS}$", re.S),
)


_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060]")  # a byte-order mark, zero-width spaces
_TRAILING = ("\\qquad", "\\quad", "\\,", "\\;", "\\:", "\\!", "\\ ", ".", ",", ";")  # x\, or x.\; at the end


def _without_trailing(text: str) -> str:
    """The text without spacing commands and punctuation at its end (a loop, not a regex: linear time)."""
    while True:
        text = text.rstrip()
        mark = next((m for m in _TRAILING if text.endswith(m) and not text[:-len(m)].endswith("\\")), None)
        if mark is None:
            return text
        text = text[:-len(mark)]


def clean(text: str) -> str:
    """The answer without math delimiters, environments, labels, alignment marks, invisible characters (a
    UTF-8 byte-order mark) and a final full stop or space (\\,)."""
    text = _INVISIBLE.sub("", text)
    text = _DELIMITERS.sub(" ", text)
    text = _ENVIRONMENT.sub(" ", text)
    text = _LABELS.sub(" ", text)
    text = text.replace("&", " ")
    return _without_trailing(text.strip())


def split_lines(text: str) -> list[str]:
    r"""The pieces of a derivation: split at `=` and at line breaks `\\` outside braces and brackets."""
    pieces, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0 and (ch == "=" or text.startswith("\\\\", i)):
            pieces.append(text[start:i])
            i += 2 if ch == "\\" else 1
            start = i
            continue
        elif ch == "\\" and i + 1 < len(text):
            i += 2  # an escaped character (\{, \|) is not a separator
            continue
        i += 1
    pieces.append(text[start:])
    return [p.strip() for p in pieces if p.strip()]


def left_side_variable(piece: str) -> str | None:
    r"""The variable named by a left-hand side (\frac{\partial L}{\partial W^{(1)}} -> W^{(1)}), else None."""
    if len(piece) > MAX_LENGTH:
        raise AnswerError(f"a piece of the answer is {len(piece)} characters long; the limit is {MAX_LENGTH}")
    for pattern in _LEFT_SIDES:
        match = pattern.match(piece.strip())
        if match:
            written = match.group("wrt") or match.groupdict().get("one")
            try:
                return symbol_name(written.strip())
            except ProblemError:
                raise AnswerError(f"cannot read the variable '{_shown(written.strip())}' in the left-hand side "
                                  f"'{_shown(piece)}'")
    return None


def answer_symbols(network, loss) -> dict:
    """The names an answer may use: the problem's inputs and intermediates, not the loss itself."""
    return {s.name: s for s in network.all_symbols() if s != loss}


def read_answer(text, network, loss, wrt, max_size: int | None = None) -> list[AnswerLine]:
    r"""Every line of an answer, read over the problem's symbols; raises `AnswerError` for bad input.
    `max_size`: the largest size a subscript may give (\mathbf{1}_{16000}), the problem's own largest."""
    if not isinstance(text, str):
        raise AnswerError(f"an answer must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise AnswerError(f"the answer is {len(text)} characters long; the limit is {MAX_LENGTH}")
    pieces = split_lines(clean(text))
    if not pieces:
        raise AnswerError("the answer is empty")
    if len(pieces) > MAX_LINES:
        raise AnswerError(f"the answer has {len(pieces)} lines; the limit is {MAX_LINES}")
    _one_answer(pieces)
    named = left_side_variable(pieces[0])
    if named is not None:
        if named != wrt.name:
            raise AnswerError(f"this answer is for the gradient with respect to {named}, but the question asks for "
                              f"the one with respect to {wrt.name}")
        pieces = pieces[1:]
        if not pieces:
            raise AnswerError("the answer has a left-hand side but nothing after the '='")
    symbols = answer_symbols(network, loss)
    return [_read_line(i + 1, piece, symbols, len(pieces) > 1, max_size) for i, piece in enumerate(pieces)]


def _one_answer(pieces: list[str]) -> None:
    r"""Refuse two answers written on consecutive lines (... \n \frac{\partial L}{\partial b} = ...): a piece
    whose last line is a left-hand side starts another answer."""
    for piece in pieces[:-1]:
        last = piece.rsplit("\n", 1)
        try:
            starts_another = len(last) == 2 and left_side_variable(last[1]) is not None
        except AnswerError:
            starts_another = True
        if starts_another:
            raise AnswerError(f"'{last[1].strip()[:60]}' starts another answer on the next line: separate answers "
                              "with a blank line")


def _read_line(number: int, text: str, symbols: dict, several: bool, max_size: int | None = None) -> AnswerLine:
    where = f"line {number}: " if several else ""
    if left_side_variable(text) is not None:
        raise AnswerError(f"{where}a left-hand side (a derivative) can only come first")
    try:
        expr = parse_matrix_latex(expand_sums(text, symbols), symbols, max_size)
    except ShapeMismatch as error:
        return AnswerLine(number, text, None, "", "wrong shape: " + re.sub(r" \(the symbolic size.*\)$", "", error.message))
    except LatexError as error:
        raise AnswerError(where + _with_hint(error.message, symbols)) from None
    return AnswerLine(number, text, expr, latex(expr), second_reading=_second_reading(text, symbols, expr))


def _second_reading(text: str, symbols: dict, first):
    """The same scalar line read by latex2sympy2_extended (derive's `parse.parse_latex`), to catch text that
    two readers understand differently; None where it cannot read it or need not. Only text the bounded
    reader accepted gets here, only where the notation is known to be ambiguous (a slash; a function
    applied without brackets, as in log x w), and never nested powers (2^{2^{9}}), primes (which
    latex2sympy2_extended reads as transposes, and parses slowly), long or deeply bracketed text (its parser
    takes time that grows steeply with nesting: bounded by `SECOND_READING_LENGTH` and `SECOND_READING_DEPTH`)."""
    if is_matrix(first) or any(is_matrix(s) for s in symbols.values()) or _nested_power(text) or "'" in text:
        return None
    if len(text) > SECOND_READING_LENGTH or bracket_depth(text) > SECOND_READING_DEPTH:
        return None  # latex2sympy2_extended's parser slows down sharply with nesting (45 brackets: the whole limit)
    if "/" not in text and not _BARE_CALL.search(text):
        return None
    try:
        return parse_latex(text, symbols)
    except Exception:  # the second reader is a cross-check only: where it fails, the first reading stands
        return None


SECOND_READING_LENGTH = 300
SECOND_READING_DEPTH = 6


def bracket_depth(text: str) -> int:
    r"""The deepest nesting of brackets and braces in the text (\left( counts as its bracket)."""
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


_BARE_CALL = re.compile(r"\\(?:log|ln|exp|sin|cos|tanh|sigma)(?![A-Za-z])(?!\s*(?:\(|\{|\\left))")


def _nested_power(text: str) -> bool:
    depth_of_power, depth = [], 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            while depth_of_power and depth_of_power[-1] > depth:
                depth_of_power.pop()
        elif ch == "^":
            if depth_of_power:
                return True
            if text[i + 1:i + 2] == "{":
                depth_of_power.append(depth + 1)
    return False


def _with_hint(message: str, symbols: dict) -> str:
    unknown = re.match(r"unknown symbol (.+?),? \(", message)
    if unknown and unknown.group(1).lstrip("\\").startswith("Delta"):
        return (f"unknown symbol {unknown.group(1)}: write the delta out in the problem's symbols "
                f"({', '.join(sorted(symbols))})")
    if unknown:
        return f"unknown symbol {unknown.group(1)} (the problem has {', '.join(sorted(symbols))})"
    return message
