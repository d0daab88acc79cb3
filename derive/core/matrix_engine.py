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

from sympy import Basic, Derivative, Expr, Mul, S, Symbol, preorder_traversal, sstr
from sympy.matrices.expressions import (
    HadamardPower, HadamardProduct, Identity, MatAdd, MatMul, MatrixExpr, MatrixSymbol, OneMatrix, Transpose,
    ZeroMatrix,
)

from . import matrix_ops as mo
from . import steps as st
from .errors import MissingRuleError
from .matrix_rules import matrix_rule_for
from .network import Network

SHORT = 8  # a gradient whose matrix form has at most this many operations is substituted where it is used


def pullback(expr, var, G, at_site=None) -> tuple[Expr, tuple[str, ...]]:
    """The gradient with respect to `var` of a loss whose gradient with respect to `expr` is G, and the rules used.

    `at_site(argument, gradient)` is called where the gradient reaches the argument of an activation (a
    pre-activation that is not a plain symbol) and may return a name for it (a delta) to carry on with.
    """
    used: dict[str, None] = {}

    def back(node, cotangent):
        if node == var:
            return cotangent
        rule = matrix_rule_for(node)
        operands = rule.split(node)
        used[rule.name] = None
        parts = []
        if not any(operand.has(var) for operand in operands):  # a rule that lost a dependence would give 0
            raise mo.InternalError(f"the {rule.name} takes {sstr(node)} apart without {sstr(var)}, which it uses")
        for i, operand in enumerate(operands):
            if not operand.has(var):
                continue
            gradient = rule.vjp(cotangent, node, operands, i)
            if at_site is not None and isinstance(node, (mo.Entrywise, mo.Softmax)) and _affine(operand):
                gradient = at_site(operand, gradient, rule.name)
            parts.append(back(operand, gradient))
        return mo.sum_of(*parts)

    return tidy(back(expr, G)), tuple(used)


def _affine(expr) -> bool:
    """A pre-activation worth naming: sums and products of symbols (X W + 1 b^T), not a plain symbol."""
    if isinstance(expr, MatrixSymbol):
        return False
    has_product = any(isinstance(node, MatMul) and sum(isinstance(f, MatrixSymbol) or isinstance(f, Transpose)
                                                      for f in node.args) >= 2 for node in preorder_traversal(expr))
    return has_product and all(isinstance(node, (MatMul, MatAdd, Transpose, MatrixSymbol, OneMatrix)) or not mo.is_matrix(node)
               for node in preorder_traversal(expr))


def tidy(expr):
    """Textbook form: common left or right factors taken out of sums ((A + A^T) x), products with the
    all-ones matrix under a Hadamard product dropped."""
    if not isinstance(expr, Basic) or expr.is_Atom or isinstance(expr, MatrixSymbol):
        return expr
    if not isinstance(expr, MatrixExpr):  # a scalar: its matrix parts, sum(1 1^T (.) A) = sum(A)
        if not expr.has(MatrixSymbol):
            return expr
        args = [tidy(a) for a in expr.args]
        return expr.func(*args) if args != list(expr.args) else expr
    args = [tidy(a) if isinstance(a, MatrixExpr) else a for a in expr.args]
    if isinstance(expr, HadamardProduct):
        return _tidy_hadamard(args)
    if isinstance(expr, MatAdd):
        return _collect(args)
    if isinstance(expr, MatMul):
        coefficient, rest = _split_scalar(mo.matmul(*args))
        if coefficient == -1 and isinstance(rest, MatAdd):  # -(y - yhat) = yhat - y
            return mo.sum_of(*(mo.negate(t) for t in rest.args))
        return mo.matmul(*args)
    return expr.func(*args) if args != list(expr.args) else expr


def _split_scalar(term):
    """(c, M) with term = c M, c a scalar."""
    if isinstance(term, MatMul) and not mo.is_matrix(term.args[0]):
        scalars = [a for a in term.args if not mo.is_matrix(a)]
        return Mul(*scalars), mo.matmul(*(a for a in term.args if mo.is_matrix(a)))
    return S.One, term


