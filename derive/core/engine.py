"""The chain-rule engine: symbolic reverse mode over a network's definitions, producing steps.

Two levels. `differentiate` takes one right-hand side apart with the rule registry (the local
derivative of a definition). `GradientBuilder` walks the definitions backwards from the loss: the
gradient of a symbol is the chain rule through the one definition that uses it, or the sum over the
several that do; each gradient, local derivative and delta is derived once and referenced after.
This module never imports NumPy or Jinja2 and never calls `sympy.diff` or `simplify` (only `cancel`, on a
delta's rational form).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sympy import Add, Derivative, Dummy, Expr, Function, Mul, PolynomialError, Pow, S, Symbol, cancel, expand, factor, preorder_traversal

from . import steps as st
from .network import Network
from .errors import MissingRuleError
from .rules import rule_for


def differentiate(expr: Expr, var: Symbol) -> tuple[Expr, tuple[str, ...]]:
    """d expr / d var by the registry's rules, and the names of the rules used, in order of use."""
    used: dict[str, None] = {}
    memo: dict[Expr, Expr] = {}

    def d(node: Expr) -> Expr:
        if node == var:
            return S.One
        if not node.has(var):
            return S.Zero
        if node not in memo:
            rule = rule_for(node)
            operands = rule.split(node)
            partials = rule.partials(node, operands)
            used[rule.name] = None
            memo[node] = Add(*(p * d(o) for p, o in zip(partials, operands) if o.has(var)))
        return memo[node]

    return d(expr), tuple(used)


def name_intermediates(expr: Expr, network: Network) -> Expr:
    """Write `expr` in the network's names: every definition's right-hand side becomes its symbol."""
    names = {rhs: name for name, rhs in network.definitions.items() if not rhs.is_Atom}
    return expr.xreplace(names)


def linear_site(expr: Expr, var: Symbol) -> Expr | None:
    """The largest subexpression of `expr` that is linear in its one occurrence of `var`.

    Climbs from `var` through the registry's linear operations (sums, and products where var's branch
    is a factor to the first power) and stops below the first other operation: for sigma(w1 x1 + w2 x2) and w1 that is w1 x1 + w2 x2.
    None when var occurs more than once or enters a non-linear operation directly.
    """
    path = _path_to(expr, var)
    if path is None or sum(1 for node in preorder_traversal(expr) if node == var) != 1:
        return None
    site = var
    for parent in reversed(path[:-1]):
        try:
            rule = rule_for(parent)
        except MissingRuleError:
            break
        if not (rule.linear and site in rule.split(parent)):
            break
        site = parent
    return None if site == var else site


def _path_to(expr: Expr, var: Symbol) -> list[Expr] | None:
    if expr == var:
        return [expr]
    for arg in expr.args:
        rest = _path_to(arg, var)
        if rest is not None:
            return [expr, *rest]
    return None


def cancelled(expr: Expr) -> Expr | None:
    """`expr` with common factors cancelled, when that is shorter: the binary cross-entropy delta of a sigmoid
    unit, (-y / yhat + (1 - y) / (1 - yhat)) yhat (1 - yhat), is yhat - y. None when nothing is gained (or the
    expression is not a small rational function of its symbols: cancelling is polynomial arithmetic)."""
    if not expr.free_symbols or expr.atoms(Function, Derivative):  # only rational functions of names: cancelling
        return None  # through sigma(w x) or a deep chain's nested terms costs exponential time (a 16-sigmoid chain)
    if not any(p.exp.is_negative for p in expr.atoms(Pow)):
        return None  # no denominator, nothing to cancel (and factoring a deep chain's long product is slow)
    size = expr.count_ops()
    if size > 40:
        return None
    try:
        reduced = cancel(expr)
    except PolynomialError:  # not a rational function of its parts (a relational inside a kink): leave it
        return None
    best = min((_sign_inside(factor(reduced)), reduced), key=lambda e: e.count_ops())  # x (yhat - y), not yhat x - x y
    return best if best.count_ops() < size else None


def _sign_inside(expr: Expr) -> Expr:
    """-(y - yhat) x as (yhat - y) x: a product's minus sign taken into its one sum."""
    if isinstance(expr, Mul) and expr.could_extract_minus_sign():
        sums = [f for f in expr.args if isinstance(f, Add)]
        if len(sums) == 1:
            rest = [f for f in (-expr).args if f is not sums[0]] if isinstance(-expr, Mul) else []
            if Mul(*rest, sums[0]) == -expr:
                return Mul(*rest, Add(*(-t for t in sums[0].args)))
    return expr


