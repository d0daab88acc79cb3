"""The forward pass: a network's named definitions evaluated in order, then anything written in their names.

This is how backpropagation evaluates, and how derive's numbers are computed (the check, `Derivation.evaluate`):
each definition is evaluated once per point from the symbols it uses directly, and a derived gradient is
evaluated in the named intermediates it is written in, never with every definition substituted into it
(which grows as the depth squared or worse). A `Program` holds the definitions of one network with the
symbols that are given values (its inputs, and an intermediate held as a leaf), and compiles any expressions
in those names once: scalar networks to a tape of NumPy operations (`function`), matrix networks through
`derive.numeric.MatrixEvaluator` (`evaluate`). Both broadcast, so one call evaluates many points.

Stable forms, the same in every expression: where a definition is a sigmoid s = sigma(u), the pass keeps the
complement sigma(-u) beside s, and `1 - s` anywhere is that complement (so that in a gradient written
(1 - y) / (1 - s) * s (1 - s) the same float cancels); log s is -softplus(-u) and log(1 - s) is -softplus(u);
sigma'(u) is s sigma(-u); log of a softmax output is the shifted log-softmax of its argument; 1 - t^2 for a
tanh output t is sech^2 of its argument. A sigmoid written inline gets the same forms (`numeric.stable`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import sympy
from sympy import Expr, Symbol
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, MatrixExpr, MatrixSymbol, OneMatrix

from ..core import matrix_ops as mo
from ..core.errors import DeriveError
from .numeric import (
    MatrixEvaluator, _complex_sigmoid, _complex_softplus, _scalar_operation, _sigmoid, _softplus, compile_expression,
)
from ..core.ops import sigmoid, softplus


def _log_softmax_rows(z):
    shifted = z - z.real.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sech_squared(u):
    return 1 / np.cosh(u) ** 2


# kind -> (float function, complex-analytic function) of the activation's argument u
STABLE_FORMS = {
    "complement": (lambda u: _sigmoid(-u), lambda u: _complex_sigmoid(-u)),  # 1 - sigma(u) = sigma(-u)
    "log sigmoid": (lambda u: -_softplus(-u), lambda u: -_complex_softplus(-u)),  # log sigma(u)
    "log complement": (lambda u: -_softplus(u), lambda u: -_complex_softplus(u)),  # log(1 - sigma(u))
    "log softmax": (_log_softmax_rows, _log_softmax_rows),
    "tanh complement": (_sech_squared, _sech_squared),  # 1 - tanh(u)^2
}


@dataclass(frozen=True)
class StableForm:
    """A value the forward pass keeps beside an activation's output: `kind` (of STABLE_FORMS) of `argument`."""

    kind: str
    argument: Expr
    of: Symbol  # the activation's output it belongs to


def _activation(rhs) -> tuple[str, Expr] | None:
    """("sigmoid" | "softmax" | "tanh", argument) when a definition's right-hand side is one of them."""
    if isinstance(rhs, sigmoid):
        return "sigmoid", rhs.args[0]
    if isinstance(rhs, sympy.tanh):
        return "tanh", rhs.args[0]
    if isinstance(rhs, mo.Softmax):
        return "softmax", rhs.arg
    if isinstance(rhs, mo.Entrywise) and not rhs.prime and rhs.name in ("sigmoid", "tanh"):
        return rhs.name, rhs.arg
    return None


_PROGRAMS: dict = {}  # the programs made last, by (definitions, leaves): a check or an evaluation reuses them


