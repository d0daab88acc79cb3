"""Reading right-hand sides: LaTeX through latex2sympy2_extended with derive's preprocessing, or SymPy syntax.

latex2sympy2_extended cannot read `\\hat{y}`, `\\sigma(...)` nested, `\\operatorname{ReLU}`, and reads `\\log`
as base 10. Before parsing, derive rewrites decorated names to plain ones (`\\hat{y}` -> `yhat`) and the
activations to placeholder functions the grammar knows (sigmoid -> arcsinh, ReLU -> arccosh, softplus ->
arctanh), then rebuilds the tree with derive's own symbols and functions, refusing unknown ones by name.
The SymPy-syntax reader uses `parse_expr` and is for trusted problem files only.
"""

from __future__ import annotations

import re

import sympy
from sympy import Expr, Symbol
from sympy.core.function import AppliedUndef

from ..core.errors import LatexError, ProblemError
from ..core.ops import relu, sigmoid, softplus

MAX_LENGTH = 4000

_PLACEHOLDERS = {"arcsinh": ("sigmoid", sigmoid), "arccosh": ("relu", relu), "arctanh": ("softplus", softplus)}
_PLACEHOLDER_CLASSES = {sympy.asinh: sigmoid, sympy.acosh: relu, sympy.atanh: softplus}
_ACTIVATION_WORDS = {"sigmoid": "arcsinh", "sigma": "arcsinh", "relu": "arccosh", "softplus": "arctanh"}
_WRAPPED = re.compile(r"\\(?:operatorname|mathrm|text|mathit|textrm)\s*\{\s*([A-Za-z]+)\s*\}")
_BARE = re.compile(r"\\(sigmoid|relu|ReLU|softplus)(?![A-Za-z])")
_SIGMA_CALL = re.compile(r"\\sigma(?=\s*(?:\(|\\left\s*\(|\{))")
_DECORATED = re.compile(r"\\(hat|bar|tilde)\s*(?:\{\s*([A-Za-z]+)\s*\}|([A-Za-z]))")
_SIZING = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])\s*")
_SPACING = re.compile(r"\\[,;:! ]|\\quad|\\qquad")
_INVERSE_HYPERBOLIC = re.compile(r"a(?:rc?)?(?:sinh|cosh|tanh)")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)?$")


_CONSTANT_WITH_INDEX = re.compile(r"(?<![\\A-Za-z])([eEI])_(\{[A-Za-z0-9]+\}|[A-Za-z0-9])")
_CARRIED = {"gamma": "carriedgamma", "Gamma": "carriedGamma"}
_UNCARRIED = {v: k for k, v in _CARRIED.items()}


_LAYER_INDEX = re.compile(r"\^\s*\{\s*[(\[]\s*([A-Za-z0-9+-]+)\s*[)\]]\s*\}\s*$")


MAX_LAYER_INDICES = 2
MAX_NAME_TEXT = 200  # the LaTeX of one name; longer text is not a name


def symbol_name(text: str) -> str:
    r"""The plain name derive uses for a symbol written in LaTeX: \hat{y} -> yhat, w_{1} -> w_1, \Delta -> Delta,
    W^{[1]} -> W^{(1)} (a layer index is part of the name). Read in one pass from the end, never recursively:
    a name is short and has at most `MAX_LAYER_INDICES` layer indices."""
    text = text.strip()
    if len(text) > MAX_NAME_TEXT:
        raise ProblemError(f"'{text[:40]}...' is not a valid symbol name: it is {len(text)} characters long")
    indices = []
    index = _LAYER_INDEX.search(text)
    while index:
        if len(indices) == MAX_LAYER_INDICES:
            raise ProblemError(f"'{text[:40]}...' is not a valid symbol name: more than {MAX_LAYER_INDICES} layer indices")
        indices.insert(0, f"^{{({index.group(1)})}}")
        text = text[:index.start()].strip()
        index = _LAYER_INDEX.search(text)
    if indices:
        return symbol_name(text) + "".join(indices)
    name = _DECORATED.sub(lambda m: (m.group(2) or m.group(3)) + m.group(1), text.strip())
    name = name.replace("{", "").replace("}", "").replace("\\", "").replace(" ", "")
    if not _NAME.match(name):
        raise ProblemError(f"'{text}' is not a valid symbol name (use a letter, letters or digits, and one _index)")
    return name


