"""The chain-rule engine for networks with shapes: reverse mode over definitions, in matrix form.

`pullback` takes one right-hand side apart with the matrix rule registry: given the gradient G of the
loss with respect to a definition's output, it returns the gradient with respect to one of the symbols
the definition uses, in denominator layout (the shape of that symbol), e.g. X^T G for Z = X W.
`MatrixGradientBuilder` walks the definitions backwards from the loss, like the scalar engine: each
gradient is stated once (a `Pullback` step), gradients accumulate where a symbol feeds several
definitions, and the gradient at each pre-activation is named once as a delta (`Delta` step), so that a
depth-L network gives a derivation of size linear in L. Results are tidied into textbook form
((A + A^T) x rather than A x + A^T x). This module never calls `sympy.diff` or `simplify`.
"""

from __future__ import annotations

import re

from sympy import Derivative, Expr, S, Symbol, preorder_traversal, sstr
from sympy.matrices.expressions import MatAdd, MatMul, MatrixSymbol, OneMatrix, Transpose, ZeroMatrix

from . import matrix_ops as mo
from . import steps as st
from .errors import MissingRuleError
from .matrix_recursions import final_form, layer_recursions
from .matrix_rules import matrix_rule_for
from .matrix_tidy import expanded, tidy
from .network import Network

SHORT = 8  # a gradient whose matrix form has at most this many operations is substituted where it is used


def pullback(expr, var, G, at_site=None) -> tuple[Expr, tuple[str, ...]]:
    """The gradient with respect to `var` of a loss whose gradient with respect to `expr` is G, and the rules used.

    `at_site(argument, gradient, rules)` is called where the gradient reaches the argument of an activation (a
    pre-activation that is not a plain symbol), with the rules used from `expr` down to it, and may return a
    name for it (a delta) to carry on with.
    """
    def back(node, cotangent, above=()) -> tuple:
        """(the gradient, the rules used on the way down to var, whether every path went through a named delta):
        a rule used above a delta is the delta's step's, not this line's."""
        if node == var:
            return cotangent, {}, False
        rule = matrix_rule_for(node)
        operands = rule.split(node)
        path = tuple(dict.fromkeys((*above, rule.name)))  # the rules from the definition down to this node
        parts, used, all_named = [], {}, True
        if not any(operand.has(var) for operand in operands):  # a rule that lost a dependence would give 0
            raise mo.InternalError(f"the {rule.name} takes {sstr(node)} apart without {sstr(var)}, which it uses")
        for i, operand in enumerate(operands):
            if not operand.has(var):
                continue
            gradient = rule.vjp(cotangent, node, operands, i)
            named = False
            if at_site is not None and isinstance(node, (mo.Entrywise, mo.Softmax)) and _affine(operand):
                site_gradient = at_site(operand, gradient, path)
                named = site_gradient is not gradient
                gradient = site_gradient
            part, below, through_delta = back(operand, gradient, () if named else path)
            parts.append(part)
            if not (named or through_delta):
                used[rule.name] = None
                all_named = False
            used.update(below)
        return mo.sum_of(*parts), used, all_named

    gradient, used, _ = back(expr, G)
    return tidy(gradient), tuple(used)


def _affine(expr) -> bool:
    """A pre-activation worth naming: sums and products of symbols (X W + 1 b^T), not a plain symbol."""
    if isinstance(expr, MatrixSymbol):
        return False
    has_product = any(isinstance(node, MatMul) and sum(isinstance(f, MatrixSymbol) or isinstance(f, Transpose)
                                                      for f in node.args) >= 2 for node in preorder_traversal(expr))
    return has_product and all(isinstance(node, (MatMul, MatAdd, Transpose, MatrixSymbol, OneMatrix)) or not mo.is_matrix(node)
               for node in preorder_traversal(expr))


def pre_activations(network: Network) -> set:
    """Named definitions used only as the argument of an activation (Z in A = sigma(Z)): their gradients are deltas."""
    found = set()
    for name in network.definitions:
        if not mo.is_matrix(name):
            continue
        users = [d for d in network.definitions if name in network.uses(d)]
        if users and _affine(network.definitions[name]) and all(_only_activated(network.definitions[u], name) for u in users):
            found.add(name)
    return found