def _tidy_hadamard(factors):
    """Scalars pulled out, all-ones factors dropped, A (.) A^(o-1) cancelled: (c 1) (.) A = c A."""
    coefficient, matrices = S.One, []
    for factor in factors:
        c, m = _split_scalar(factor)
        coefficient *= c
        if isinstance(m, HadamardProduct):
            matrices += list(m.args)
        elif not isinstance(m, OneMatrix) and not mo.is_unit_1x1(m):
            matrices.append(m)
    for m in list(matrices):
        if isinstance(m, HadamardPower) and m.exp == -1 and m in matrices and m.base in matrices:
            matrices.remove(m)
            matrices.remove(m.base)
    for i, m in enumerate(matrices):  # A (.) (B (/) A + c 1) = B + c A: distribute where something cancels
        others = matrices[:i] + matrices[i + 1:]
        if isinstance(m, MatAdd) and any(HadamardPower(o, -1) in _hadamard_factors(t) for o in others for t in m.args):
            terms = [_tidy_hadamard([*others, t]) for t in m.args]
            return mo.matmul(coefficient, _collect(terms)) if coefficient != 1 else _collect(terms)
    if not matrices:
        shape = factors[0].shape
        return mo.matmul(coefficient, OneMatrix(*shape))
    product = matrices[0] if len(matrices) == 1 else HadamardProduct(*matrices)
    return product if coefficient == 1 else mo.matmul(coefficient, product)


def _hadamard_factors(term) -> list:
    _, m = _split_scalar(term)
    return list(m.args) if isinstance(m, HadamardProduct) else [m]


def _collect(terms):
    """Take a factor common to every term out of a sum, on the right (A x + A^T x) or the left, and a
    scalar common to every term (c A - c B = c (A - B)). What is left of a term that was only the common
    factor (2 x in 2 x + A x) is c I, never the scalar c: (2 I + A) x."""
    coefficients = [_split_scalar(t)[0] for t in terms]
    magnitude = abs(coefficients[0]) if len(terms) > 1 and all(map(_plain_number, coefficients)) else None
    if magnitude not in (None, 1) and all(abs(c) == magnitude for c in coefficients):
        return mo.matmul(magnitude, _collect([mo.matmul(c / magnitude, _split_scalar(t)[1])
                                              for c, t in zip(coefficients, terms)]))
    common = _common_scalar(coefficients) if len(terms) > 1 else S.One
    if common != 1:
        return mo.matmul(common, _collect([mo.matmul(c / common, _split_scalar(t)[1]) for c, t in zip(coefficients, terms)]))
    for side in (-1, 0):  # the right first: (A + A^T) x
        common = _common_factor(terms, side)
        if common is not None:
            rest = [_without(t, common, side) for t in terms]
            return mo.matmul(common, _collect(rest)) if side == 0 else mo.matmul(_collect(rest), common)
    for side in (-1, 0):  # some of the terms: 3 a + (2 I + A + A^T) x
        for term in terms:
            end = _matrix_factors(term)[1][side]
            group = [t for t in terms if _matrix_factors(t)[1][side] == end]
            if 1 < len(group) < len(terms) and _common_factor(group, side) is not None:
                return mo.sum_of(*(t for t in terms if t not in group), _collect(group))
    return mo.sum_of(*terms)


def _plain_number(c) -> bool:
    """A number whose sign abs() can take: no matrix inside. abs() of anything else runs SymPy's sign
    rewriting over every matrix node in it (1 / ||x - a|| or tr(x^T (x - a)) break under it)."""
    return c.is_number and not any(isinstance(node, MatrixExpr) for node in preorder_traversal(c))