class GradientBuilder:
    """Derives gradients of one loss, keeping every step once, in the order a reader needs them."""

    def __init__(self, network: Network, loss: Symbol):
        self.network = network
        self.loss = loss
        self.steps: dict[st.Key, st.Step] = {}
        self.gradient_of: dict[Symbol, tuple[Expr, st.Key | None]] = {loss: (S.One, None)}
        self.deltas: dict[st.Key, st.Delta] = {}
        for name, rhs in network.definitions.items():
            self._add(st.Definition(name, rhs))

    def _add(self, step: st.Step) -> st.Key:
        self.steps.setdefault(step.key, step)
        return step.key

    def local(self, of: Symbol, wrt: Symbol) -> st.LocalDerivative:
        key = ("local", of, wrt)
        if key not in self.steps:
            try:
                by_rules, rules = differentiate(self.network.definitions[of], wrt)
            except MissingRuleError as error:
                raise error.located(self.network.where[of]) from None
            step = st.LocalDerivative(
                of, wrt, by_rules, name_intermediates(by_rules, self.network), rules,
                (("definition", of),), explicit=self.network.depends_indirectly(of, wrt),
            )
            self._add(step)
        return self.steps[key]

    def gradient(self, wrt: Symbol) -> tuple[Expr, st.Key | None]:
        """d loss / d wrt and the key of the step that states it (None for the loss itself)."""
        if wrt not in self.gradient_of:
            self.gradient_of[wrt] = self._derive_gradient(wrt)
        return self.gradient_of[wrt]

    def _derive_gradient(self, wrt: Symbol) -> tuple[Expr, st.Key | None]:
        through = tuple(self.network.consumers(wrt, toward=self.loss))
        if not through:
            return S.Zero, None
        if through == (self.loss,):
            step = self.local(self.loss, wrt)
            return step.result, step.key
        if len(through) == 1:
            chain_key = self._add(st.ChainRule(self.loss, wrt, through))
        else:
            explicit = tuple(self.network.depends_indirectly(user, wrt) for user in through)
            chain_key = self._add(st.Accumulate(self.loss, wrt, through, explicit))
        terms, values, used = [], [], [chain_key]
        for user in through:
            outer, outer_key = self.gradient(user)
            inner = self.local(user, wrt)
            values.append(outer * inner.result)
            terms.append((self.shown(user), inner.result) if outer_key else (inner.result,))
            used += [k for k in (outer_key, inner.key) if k is not None]
        result = Add(*values)
        shown = Add(*(Mul(*factors) for factors in terms))
        simplified = cancelled(shown) if not shown.has(Derivative) else None  # shown is then the result
        result = simplified if simplified is not None else result
        step = st.Substitution(self.loss, wrt, result, shown, tuple(terms), tuple(used), simplified)
        return result, self._add(step)

    def shown(self, symbol: Symbol) -> Expr:
        """How d loss / d symbol appears as a factor in later steps: its value when that came straight
        from the loss's definition, else the derivative itself (stated in its own numbered equation),
        so that each step stays short however deep the network is."""
        value, key = self.gradient(symbol)
        if key is None or key[0] == "local":
            return value
        return Derivative(self.loss, symbol, evaluate=False)

    def compact(self, wrt: Symbol) -> st.Final | None:
        """The gradient as delta times d(site)/d(wrt), when wrt enters one linear pre-activation."""
        value, key = self.gradient(wrt)
        through = self.network.consumers(wrt, toward=self.loss)
        if key is None or len(through) != 1:
            return None
        inside = through[0]
        rhs = self.network.definitions[inside]
        site = linear_site(rhs, wrt)
        if site is None or site == rhs:
            return None  # no activation around the linear part: its gradient is already stated
        if ("delta", self.loss, inside, site) not in self.steps and (self.gradient(inside)[0] * self._local_at(inside, site)).is_Atom:
            return None  # the delta would only rename a name (Delta = L for L = e^{-ywx}): nothing to gain
        delta = self.delta(inside, site)
        site_derivative, _ = differentiate(site, wrt)
        result = delta.symbol * name_intermediates(site_derivative, self.network)
        fused = delta.simplified if delta.simplified is not None else delta.value
        difference = result.xreplace({delta.symbol: fused}) - value
        if difference != 0 and (difference.count_ops() > 200 or (expand(difference) != 0 and cancel(difference) != 0)):
            return None  # not provably exact (cheaply): keep the substituted form
        if delta.simplified is not None:  # evaluated as the fused delta: (yhat - y) x has no 0 / 0 where yhat is 1
            self.gradient_of[wrt] = (result.xreplace({delta.symbol: delta.simplified}), key)
            substitution = self.steps[key]
            if isinstance(substitution, st.Substitution) and substitution.simplified is not None:
                # the delta's step cancels the common factors, once: the substitution stays as substituted
                self.steps[key] = replace(substitution, simplified=None)
        return self.steps.setdefault(("final", self.loss, wrt), st.Final(self.loss, wrt, result, (delta.key, key)))

    def delta(self, inside: Symbol, site: Expr) -> st.Delta:
        """Delta = d loss / d site, the gradient at the pre-activation `site` of definition `inside`."""
        key = ("delta", self.loss, inside, site)
        if key not in self.steps:
            outer, outer_key = self.gradient(inside)
            local = self._local_at(inside, site)
            symbol = Symbol(f"Delta^{{({len(self.deltas) + 1})}}", real=True)
            uses = tuple(k for k in (outer_key, ("definition", inside)) if k)
            step = st.Delta(symbol, self.loss, site, inside, outer * local, self.shown(inside) * local, uses,
                            simplified=cancelled(outer * local))
            self.deltas[key] = step
            self._add(step)
        return self.steps[key]

    def _local_at(self, inside: Symbol, site: Expr) -> Expr:
        """d inside / d site, in the network's names: what the delta at `site` multiplies dL/d inside by."""
        stand_in = Dummy("z")
        local, _ = differentiate(self.network.definitions[inside].xreplace({site: stand_in}), stand_in)
        return name_intermediates(local.xreplace({stand_in: site}), self.network)

    def general(self, members: list[Symbol], results: dict[Symbol, Expr]) -> st.General | None:
        """One formula for dL/dw_1 ... dL/dw_n, found from w_1's and confirmed on every member."""
        first = members[0]
        stem, index = _split_index(first)
        i = Symbol("i", integer=True)
        formula = results[first].xreplace(_reindex(results[first], index, "i"))
        for member in members[1:]:
            _, j = _split_index(member)
            if formula.xreplace(_reindex(formula, "i", j)) != results[member]:
                return None
        wrt = Symbol(f"{stem}_i", real=True)
        uses = tuple(self._final_key(m) for m in members)
        step = st.General(self.loss, wrt, i, formula, tuple(members), uses)
        self._add(step)
        return step

    def _final_key(self, wrt: Symbol) -> st.Key:
        key = ("final", self.loss, wrt)
        return key if key in self.steps else self.gradient(wrt)[1]