def preprocess(text: str) -> str:
    """Rewrite the notation of this field into what latex2sympy2_extended reads correctly."""
    return _prepared(text).text


class _Rewritten:
    """Text being rewritten, remembering for each character the position of the user's text it came from,
    so that a message can quote what the user wrote rather than the rewritten form."""

    def __init__(self, text: str):
        self.text = text
        self.origin = list(range(len(text) + 1))

    def sub(self, pattern, replace) -> None:
        pieces, origin, last = [], [], 0
        for match in re.finditer(pattern, self.text):
            replacement = match.expand(replace) if isinstance(replace, str) else replace(match)
            pieces += [self.text[last:match.start()], replacement]
            origin += self.origin[last:match.start()] + [self.origin[match.start()]] * len(replacement)
            last = match.end()
        pieces.append(self.text[last:])
        self.origin = origin + self.origin[last:]
        self.text = "".join(pieces)

    def source(self, column: int) -> int:
        """The position in the user's text of the rewritten text's `column`."""
        return self.origin[min(max(column, 0), len(self.origin) - 1)]


def _prepared(text: str) -> _Rewritten:
    if _INVERSE_HYPERBOLIC.search(text):
        raise LatexError(f"inverse hyperbolic functions are not supported (in '{text}')")
    prepared = _Rewritten(text)
    prepared.sub(_SPACING, " ")
    prepared.sub(_SIZING, "")
    prepared.sub(_DECORATED, lambda m: r"\text{" + (m.group(2) or m.group(3)) + m.group(1) + "}")
    # the grammar turns gamma and Gamma into Euler's constant: carry them through under other names
    prepared.sub(r"\\(gamma|Gamma)(?![A-Za-z])", lambda m: r"\text{" + _CARRIED[m.group(1)] + "}")
    # e, E and I are constants to the grammar, so e_1 fails to read and I_1 silently becomes the imaginary unit:
    # a subscripted e, E or I is always a name
    prepared.sub(_CONSTANT_WITH_INDEX, lambda m: r"\text{" + m.group(1) + "_" + m.group(2).strip("{}") + "}")
    prepared.sub(r"\\frac\s*(\d)\s*(\d)", r"\\frac{\1}{\2}")  # \frac12
    prepared.sub(_SIGMA_CALL, lambda m: r"\arcsinh")
    prepared.sub(_BARE, lambda m: "\\" + _ACTIVATION_WORDS[m.group(1).lower()])
    prepared.sub(_WRAPPED, _function_word)
    prepared.sub(r"\\log(?![A-Za-z])", lambda m: r"\ln")
    # 1/2 (y - x)^2 means a half of the square, as on paper; the grammar would read 1/(2 (y - x)^2). The 2 of
    # x^2 / 2 is an exponent, not a numerator: a number written after ^ or _ is never one
    prepared.sub(_NUMBER_FRACTION, lambda m: r"\frac{" + m.group(1) + "}{" + m.group(2) + "}")
    return prepared


_NUMBER_FRACTION = re.compile(r"(?<![\w.}^_])(?<![\^_]\s)(?<![\^_]\s\s)(\d+)\s*/\s*(\d+)(?![\w.{])")


def _function_word(match: re.Match) -> str:
    word = match.group(1)
    if word.lower() in _ACTIVATION_WORDS:
        return "\\" + _ACTIVATION_WORDS[word.lower()]
    if word in ("exp", "tanh", "sin", "cos", "max", "min", "log", "ln"):
        return "\\" + word
    called = re.match(r"\s*(\(|\\left)", match.string[match.end():])
    if match.group(0).startswith("\\operatorname") or called:
        raise LatexError(f"undefined function {word} (derive knows sigmoid, ReLU, softplus, tanh, exp, log, sin, cos, max, min)")
    return r"\text{" + word + "}"


