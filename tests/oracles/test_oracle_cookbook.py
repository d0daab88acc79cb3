r"""Matrix Cookbook identities (sections 2.2-2.8), each alone and in sums of two, through derive.

The Matrix Cookbook (Petersen & Pedersen, version of November 15, 2012; equation numbers from it): derivatives
of determinants (2.2), of inverses (2.3), of eigenvalue sums and products (2.4), of scalar forms (2.5), of
traces (2.6), of vector norms (2.7) and of matrix norms (2.8). Each identity is a LaTeX loss read by derive,
its closed form as the Cookbook prints it, written here in NumPy (denominator layout, the gradient has the
variable's shape; each sign and transpose was checked against central differences, which this file does
again at every point), and the loss itself in NumPy for the differences.

For every identity, and for every sum of two identities in the same variable (the gradient of the sum must be
the sum of the closed forms: this is where derive collects terms, and where issue 12's c 1 1^T bug lives),
derive's gradient (`oracle_autograd.derive_gradient`) is compared at two seeded random points with the
closed form (1e-9 relative, `oracle_autograd.mismatch`) and with central differences of the NumPy loss (1e-6
of the gradient's scale). Every sum is taken: none is an xfail.

Identities the Cookbook states for symmetric matrices only (53, 84-88) are drawn with symmetric ones. Left out:
matrix-valued derivatives (59, 73-76, 79-80, 130), derivatives with respect to a pseudo-inverse (56) or of
Kronecker products (105, 120), eigenvalue derivatives other than the sum and product (67-68), and traces
already asserted in tests/core/test_matrix_cookbook.py and SymPy's file (tests/oracles/test_oracle_sympy_derivatives.py).
"""

from __future__ import annotations

import itertools
from typing import Callable, NamedTuple

import numpy as np
import pytest

import derive

from oracle_autograd import central_differences, derive_gradient, mismatch

inv, det, tr = np.linalg.inv, np.linalg.det, np.trace
T = np.transpose
SQUARE, COLUMN, TALL = (3, 3), (3, 1), (3, 2)


def mp(*factors):
    """The matrix product of all factors."""
    return np.linalg.multi_dot(factors) if len(factors) > 2 else factors[0] @ factors[1]


class Identity(NamedTuple):
    """One Cookbook identity: d loss / d wrt = gradient, with the shapes of its symbols."""

    id: str  # "(49) det X" with the Cookbook's equation number
    latex: str
    wrt: str
    shapes: dict  # symbol -> shape
    loss: Callable[[dict], float]
    gradient: Callable[[dict], np.ndarray]
    symmetric: frozenset = frozenset()  # symbols the Cookbook takes symmetric here


def _sum_powers(v, n, middle):
    """sum over r of (X^r)^T middle (X^(n-1-r))^T, the Cookbook's (89) and (122) pattern."""
    X = v["X"]
    power = np.linalg.matrix_power
    return sum(mp(T(power(X, r)), middle, T(power(X, n - 1 - r))) for r in range(n))


