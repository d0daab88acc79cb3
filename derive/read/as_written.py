r"""A definition's LaTeX as the instructor wrote it, normalised token by token for printing in a document.

The worked solution prints each definition of a LaTeX problem file in the instructor's own order of terms and
factors (`-(y \log \hat{y} + (1 - y) \log(1 - \hat{y}))`, not SymPy's reordering). Only three things change:
spacing (spacing commands dropped, one space between tokens where the text had space, a space either side
of a binary + - = \cdot), bracket sizing (`\big(`, `\left(` dropped; each matched pair of (), [] and
\lVert \rVert sized with \left ... \right, then written plain where what it holds is no taller than a line
of text, as the document's printer sizes them: `core.printing.sized_brackets`) and name forms (`\hat y` ->
`\hat{y}`, `w_1` -> `w_{1}`, `x^2` -> `x^{2}`, `\frac12` -> `\frac{1}{2}`, `W^{[1]}` -> `W^{(1)}`,
`\operatorname{relu}` or `\relu` -> `\operatorname{ReLU}`, `\ln` -> `\log`, `\|x\|` -> `\lVert x \rVert`,
as the printer names them). Nothing is reordered, added or removed, so the text reads back to the same
expression (tests/read/test_as_written.py re-reads every normalised definition).

What does not live here: reading the text (`parse`, `matrix_parse`), printing expressions (`core.printing`).
"""

from __future__ import annotations

import re

from ..core.printing import sized_brackets

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
_SIZING = re.compile(r"\\(?:left|right|(?:big|Big|bigg|Bigg)[lrm]?)$")
_SPACING = {r"\,", r"\;", r"\:", r"\!", "\\ ", r"\quad", r"\qquad", r"\enspace", r"\thinspace",
            r"\medspace", r"\thickspace", r"\negthinspace", r"\displaystyle", r"\textstyle", "~"}
_DECORATIONS = {r"\hat", r"\bar", r"\tilde", r"\mathbf", r"\boldsymbol", r"\bm", r"\vec", r"\widehat",
                r"\overline", r"\widetilde"}
_WRAPPERS = {r"\operatorname", r"\mathrm", r"\text", r"\mathit", r"\textrm"}
# a function word (wrapped or a bare command, in any case) -> how the document's printer writes it
_FUNCTION_FORMS = {
    "sigmoid": r"\sigma", "relu": r"\operatorname{ReLU}", "softplus": r"\operatorname{softplus}",
    "tanh": r"\tanh", "exp": r"\exp", "log": r"\log", "ln": r"\log", "sin": r"\sin", "cos": r"\cos",
    "max": r"\max", "min": r"\min", "det": r"\det", "softmax": r"\operatorname{softmax}",
    "sum": r"\operatorname{sum}", "mean": r"\operatorname{mean}", "diag": r"\operatorname{diag}",
    "tr": r"\operatorname{tr}", "trace": r"\operatorname{tr}",
}
_BARE_FUNCTIONS = {"sigmoid", "relu", "ReLU", "softplus", "ln", "softmax", "tr", "Tr", "trace", "mean"}
_OPEN = {"(": ")", "[": "]", r"\lVert": r"\rVert", r"\lvert": r"\rvert"}
_BINARY = {"+", "-", "=", r"\cdot", r"\odot", r"\circ", r"\times", r"\oslash"}
_NO_SPACE_AFTER = {"{", "(", "[", "^", "_", r"\left(", r"\left[", r"\lVert"}
_NO_SPACE_BEFORE = {"}", ")", "]", "^", "_", "'", ",", r"\right)", r"\right]"}
_LAYER_INDEX = re.compile(r"\^\s*\{\s*[(\[]\s*([A-Za-z0-9+-]+)\s*[)\]]\s*\}")


def as_written(text: str) -> str:
    """`text` (a right-hand side the reader accepted) with its spacing, bracket sizing and name forms
    normalised for the document; the order and grouping of what was written is kept."""
    text = _LAYER_INDEX.sub(lambda m: "^{\x00" + m.group(1) + "\x01}", text)  # W^{[1]}: not a sized bracket
    tokens = _names(_without_sizing(_TOKEN.findall(text)))
    tokens = _sized(tokens)
    return sized_brackets(_spaced(tokens).replace("\x00", "(").replace("\x01", ")"))


