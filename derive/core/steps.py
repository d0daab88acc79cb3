"""The steps of a derivation: plain immutable data, one class per kind of step.

A step records what was differentiated, by which rules, what came out, and which earlier steps it
used (by their `key`). It holds SymPy expressions and names, never LaTeX or prose: templates own the
words and `derive.core.printing` owns the maths. Equation numbers are given at render time, in the order
the steps are printed.

    Definition      v = f(...)                                  a line of the network
    LocalDerivative dv/du = f'(...)  (rules; using v's definition)
    ChainRule       dL/du = dL/dv . dv/du                       u feeds exactly one definition v
    Accumulate      dL/du = sum_v dL/dv . dv/du                 u feeds several: gradients add up
    Substitution    dL/du = <the factors multiplied out>        substituting the factors in the chain
    Delta           Delta = dL/dz                               z the linear pre-activation holding u
    Final           dL/du = Delta . dz/du                       the compact form
    General         dL/dw_i = ...                               one formula for w_1, w_2, ... w_n
    Pullback        dL/dW = X^T dL/dZ = X^T Delta               matrix form: vector-Jacobian products
    Recursion       Delta^(l) = (Delta^(l+1) W^(l+1)T) . f'(Z^(l))  one formula for every layer l
    ByRecursion     Delta^(2) = (Delta^(3) W^(3)T) . f'(Z^(2))     a later layer, read off the recursion
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy import Expr, Symbol

Key = tuple  # a hashable label naming a step, e.g. ("local", L, yhat)


@dataclass(frozen=True, slots=True)
class Definition:
    """A named intermediate of the network: `name = rhs`."""

    name: Symbol
    rhs: Expr
    uses: tuple = ()

    @property
    def key(self) -> Key:
        return ("definition", self.name)


@dataclass(frozen=True, slots=True)
class LocalDerivative:
    """d(of)/d(wrt) from of's definition alone: `by_rules` is `rules` applied, `result` the same named."""

    of: Symbol
    wrt: Symbol
    by_rules: Expr  # the rules' output, written in the operations' own outputs
    result: Expr  # the same with named intermediates put back (sigma(w x) -> yhat)
    rules: tuple[str, ...]
    uses: tuple[Key, ...]
    explicit: bool = False  # `of` also depends on `wrt` through other definitions

    @property
    def key(self) -> Key:
        return ("local", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class ChainRule:
    """dL/du written as a product of derivatives along the one definition `through` that uses u."""

    of: Symbol
    wrt: Symbol
    through: tuple[Symbol, ...]
    uses: tuple = ()
    members: tuple = ()  # for w_i standing for w_1 ... w_n, derived alike: the w_1 ... w_n (the first step of theirs)

    @property
    def key(self) -> Key:
        return ("chain", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class Accumulate:
    """dL/du as the sum over the definitions `through` that use u: gradients accumulate at a branch."""

    of: Symbol
    wrt: Symbol
    through: tuple[Symbol, ...]
    explicit: tuple[bool, ...]  # per definition: it also depends on u through other definitions
    uses: tuple = ()
    members: tuple = ()  # as in ChainRule

    @property
    def key(self) -> Key:
        return ("chain", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class Substitution:
    """The chain (or accumulation) with each factor replaced by its derived value."""

    of: Symbol
    wrt: Symbol
    result: Expr  # in the named intermediates only
    shown: Expr  # as printed: earlier composite gradients kept as d loss / d v, defined in their own steps
    terms: tuple[tuple[Expr, ...], ...]  # per path, the factors as printed, multiplied out in `shown`
    uses: tuple[Key, ...]  # the chain step first, then the factors substituted into it
    simplified: Expr | None = None  # `shown` with common factors cancelled, when that is shorter (then the result)

    @property
    def key(self) -> Key:
        return ("gradient", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class Delta:
    """`symbol` = dL/d(site): the gradient at the linear pre-activation `site` inside `inside`'s definition."""

    symbol: Symbol
    of: Symbol
    site: Expr
    inside: Symbol
    value: Expr  # in the named intermediates only
    shown: Expr  # as printed, like Substitution.shown
    uses: tuple[Key, ...]
    chain: Expr | None = None  # matrix networks: the vector-Jacobian product before substituting dL/dv
    rules: tuple[str, ...] = ()  # matrix networks: the rules the vector-Jacobian product used
    simplified: Expr | None = None  # `shown` in textbook form, when that differs (scalar: common factors cancelled)
    assuming: tuple = ()  # one-hot targets whose row sums (1) the simplification used
    identities: tuple = ()  # (f'(Z), f'(Z) in A = f(Z)) pairs the simplification used: sigma'(Z) = A (.) (1 - A)

    @property
    def key(self) -> Key:
        return ("delta", self.of, self.inside, self.site)


@dataclass(frozen=True, slots=True)
class Final:
    """The gradient in compact form: `result` = delta times d(site)/d(wrt), or the substitution itself."""

    of: Symbol
    wrt: Symbol
    result: Expr
    uses: tuple[Key, ...]

    @property
    def key(self) -> Key:
        return ("final", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class General:
    """One formula for a family of gradients: dL/dw_i for w_1 ... w_n, checked against each."""

    of: Symbol
    wrt: Symbol  # the indexed stand-in, e.g. w_i
    index: Symbol  # i
    result: Expr
    members: tuple[Symbol, ...]
    uses: tuple[Key, ...]

    @property
    def key(self) -> Key:
        return ("general", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class Pullback:
    """dL/du in a matrix network: the vector-Jacobian products of the definitions `through` that use u.

    `chain` writes it with each dL/dv as a fraction; `shown` substitutes the deltas and short gradients
    (X^T Delta); `result` is the same fully substituted, in the named intermediates only.
    """

    of: Symbol
    wrt: Symbol
    through: tuple[Symbol, ...]
    chain: Expr
    shown: Expr
    result: Expr
    rules: tuple[str, ...]
    uses: tuple[Key, ...]
    simplified: Expr | None = None  # `shown` in textbook form, when that differs
    assuming: tuple = ()  # one-hot targets whose row sums (1) the simplification used
    identities: tuple = ()  # (f'(Z), f'(Z) in A = f(Z)) pairs the simplification used, as in Delta

    @property
    def key(self) -> Key:
        return ("gradient", self.of, self.wrt)


@dataclass(frozen=True, slots=True)
class Recursion:
    """One formula for a quantity of every layer l (a delta, or the gradient of a layer's weights), found from
    the per-layer steps `uses` by renaming layer k to l and confirmed on every layer in `layers`."""

    of: Symbol
    lhs: Expr  # Delta^{(l)}, or dL/dW^{(l)} (a GradientOf)
    index: Symbol  # l
    result: Expr
    layers: tuple[int, ...]
    uses: tuple[Key, ...]

    @property
    def key(self) -> Key:
        return ("recursion", self.of, self.lhs)


@dataclass(frozen=True, slots=True)
class ByRecursion:
    """A layer's delta or weight gradient stated as the recursion at l = `layer`, in place of the per-layer
    step `replaces` (whose result it is, and whose key and number it takes)."""

    of: Symbol
    lhs: Expr  # Delta^{(2)}, or dL/dW^{(3)} (a GradientOf)
    site: Expr | None  # the pre-activation Z^{(2)} of a delta, else None
    index: Symbol  # l
    layer: int
    result: Expr  # the replaced step's last line: the recursion's right-hand side at l = layer
    replaces: Key
    uses: tuple[Key, ...]  # the recursion first, then the deltas the result is written in

    @property
    def key(self) -> Key:
        return self.replaces


Step = (Definition | LocalDerivative | ChainRule | Accumulate | Substitution | Delta | Final | General | Pullback
        | Recursion | ByRecursion)


# How much of the derivation an exercise sheet reveals as hints: nothing, the chain rule's skeleton (which
# definitions each variable reaches the loss through), or that and the deltas to name (never a result).
HINT_LEVELS = ("none", "chain", "deltas")