class Program:
    """The definitions of one network, ready to be evaluated in order from `leaves` (the symbols given values).

    `definitions` are (symbol, right-hand side) pairs in order; a leaf's own definition is not evaluated (the
    gradient with respect to an intermediate holds it as a leaf). Expressions handed to `function` or
    `evaluate` may use the leaves and any definition; only the definitions they need are evaluated."""

    @classmethod
    def of(cls, definitions: Iterable[tuple[Symbol, Expr]], leaves: Iterable[Symbol]) -> "Program":
        """The program for these definitions and leaves, made once and reused (its compiled forms with it)."""
        key = (tuple(definitions), tuple(leaves))
        if key not in _PROGRAMS:
            if len(_PROGRAMS) >= 16:
                _PROGRAMS.pop(next(iter(_PROGRAMS)))
            _PROGRAMS[key] = cls(*key)
        return _PROGRAMS[key]

    def __init__(self, definitions: Iterable[tuple[Symbol, Expr]], leaves: Iterable[Symbol]):
        self.leaves = list(dict.fromkeys(leaves))
        held = set(self.leaves)
        self.original = {s: rhs for s, rhs in definitions if s not in held}
        self.position = {s: i for i, s in enumerate(self.original)}
        self.matrix = any(isinstance(s, MatrixExpr) for s in [*self.leaves, *self.original])
        self.activations: dict = {}  # output symbol -> (kind, argument)
        self.sigmoid_of: dict = {}  # argument -> sigmoid output symbol
        self.stable: dict = {}  # (kind, output symbol) -> the symbol standing for the stable form
        self.forms: dict = {}  # that symbol -> StableForm
        self._memo: dict = {}
        self.rewritten: dict = {}
        for symbol, rhs in self.original.items():
            rhs = self.rewrite(rhs)
            self.rewritten[symbol] = rhs
            found = _activation(rhs)
            if found:
                self.activations[symbol] = found
                if found[0] == "sigmoid":
                    self.sigmoid_of.setdefault(found[1], symbol)
        self._uses: dict = {}
        self._steps: dict = {}  # outputs -> the steps they need
        self._compiled: dict = {}

    def memo(self, name: str, compute: Callable, *key):
        """`compute()` once per (name, key) for this program: facts about it that callers derive (its kinks)."""
        full = ("memo", name, *key)
        if full not in self._compiled:
            self._compiled[full] = compute()
        return self._compiled[full]

    # -- the stable forms ----------------------------------------------------------------------------
    def _form(self, kind: str, of: Symbol):
        """The symbol standing for `kind` of the activation output `of` (made on first use)."""
        key = (kind, of)
        if key not in self.stable:
            name = f"{kind}({of.name})"
            symbol = MatrixSymbol(name, *of.shape) if isinstance(of, MatrixSymbol) else sympy.Dummy(name, real=True)
            self.stable[key] = symbol
            self.forms[symbol] = StableForm(kind, self.activations[of][1], of)
        return self.stable[key]

    def _named(self, node, kind: str):
        """The definition computed by this program that `node` is, if it is a `kind` activation."""
        return node if self.activations.get(node, (None,))[0] == kind else None

    def rewrite(self, expr):
        """`expr` with the stable forms put in (memoised: shared subexpressions are rewritten once)."""
        if not isinstance(expr, sympy.Basic):
            return expr
        memo = self._memo
        stack = [expr]
        while stack:  # post-order without recursion: deep networks nest hundreds of levels
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            if node.is_Atom or isinstance(node, (MatrixSymbol, OneMatrix)) or not node.args:
                memo[node] = node
                stack.pop()
                continue
            pending = [a for a in node.args if a not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            args = tuple(memo[a] for a in node.args)
            rebuilt = node if all(a is b for a, b in zip(args, node.args)) else _rebuilt(node, args)
            memo[node] = self._stable_node(rebuilt)
        return memo[expr]

    def _stable_node(self, node):
        if isinstance(node, MatAdd):  # before Add: SymPy's MatAdd is an Add
            return self._complement_in_matrix_sum(node)
        if isinstance(node, sympy.Add):
            return self._complement_in_sum(node)
        if isinstance(node, sympy.log):
            return self._stable_log(node.args[0], node)
        if isinstance(node, mo.Entrywise) and node.name == "log" and not node.prime:
            return self._stable_log(node.arg, node)
        if isinstance(node, mo.Entrywise) and node.name == "sigmoid" and node.prime and node.arg in self.sigmoid_of:
            s = self.sigmoid_of[node.arg]  # sigma'(u) = sigma(u) sigma(-u), the floats the pass holds
            return HadamardProduct(s, self._form("complement", s))
        return node

    def _stable_log(self, inside, node):
        for kind, of in (("log sigmoid", self._named(inside, "sigmoid")), ("log softmax", self._named(inside, "softmax"))):
            if of is not None:
                return self._form(kind, of)
        form = self.forms.get(inside)
        if form is not None and form.kind == "complement":
            return self._form("log complement", form.of)
        if isinstance(inside, sigmoid):  # log sigma(u) = -softplus(-u), inline
            return -softplus(-inside.args[0])
        return node

    def _complement_in_sum(self, node):
        """c - c s = c sigma(-u) for a sigmoid s = sigma(u) (named or inline); c - c t^2 = c sech^2 u for t = tanh u."""
        args = list(node.args)
        numbers = [a for a in args if a.is_Number]
        if len(numbers) != 1:
            return node
        c = numbers[0]
        for term in args:
            k, x = term.as_coeff_Mul()
            if term is c or k != -c:
                continue
            if self._named(x, "sigmoid") is not None:
                replacement = self._form("complement", x)
            elif isinstance(x, sigmoid):
                replacement = sigmoid(-x.args[0])
            elif x.is_Pow and x.exp == 2 and self._named(x.base, "tanh") is not None:
                replacement = self._form("tanh complement", x.base)
            else:
                continue
            rest = [a for a in args if a is not c and a is not term]
            return sympy.Add(*rest, c * replacement)
        return node

    def _complement_in_matrix_sum(self, node):
        """1 - S = sigma(-U) for a named sigmoid output S = sigma(U) (and c 1 - c S = c sigma(-U))."""
        args = list(node.args)
        for term in args:
            if not (isinstance(term, MatMul) and len(term.args) == 2 and term.args[0].is_Number):
                continue
            k, s = term.args
            if self._named(s, "sigmoid") is None:
                continue
            ones = OneMatrix(*s.shape) if k == -1 else MatMul(-k, OneMatrix(*s.shape))
            match = next((a for a in args if a == ones), None)
            if match is None:
                continue
            complement = self._form("complement", s)
            rest = [a for a in args if a is not term and a is not match]
            replacement = complement if k == -1 else MatMul(-k, complement)
            return MatAdd(*rest, replacement) if rest else replacement
        return node

    # -- what an expression needs --------------------------------------------------------------------
    def _direct(self, symbol) -> frozenset:
        """The symbols a definition or stable form uses directly."""
        if symbol not in self._uses:
            how = self.forms[symbol].argument if symbol in self.forms else self.rewritten[symbol]
            self._uses[symbol] = frozenset(_symbols_in(how))
        return self._uses[symbol]

    def _order(self, symbol):
        if symbol in self.forms:
            return self.position[self.forms[symbol].of], 1, symbol.name
        return self.position[symbol], 0, ""

    def steps(self, exprs: Sequence) -> list:
        """(symbol, rewritten right-hand side or StableForm) for every definition `exprs` need, in order."""
        key = tuple(exprs)
        if key not in self._steps:
            self._steps[key] = self._needed_steps(exprs)
        return self._steps[key]

    def _needed_steps(self, exprs: Sequence) -> list:
        todo = _symbols_in(*exprs)
        needed: set = set()
        while todo:
            symbol = todo.pop()
            if symbol in needed or not (symbol in self.original or symbol in self.forms):
                continue
            needed.add(symbol)
            todo |= self._direct(symbol)
        ordered = sorted(needed, key=self._order)
        return [(s, self.forms.get(s, self.rewritten.get(s))) for s in ordered]

    def missing(self, exprs: Sequence, given) -> list:
        """The leaves `exprs` need that `given` has no value for."""
        used = _symbols_in(*exprs)
        for _, how in self.steps(exprs):
            used |= _symbols_in(how.argument if isinstance(how, StableForm) else how)
        return sorted((s for s in used if s in set(self.leaves) and s not in given), key=lambda s: s.name)

    # -- scalar networks: a tape of NumPy operations -------------------------------------------------
    def function(self, exprs: Sequence[Expr], complex_safe: bool = False) -> "Tape":
        """A function of the leaves (positional, in `self.leaves` order) returning the list of `exprs`' values,
        compiled once (float, or complex-analytic with `complex_safe`)."""
        key = (tuple(exprs), complex_safe)
        if key not in self._compiled:
            outputs = [self.rewrite(sympy.sympify(e)) for e in exprs]
            self._compiled[key] = Tape(self.leaves, self.steps(outputs), outputs, complex_safe)
        return self._compiled[key]

    # -- matrix networks: the evaluator, definition after definition -------------------------------------
    def evaluate(self, values: dict, exprs: Sequence, dtype=float, batch: bool = False,
                 evaluator: MatrixEvaluator | None = None) -> tuple[list, MatrixEvaluator]:
        """(the values of `exprs`, the evaluator holding the forward pass) at `values` (leaves and sizes to
        arrays and numbers); pass the evaluator back to evaluate more expressions at the same point."""
        outputs = [self.rewrite(sympy.sympify(e)) for e in exprs]
        if evaluator is None:
            evaluator = MatrixEvaluator(dict(values), dtype=dtype, batch=batch)
        complex_index = 1 if evaluator.complex else 0
        for symbol, how in self.steps(outputs):
            if symbol in evaluator.values:
                continue
            if isinstance(how, StableForm):
                evaluator.values[symbol] = STABLE_FORMS[how.kind][complex_index](evaluator(how.argument))
            else:
                evaluator.values[symbol] = evaluator(how)
        return [evaluator(e) for e in outputs], evaluator


def _rebuilt(node, args):
    """`node` with new arguments, not put back in canonical order: the rewritten forms are only evaluated, and
    re-sorting a product of a deep network's hundreds of factors costs more than evaluating it."""
    if isinstance(node, (MatAdd, MatMul, HadamardProduct)):  # the shapes were checked when `node` was made
        return sympy.Basic.__new__(node.func, *args)
    if isinstance(node, (sympy.Add, sympy.Mul)):
        return node.func._from_args(args)
    if isinstance(node, sympy.Pow):
        return sympy.Pow(*args, evaluate=False)
    return node.func(*args)


def _symbols_in(*exprs) -> set:
    """The scalar and matrix symbols in `exprs` (not the sizes inside a matrix symbol's shape), each shared
    subexpression visited once."""
    found, seen, stack = set(), set(), [e for e in exprs if isinstance(e, sympy.Basic)]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, (Symbol, MatrixSymbol)):
            found.add(node)
        elif not node.is_Atom and not isinstance(node, (OneMatrix,)) and not isinstance(node, sympy.MatrixBase):
            stack.extend(node.args)
    return found