S = SQUARE
IDENTITIES = [
    # -- 2.2 determinants
    Identity("(49) det X", r"\det X", "X", {"X": S}, lambda v: det(v["X"]), lambda v: det(v["X"]) * T(inv(v["X"]))),
    Identity("(51) det(A X B)", r"\det(A X B)", "X", {"A": S, "X": S, "B": S},
             lambda v: det(mp(v["A"], v["X"], v["B"])),
             lambda v: det(mp(v["A"], v["X"], v["B"])) * T(inv(v["X"]))),
    Identity("(52) det(X^T A X), X square", r"\det(X^T A X)", "X", {"A": S, "X": S},
             lambda v: det(mp(T(v["X"]), v["A"], v["X"])),
             lambda v: 2 * det(mp(T(v["X"]), v["A"], v["X"])) * T(inv(v["X"]))),
    Identity("(53) det(X^T A X), X tall, A symmetric", r"\det(X^T A X)", "X", {"A": S, "X": TALL},
             lambda v: det(mp(T(v["X"]), v["A"], v["X"])),
             lambda v: 2 * det(mp(T(v["X"]), v["A"], v["X"])) * mp(v["A"], v["X"], inv(mp(T(v["X"]), v["A"], v["X"]))),
             frozenset("A")),
    Identity("(54) det(X^T A X), X tall", r"\det(X^T A X)", "X", {"A": S, "X": TALL},
             lambda v: det(mp(T(v["X"]), v["A"], v["X"])),
             lambda v: det(mp(T(v["X"]), v["A"], v["X"])) * (mp(v["A"], v["X"], inv(mp(T(v["X"]), v["A"], v["X"])))
                                                            + mp(T(v["A"]), v["X"], inv(mp(T(v["X"]), T(v["A"]), v["X"]))))),
    Identity("(55) log det(X^T X), X tall", r"\log\det(X^T X)", "X", {"X": TALL},
             lambda v: np.log(det(T(v["X"]) @ v["X"])),
             lambda v: 2 * v["X"] @ inv(T(v["X"]) @ v["X"])),  # 2 (X^+)^T, X^+ = (X^T X)^-1 X^T
    Identity("(57) log|det X|", r"\log |\det X|", "X", {"X": S}, lambda v: np.log(abs(det(v["X"]))),
             lambda v: T(inv(v["X"]))),
    Identity("(58) det(X^3)", r"\det(X^3)", "X", {"X": S}, lambda v: det(np.linalg.matrix_power(v["X"], 3)),
             lambda v: 3 * det(np.linalg.matrix_power(v["X"], 3)) * T(inv(v["X"]))),
    # -- 2.3 inverses
    Identity("(60) det(X^-1)", r"\det(X^{-1})", "X", {"X": S}, lambda v: det(inv(v["X"])),
             lambda v: -det(inv(v["X"])) * T(inv(v["X"]))),
    Identity("(61) a^T X^-1 b", r"a^T X^{-1} b", "X", {"a": COLUMN, "X": S, "b": COLUMN},
             lambda v: mp(T(v["a"]), inv(v["X"]), v["b"])[0, 0],
             lambda v: -mp(T(inv(v["X"])), v["a"], T(v["b"]), T(inv(v["X"])))),
    Identity("(63) tr(A X^-1 B)", r"\operatorname{tr}(A X^{-1} B)", "X", {"A": S, "X": S, "B": S},
             lambda v: tr(mp(v["A"], inv(v["X"]), v["B"])),
             lambda v: -T(mp(inv(v["X"]), v["B"], v["A"], inv(v["X"])))),
    Identity("(64) tr((X + A)^-1)", r"\operatorname{tr}((X + A)^{-1})", "X", {"X": S, "A": S},
             lambda v: tr(inv(v["X"] + v["A"])),
             lambda v: -T(inv(v["X"] + v["A"]) @ inv(v["X"] + v["A"]))),
    # -- 2.4 eigenvalues: their sum is the trace, their product the determinant
    Identity("(65) sum of eig(X) = tr X", r"\operatorname{tr}(X)", "X", {"X": S}, lambda v: tr(v["X"]),
             lambda v: np.eye(3)),
    Identity("(66) product of eig(X) = det X, as log det X", r"\log\det X", "X", {"X": S},
             lambda v: np.log(det(v["X"])), lambda v: T(inv(v["X"]))),
    # -- 2.5 scalar forms
    Identity("(69) x^T a", r"x^T a", "x", {"x": COLUMN, "a": COLUMN}, lambda v: (T(v["x"]) @ v["a"])[0, 0],
             lambda v: v["a"]),
    Identity("(70) a^T X b", r"a^T X b", "X", {"a": COLUMN, "X": S, "b": COLUMN},
             lambda v: mp(T(v["a"]), v["X"], v["b"])[0, 0], lambda v: v["a"] @ T(v["b"])),
    Identity("(71) a^T X^T b", r"a^T X^T b", "X", {"a": COLUMN, "X": S, "b": COLUMN},
             lambda v: mp(T(v["a"]), T(v["X"]), v["b"])[0, 0], lambda v: v["b"] @ T(v["a"])),
    Identity("(72) a^T X a", r"a^T X a", "X", {"a": COLUMN, "X": S}, lambda v: mp(T(v["a"]), v["X"], v["a"])[0, 0],
             lambda v: v["a"] @ T(v["a"])),
    Identity("(77) b^T X^T X c", r"b^T X^T X c", "X", {"b": COLUMN, "X": S, "c": COLUMN},
             lambda v: mp(T(v["b"]), T(v["X"]), v["X"], v["c"])[0, 0],
             lambda v: v["X"] @ (v["b"] @ T(v["c"]) + v["c"] @ T(v["b"]))),
    Identity("(78) (B x + b)^T C (D x + d)", r"(B x + b)^T C (D x + d)", "x",
             {"B": S, "x": COLUMN, "b": COLUMN, "C": S, "D": S, "d": COLUMN},
             lambda v: mp(T(v["B"] @ v["x"] + v["b"]), v["C"], v["D"] @ v["x"] + v["d"])[0, 0],
             lambda v: mp(T(v["B"]), v["C"], v["D"] @ v["x"] + v["d"]) + mp(T(v["D"]), T(v["C"]), v["B"] @ v["x"] + v["b"])),
    Identity("(81) x^T B x", r"x^T B x", "x", {"x": COLUMN, "B": S}, lambda v: mp(T(v["x"]), v["B"], v["x"])[0, 0],
             lambda v: (v["B"] + T(v["B"])) @ v["x"]),
    Identity("(82) b^T X^T D X c", r"b^T X^T D X c", "X", {"b": COLUMN, "X": S, "D": S, "c": COLUMN},
             lambda v: mp(T(v["b"]), T(v["X"]), v["D"], v["X"], v["c"])[0, 0],
             lambda v: mp(T(v["D"]), v["X"], v["b"], T(v["c"])) + mp(v["D"], v["X"], v["c"], T(v["b"]))),
    Identity("(83) (X b + c)^T D (X b + c)", r"(X b + c)^T D (X b + c)", "X", {"X": S, "b": COLUMN, "c": COLUMN, "D": S},
             lambda v: mp(T(v["X"] @ v["b"] + v["c"]), v["D"], v["X"] @ v["b"] + v["c"])[0, 0],
             lambda v: mp(v["D"] + T(v["D"]), v["X"] @ v["b"] + v["c"], T(v["b"]))),
    Identity("(84) (x - s)^T W (x - s), W symmetric, by x", r"(x - s)^T W (x - s)", "x", {"x": COLUMN, "s": COLUMN, "W": S},
             lambda v: mp(T(v["x"] - v["s"]), v["W"], v["x"] - v["s"])[0, 0],
             lambda v: 2 * v["W"] @ (v["x"] - v["s"]), frozenset("W")),
    Identity("(85) (x - s)^T W (x - s), W symmetric, by s", r"(x - s)^T W (x - s)", "s", {"x": COLUMN, "s": COLUMN, "W": S},
             lambda v: mp(T(v["x"] - v["s"]), v["W"], v["x"] - v["s"])[0, 0],
             lambda v: -2 * v["W"] @ (v["x"] - v["s"]), frozenset("W")),
    Identity("(86) (x - A s)^T W (x - A s), W symmetric, by x", r"(x - A s)^T W (x - A s)", "x",
             {"x": COLUMN, "A": S, "s": COLUMN, "W": S},
             lambda v: mp(T(v["x"] - v["A"] @ v["s"]), v["W"], v["x"] - v["A"] @ v["s"])[0, 0],
             lambda v: 2 * v["W"] @ (v["x"] - v["A"] @ v["s"]), frozenset("W")),
    Identity("(87) (x - A s)^T W (x - A s), W symmetric, by s", r"(x - A s)^T W (x - A s)", "s",
             {"x": COLUMN, "A": S, "s": COLUMN, "W": S},
             lambda v: mp(T(v["x"] - v["A"] @ v["s"]), v["W"], v["x"] - v["A"] @ v["s"])[0, 0],
             lambda v: -2 * mp(T(v["A"]), v["W"], v["x"] - v["A"] @ v["s"]), frozenset("W")),
    Identity("(88) (x - A s)^T W (x - A s), W symmetric, by A", r"(x - A s)^T W (x - A s)", "A",
             {"x": COLUMN, "A": S, "s": COLUMN, "W": S},
             lambda v: mp(T(v["x"] - v["A"] @ v["s"]), v["W"], v["x"] - v["A"] @ v["s"])[0, 0],
             lambda v: -2 * mp(v["W"], v["x"] - v["A"] @ v["s"], T(v["s"])), frozenset("W")),
    Identity("(72) x^T A x, by A", r"x^T A x", "A", {"x": COLUMN, "A": S}, lambda v: mp(T(v["x"]), v["A"], v["x"])[0, 0],
             lambda v: v["x"] @ T(v["x"])),
    Identity("(89) a^T X^3 b", r"a^T X^3 b", "X", {"a": COLUMN, "X": S, "b": COLUMN},
             lambda v: mp(T(v["a"]), np.linalg.matrix_power(v["X"], 3), v["b"])[0, 0],
             lambda v: _sum_powers(v, 3, v["a"] @ T(v["b"]))),
    # -- 2.6 traces (those not asserted elsewhere in the suite)
    Identity("(107) tr(X^2 B)", r"\operatorname{tr}(X^2 B)", "X", {"X": S, "B": S},
             lambda v: tr(mp(v["X"], v["X"], v["B"])), lambda v: T(v["X"] @ v["B"] + v["B"] @ v["X"])),
    Identity("(116) tr(B^T X^T C X B)", r"\operatorname{tr}(B^T X^T C X B)", "X", {"B": S, "X": S, "C": S},
             lambda v: tr(mp(T(v["B"]), T(v["X"]), v["C"], v["X"], v["B"])),
             lambda v: mp(T(v["C"]), v["X"], v["B"], T(v["B"])) + mp(v["C"], v["X"], v["B"], T(v["B"]))),
    Identity("(119) tr((A X B + C)(A X B + C)^T)", r"\operatorname{tr}((A X B + C) (A X B + C)^T)", "X",
             {"A": S, "X": S, "B": S, "C": S},
             lambda v: tr((mp(v["A"], v["X"], v["B"]) + v["C"]) @ T(mp(v["A"], v["X"], v["B"]) + v["C"])),
             lambda v: 2 * mp(T(v["A"]), mp(v["A"], v["X"], v["B"]) + v["C"], T(v["B"]))),
    Identity("(121) tr(X^4)", r"\operatorname{tr}(X^4)", "X", {"X": S}, lambda v: tr(np.linalg.matrix_power(v["X"], 4)),
             lambda v: 4 * T(np.linalg.matrix_power(v["X"], 3))),
    Identity("(122) tr(A X^3)", r"\operatorname{tr}(A X^3)", "X", {"A": S, "X": S},
             lambda v: tr(v["A"] @ np.linalg.matrix_power(v["X"], 3)),
             lambda v: sum(T(mp(np.linalg.matrix_power(v["X"], r), v["A"], np.linalg.matrix_power(v["X"], 2 - r)))
                           for r in range(3))),
    # -- 2.7 vector norms, 2.8 matrix norms
    Identity("(129) ||x - a||_2", r"\lVert x - a \rVert", "x", {"x": COLUMN, "a": COLUMN},
             lambda v: np.linalg.norm(v["x"] - v["a"]), lambda v: (v["x"] - v["a"]) / np.linalg.norm(v["x"] - v["a"])),
    Identity("(131) ||x||_2^2 = x^T x", r"\lVert x \rVert^2", "x", {"x": COLUMN},
             lambda v: float(np.sum(v["x"] ** 2)), lambda v: 2 * v["x"]),
    Identity("(132) ||X||_F^2", r"\lVert X \rVert_F^2", "X", {"X": S}, lambda v: float(np.sum(v["X"] ** 2)),
             lambda v: 2 * v["X"]),
    Identity("(132) ||X||_F, by the chain rule", r"\lVert X \rVert_F", "X", {"X": S},
             lambda v: np.linalg.norm(v["X"]), lambda v: v["X"] / np.linalg.norm(v["X"])),
    Identity("(132) ||A X - B||_F^2, by the chain rule", r"\lVert A X - B \rVert_F^2", "X", {"A": S, "X": S, "B": S},
             lambda v: float(np.sum((v["A"] @ v["X"] - v["B"]) ** 2)),
             lambda v: 2 * T(v["A"]) @ (v["A"] @ v["X"] - v["B"])),
]