def parse_latex(text: str, symbols: dict[str, Symbol]) -> Expr:
    """The SymPy expression for a LaTeX right-hand side, over the given symbols only."""
    from latex2sympy2_extended import latex2sympy
    from latex2sympy2_extended.latex2sympy2 import ConversionConfig

    if not text or not text.strip():
        raise LatexError("the right-hand side is empty")
    if len(text) > MAX_LENGTH:
        raise LatexError(f"the right-hand side is longer than {MAX_LENGTH} characters")
    if re.search(r"[\x00-\x1f]", text.replace("\n", " ")):
        raise LatexError("the right-hand side contains a tab or control character: YAML turns \\t in double "
                         "quotes into a tab, so write LaTeX unquoted or in single quotes ('\\tanh(x)')")
    prepared = _prepared(text)
    config = ConversionConfig(lowercase_symbols=False, interpret_as_mixed_fractions=False)
    try:
        parsed = latex2sympy(prepared.text, conversion_config=config, normalization_config=None)
    except Exception as error:  # the parser raises bare Exceptions with a caret diagram
        raise LatexError(_parse_message(text, prepared, error)) from None
    if isinstance(parsed, sympy.core.relational.Relational):
        raise LatexError(f"expected an expression, got the relation '{text}'")
    if isinstance(parsed, (list, tuple)) or not isinstance(parsed, sympy.Expr):
        raise LatexError(f"'{text}' is not a single expression")
    try:
        return _rebuild(parsed, symbols)
    except LatexError as error:
        raise LatexError(_in_users_words(error.message, text)) from None


_SPELLINGS = re.compile(r"\\(?:hat|bar|tilde)\s*(?:\{\s*[A-Za-z]+\s*\}|[A-Za-z])(?:_(?:\{[^{}]*\}|[A-Za-z0-9]))?"
                        r"|\\?[A-Za-z]+(?:_(?:\{[^{}]*\}|[A-Za-z0-9]))?")


def _in_users_words(message: str, text: str) -> str:
    """A message about an unknown symbol naming it as the user spelled it (\\hat{z}, not zhat), and where."""
    unknown = re.match(r"unknown symbol (\S+) ", message)
    if not unknown:
        return message
    for spelling in _SPELLINGS.finditer(text):
        try:
            name = symbol_name(spelling.group())
        except ProblemError:
            continue
        if name == unknown.group(1) or _UNCARRIED.get(unknown.group(1)) == name:
            shown = unknown.group(1) if unknown.group(1) in text else spelling.group()  # zhat is \hat{z}
            return (f"unknown symbol {shown}{message[unknown.end() - 1:]}, at position "
                    f"{spelling.start()} of '{text}'")
    return message


_GRAMMAR_COMMANDS = {"arcsinh", "arccosh", "arctanh", "text", "frac", "ln", "cdot", "times", "div", "sqrt", "exp",
                     "tanh", "sin", "cos", "max", "min", "pi", "mathrm", "operatorname"}  # known: misplaced, not undefined


def _parse_message(text: str, prepared: _Rewritten, error: Exception) -> str:
    """The parser's complaint, placed in the user's own text (never the rewritten form)."""
    lines = str(error).splitlines()
    caret = next((line for line in lines if line.rstrip().endswith("^")), None)
    reason = lines[0].strip() if lines else "cannot parse"
    if caret is None:
        return f"cannot read LaTeX '{text}': {reason}"
    column = len(caret.rstrip()) - 1
    command = re.match(r"\\([A-Za-z]+)", prepared.text[column:])
    if command and command.group(1) not in _GRAMMAR_COMMANDS:
        return f"undefined function or command \\{command.group(1)} in '{text}'"
    position = prepared.source(column)
    near = text[position:position + 16].rstrip()
    where = f"at position {position} near '{near}'" if near else "at the end"
    reason = re.sub(r"^I expected", "expected", reason)  # the parser speaks in the first person
    return f"cannot read LaTeX '{text}' {where} ({reason.lower().rstrip('.')})"