# -- the tape: scalar expressions compiled to NumPy operations over registers -------------------------

def _add(*terms):
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def _mul(*factors):
    if len(factors) > 16:  # a deep chain's gradient: hundreds of factors, one NumPy reduction instead of a loop
        arrays = [f for f in factors if isinstance(f, np.ndarray)]
        first = arrays[0] if arrays else None
        if first is not None and all(a.shape == first.shape and a.dtype == first.dtype for a in arrays):
            product = np.multiply.reduce(np.array(arrays), axis=0)
            for f in factors:
                if not isinstance(f, np.ndarray):
                    product = product * f
            return product
    product = factors[0]
    for f in factors[1:]:
        product = product * f
    return product


def _number(node):
    if node.is_Integer:
        return int(node)
    value = complex(node)
    return value.real if value.imag == 0 else value


class Tape:
    """Scalar expressions (and the definitions they need) as a list of NumPy operations, each distinct
    subexpression once: calling it with one value (or array) per leaf returns the list of the outputs' values.
    Registers hold the leaves, then each instruction's value in order (a number, or an operation on earlier
    registers). Numbers stay Python numbers, so float32 inputs stay float32."""

    def __init__(self, leaves: Sequence[Symbol], steps: list, outputs: Sequence[Expr], complex_safe: bool = False):
        self.complex_safe = complex_safe
        self.leaves = list(leaves)
        self.register: dict = {leaf: i for i, leaf in enumerate(self.leaves)}
        self.instructions: list[tuple[Callable | None, object]] = []  # (None, number) or (function, registers)
        self.nodes: list = []  # the node each instruction computes (for messages)
        for symbol, how in steps:
            if isinstance(how, StableForm):
                function = STABLE_FORMS[how.kind][1 if complex_safe else 0]
                self.register[symbol] = self._emit(function, (self._compile(how.argument),), symbol)
            else:
                self.register[symbol] = self._compile(how)
        self.outputs = [self._compile(e) for e in outputs]

    def _emit(self, function, operands, node) -> int:
        self.instructions.append((function, tuple(operands) if function is not None else operands))
        self.nodes.append(node)
        return len(self.leaves) + len(self.instructions) - 1

    def _compile(self, expr) -> int:
        stack = [expr]
        while stack:  # post-order without recursion
            node = stack[-1]
            if node in self.register:
                stack.pop()
                continue
            if node.is_Number or node.is_NumberSymbol:
                self.register[node] = self._emit(None, _number(node), node)
                stack.pop()
                continue
            if node.is_Symbol:
                raise DeriveError(f"no value given for {node}")
            pending = [a for a in self._operands(node) if a not in self.register]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            self.register[node] = self._operation(node)
        return self.register[expr]

    @staticmethod
    def _simple(node) -> bool:
        return isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow)) or (
            isinstance(node, sympy.Function) and all(isinstance(a, Expr) for a in node.args))

    def _operands(self, node) -> list:
        if not self._simple(node):
            return sorted(_symbols_in(node), key=lambda s: s.name)
        if isinstance(node, sympy.Pow) and (node.args[1].is_Integer or node.args[1] == sympy.S.Half):
            return [node.args[0]]
        return list(node.args)

    def _operation(self, node) -> int:
        operands = [self.register[a] for a in self._operands(node)]
        if not self._simple(node):  # Piecewise and others whose arguments are not expressions: compiled whole
            symbols = self._operands(node)
            return self._emit(compile_expression(node, symbols, self.complex_safe), operands, node)
        if isinstance(node, sympy.Add):
            return self._emit(_add, operands, node)
        if isinstance(node, sympy.Mul):
            return self._emit(_mul, operands, node)
        if isinstance(node, sympy.Pow):
            exponent = node.args[1]
            if exponent.is_Integer:
                power = int(exponent)
                return self._emit((lambda b: 1 / b) if power == -1 else (lambda b, p=power: b ** p), operands, node)
            if exponent == sympy.S.Half:
                return self._emit(np.sqrt, operands, node)
            return self._emit(lambda b, e: b ** e, operands, node)
        stand_ins = sympy.symbols(f"a0:{len(node.args)}", real=True)
        return self._emit(_scalar_operation(node.func, len(node.args), stand_ins, node, self.complex_safe),
                          operands, node)

    def _run(self, values) -> list:
        if len(values) != len(self.leaves):
            raise TypeError(f"{len(self.leaves)} values expected, {len(values)} given")
        registers = [np.asarray(v) for v in values]
        for function, operands in self.instructions:
            registers.append(operands if function is None else function(*[registers[r] for r in operands]))
        return registers

    def __call__(self, *values) -> list:
        registers = self._run(values)
        return [registers[r] for r in self.outputs]

    def first_not_finite(self, *values):
        """(node, {symbol: value} of the symbols it uses, its value) for the first operation whose value is not
        finite while its operands are, or None."""
        registers = self._run(values)
        start = len(self.leaves)
        for k, ((function, operands), node) in enumerate(zip(self.instructions, self.nodes)):
            if function is None:
                continue
            value = registers[start + k]
            if not _finite(value) and all(_finite(registers[r]) for r in operands):
                used = {s: registers[self.register[s]] for s in sorted(_symbols_in(node), key=lambda s: s.name)
                        if s in self.register}
                return node, used, value
        return None