class Pair(NamedTuple):
    """Two identities in the same variable, added."""

    first: Identity
    second: Identity

    @property
    def id(self) -> str:
        return f"{self.first.id} + {self.second.id}"


def _compatible(p: Identity, q: Identity) -> bool:
    """The same variable of the same shape, and no symbol of one shape in one and another shape in the other."""
    shared = set(p.shapes) & set(q.shapes)
    return p.wrt == q.wrt and all(p.shapes[s] == q.shapes[s] for s in shared)


PAIRS = [Pair(p, q) for p, q in itertools.combinations(IDENTITIES, 2) if _compatible(p, q)]


def _point(shapes: dict, symmetric: frozenset, seed: int) -> dict:
    """Random values: square matrices shifted by 2 I (away from singular) with a positive determinant, or
    symmetric where asked."""
    rng = np.random.default_rng(seed)
    values = {}
    for name, shape in sorted(shapes.items()):
        value = rng.normal(size=shape)
        if shape[0] == shape[1] and shape[0] > 1:
            value = value + 2 * np.eye(shape[0])
            if name in symmetric:
                value = (value + value.T) / 2
            elif np.linalg.det(value) < 0:
                value[0] = -value[0]  # a positive determinant, for log det X
        values[name] = value
    return values


def solve(latex: str, shapes: dict, wrt: str):
    symbols = ", ".join(f"{name}: [{r}, {c}]" for name, (r, c) in sorted(shapes.items()))
    text = f"symbols: {{{symbols}}}\ndefinitions:\n  - 'L = {latex}'\nloss: L\nwrt: [{wrt}]\n"
    return derive.Problem.from_text(text).solve().derivations[0]


