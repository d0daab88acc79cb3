"""Reading what a trace is of and where: a LaTeX expression in any symbols, and the point and direction
(a mapping or text "x1=2,x2=5/2"; a matrix whole, "X=[[1,2],[3,4]]", or entry by entry, "X[0,1]=2"), as exact
rationals. The problem files themselves are read by `derive.read`; the matrix text by `matrix`.
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy
from sympy import Expr, Rational

from ..core.errors import ProblemError
from ..core.network import make_symbol
from .data import TraceError


class _AnySymbol(dict):
    """The symbols of a free-standing expression: any valid name is an input (but e and pi stay constants)."""

    def __contains__(self, name) -> bool:
        return name not in ("e", "pi", "gamma", "I")

    def __missing__(self, name):
        self[name] = make_symbol(name)
        return self[name]


_DIGIT_SUFFIX = re.compile(r"(?<![\\A-Za-z])([A-Za-z])(\d+)(?![A-Za-z])")


def parse_expression(text: str) -> Expr:
    """A LaTeX expression in any symbols, read by derive's LaTeX reader (never eval); `x1` reads as x_1."""
    from ..read.parse import parse_latex

    text = _DIGIT_SUFFIX.sub(r"\1_{\2}", text)
    return parse_latex(text, _AnySymbol())


# -- reading points ---------------------------------------------------------------------------------------
def _key(name: str) -> str:
    return re.sub(r"[_{}\\ ]", "", name)


def read_point(at, inputs, what: str = "value", missing_is_zero: bool = False, expansion=None) -> dict:
    """{input symbol: exact number} from a mapping or from text "x1=2,x2=5/2"; names as x_1 or x1. For a
    matrix problem (`expansion`), a matrix input may be given whole: "X=[[1,2],[3,4]]" or nested lists."""
    given = _pairs(at) if isinstance(at, str) else {str(getattr(k, "name", k)): val for k, val in dict(at or {}).items()}
    if expansion is not None:
        given = _matrix_pairs(given, expansion, what)
    by_name = {x.name: x for x in inputs}
    loose: dict[str, list] = {}
    for x in inputs:
        loose.setdefault(_key(x.name), []).append(x)
    point = {}
    for name, raw in given.items():
        symbol = by_name.get(name) or by_name.get(_plain(name))
        if symbol is None and len(loose.get(_key(name), [])) == 1:
            symbol = loose[_key(name)][0]
        if symbol is None:
            option = "--at" if what == "value" else "--direction"
            raise TraceError(f"{option} names {name}, which is not an input (inputs: {', '.join(by_name) or 'none'})")
        if symbol in point:
            raise TraceError(f"two {what}s given for the input {symbol.name}")
        point[symbol] = _exact(raw, name, what)
    missing = [x.name for x in inputs if x not in point]
    if missing and not missing_is_zero and expansion is not None:
        from .matrix import missing_matrices

        raise TraceError(f"no {what} given for {', '.join(missing_matrices([x for x in inputs if x not in point], expansion))} "
                         f"(give a matrix as rows, e.g. --at 'X=[[1,2,3],[4,5,6]]', or entry by entry, X[0,1]=2)")
    if missing and not missing_is_zero:
        raise TraceError(f"no {what} given for the input {', '.join(missing)} (give it with --at, e.g. "
                         f"--at {','.join(f'{x.name}=1' for x in inputs)})")
    return {x: point.get(x, sympy.S.Zero) for x in inputs}


def _plain(name: str) -> str:
    from ..read.parse import symbol_name

    try:
        return symbol_name(name)
    except ProblemError:
        return name


_BRACES = str.maketrans("", "", "^()")
_ENTRY = re.compile(r"^(.+)\[\s*(\d+)\s*,\s*(\d+)\s*\]$")


def _matrix_named(name: str, matrices: dict, loose: dict):
    """(matrix, shape) for a name as the problem writes it, or loosely (W1 for W^{(1)}); else None."""
    return (matrices.get(name) or matrices.get(_plain(name))
            or matrices.get(loose.get(_key(name).translate(_BRACES), "")))


def _matrix_pairs(given: dict, expansion, what: str) -> dict:
    """`given` with each whole matrix replaced by its entries {"X[0,1]": value}, checked against its shape."""
    from .matrix import _Error, matrix_entries

    matrices = {m.name: (m, shape) for m, shape in expansion.matrices}
    loose = {_key(name).translate(_BRACES): name for name in matrices}  # W1 for W^{(1)}
    result: dict = {}
    for name, raw in given.items():
        found = _matrix_named(name, matrices, loose)
        entry = _ENTRY.match(name)
        if found is None and entry and _matrix_named(entry.group(1), matrices, loose) is not None:
            matrix = _matrix_named(entry.group(1), matrices, loose)[0]
            entries = {f"{matrix.name}[{int(entry.group(2))},{int(entry.group(3))}]": raw}
        elif found is None:
            entries = {name: raw}
        else:
            try:
                entries = matrix_entries(name, found[0], raw, found[1])
            except _Error as problem:
                raise TraceError(f"the {what} of {problem}" if what != "value" else str(problem)) from None
        for entry, value in entries.items():
            if entry in result:
                raise TraceError(f"two {what}s given for {entry} (as a matrix and as an entry)")
            result[entry] = value
    return result


def _pairs(text: str) -> dict[str, str]:
    from .matrix import _Error, split_top

    pairs: dict[str, str] = {}
    try:
        pieces = split_top(text)
    except _Error as problem:
        raise TraceError(f"cannot read the point: {problem}") from None
    for item in filter(None, (piece.strip() for piece in pieces)):
        name, equals, value = item.partition("=")
        if not equals or not name.strip() or not value.strip():
            raise TraceError(f"cannot read '{item}' in '{text}': write name=value, e.g. x1=2,x2=5")
        if name.strip() in pairs:
            raise TraceError(f"{name.strip()} is given twice in '{text}'")
        pairs[name.strip()] = value.strip()
    if not pairs:
        raise TraceError(f"no values in '{text}': write name=value, e.g. x1=2,x2=5")
    return pairs


def _exact(raw, name: str, what: str) -> Rational:
    """A number as an exact rational: 2, -0.5, 5/2, 1e-3 (text read by `fractions`, never evaluated); a float
    is taken as the decimal it prints as (0.7 is 7/10)."""
    if isinstance(raw, sympy.Rational):
        return raw
    if isinstance(raw, (float, sympy.Float)):
        raw = repr(float(raw))
    try:
        if isinstance(raw, bool):
            raise TypeError
        fraction = Fraction(raw) if isinstance(raw, (int, Fraction)) else Fraction(str(raw).strip())
    except (ValueError, ZeroDivisionError, TypeError):
        raise TraceError(f"the {what} of {name} must be a number (2, -0.5, 5/2), not '{raw}'") from None
    return Rational(fraction.numerator, fraction.denominator)


def read_directions(direction, inputs, expansion=None) -> list[tuple[Rational, ...]]:
    if direction is None:
        return [tuple(sympy.S.One if j == k else sympy.S.Zero for j in range(len(inputs))) for k in range(len(inputs))]
    chosen = read_point(direction, inputs, "direction component", missing_is_zero=True, expansion=expansion)
    if all(value == 0 for value in chosen.values()):
        raise TraceError("the direction is zero: give at least one non-zero component, e.g. --direction x1=1")
    return [tuple(chosen[x] for x in inputs)]