def _finite(value) -> bool:
    return bool(np.all(np.isfinite(np.asarray(value, dtype=complex))))


# -- the library's numbers: a network evaluated at the values a user gives ---------------------------------

def evaluate_in(network, exprs: Sequence, values: dict) -> list:
    """The values of `exprs` (expressions in `network`'s names) at `values` ({name or symbol: number or
    array}): NumPy arrays of the expressions' shapes for matrices, NumPy floats (or arrays of them, evaluated
    elementwise) for scalars. Symbolic sizes (n) come from the arrays' shapes or may be given; a value given
    for a definition holds it (its definition is not evaluated). Bad values are one-line `DeriveError`s."""
    given, sizes = _read_values(network, values)
    leaves = list(network.inputs.values()) + [s for s in given if s in network.definitions]
    program = Program.of(network.definitions.items(), leaves)
    exprs = [sympy.sympify(e) for e in exprs]
    missing = program.missing(exprs, given)
    if missing:
        raise DeriveError(f"no value given for {', '.join(s.name for s in missing)}")
    leaf_values = {s: given[s] for s in program.leaves if s in given}
    with np.errstate(all="ignore"):
        if not program.matrix:
            arguments = [np.asarray(leaf_values.get(s, np.nan), dtype=float) for s in program.leaves]
            results = program.function(exprs)(*arguments)
        else:
            shaped = _with_shapes(leaf_values, sizes)
            results, _ = program.evaluate({**shaped, **sizes}, exprs)
    return [_plain(r, e, sizes) for r, e in zip(results, exprs)]