def _common_scalar(coefficients):
    """The symbolic factor every coefficient has, to its smallest power (1 / (x^T x) in
    (1 / (x^T x)) A - (2 x^T A x / (x^T x)^2) I), or 1. Numbers and signs stay inside: c A - c B = c (A - B)."""
    powers = [{b: e for b, e in c.as_powers_dict().items() if not b.is_number and e.is_number} for c in coefficients]
    common = S.One
    for base, exponent in powers[0].items():
        exponents = [p.get(base) for p in powers]
        if all(e is not None and (e > 0) == (exponent > 0) for e in exponents):
            common *= base ** min(exponents, key=abs)
    return common


def _matrix_factors(term) -> tuple:
    """(c, [M_1, ..., M_k]) with term = c M_1 ... M_k."""
    coefficient, rest = _split_scalar(term)
    return coefficient, list(rest.args) if isinstance(rest, MatMul) else [rest]


def _common_factor(terms, side: int):
    """The matrix that every term ends with (side -1) or starts with (side 0), if taking it out leaves
    something in at least one term; None otherwise. The identity is never taken out (it is no factor)."""
    if len(terms) < 2:
        return None
    factors = [_matrix_factors(t)[1] for t in terms]
    ends = {f[side] for f in factors}
    if len(ends) != 1 or not any(len(f) > 1 for f in factors):
        return None
    common = ends.pop()
    return None if isinstance(common, (Identity, ZeroMatrix)) else common


def _without(term, common, side: int):
    """`term` with the factor `common` taken off its end (side -1) or its start (side 0): c M_1 ... M_{k-1},
    and c I when nothing else is left, the identity of the size the factor leaves (so c x gives c I)."""
    coefficient, factors = _matrix_factors(term)
    rest = factors[:-1] if side == -1 else factors[1:]
    size = common.shape[0] if side == -1 else common.shape[1]
    return mo.matmul(coefficient, *rest) if rest else mo.matmul(coefficient, Identity(size))


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
            at_site = (lambda site, g, rule, user=user: self._site_delta(user, site, g, rule, new_deltas))
            try:
                contribution, used = pullback(self.network.definitions[user], wrt, self._placeholder(user), at_site)
            except MissingRuleError as error:
                raise error.located(self.network.where[user]) from None
            chains.append(contribution)
            rules.update(dict.fromkeys(used))
            uses += [k for k in (self.key[user], ("definition", user)) if k is not None]
        chain = self._named(tidy(mo.sum_of(*chains)))
        shown = chain.xreplace({self._placeholder(u): self._in_place_of(u, self.shown(u))
                                for u in through if u != self.loss})
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
                            simplified, self._assumed(shown))
            self.deltas[step.key] = step
            self.delta_value[symbol] = result
            self.shown_as[wrt] = symbol
        else:
            step = st.Pullback(self.loss, wrt, through, chain, shown, result, tuple(rules), tuple(dict.fromkeys(uses)),
                               simplified, self._assumed(shown))
            self.shown_as[wrt] = self._short(step)
        self.steps.setdefault(step.key, step)
        self.key[wrt] = step.key

    def simplify(self, expr):
        """Textbook form, using what the network knows: rows of a one-hot (or probability) matrix Y sum to 1,
        so Y 1 = 1 (this turns the softmax cross-entropy delta into (Yhat - Y) / n)."""
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

    def _assumed(self, shown) -> tuple:
        """The one-hot symbols whose row sums `simplify` used on `shown`."""
        return tuple(sorted((y for y in self.network.one_hot if shown.has(y) and self.simplify(shown) != tidy(shown)),
                            key=lambda y: y.name))

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

    def _site_delta(self, user, site, gradient, rule, new_deltas):
        """Name the gradient at an unnamed pre-activation (X W inside sigma(X W)) as a delta, once."""
        key = ("delta", self.loss, user, site)
        occurrences = sum(1 for node in preorder_traversal(self.network.definitions[user]) if node == site)
        if occurrences > 1:  # each occurrence carries its own gradient: no single delta stands for them
            return gradient
        gradient = self._named(tidy(gradient))
        if key not in self.steps:
            shown = gradient.xreplace({self._placeholder(user): self._in_place_of(user, self.shown(user))}) \
                if user != self.loss else gradient
            value = gradient.xreplace({self._placeholder(user): self._in_place_of(user, self.value[user])}) \
                if user != self.loss else gradient
            value = value.xreplace(self.delta_value)
            uses = tuple(k for k in (self.key[user], ("definition", user)) if k)
            symbol = self._delta_symbol(site, value)
            simplified = self.simplify(shown)
            simplified = None if simplified == shown else simplified
            step = st.Delta(symbol, self.loss, site, user, value, shown, uses, gradient, (rule,), simplified,
                            self._assumed(shown))
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


