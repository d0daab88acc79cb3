"""The tape: scalar expressions (and the definitions they need) compiled to a list of NumPy operations.

`Tape` evaluates the steps a `forward_pass.Program` plans for a scalar network, each distinct subexpression
once, and finds the first operation that is not finite (`first_not_finite`, for the check's messages).
`_symbols_in` (the symbols an expression uses) is shared with the program's planning. Matrix networks are
evaluated by `numeric.MatrixEvaluator` instead.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import sympy
from sympy import Expr, Symbol
from sympy.matrices.expressions import MatrixSymbol, OneMatrix

from ..core.errors import DeriveError
from .numeric import _scalar_operation, compile_expression
from .stable_forms import STABLE_FORMS, StableForm


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
