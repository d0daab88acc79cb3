"""`Network`: declared symbols and an ordered list of named definitions, checked as they are added.

A network knows its inputs, its definitions and which definitions use which symbols; it does no
calculus and knows nothing of what is built on it. The `derive.Network` users make is
`derive.solve.network.Network`, this class with `gradient`, `gradients` and `evaluate` added.
"""

from __future__ import annotations

from typing import Iterable

import sympy
from sympy import Expr, Symbol
from sympy.matrices import MatrixBase
from sympy.matrices.expressions import MatrixExpr, MatrixSymbol

from .errors import ProblemError


def make_symbol(name: str) -> Symbol:
    """The symbol derive uses for `name`: real, so that |u|, max and the checks behave as on paper."""
    return Symbol(name, real=True)


def expand_definitions(definitions: Iterable[tuple[Symbol, Expr]], keep: Iterable[Symbol] = ()) -> dict:
    """{name: its right-hand side in the inputs only} for each definition not in `keep`, built in one pass in
    order (each definition substitutes the already expanded ones it uses)."""
    keep = set(keep)
    expanded: dict = {}
    for name, rhs in definitions:
        if name not in keep:
            expanded[name] = rhs.xreplace(expanded) if expanded else rhs
    return expanded


class Network:
    """Inputs and named definitions, in order: `yhat = net.define("yhat", sigmoid(w*x))`."""

    def __init__(self, symbols: Iterable[Symbol | str] = (), title: str = ""):
        self.title = title
        self.inputs: dict[str, Symbol] = {}
        self.definitions: dict[Symbol, Expr] = {}
        self.where: dict[Symbol, str] = {}  # definition -> where it was written, for error messages
        self.written: dict[Symbol, tuple] = {}  # definition -> (its expression, its LaTeX as written), to print it so
        self.dimensions: set[Symbol] = set()  # symbolic sizes of the matrices (n in X: n x 3): never inputs
        self.one_hot: set = set()  # matrices whose rows sum to 1 (one-hot targets): Y 1 = 1
        self.declared_shapes: dict = {}  # scalars declared as 1 x 1 matrices ([1, 1]) -> (1, 1): their values' shape
        self._cache: dict = {}  # uses and ancestors, cleared whenever a definition is added
        for symbol in symbols:
            self.declare(symbol)

    # -- building -------------------------------------------------------------------------------
    def declare(self, symbol: Symbol | str) -> Symbol:
        """Declare an input (data or parameter) and return its symbol."""
        symbol = make_symbol(symbol) if isinstance(symbol, str) else symbol
        if symbol in self.definitions:
            raise ProblemError(f"{symbol} is already a definition; it cannot also be an input")
        if isinstance(symbol, MatrixSymbol):
            for size in symbol.shape:
                self.dimensions |= {s for s in getattr(size, "free_symbols", ()) if isinstance(s, Symbol)}
        self.inputs.setdefault(symbol.name, symbol)
        return self.inputs[symbol.name]

    def symbols(self, names: str) -> tuple[Symbol, ...]:
        """Declare several inputs at once: `x, y, w = net.symbols("x y w")`."""
        return tuple(self.declare(name) for name in names.replace(",", " ").split())

    def define(self, name: Symbol | str, expr, where: str | None = None) -> Symbol:
        """Add `name = expr` after the existing definitions and return the symbol that stands for it."""
        expr = sympy.sympify(expr)
        if isinstance(expr, MatrixBase) and expr.shape == (1, 1):
            expr = expr[0, 0]
        if isinstance(name, str):
            matrix = isinstance(expr, MatrixExpr) and not isinstance(expr, MatrixBase)
            symbol = MatrixSymbol(name, *expr.shape) if matrix else make_symbol(name)
        else:
            symbol = name
        where = where or f"definition of {symbol}"
        if symbol in self.definitions:
            raise ProblemError(f"{symbol} is defined twice", where)
        if symbol.name in self.inputs:
            raise ProblemError(f"{symbol} is already an input; name the definition differently", where)
        if symbol in getattr(expr, "free_symbols", ()):
            raise ProblemError(f"the definition of {symbol} uses {symbol} itself", where)
        expr = self._same_named(expr)
        for used in self._free(expr):
            if used not in self.definitions:
                self.declare(used)
        self.definitions[symbol] = expr
        self.where[symbol] = where
        self._cache.clear()
        return symbol

    def _same_named(self, expr):
        """`expr` with each symbol replaced by the network's symbol of the same name, whatever its assumptions."""
        known = {s.name: s for s in self.all_symbols()}
        swap = {s: known[s.name] for s in getattr(expr, "free_symbols", ()) if s.name in known and known[s.name] != s}
        return expr.xreplace(swap) if swap else expr

    # -- reading --------------------------------------------------------------------------------
    def _free(self, expr) -> list[Symbol]:
        """The symbols `expr` uses, without the matrix sizes (n in a product with an n x 1 vector of ones)."""
        return sorted(set(getattr(expr, "free_symbols", ())) - self.dimensions, key=lambda s: s.name)

    def symbol(self, name: str) -> Symbol:
        """The input or definition called `name`."""
        for symbol in (*self.inputs.values(), *self.definitions):
            if symbol.name == name:
                return symbol
        raise ProblemError(f"no symbol {name} in this network (it has {', '.join(self.names())})")

    def names(self) -> list[str]:
        return [s.name for s in (*self.inputs.values(), *self.definitions)]

    def all_symbols(self) -> set[Symbol]:
        return set(self.inputs.values()) | set(self.definitions)

    def uses(self, definition: Symbol) -> set[Symbol]:
        """The symbols (inputs and earlier definitions) that a definition's right-hand side mentions."""
        key = ("uses", definition)
        if key not in self._cache:
            self._cache[key] = frozenset(set(getattr(self.definitions[definition], "free_symbols", ())) - self.dimensions)
        return set(self._cache[key])

    def ancestors(self, target: Symbol) -> set[Symbol]:
        """Every symbol `target` depends on, directly or through definitions."""
        key = ("ancestors", target)
        if key not in self._cache:
            self._cache[key] = frozenset(self._ancestors(target))
        return set(self._cache[key])

    def _ancestors(self, target: Symbol) -> set[Symbol]:
        seen: set[Symbol] = set()
        todo = [target]
        while todo:
            current = todo.pop()
            for used in self.uses(current) if current in self.definitions else ():
                if used not in seen:
                    seen.add(used)
                    todo.append(used)
        return seen

    def depends_indirectly(self, definition: Symbol, symbol: Symbol) -> bool:
        """Whether `definition` depends on `symbol` through another definition it uses."""
        return any(symbol in self.ancestors(u) for u in self.uses(definition) if u in self.definitions)

    def consumers(self, symbol: Symbol, toward: Symbol) -> list[Symbol]:
        """The definitions that use `symbol` directly and lead to `toward`, in definition order."""
        key = ("users", toward)
        if key not in self._cache:  # symbol -> the definitions using it that lead to `toward`, in order
            relevant = self.ancestors(toward) | {toward}
            users: dict = {}
            for d in self.definitions:
                if d in relevant:
                    for used in self.uses(d):
                        users.setdefault(used, []).append(d)
            self._cache[key] = users
        return list(self._cache[key].get(symbol, []))

    def expand(self, expr: Expr, keep: Iterable[Symbol] = ()) -> Expr:
        """`expr` with every named intermediate replaced by its definition, down to the inputs (those in
        `keep` stay as they are)."""
        key = ("expanded", frozenset(keep))
        if key not in self._cache:
            self._cache[key] = expand_definitions(self.definitions.items(), keep)
        return sympy.sympify(expr).xreplace(self._cache[key])

    @property
    def has_matrices(self) -> bool:
        """Whether any input or definition is a matrix expression (the matrix engine is used then)."""
        return any(isinstance(s, MatrixExpr) for s in self.all_symbols())

    def check_loss(self, loss: Symbol) -> None:
        if loss not in self.definitions:
            raise ProblemError(f"the loss {loss} is not a definition of this network")
        value = self.definitions[loss]
        if isinstance(value, MatrixExpr) and not isinstance(value, MatrixBase) and value.shape != (1, 1):
            rows, cols = value.shape
            raise ProblemError(f"the loss {loss} is not scalar: it is a {sympy.sstr(rows)}x{sympy.sstr(cols)} matrix; "
                               "take a norm, a sum or a mean of it", self.where[loss])
        for name in [loss, *sorted(self.ancestors(loss) & set(self.definitions), key=str)]:
            value = self.definitions[name]
            if isinstance(value, MatrixBase):
                through = "" if name == loss else f" through {name}"
                raise ProblemError(
                    f"the loss {loss} is not scalar: it is a {value.rows}x{value.cols} matrix{through}",
                    self.where[name],
                )

    def check_wrt(self, wrt: Symbol, loss: Symbol | None = None) -> None:
        """A variable the loss can be differentiated with respect to: a symbol of the network, not the loss
        itself, not a one-hot matrix (whose entries are not free)."""
        if loss is not None and wrt == loss:
            raise ProblemError(f"{loss} is the loss itself: its gradient with respect to itself is 1")
        if wrt in self.one_hot:
            raise ProblemError(f"cannot differentiate with respect to {wrt}: it is declared one-hot (its rows sum to 1)")
        if wrt not in self.all_symbols():
            raise ProblemError(
                f"cannot differentiate with respect to {wrt}: it is not a symbol of this network "
                f"(symbols: {', '.join(self.names())})"
            )