def _matrix_kind(symbol, gradient) -> bool:
    """Whether dL/d symbol is a matrix: for a matrix symbol, unless it is 1x1 and its gradient a scalar."""
    return mo.is_matrix(symbol) and not (mo.is_1x1(symbol) and gradient is not None and not mo.is_matrix(gradient))


def final_form(step):
    """The last line of a Pullback or Delta step: simplified when that differs, else substituted."""
    return step.simplified if step.simplified is not None else step.shown


_LAYER = re.compile(r"^(.*)\^\{\((\d+)\)\}$")


def _layer_of(symbol) -> tuple[str, int] | None:
    match = _LAYER.match(getattr(symbol, "name", "") or "")
    return (match.group(1), int(match.group(2))) if match else None


def _at_layer(expr, k: int, index: Symbol):
    """`expr` with every layer-indexed name X^{(j)} written X^{(l + j - k)}: the layer-k form made general."""
    swap = {}
    for node in preorder_traversal(expr):
        layer = _layer_of(node) if isinstance(node, MatrixSymbol) else None
        if layer:
            shift = layer[1] - k
            label = sympy_str(index + shift)
            swap[node] = MatrixSymbol(f"{layer[0]}^{{({label})}}", *node.shape)
    return expr.xreplace(swap)


def sympy_str(expr) -> str:
    """The expression as SymPy writes it, without spaces: names only (a layer's shapes are not in it)."""
    return sstr(expr).replace(" ", "")


def layer_recursions(builder: "MatrixGradientBuilder") -> list:
    """Recursion steps: the per-layer deltas, and the per-layer weight gradients, that share one form.

    Each family (Delta^{(k)} for pre-activations Z^{(k)}; dL/dP^{(k)} for parameters P^{(k)}) is written at a
    general layer l; the layers that agree (at least two) give one Recursion step, checked on each of them."""
    index = Symbol("l", integer=True, positive=True)
    families: dict = {}
    for step in list(builder.steps.values()):
        if isinstance(step, st.Delta) and step.chain is not None and step.site == step.inside and _layer_of(step.site):
            stem, k = _layer_of(step.symbol)
            families.setdefault(("delta", stem), []).append((k, step, step.symbol))
        elif isinstance(step, st.Pullback) and _layer_of(step.wrt) and step.wrt in builder.network.inputs.values():
            stem, k = _layer_of(step.wrt)
            families.setdefault(("gradient", stem), []).append((k, step, mo.GradientOf(builder.loss, step.wrt)))
    found = []
    for (kind, stem), members in families.items():
        patterns: dict = {}
        for k, step, lhs in sorted(members, key=lambda m: m[0]):
            general = (_at_layer(lhs, k, index), _at_layer(final_form(step), k, index))
            key = tuple(sympy_str(e) for e in general)  # names only: the shapes differ from layer to layer
            patterns.setdefault(key, []).append((k, step, general))
        agreeing = max(patterns.values(), key=len)
        if len(agreeing) >= 2 and len(patterns) <= 2:
            lhs, result = agreeing[0][2]
            layers = tuple(k for k, _, _ in agreeing)
            step = st.Recursion(builder.loss, lhs, index, result, layers, tuple(s.key for _, s, _ in agreeing))
            builder.steps.setdefault(step.key, step)
            found.append(step)
    return found


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