def _read_values(network, values: dict) -> tuple[dict, dict]:
    """({symbol: value}, {size symbol: int}) from the user's mapping, names or symbols as keys."""
    if not isinstance(values, dict):
        raise DeriveError(f"the values must be a mapping of names to numbers or arrays, not {type(values).__name__}")
    dimensions = {d.name: d for d in network.dimensions}
    given, sizes = {}, {}
    for key, value in values.items():
        name = key if isinstance(key, str) else getattr(key, "name", str(key))
        if name in dimensions:
            sizes[dimensions[name]] = _size_value(name, value)
            continue
        symbol = network.symbol(name)  # a one-line error naming the symbols when there is none
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError):
            raise DeriveError(f"the value of {name} is not a number or an array of numbers: {value!r}") from None
        given[symbol] = array
    return given, _infer_sizes(given, sizes)


def _size_value(name, value) -> int:
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1:
        return int(value)
    raise DeriveError(f"the size {name} must be a positive integer, not {value!r}")


def _shape_text(shape) -> str:
    return "x".join(str(d) for d in shape) if shape else "a scalar"


def _infer_sizes(given: dict, sizes: dict) -> dict:
    """The symbolic sizes bound by the given matrices' shapes; a shape that disagrees is named with both."""
    source = {d: "given" for d in sizes}
    for symbol, array in given.items():
        if not isinstance(symbol, MatrixSymbol):
            if array.size != 1 and array.ndim > 1:
                raise DeriveError(f"{symbol.name} is a scalar, but the value given has shape {_shape_text(array.shape)}")
            continue
        declared = tuple(sympy.sympify(d) for d in symbol.shape)
        if array.ndim < 2:  # a vector given flat: its length is its one size other than 1
            long = [_resolved(d, sizes) for d in declared if d != 1]
            if len(long) == 1 and long[0].is_Symbol and long[0] not in sizes:
                sizes[long[0]], source[long[0]] = int(array.size), symbol.name
            continue
        if array.ndim != 2:
            raise DeriveError(f"{symbol.name} is a {_declared_text(declared)} matrix, but the value given has "
                              f"shape {_shape_text(array.shape)}")
        for d, actual in zip(declared, array.shape):
            d = _resolved(d, sizes)
            if d.is_Symbol and d not in sizes:
                sizes[d], source[d] = int(actual), symbol.name
            elif d.is_Integer and int(d) != actual:
                expected = tuple(_resolved(x, sizes) for x in symbol.shape)
                bound = ", ".join(f"{s} = {sizes[s]} from {source[s]}" for s in _size_symbols(symbol) if s in sizes)
                raise DeriveError(f"{symbol.name} must be {_shape_text(expected)}"
                                  f"{f' ({bound})' if bound else ''}, but the value given is {_shape_text(array.shape)}")
    return sizes