_INDEXED = re.compile(r"^([A-Za-z]+(?:hat|bar|tilde)?)_\{?(\w+?)\}?$")


def _split_index(symbol: Symbol) -> tuple[str, str] | tuple[None, None]:
    match = _INDEXED.match(symbol.name)
    return (match.group(1), match.group(2)) if match else (None, None)


def _reindex(expr: Expr, old: str, new: str) -> dict[Symbol, Symbol]:
    """Rename every symbol stem_<old> in expr to stem_<new>."""
    mapping = {}
    for symbol in expr.free_symbols:
        stem, index = _split_index(symbol)
        if stem is not None and index == old:
            mapping[symbol] = Symbol(f"{stem}_{new}", **symbol.assumptions0)
    return mapping


def indexed_families(wrts: list[Symbol]) -> list[list[Symbol]]:
    """Groups of two or more variables sharing a stem with numeric indices: [w_1, w_2, w_3]."""
    families: dict[str, list[Symbol]] = {}
    for wrt in wrts:
        stem, index = _split_index(wrt)
        if stem is not None and index.isdigit():
            families.setdefault(stem, []).append(wrt)
    return [family for family in families.values() if len(family) > 1]


def derive(network: Network, loss: Symbol, wrts: list[Symbol]) -> GradientBuilder:
    """Run the engine for every variable in `wrts`; the builder holds the steps and the results."""
    network.check_loss(loss)
    builder = GradientBuilder(network, loss)
    for wrt in wrts:
        network.check_wrt(wrt, loss)
        builder.gradient(wrt)
        builder.compact(wrt)
    for family in indexed_families(wrts):
        finals = {w: builder.steps.get(("final", loss, w)) for w in family}
        results = {w: (f.result if f else builder.gradient(w)[0]) for w, f in finals.items()}
        builder.general(family, results)
    return builder