def _only_activated(expr, name) -> bool:
    if expr == name:
        return False
    if isinstance(expr, (mo.Entrywise, mo.Softmax)) and expr.arg == name:
        return True
    return all(_only_activated(a, name) for a in expr.args if a.has(name))


class MatrixGradientBuilder:
    """Derives the gradients of one scalar loss in a network with matrices, keeping every step once."""

    def __init__(self, network: Network, loss):
        self.network = network
        self.loss = loss
        self.steps: dict[st.Key, st.Step] = {}
        self.value: dict = {loss: S.One}  # d loss / d v, in the named intermediates only
        self.key: dict = {loss: None}
        self.shown_as: dict = {loss: S.One}  # how d loss / d v appears where it is used
        self.deltas: dict[st.Key, st.Delta] = {}
        self.delta_value: dict = {}  # delta symbol -> its value in the named intermediates
        self.sites = pre_activations(network)
        for name, rhs in network.definitions.items():
            self.steps.setdefault(("definition", name), st.Definition(name, rhs))

    def gradient(self, wrt) -> tuple[Expr, st.Key | None]:
        if wrt not in self.value:
            self._derive(wrt)
        return self.value[wrt], self.key[wrt]

    def shown(self, symbol) -> Expr:
        self.gradient(symbol)
        return self.shown_as[symbol]

    def _placeholder(self, symbol):
        """dL/dv as a factor of the chains through v (once dL/dv is known), of the kind of dL/dv: a matrix, or
        a scalar. A 1x1 v (c = u^T y) is a scalar in all but name, and its gradient may be either (-1 / (||u||
        ||y||), or Y (.) Yhat^(o-1) for a 1x1 Yhat); the placeholder must be able to hold its value wherever
        it stands (a 1x1 matrix under a transpose cannot hold a scalar)."""
        if symbol == self.loss:
            return S.One
        if _matrix_kind(symbol, self.value.get(symbol)):
            return mo.GradientOf(self.loss, symbol)
        return mo.ScalarGradientOf(self.loss, symbol)

    def _in_place_of(self, user, expr):
        """`expr` (dL/d user, in some form) of the kind of user's placeholder."""
        if isinstance(self._placeholder(user), mo.GradientOf):
            if not mo.is_matrix(expr):
                raise mo.InternalError(f"the scalar {sstr(expr)} stands for the gradient of the matrix {sstr(user)}")
            return expr
        return mo.as_scalar(expr)

    def _derive(self, wrt) -> None:
        through = tuple(self.network.consumers(wrt, toward=self.loss))
        if not through:
            self.value[wrt] = ZeroMatrix(*wrt.shape) if mo.is_matrix(wrt) else S.Zero
            self.key[wrt] = None
            self.shown_as[wrt] = self.value[wrt]
            return
        chains, rules, uses, new_deltas = [], {}, [], []
        for user in through:
            self.gradient(user)
            at_site = (lambda site, g, rules, user=user: self._site_delta(user, site, g, rules, new_deltas))
            try:
                contribution, used = pullback(self.network.definitions[user], wrt, self._placeholder(user), at_site)
            except MissingRuleError as error:
                raise error.located(self.network.where[user]) from None
            chains.append(contribution)
            rules.update(dict.fromkeys(used))
            uses += [k for k in (self.key[user], ("definition", user)) if k is not None]
        chain = self._named(tidy(mo.sum_of(*chains)))
        shown = tidy(chain.xreplace({self._placeholder(u): self._in_place_of(u, self.shown(u))  # -(-c A) is c A
                                     for u in through if u != self.loss}))
        simplified = self.simplify(shown)
        simplified = None if simplified == shown else simplified
        result = (simplified if simplified is not None else shown).xreplace(
            {**{self._placeholder(u): self._in_place_of(u, self.value[u]) for u in through if u != self.loss},
             **self.delta_value})
        uses += [self.deltas[k].key for k in self.deltas if self.deltas[k].symbol in new_deltas]
        self.value[wrt] = result  # first: the placeholder for wrt (in _short) takes the kind of its value
        if wrt in self.sites:
            symbol = self._delta_symbol(wrt, result)
            step = st.Delta(symbol, self.loss, wrt, wrt, result, shown, tuple(dict.fromkeys(uses)), chain, tuple(rules),
                            simplified, self._assumed(shown), self._identities(shown))
            self.deltas[step.key] = step
            self.delta_value[symbol] = result
            self.shown_as[wrt] = symbol
        else:
            step = st.Pullback(self.loss, wrt, through, chain, shown, result, tuple(rules), tuple(dict.fromkeys(uses)),
                               simplified, self._assumed(shown), self._identities(shown))
            self.shown_as[wrt] = self._short(step)
        self.steps.setdefault(step.key, step)
        self.key[wrt] = step.key

    def simplify(self, expr):
        """Textbook form, using what the network knows: rows of a one-hot (or probability) matrix Y sum to 1,
        so Y 1 = 1 (this turns the softmax cross-entropy delta into (Yhat - Y) / n); and an activation's
        derivative written in its output where that cancels (sigma'(Z) = Yhat (.) (1 - Yhat) turns the binary
        cross-entropy delta of a sigmoid output into (Yhat - Y) / (n k))."""
        return self._fused(self._rows_summed(expr))[0]

    def _rows_summed(self, expr):
        rows_sum_to_one = self.network.one_hot
        if not rows_sum_to_one:
            return tidy(expr)

        def fold(node):
            if isinstance(node, MatMul):
                factors = list(node.args)
                for i in range(len(factors) - 1):
                    if factors[i] in rows_sum_to_one and isinstance(factors[i + 1], OneMatrix):
                        factors[i:i + 2] = [OneMatrix(factors[i].shape[0], factors[i + 1].shape[1])]
                        return mo.matmul(*factors)
            return node

        previous = None
        while previous != expr:
            previous, expr = expr, tidy(expr.replace(lambda n: isinstance(n, MatMul), fold))
        return expr

    def _fused(self, expr) -> tuple:
        """`expr` with f'(Z) written in f's output A = f(Z) (sigma'(Z) = A (.) (1 - A), tanh'(Z) = 1 - A (.) A)
        wherever that makes it shorter once multiplied out, and the identities (f'(Z), its form in A) used."""
        used = []
        for node in sorted({n for n in preorder_traversal(expr) if _derivative_in_output(n) is not None}, key=sstr):
            output = self._named(mo.entrywise_class(node.name)(node.arg))
            if not isinstance(output, MatrixSymbol) or output == node.arg:
                continue  # f(Z) has no name of its own to write f'(Z) in
            in_output = _derivative_in_output(node)(output)
            try:
                candidate = expanded(tidy(expr.xreplace({node: in_output})))
            except (mo.InternalError, mo.ShapeMismatch):  # a form the multiplying out cannot take: keep f'(Z)
                continue
            if candidate is not None and _size(candidate) < _size(expr):
                expr = candidate
                used.append((node, in_output))
        return expr, tuple(used)

    def _assumed(self, shown) -> tuple:
        """The one-hot symbols whose row sums `simplify` used on `shown`."""
        summed = self._rows_summed(shown) != tidy(shown)
        return tuple(sorted((y for y in self.network.one_hot if summed and shown.has(y)), key=lambda y: y.name))

    def _identities(self, shown) -> tuple:
        """The identities f'(Z) = (f'(Z) in f(Z)) that `simplify` used on `shown`."""
        return self._fused(self._rows_summed(shown))[1]

    def _named(self, expr):
        """`expr` in the network's names: a definition's right-hand side becomes its symbol (softmax(Z) -> Yhat)."""
        names = {rhs: name for name, rhs in self.network.definitions.items()
                 if not rhs.is_Atom and not isinstance(rhs, MatrixSymbol) and name != self.loss}
        return expr.xreplace(names)

    def _short(self, step: st.Pullback):
        """What stands for this gradient where it is used: its value when short, else dL/dv."""
        last = final_form(step)
        if step.through == (self.loss,) or (_size(last) <= SHORT and not last.has(mo.GradientOf, Derivative)):
            return last
        return self._placeholder(step.wrt)

    def _delta_symbol(self, like, value):
        """Delta^{(l)} for the pre-activation Z^{(l)} of layer l; otherwise numbered in order of derivation. A
        matrix symbol for a matrix value, else a scalar one (the gradient at a 1x1 site may be a scalar)."""
        index = re.search(r"\^\{\((\w+)\)\}$", getattr(like, "name", "") or "")
        taken = {d.symbol.name for d in self.deltas.values()}
        name = f"Delta^{{({index.group(1)})}}" if index else ""
        if not name or name in taken:
            name = next(f"Delta^{{({k})}}" for k in range(len(taken) + 1, 2 * len(taken) + 3)
                        if f"Delta^{{({k})}}" not in taken)
        return MatrixSymbol(name, *like.shape) if _matrix_kind(like, value) else Symbol(name, real=True)

    def _site_delta(self, user, site, gradient, rules, new_deltas):
        """Name the gradient at an unnamed pre-activation (X W inside sigma(X W)) as a delta, once."""
        key = ("delta", self.loss, user, site)
        occurrences = sum(1 for node in preorder_traversal(self.network.definitions[user]) if node == site)
        if occurrences > 1:  # each occurrence carries its own gradient: no single delta stands for them
            return gradient
        gradient = self._named(tidy(gradient))
        if key not in self.steps:
            shown = tidy(gradient.xreplace({self._placeholder(user): self._in_place_of(user, self.shown(user))})) \
                if user != self.loss else gradient
            simplified = self.simplify(shown)
            simplified = None if simplified == shown else simplified
            # the value is the last line's (the fused (Yhat - Y) / n has no quotient to overflow), fully substituted
            last = simplified if simplified is not None else shown
            value = last.xreplace({self._placeholder(user): self._in_place_of(user, self.value[user])}) \
                if user != self.loss else last
            value = value.xreplace(self.delta_value)
            uses = tuple(k for k in (self.key[user], ("definition", user)) if k)
            symbol = self._delta_symbol(site, value)
            step = st.Delta(symbol, self.loss, site, user, value, shown, uses, gradient, rules, simplified,
                            self._assumed(shown), self._identities(shown))
            self.deltas[key] = step
            self.delta_value[symbol] = value
            self.steps[key] = step
        step = self.steps[key]
        new_deltas.append(step.symbol)
        return step.symbol

    def compact_form(self, wrt):
        """The gradient as printed at the end of its derivation: in the deltas (X^T Delta)."""
        value, key = self.gradient(wrt)
        step = self.steps.get(key) if key else None
        return final_form(step) if step is not None else value