def compare(latex: str, shapes: dict, wrt: str, loss: Callable, gradient: Callable, symmetric: frozenset,
            points: int = 2) -> list[str]:
    """derive's gradient of the LaTeX loss against the closed form and against central differences."""
    derivation = solve(latex, shapes, wrt)
    problems = []
    for seed in range(points):
        values = _point(shapes, symmetric, seed)
        derived = derive_gradient(derivation, values)
        found = mismatch(derived, gradient(values))
        if found:
            problems.append(f"point {seed}: against the closed form: {found}")
        found = mismatch(derived, central_differences(loss, values, wrt), rtol=1e-6, floor=1.0)
        if found:
            problems.append(f"point {seed}: against central differences: {found}")
    return problems


def compare_pair(pair: Pair) -> list[str]:
    p, q = pair
    return compare(f"({p.latex}) + ({q.latex})", {**p.shapes, **q.shapes}, p.wrt,
                   lambda v: p.loss(v) + q.loss(v), lambda v: p.gradient(v) + q.gradient(v), p.symmetric | q.symmetric)


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.id)
def test_cookbook_identity(identity):
    problems = compare(identity.latex, identity.shapes, identity.wrt, identity.loss, identity.gradient,
                       identity.symmetric)
    assert not problems, f"{identity.id}:\n" + "\n".join(problems)


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: p.id)
def test_cookbook_sum_of_two(pair):
    problems = compare_pair(pair)
    assert not problems, f"{pair.id}:\n" + "\n".join(problems)


@pytest.mark.parametrize("identity", IDENTITIES, ids=lambda i: i.id)
def test_closed_form_matches_central_differences(identity):
    """The closed forms, as transcribed, are right: the Cookbook's sign and transposes checked on their own."""
    for seed in range(3):
        values = _point(identity.shapes, identity.symmetric, 10 + seed)
        numeric = central_differences(identity.loss, values, identity.wrt)
        assert mismatch(identity.gradient(values), numeric, rtol=1e-6, floor=1.0) is None


def test_the_table():
    """At least 30 identities of sections 2.2-2.8, every identity in at least one sum."""
    assert len(IDENTITIES) >= 30
    assert len({i.id for i in IDENTITIES}) == len(IDENTITIES)
    paired = {p.first.id for p in PAIRS} | {p.second.id for p in PAIRS}
    assert paired == {i.id for i in IDENTITIES}