_ONES = re.compile(r"\\(?:mathbf|boldsymbol|bm|mathbb)\s*\{?\s*1")


_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
          "kappa", "lambda", "mu", "nu", "xi", "pi", "varpi", "rho", "varrho", "sigma", "varsigma", "tau",
          "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi",
          "Sigma", "Upsilon", "Phi", "Psi", "Omega", "ell"}
_LATEX_COMMANDS = _GREEK | {  # what the document's preamble (amsmath, amssymb) defines, of what the readers accept
    "hat", "bar", "tilde", "widehat", "widetilde", "overline", "vec", "mathbf", "boldsymbol", "mathrm", "mathit",
    "mathsf", "mathbb", "text", "textrm", "textbf", "textit", "operatorname", "frac", "dfrac", "tfrac", "cfrac",
    "sqrt", "left", "right", "lVert", "rVert", "lvert", "rvert", "cdot", "odot", "circ", "oslash", "times",
    "log", "exp", "tanh", "sin", "cos", "max", "min", "det", "sum", "top", "intercal", "prime", "{", "}", "|",
}


def printable(expr, text: str) -> str | None:
    """The normalised `text` of a definition read as `expr`, to print in the document; None where the
    printer must print it instead (the reader added something the text does not show, or the text uses a
    command that only derive's readers know, which pdflatex would refuse)."""
    written = as_written(text)
    commands = {m.group(1) for m in re.finditer(r"\\([A-Za-z]+|.)", written)}
    return written if commands <= _LATEX_COMMANDS and shows_what_was_read(expr, text) else None


def shows_what_was_read(expr, text: str) -> bool:
    r"""Whether `text` shows everything in `expr`, the expression the reader made of it. Not when the reader
    added a vector of ones the text does not write: a bias b beside a square product X W is added to every
    row, and the document says so by printing X W + \mathbf{1} b^T."""
    from sympy import OneMatrix, preorder_traversal

    ones = sum(1 for node in preorder_traversal(expr) if isinstance(node, OneMatrix))
    return ones <= len(_ONES.findall(text))


def _without_sizing(tokens: list[str]) -> list[str]:
    """The tokens without sizing commands (and the '.' of \\left.) and with spacing commands as spaces."""
    kept, i = [], 0
    while i < len(tokens):
        token = tokens[i]
        if _SIZING.match(token):
            i += 1
            while i < len(tokens) and tokens[i].isspace():
                i += 1
            if i < len(tokens) and tokens[i] == ".":
                i += 1
            continue
        kept.append(" " if token in _SPACING or token.isspace() else token)
        i += 1
    return kept


def _next(tokens: list[str], i: int) -> int:
    """The index of the first token at or after `i` that is not a space."""
    while i < len(tokens) and tokens[i] == " ":
        i += 1
    return i


def _names(tokens: list[str]) -> list[str]:
    r"""Name forms: braces around a lone decorated letter, subscript or superscript; \frac12; function words."""
    out, i, bars = [], 0, 0
    while i < len(tokens):
        token = r"\boldsymbol" if tokens[i] == r"\bm" else tokens[i]  # \bm needs a package the document lacks
        j = _next(tokens, i + 1)
        following = tokens[j] if j < len(tokens) else ""
        if token in _DECORATIONS | {"_", "^"} and _lone(following) and not (
                token == "^" and following in ("T", r"\top", r"\intercal", r"\prime")):
            out += [token, "{", following, "}"]
            i = j + 1
            continue
        if token in (r"\frac", r"\tfrac", r"\dfrac") and following.isdigit() and len(following) == 1:
            k = _next(tokens, j + 1)
            if k < len(tokens) and tokens[k].isdigit():
                out += [r"\frac", "{", following, "}", "{", tokens[k], "}"]
                i = k + 1
                continue
        if token in _WRAPPERS and following == "{":
            word, end = _word(tokens, j + 1)
            if word is not None and word.lower() in _FUNCTION_FORMS:
                out.append(_FUNCTION_FORMS[word.lower()])
                i = end
                continue
        if token[:1] == "\\" and token[1:] in _BARE_FUNCTIONS:
            out.append(_FUNCTION_FORMS[token[1:].lower()])
        elif token == r"\|":
            out.append(r"\lVert" if bars % 2 == 0 else r"\rVert")
            bars += 1
        else:
            out.append(token)
        i += 1
    return out


