"""Matrix problems traced entry by entry: the expansion to scalars at concrete sizes, and matrix points.

A problem with shapes (X: [n, 3]) is traced at concrete sizes: every symbolic dimension (n, m, ...) becomes
`size`, every matrix input an explicit matrix of entry symbols named as `derive.check.explicit_instance`
names them (X[0,1]), and every matrix definition (\\hat{y} = \\sigma(X W)) one scalar definition per entry
(\\hat{y}[0,0], \\hat{y}[1,0]) in the entries of earlier ones, so that the trace's lines keep the problem's
names. A point gives a matrix as rows in brackets, `X=[[1,2,3],[0.5,-1,2]]`, or entry by entry, `X[0,1]=2`;
the text is split and read as numbers, never evaluated. Plain SymPy data: no Jinja2, no NumPy here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Expr, MatrixBase, MatrixSymbol, Symbol

from ..core.matrix_ops import dimensions_of, entry_symbols, explicit
from ..core.printing import latex


@dataclass(frozen=True, slots=True)
class Expansion:
    """How a matrix problem became scalar: the sizes chosen and each matrix input's entries."""

    size: int
    dimensions: tuple[Symbol, ...]  # n, m, ...: each set to `size`
    matrices: tuple[tuple[MatrixSymbol, tuple[int, int]], ...]  # each matrix input the loss uses, its shape

    def shape(self, matrix: MatrixSymbol) -> tuple[int, int]:
        return dict(self.matrices)[matrix]


class _Error(Exception):
    """Raised by the point reader with a message; `derive.trace` turns it into a TraceError."""


def expand_problem(problem, size: int, error) -> tuple:
    """(function, {entry definition: expr}, output, entry inputs, Expansion) for a matrix problem at `size`."""
    network = problem.network
    if size < 1:
        raise error(f"--size must be at least 1, not {size}")
    if network.one_hot:
        names = ", ".join(sorted(s.name for s in network.one_hot))
        raise error(f"traces do not support one-hot targets ({names}, whose last column is 1 minus the others): "
                    "trace a problem without one_hot", problem.source or None)
    used = network.ancestors(problem.loss)
    inputs = [s for s in network.inputs.values() if s in used]
    dims = set().union(*(dimensions_of(s) for s in (*inputs, *network.definitions)))
    values: dict = {d: size for d in dims}
    entry_inputs, matrices = [], []
    for symbol in inputs:
        if isinstance(symbol, MatrixSymbol):
            matrix = entry_symbols(symbol, _concrete(symbol.shape, values))
            values[symbol] = matrix
            matrices.append((symbol, matrix.shape))
            entry_inputs += list(matrix)
        else:
            entry_inputs.append(symbol)
    definitions = _entry_definitions(network, used | {problem.loss}, values)
    output = values.get(problem.loss, problem.loss)
    output = output[0, 0] if isinstance(output, MatrixBase) else output
    function = output
    for name in reversed(list(definitions)):
        function = function.xreplace({name: definitions[name]})
    return function, definitions, output, entry_inputs, Expansion(size, tuple(sorted(dims, key=str)), tuple(matrices))


def _concrete(shape, values) -> tuple[int, int]:
    sizes = {k: v for k, v in values.items() if isinstance(k, Symbol)}
    return tuple(int(sympy.sympify(d).xreplace(sizes)) for d in shape)


def _entry_definitions(network, used, values: dict) -> dict:
    """One scalar definition per entry of each definition, in the entries of the inputs and earlier ones."""
    definitions: dict[Symbol, Expr] = {}
    for name, rhs in network.definitions.items():
        if name not in used:
            continue
        value = explicit(rhs, values)
        if isinstance(value, MatrixBase) and isinstance(name, MatrixSymbol):
            label = latex(name)
            entries = sympy.ImmutableMatrix(*value.shape, lambda i, j: Symbol(f"{label}[{i},{j}]", real=True))
            definitions.update({e: value[i, j] for (i, j), e in zip(_positions(value), entries)})
            values[name] = entries
        else:
            definitions[name] = value[0, 0] if isinstance(value, MatrixBase) else value
    return definitions


def _positions(matrix) -> list[tuple[int, int]]:
    return [(i, j) for i in range(matrix.rows) for j in range(matrix.cols)]


# -- reading matrix points --------------------------------------------------------------------------------
def split_top(text: str) -> list[str]:
    """`text` split at the commas outside brackets: "X=[[1,2],[3,4]], y=1" -> ["X=[[1,2],[3,4]]", " y=1"]."""
    pieces, depth, start = [], 0, 0
    for k, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise _Error(f"a ']' without its '[' in '{text}'")
        elif char == "," and depth == 0:
            pieces.append(text[start:k])
            start = k + 1
    if depth != 0:
        raise _Error(f"a '[' without its ']' in '{text}'")
    return pieces + [text[start:]]