_CONSTANT_NAMES = {sympy.E: "e", sympy.pi: "pi", sympy.EulerGamma: "gamma", sympy.I: "I"}  # gamma: via sympy syntax


def _rebuild(node, symbols: dict[str, Symbol]) -> Expr:
    """Rebuild the parser's tree with derive's symbols and functions, naming anything unknown."""
    if isinstance(node, Symbol):
        name = node.name.replace("{", "").replace("}", "")
        name = _UNCARRIED.get(name, name)
        if name not in symbols:
            raise LatexError(f"unknown symbol {name} (declared: {', '.join(sorted(symbols)) or 'none'})")
        return symbols[name]
    for constant, name in _CONSTANT_NAMES.items():
        if node == constant and name in symbols:
            return symbols[name]  # a declared symbol e, pi, gamma or I is that symbol, not the constant
    if node in (sympy.EulerGamma, sympy.I):
        raise LatexError(f"unknown symbol {_CONSTANT_NAMES[node]} (declared: {', '.join(sorted(symbols)) or 'none'})")
    if node.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        raise LatexError("infinity and undefined values cannot appear in a definition")
    if node.is_Atom:
        return node
    if isinstance(node, AppliedUndef):
        name = re.sub(r"\\text\{(.*)\}", r"\1", str(node.func)).strip().lstrip("\\")
        raise LatexError(f"undefined function {name}")
    if isinstance(node, sympy.Derivative):
        raise LatexError("derivatives cannot appear in a definition")
    args = [_rebuild(arg, symbols) for arg in node.args]
    if node.func in _PLACEHOLDER_CLASSES:
        return _PLACEHOLDER_CLASSES[node.func](*args)
    if node.func is sympy.log and len(args) == 2:
        return sympy.log(args[0]) if args[1] == sympy.E else sympy.log(args[0]) / sympy.log(args[1])
    if isinstance(node, sympy.Rel) or node.func in (sympy.Eq, sympy.Tuple):
        raise LatexError(f"expected an expression, got {sympy.sstr(node)}")
    return node.func(*args)


SYMPY_FUNCTIONS = {
    "sigmoid": sigmoid, "relu": relu, "softplus": softplus, "tanh": sympy.tanh, "exp": sympy.exp,
    "log": sympy.log, "sin": sympy.sin, "cos": sympy.cos, "Abs": sympy.Abs, "abs": sympy.Abs,
    "Max": sympy.Max, "Min": sympy.Min, "max": sympy.Max, "min": sympy.Min, "sqrt": sympy.sqrt,
    "Rational": sympy.Rational, "pi": sympy.pi, "E": sympy.E,
}


def parse_sympy(text: str, symbols: dict[str, Symbol]) -> Expr:
    """A right-hand side in SymPy syntax. Uses `parse_expr` (Python evaluation): trusted files only."""
    from sympy.parsing.sympy_parser import parse_expr, standard_transformations

    if not text or not str(text).strip():
        raise LatexError("the right-hand side is empty")
    try:
        expr = parse_expr(str(text), local_dict={**SYMPY_FUNCTIONS, **symbols},
                          transformations=standard_transformations, evaluate=True)
    except Exception as error:
        raise LatexError(f"cannot read SymPy expression '{text}': {type(error).__name__}: {error}") from None
    if not isinstance(expr, (sympy.Expr, sympy.MatrixBase)):
        raise LatexError(f"'{text}' is not a single expression")
    unknown = sorted(s.name for s in getattr(expr, "free_symbols", ()) if s.name not in symbols)
    if unknown:
        raise LatexError(f"unknown symbol {', '.join(unknown)} (declared: {', '.join(sorted(symbols))})")
    undefined = sorted({str(f.func) for f in expr.atoms(AppliedUndef)})
    if undefined:
        raise LatexError(f"undefined function {', '.join(undefined)}")
    return expr