def _lone(token: str) -> bool:
    """Whether `token` is one letter, digit or command (which a decoration or script may take unbraced)."""
    return bool(re.fullmatch(r"[A-Za-z0-9]|\\[A-Za-z]+", token))


def _word(tokens: list[str], i: int) -> tuple[str | None, int]:
    """The letters of a braced word starting at `i` (after its '{') and the index after its '}'."""
    letters = []
    i = _next(tokens, i)
    while i < len(tokens) and tokens[i].isalpha() and len(tokens[i]) == 1:
        letters.append(tokens[i])
        i += 1
    i = _next(tokens, i)
    if not letters or i >= len(tokens) or tokens[i] != "}":
        return None, i
    return "".join(letters), i + 1


def _sized(tokens: list[str]) -> list[str]:
    r"""Each matched pair of (), [] and \lVert \rVert within one brace group sized with \left ... \right."""
    out = list(tokens)
    stack: list[tuple[str, int]] = []
    for i, token in enumerate(tokens):
        if token in _OPEN or token == "{":
            stack.append((token, i))
        elif token == "}":
            while stack and stack[-1][0] != "{":
                stack.pop()  # an opening bracket never closed in its group stays as written
            if stack:
                stack.pop()
        elif token in _OPEN.values():
            if stack and _OPEN.get(stack[-1][0]) == token:
                _, start = stack.pop()
                out[start] = r"\left" + tokens[start]
                out[i] = r"\right" + token
    return out


def _spaced(tokens: list[str]) -> str:
    """The tokens joined: at most one space, none inside brackets and braces, one either side of a binary
    operator, and one wherever a command would otherwise run into the letter after it."""
    pieces: list[str] = []
    previous = ""  # the last token that was not a space
    space = False
    groups: list[bool] = []  # for each open brace: whether it holds a subscript or superscript
    for token in tokens:
        if token == " ":
            space = True
            continue
        if token == "{":
            groups.append(previous in ("_", "^"))
        elif token == "}" and groups:
            groups.pop()
        if not pieces:
            pieces.append(token)
        elif token == "=" and groups and groups[-1] or previous == "=" and groups and groups[-1]:
            pieces.append(token)  # \sum_{i=1}: an index range, written tight as the printer does
        else:
            binary = token in _BINARY and not _opens(previous)
            after_binary = previous in _BINARY and pieces[-1] == previous and not _unary_before(pieces)
            norm = previous == r"\left\lVert" or token == r"\right\rVert"  # as the printer writes a norm
            if norm or binary or after_binary or (re.search(r"\\[A-Za-z]+$", previous) and re.match(r"[A-Za-z0-9]", token)):
                pieces.append(" ")
            elif (space or _command_after_operand(previous, token)) and previous not in _NO_SPACE_AFTER \
                    and token not in _NO_SPACE_BEFORE:
                pieces.append(" ")
            pieces.append(token)
        previous, space = token, False
    return "".join(pieces).strip()


def _command_after_operand(previous: str, token: str) -> bool:
    r"""Whether a command follows a letter, digit or closing bracket (`y\log`, `\frac{1}{2}\left(`): the
    printer separates the two factors by a space."""
    operand = re.fullmatch(r"[A-Za-z0-9}]|\\right.*|[)\]]", previous) is not None
    return operand and token.startswith("\\") and not token.startswith("\\right") and token not in _BINARY


def _opens(previous: str) -> bool:
    r"""Whether an operator after `previous` has no left operand: a sign (at the start, after an opening
    bracket or another operator) or the \circ of a Hadamard power (x^{\circ 2})."""
    return previous in ("", "{", "(", "[", "^", "_", ",", r"\left(", r"\left[", r"\left\lVert") or previous in _BINARY


def _unary_before(pieces: list[str]) -> bool:
    """Whether the '-' just placed is a sign, so nothing separates it from its operand."""
    before = [p for p in pieces[:-1] if p != " "]
    return pieces[-1] in ("-", "+") and _opens(before[-1] if before else "")