_IN_OUTPUT = {  # f'(Z) in f's output A = f(Z), for the activations where that form can cancel a loss's quotients
    "sigmoid": lambda A: mo.hadamard(A, mo.subtract(1, A)),
    "tanh": lambda A: mo.subtract(1, mo.hadamard(A, A)),
}


def _derivative_in_output(node):
    """For f'(Z) of an activation listed in _IN_OUTPUT: A -> f'(Z) written in A = f(Z); else None."""
    if isinstance(node, mo.Entrywise) and node.prime:
        return _IN_OUTPUT.get(node.name)
    return None


def _matrix_kind(symbol, gradient) -> bool:
    """Whether dL/d symbol is a matrix: for a matrix symbol, unless it is 1x1 and its gradient a scalar."""
    return mo.is_matrix(symbol) and not (mo.is_1x1(symbol) and gradient is not None and not mo.is_matrix(gradient))


def _size(expr) -> int:
    return sum(1 for _ in _walk(expr))


def _walk(expr):
    yield expr
    for arg in expr.args:
        if not arg.is_Atom:
            yield from _walk(arg)


def derive_matrix(network: Network, loss, wrts: list) -> MatrixGradientBuilder:
    """Run the matrix engine for every variable in `wrts`."""
    network.check_loss(loss)
    builder = MatrixGradientBuilder(network, loss)
    for wrt in wrts:
        network.check_wrt(wrt, loss)
        builder.gradient(wrt)
    builder.recursions = layer_recursions(builder)
    return builder