def _resolved(d, sizes: dict):
    """A declared size with the known sizes put in (an Integer once they are known)."""
    return sympy.sympify(d).xreplace({k: sympy.Integer(v) for k, v in sizes.items()})


def _declared_text(declared) -> str:
    return "x".join(sympy.sstr(d) for d in declared)


def _size_symbols(symbol) -> list:
    return sorted({s for d in symbol.shape for s in getattr(d, "free_symbols", ())}, key=lambda s: s.name)


def _with_shapes(values: dict, sizes: dict) -> dict:
    """Each matrix value as a 2-d array of its declared shape (vectors given flat read in their declared
    orientation); a shape that cannot be read so is a one-line error."""
    shaped = {}
    for symbol, array in values.items():
        if not isinstance(symbol, MatrixSymbol):
            shaped[symbol] = float(array.reshape(-1)[0]) if array.size == 1 else array
            continue
        expected = tuple(_resolved(d, sizes) for d in symbol.shape)
        unresolved = [d for d in expected if not d.is_Integer]
        if unresolved:
            raise DeriveError(f"the size {sympy.sstr(unresolved[0])} of {symbol.name} is not known: give a matrix "
                              f"that has it, or its value ({sympy.sstr(unresolved[0])}=...)")
        expected = tuple(int(d) for d in expected)
        if array.ndim < 2 and array.size == int(np.prod(expected)) and 1 in expected:
            array = array.reshape(expected)
        if array.shape != expected:
            raise DeriveError(f"{symbol.name} must be {_shape_text(expected)}, but the value given is "
                              f"{_shape_text(array.shape)}")
        shaped[symbol] = array
    return shaped


def _plain(value, expr, sizes: dict):
    """A matrix value as a float array of the expression's shape, a scalar as a NumPy float (or float array)."""
    if isinstance(expr, MatrixExpr):
        shape = tuple(int(_resolved(d, sizes)) for d in expr.shape)
        return np.broadcast_to(np.asarray(value, dtype=float), shape).copy()
    array = np.asarray(value, dtype=float)
    return np.float64(array.reshape(-1)[0]) if array.size == 1 and array.ndim <= 2 else array
