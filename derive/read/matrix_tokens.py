r"""The matrix LaTeX reader's tokens and limits: the text checked (length, control characters), cut into
tokens by hand, the reader's place in them (`TokenCursor`: peek, take, nesting depth) and the messages
that say where reading failed.

What does not live here: the grammar (`matrix_products`, `matrix_functions`, `matrix_names`).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

from sympy import Rational

from ..core.errors import LatexError
from .matrix_notation import _IGNORED, _RELATIONS, _SIZING

MAX_LENGTH = 4000
MAX_DEPTH = 50
MAX_EXPONENT = 100
MAX_DIGITS = 30
MAX_POWER_DIGITS = 4000  # a power of numbers, (9^{100})^{100}, may not grow past about this many digits
MAX_NAME = 40


@dataclass(frozen=True, slots=True)
class Token:
    """One piece of the text: "letter" and "digit" (one character each), "cmd" (a backslash command,
    named without its backslash), "char" (punctuation) or "end"."""

    kind: str
    text: str
    pos: int


_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)
_CHARS = set("()[]{}^_'+-*/|,=<>.")


def _tokenize(text: str, fail: Callable) -> list[Token]:
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in " \n\r~":
            i += 1
        elif ch == "\\":
            match = _COMMAND.match(text, i)
            if match is None:
                raise fail(i, "a backslash with no command after it")
            name, i = match.group(1), match.end()
            if name in _SIZING:
                i = _after_invisible_delimiter(text, i)
            elif name not in _IGNORED:
                tokens.append(Token("cmd", name, match.start()))
        elif ch in "0123456789" or (ch.isascii() and ch.isalpha()):
            tokens.append(Token("digit" if ch.isdigit() else "letter", ch, i))
            i += 1
        elif ch in _CHARS:
            tokens.append(Token("char", ch, i))
            i += 1
        else:
            raise fail(i, f"unexpected character {ch!r}")
    tokens.append(Token("end", "", len(text)))
    return tokens


def _after_invisible_delimiter(text: str, i: int) -> int:
    r"""Past the '.' of \left. or \right., which sizes nothing."""
    j = i
    while j < len(text) and text[j] == " ":
        j += 1
    return j + 1 if text[j:j + 1] == "." else i


class TokenCursor:
    """The reader's place in the tokens (`tokens`, `index`, `depth`, set by the reader) and its errors."""

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def at(self, kind: str, *texts: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == kind and (not texts or token.text in texts)

    def take(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.index += 1
        return token

    def fail(self, pos: int, reason: str) -> LatexError:
        near = self.text[pos:pos + 12].rstrip()
        where = f"at position {pos} near '{near}'" if near else "at the end"
        return LatexError(f"cannot read '{_shown(self.text)}' {where}: {reason}")

    def located(self, pos: int) -> str:
        return f"at position {pos} of '{_shown(self.text)}'"

    @contextmanager
    def nested(self, pos: int):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(pos, f"brackets, braces and function calls are nested more than {MAX_DEPTH} deep")
        try:
            yield
        finally:
            self.depth -= 1


# -- messages -----------------------------------------------------------------------------------------

def _digits(number: Rational) -> float:
    """About how many decimal digits a rational number takes to write (without making the string)."""
    return (abs(number.p).bit_length() + number.q.bit_length()) * 0.30103 + 1


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def _hint(token: Token) -> str:
    if token.kind == "end":
        return ", but the text ended"
    if token.kind == "char" and token.text in ")]}":
        return f", not '{token.text}'"
    return ""


def _unexpected(token: Token) -> str:
    if token.kind == "char" and token.text in "=<>" or token.kind == "cmd" and token.text in _RELATIONS:
        return "a right-hand side is one expression, not a relation"
    if token.kind == "char" and token.text in ")]}" or token.kind == "cmd" and token.text in ("}", "rVert"):
        return f"'{token.text}' closes a bracket that was never opened"
    return f"unexpected '{token.text}' after a complete expression"


def _check_text(text) -> None:
    if not isinstance(text, str):
        raise LatexError(f"a right-hand side must be text, not {type(text).__name__}")
    if not text.strip():
        raise LatexError("the right-hand side is empty")
    if len(text) > MAX_LENGTH:
        raise LatexError(f"the right-hand side is {len(text)} characters long; the limit is {MAX_LENGTH}")
    control = re.search(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]", text)
    if control:
        raise LatexError(f"the right-hand side contains the control character {control.group()!r} at position "
                         f"{control.start()}: YAML turns \\t in double quotes into a tab, so write LaTeX "
                         "unquoted or in single quotes ('\\tanh(x)')")