def matrix_rows(raw, name: str, shape: tuple[int, int]) -> list[list]:
    """The rows of the matrix given for `name` (text "[[1,2],[3,4]]", nested lists or an array), checked
    against `shape`; a flat list is taken as a column (or a row) where the shape has one."""
    example = _example(name, shape)
    if hasattr(raw, "tolist"):
        raw = raw.tolist()
    if isinstance(raw, str):
        raw = _nested(raw.strip(), name, example)
    if not isinstance(raw, (list, tuple)):
        raise _Error(f"{name} is a {_shape_words(shape)} matrix: give it as rows in brackets, e.g. {example}")
    rows = [list(r) if isinstance(r, (list, tuple)) else [r] for r in raw]
    if raw and not any(isinstance(r, (list, tuple)) for r in raw):
        rows = [list(raw)] if shape[0] == 1 and len(raw) == shape[1] else rows
    if any(isinstance(x, (list, tuple)) for r in rows for x in r):
        raise _Error(f"cannot read the matrix {name}: too many brackets; write it as {example}")
    got = (len(rows), len(rows[0]) if rows else 0)
    if any(len(r) != got[1] for r in rows):
        raise _Error(f"the rows of {name} have different lengths ({', '.join(str(len(r)) for r in rows)}); "
                     f"{name} is {_shape_words(shape)}, e.g. {example}")
    if got != tuple(shape):
        raise _Error(f"{name} must be {_shape_words(shape)}, but the value given is {_shape_words(got)}; e.g. {example}")
    return rows


def _nested(text: str, name: str, example: str) -> list:
    """"[[1,2],[3,4]]" or "[1,2]" as nested lists of number texts (split, never evaluated)."""
    if not (text.startswith("[") and text.endswith("]")):
        raise _Error(f"cannot read the matrix {name} from '{text}': write rows in brackets, e.g. {example}")
    try:
        items = [item.strip() for item in split_top(text[1:-1])]
    except _Error as problem:
        raise _Error(f"cannot read the matrix {name}: {problem}; write it as {example}") from None
    if any(not item for item in items):
        raise _Error(f"cannot read the matrix {name} from '{text}': an empty entry; write it as {example}")
    return [_nested(item, name, example) if item.startswith("[") else item for item in items]


def _shape_words(shape) -> str:
    return f"{shape[0]}\u00d7{shape[1]}"


def _example(name: str, shape) -> str:
    rows = ",".join("[" + ",".join(str(1 + i * shape[1] + j) for j in range(shape[1])) + "]" for i in range(shape[0]))
    return f"{name}=[{rows}]"


def matrix_entries(name: str, matrix: MatrixSymbol, raw, shape) -> dict[str, object]:
    """{"X[0,1]": value, ...}: the entries of the matrix given for `matrix`."""
    rows = matrix_rows(raw, name, shape)
    return {f"{matrix.name}[{i},{j}]": rows[i][j] for i in range(shape[0]) for j in range(shape[1])}


def missing_matrices(missing: list[Symbol], expansion: Expansion) -> list[str]:
    """The words for inputs without a value: a whole matrix as "X (2×3)", else the entries themselves."""
    left = {x.name for x in missing}
    words = []
    for matrix, shape in expansion.matrices:
        names = [f"{matrix.name}[{i},{j}]" for i in range(shape[0]) for j in range(shape[1])]
        if all(n in left for n in names):
            words.append(f"the matrix {matrix.name} ({_shape_words(shape)}{_at_sizes(expansion)})")
            left -= set(names)
    return words + [f"the input {x.name}" for x in missing if x.name in left]


def _at_sizes(expansion: Expansion) -> str:
    return "".join(f", {d} = {expansion.size}" for d in expansion.dimensions[:1]) if expansion.dimensions else ""


# -- derive's matrix gradient, entry by entry -------------------------------------------------------------
def entry_gradients(problem, expansion: Expansion, wrts) -> dict[Symbol, Expr]:
    """derive's matrix gradients by `wrts` (the derivation's `expanded()`), expanded to entries by
    `derive.check.explicit_instance` at the expansion's size: {entry symbol: scalar expression}."""
    from ..check.gradient_check import explicit_instance
    from ..solve.derivation import Solution

    network = problem.network
    solution = Solution.derive(network, problem.loss, list(wrts))
    gradients = {d.wrt: d.expanded() for d in solution.derivations}
    inputs = [m for m, _ in expansion.matrices] + [s for s in network.inputs.values()
                                                    if not isinstance(s, MatrixSymbol) and s in network.ancestors(problem.loss)]
    _, entries, _, _ = explicit_instance(network.expand(problem.loss), gradients, inputs, expansion.size, ())
    return entries
