"""The forward pass: a network's named definitions evaluated in order, then anything written in their names.

This is how backpropagation evaluates, and how derive's numbers are computed (the check, `Derivation.evaluate`):
each definition is evaluated once per point from the symbols it uses directly, and a derived gradient is
evaluated in the named intermediates it is written in, never with every definition substituted into it
(which grows as the depth squared or worse). A `Program` holds the definitions of one network with the
symbols that are given values (its inputs, and an intermediate held as a leaf), and compiles any expressions
in those names once: scalar networks to a tape of NumPy operations (`function`), matrix networks through
`derive.check.numeric.MatrixEvaluator` (`evaluate`). Both broadcast, so one call evaluates many points.

Stable forms, the same in every expression: where a definition is a sigmoid s = sigma(u), the pass keeps the
complement sigma(-u) beside s, and `1 - s` anywhere is that complement (so that in a gradient written
(1 - y) / (1 - s) * s (1 - s) the same float cancels); log s is -softplus(-u) and log(1 - s) is -softplus(u);
sigma'(u) is s sigma(-u); log of a softmax output is the shifted log-softmax of its argument; 1 - t^2 for a
tanh output t is sech^2 of its argument; s - y (binary cross-entropy's fused delta, y a target) is
s (1 - y) - sigma(-u) y. A sigmoid written inline gets the same forms (`numeric.stable`).

Here: the `Program` (its definitions, their rewriting into the stable forms, the steps an expression needs,
the matrix evaluation); the stable forms themselves are in `stable_forms`, the scalar tape in `tape`, the
evaluation at a user's values (`evaluate_in`) in `evaluation`.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import sympy
from sympy import Expr, Symbol
from sympy.matrices.expressions import HadamardProduct, MatAdd, MatMul, MatrixExpr, MatrixSymbol, OneMatrix

from ..core import matrix_ops as mo
from ..core.ops import sigmoid, softplus
from .numeric import MatrixEvaluator
from .stable_forms import STABLE_FORMS, StableForm, _activation
from .tape import Tape, _symbols_in


_MEMO_LIMIT = 1 << 18  # rewritten nodes a program remembers
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
        self._memo: dict = {}  # id(node) -> (node, its rewriting)
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
        # memoised by identity (each node kept alive beside its rewriting, so that no id is reused): an equal
        # expression of another solve of the same network would otherwise be compared node by node at every
        # level, which costs the depth squared
        memo = self._memo
        if len(memo) > _MEMO_LIMIT:  # each solve of the network brings new objects: forget the old ones
            memo.clear()
        stack = [expr]
        while stack:  # post-order without recursion: deep networks nest hundreds of levels
            node = stack[-1]
            if id(node) in memo:
                stack.pop()
                continue
            if node.is_Atom or isinstance(node, (MatrixSymbol, OneMatrix)) or not node.args:
                memo[id(node)] = (node, node)
                stack.pop()
                continue
            pending = [a for a in node.args if id(a) not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            args = tuple(memo[id(a)][1] for a in node.args)
            rebuilt = node if all(a is b for a, b in zip(args, node.args)) else _rebuilt(node, args)
            memo[id(node)] = (node, self._stable_node(rebuilt))
        return memo[id(expr)][1]

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

    def _fused_delta(self, args, split, is_target):
        """(k, s, y, the other terms) when the terms `args` hold k s and -k y, s a named sigmoid (or softmax) output and y
        a target (`is_target`), else None; `split` gives a term's (coefficient, rest)."""
        parts = [split(t) for t in args]
        for i, (k, s) in enumerate(parts):
            if self._named(s, "sigmoid") is None and self._named(s, "softmax") is None:
                continue
            for j, (c, y) in enumerate(parts):
                if j != i and c == -k and is_target(y) and getattr(y, "shape", None) == getattr(s, "shape", None):
                    return k, s, y, [t for n, t in enumerate(args) if n not in (i, j)]
        return None

    def _complement_in_sum(self, node):
        """c - c s = c sigma(-u) for a sigmoid s = sigma(u) (named or inline); c - c t^2 = c sech^2 u for t = tanh u;
        s - y for a named sigmoid output s (binary cross-entropy's fused delta) is s (1 - y) - sigma(-u) y."""
        args = list(node.args)
        delta = self._fused_delta(args, lambda t: t.as_coeff_Mul(), lambda t: isinstance(t, Symbol))
        if delta is not None and self._named(delta[1], "sigmoid") is not None:
            k, s, y, rest = delta
            stable = sympy.Add(s * (1 - y), -self._form("complement", s) * y, evaluate=False)
            stable = stable if k == 1 else sympy.Mul(k, stable, evaluate=False)
            return sympy.Add(*rest, stable, evaluate=False) if rest else stable
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
        """1 - S = sigma(-U) for a named sigmoid output S = sigma(U) (and c 1 - c S = c sigma(-U)); S - Y for a
        matrix Y (binary cross-entropy's fused delta) is S (1 - Y) - sigma(-U) Y, the same for any Y, without
        subtracting S from 1 where it saturates towards Y = 1; for a softmax output S (softmax cross-entropy's
        fused delta) the same, with 1 - S as the sum of each row's other entries."""
        args = list(node.args)
        delta = self._fused_delta(args, lambda t: (t.args[0], t.args[1]) if isinstance(t, MatMul) and len(t.args) == 2
                                  and t.args[0].is_Number else (sympy.S.One, t),
                                  lambda t: isinstance(t, MatrixSymbol))
        if delta is not None:
            k, s, y, rest = delta
            ones = OneMatrix(*s.shape)
            kind = "complement" if self._named(s, "sigmoid") is not None else "softmax complement"
            stable = _matrix_sum(HadamardProduct(s, _matrix_sum(ones, MatMul(-1, y))),
                                 MatMul(-1, HadamardProduct(self._form(kind, s), y)))
            stable = stable if k == 1 else MatMul(k, stable)
            return _matrix_sum(*rest, stable) if rest else stable
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
        key = tuple(map(id, exprs))  # by identity, the expressions kept alive beside (as in `rewrite`)
        if key not in self._steps:
            if len(self._steps) > 256:
                self._steps.clear()
            self._steps[key] = (tuple(exprs), self._needed_steps(exprs))
        return self._steps[key][1]

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


def _matrix_sum(*terms):
    """A MatAdd of `terms` as they are (of one shape), not put in canonical order (as `_rebuilt`)."""
    return sympy.Basic.__new__(MatAdd, *terms)


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
