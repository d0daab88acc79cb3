r"""Randomized hunt: scalar losses made of two or three matrix forms, through derive, against sympy.diff.

Each case draws terms from a family of forms in one variable (`VECTOR_FORMS` in x, `MATRIX_FORMS` in a square X):
quadratic forms, norms and squared norms, traces, determinants, inner products, inverses and negative powers,
named 1x1 intermediates in quotients, products and powers of 1x1 forms, entrywise functions, and |.|, max and
min of forms. Each term gets a random scalar coefficient (numbers, the scalar g), and is sometimes put through
a scalar function (`WRAPS`) or named first; the loss is their sum, their product, a function of their sum, or
the named sum s in sigma(s) + s. The gradient is asked for the variable and sometimes one more input; the
problem file is read, solved, every gradient printed, the document rendered, and every gradient compared with
`sympy.diff` on explicit matrices (`matrix_oracle.assert_matches_oracle`). Sizes are 3 or the symbolic n for
vectors and 2 or n for square matrices (n = 2 in the oracle: sympy.diff of a 3x3 inverse is slow).

`REGRESSIONS` keeps every crash the hunt found, each as the smallest expression that showed it; they are also
checked numerically.
"""

from __future__ import annotations

import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from derive.core import matrix_ops as mo
from derive.core.printing import latex
from derive import Problem

from matrix_oracle import assert_matches_oracle

EXAMPLES = int(os.environ.get("DERIVE_HYPOTHESIS_EXAMPLES", 15)) * 2

# (LaTeX of a scalar term, the definitions it needs {name: right-hand side})
VECTOR_FORMS = [
    (r"x^T A x", {}), (r"(x - a)^T A (x - a)", {}), (r"a^T x", {}), (r"x^T b", {}), (r"x^T x", {}),
    (r"\lVert x - a \rVert", {}), (r"\lVert x \rVert_2", {}), (r"\lVert A x \rVert", {}),
    (r"\lVert x - a \rVert^2", {}), (r"\lVert A x - b \rVert^2", {}), (r"\lVert x - a \rVert^{3}", {}),
    (r"\frac{1}{\lVert x - a \rVert + 1}", {}), (r"\lVert x - a \rVert \lVert x + b \rVert", {}),
    (r"(a^T x)(b^T x)", {}), (r"(a^T x)^2", {}), (r"(x^T A x)^3", {}), (r"(x^T x)(a^T x)", {}),
    (r"(a^T x)^T (b^T x)", {}), (r"\sqrt{x^T x + 1}", {}), (r"(x^T A x + 30)^{1/2}", {}),
    (r"\frac{a^T x}{x^T x}", {}), (r"\frac{x^T A x}{x^T x}", {}),
    (r"\frac{a^T x}{\lVert a \rVert \lVert x \rVert}", {}),
    (r"\frac{(x - a)^T A (x - a)}{(x - b)^T (x - b) + 1}", {}), (r"\frac{c}{\lVert x \rVert}", {"c": r"a^T x"}),
    (r"\frac{c}{x^T x}", {"c": r"a^T x"}), (r"c^2", {"c": r"a^T x"}), (r"c \lVert x - b \rVert", {"c": r"a^T x"}),
    (r"\lVert c x - b \rVert^2", {"c": r"a^T x"}), (r"d^T d", {"d": r"x^T a"}), (r"x^T h a", {"h": r"b^T x"}),
    (r"- \frac{p}{\lVert u \rVert \lVert b \rVert}", {"u": r"A x", "p": r"u^T b"}),
    (r"\frac{q}{1 + q^2}", {"q": r"x^T A x"}), (r"\lVert u \rVert^2", {"u": r"A x"}), (r"u^T a", {"u": r"A x"}),
    (r"\frac{u^T b}{\lVert u \rVert}", {"u": r"A x"}), (r"a^T w", {"w": r"x / \lVert x \rVert"}),
    (r"k^2", {"z": r"a^T x", "k": r"\sigma(z)"}), (r"\operatorname{sum}(v)", {"r": r"A x - b", "v": r"\tanh(r)"}),
    (r"\log(x^T x + 1)", {}), (r"e^{- x^T x}", {}), (r"\sin(a^T x)", {}), (r"\cos(x^T x)", {}),
    (r"\sigma(a^T x)", {}), (r"\tanh(x^T A x)", {}), (r"\log(1 + e^{a^T x})", {}),
    (r"\operatorname{sum}(\tanh(A x))", {}), (r"\operatorname{sum}(\sin(x))", {}),
    (r"\operatorname{sum}(\exp(a \odot x))", {}), (r"\lVert \tanh(A x) - b \rVert^2", {}),
    (r"\operatorname{sum}(\sigma(x - a))", {}), (r"\operatorname{sum}(x^{\circ 3})", {}),
    (r"\operatorname{sum}(\max(0, A x))", {}), (r"\operatorname{sum}(x \odot x)", {}),
    (r"\operatorname{mean}(x \odot x)", {}), (r"\log \operatorname{sum}(\exp(x))", {}),
    (r"a^T \operatorname{softmax}(x^T)^T", {}), (r"\operatorname{tr}(x a^T)", {}),
    (r"\operatorname{tr}(A x x^T)", {}), (r"\operatorname{tr}((a^T x) A)", {}), (r"\det(I + x a^T)", {}),
    (r"x^T (A + g I) x", {}), (r"a^T \operatorname{diag}(x) b", {}),
    (r"\operatorname{tr}(\operatorname{diag}(x) A)", {}), (r"\lVert (a^T x) x - b \rVert^2", {}),
    (r"\lVert x - a \rVert_1", {}), (r"\operatorname{sum}(|x - a|)", {}), (r"|a^T x|", {}), (r"|(x - a)^T A x|", {}),
    (r"|\operatorname{sum}(x - a)|", {}), (r"\sqrt{(\operatorname{sum}(A (x - a)))^2}", {}),
    (r"\max(0, (x - a)^T b)", {}), (r"\min(1, a^T x)", {}), (r"\sqrt{(\log((x - a)^T (x - a)))^2}", {}),
]
MATRIX_FORMS = [
    (r"\operatorname{tr}(X^T A X)", {}), (r"\operatorname{tr}(A X)", {}), (r"\operatorname{tr}(X)", {}),
    (r"\operatorname{tr}(X^2)", {}), (r"\operatorname{tr}(X^3)", {}), (r"\operatorname{tr}((X - A)^T (X - A))", {}),
    (r"(\operatorname{tr}(X - A))^2", {}), (r"\operatorname{tr}(X^T X + g I)", {}),
    (r"\operatorname{tr}(\sigma(X))", {}), (r"\det X", {}), (r"\det(X - A)", {}), (r"\det(X)^2", {}),
    (r"\log |\det X|", {}), (r"\log \det (X^T X)", {}), (r"\log \det(X^T X + I)", {}),
    (r"\operatorname{tr}(X) \det X", {}), (r"\det(X) \operatorname{tr}(A X)", {}),
    (r"\frac{\det X}{\lVert X \rVert_F^2}", {}), (r"\lVert X \rVert_F", {}), (r"\lVert X - A \rVert_F", {}),
    (r"\lVert X - A \rVert_F^2", {}), (r"\lVert A X \rVert_F^2", {}), (r"\lVert X - A \rVert_F^{-1}", {}),
    (r"\lVert X a - b \rVert^2", {}), (r"\lVert X \rVert_1", {}), (r"a^T X b", {}), (r"a^T X^T X b", {}),
    (r"(a^T X b)^2", {}), (r"\sigma(a^T X b)", {}), (r"|a^T (X - A) b|", {}), (r"a^T X^{-1} b", {}),
    (r"a^T X^{-2} b", {}), (r"\operatorname{tr}(A X^{-1})", {}), (r"\operatorname{tr}(X^{-2})", {}),
    (r"\operatorname{tr}(B X^{-2})", {}), (r"\operatorname{tr}((X + A)^{-1})", {}), (r"\lVert X^{-1} \rVert_F^2", {}),
    (r"\operatorname{sum}(\sigma(X))", {}), (r"\operatorname{sum}(\log(X \odot X + 1))", {}),
    (r"\operatorname{sum}(X \odot X)", {}), (r"\operatorname{sum}(\cos(A X))", {}),
    (r"\operatorname{sum}((X \odot X + 1)^{\circ 1/2})", {}), (r"\operatorname{sum}(X^{\circ 2} \odot A)", {}),
    (r"\operatorname{mean}(\exp(X))", {}), (r"\operatorname{sum}(\operatorname{softmax}(X) \odot A)", {}),
    (r"\operatorname{sum}(\operatorname{diag}(X a))", {}), (r"\frac{c}{\lVert X \rVert_F}", {"c": r"a^T X b"}),
    (r"\frac{t}{1 + t^2}", {"t": r"\operatorname{tr}(X)"}), (r"\frac{a^T X b}{\operatorname{tr}(X^T X)}", {}),
    (r"\operatorname{sum}(H)", {"H": r"\tanh(X A)"}),
    (r"\lVert H \rVert_F^2", {"H": r"\tanh(X A)"}), (r"a^T H b", {"H": r"\tanh(X A)"}),
    (r"\operatorname{tr}(P)", {"P": r"X^T X"}), (r"\det P", {"P": r"X^T X"}), (r"a^T P b", {"P": r"X^T X"}),
    (r"\lVert P \rVert_F", {"P": r"X^T X"}), (r"x^T X x", {}), (r"\lVert X x - b \rVert^2", {}), (r"a^T X x", {}),
    (r"\operatorname{tr}(X x x^T)", {}), (r"\lVert \tanh(X x) \rVert^2", {}),
    (r"\frac{u^T a}{\lVert u \rVert}", {"u": r"X x"}), (r"|\operatorname{tr}(X - A)|", {}), (r"|\det(X - A)|", {}),
    (r"\max(0, \operatorname{tr}(X - A))", {}), (r"\sqrt{(\log \operatorname{tr}((X - A)^T (X - A)))^2}", {}),
]
WRAPS = ["{}", "({})^2", r"\sqrt{{({})^2 + 1}}", r"\frac{{{}}}{{1 + ({})^2}}", r"\log(1 + ({})^2)", r"\tanh({})",
         r"\sigma({})", r"|{}|", r"e^{{- ({})^2}}", r"\max(0, {})", r"\sqrt{{({})^2}}",
         r"\sqrt{{(\log(({})^2 + 1) - 1)^2}}"]
COEFFICIENTS = ["", "-", "2", "-3", r"\frac{1}{2}", r"- \frac{2}{3}", "g", "- g", r"\frac{g}{2}", "3 g"]
VARIABLES = ("x", "X", "A", "a", "b", "g")


def wrap(template: str, term: str) -> str:
    return template.format(*([term] * template.count("{}")))


def mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z\\]){name}(?![A-Za-z])", text) is not None


def problem_text(vector: bool, size: str, definitions: dict, loss: str, wrt: list) -> str:
    shapes = {"x": (size, 1), "a": (size, 1), "b": (size, 1), "A": (size, size), "B": (size, size), "X": (size, size)}
    symbols = ", ".join(f"{name}: [{rows}, {cols}]" for name, (rows, cols) in shapes.items())
    lines = "".join(f"  - '{name} = {rhs}'\n" for name, rhs in {**definitions, "L": loss}.items())
    return f"symbols: {{{symbols}, g: scalar}}\ndefinitions:\n{lines}loss: L\nwrt: [{', '.join(wrt)}]\n"


@hs.composite
def losses(draw):
    """A problem file: a scalar loss made of two or three forms of one family, and what to differentiate."""
    vector = draw(hs.booleans())
    forms = VECTOR_FORMS if vector else MATRIX_FORMS
    definitions, parts = {}, []
    for _ in range(draw(hs.sampled_from((2, 2, 3)))):
        term, needs = draw(hs.sampled_from(forms))
        definitions.update(needs)
        if draw(hs.integers(0, 9)) < 3:
            term = wrap(draw(hs.sampled_from(WRAPS)), term)
        if draw(hs.integers(0, 9)) < 1:
            name = f"s_{len(parts)}"
            definitions[name], term = term, name
        c = draw(hs.sampled_from(COEFFICIENTS))
        parts.append(term if c == "" else f"- ({term})" if c == "-" else f"{c} ({term})")
    total = " + ".join(parts).replace("+ -", "-")
    shape = draw(hs.sampled_from(("sum",) * 6 + ("product", "function", "named")))
    if shape == "product":
        loss = f"({parts[0]}) ({parts[1]})"
    elif shape == "function":
        loss = wrap(draw(hs.sampled_from(WRAPS[1:])), total)
    elif shape == "named":
        definitions["s"], loss = total, r"\sigma(s) + s"
    else:
        loss = total
    text = loss + " " + " ".join(definitions.values())
    present = [v for v in VARIABLES if mentions(text, v)]
    main = next(v for v in (("x", "X") if vector else ("X", "x")) + VARIABLES if v in present)
    others = [v for v in present if v != main]
    wrt = [main] + ([draw(hs.sampled_from(others))] if others and draw(hs.booleans()) else [])
    size = draw(hs.sampled_from(("3", "n") if vector else ("2", "n")))
    return problem_text(vector, size, definitions, loss, wrt)


def derive_and_compare(text: str):
    solution = Problem.from_text(text, "hunt.yaml").solve()
    for d in solution.derivations:
        assert latex(d.compact)
    solution.document(check=False)
    assert_matches_oracle(solution, points=1)
    return solution


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(losses())
def test_random_losses_of_matrix_forms_match_sympy_diff(text):
    derive_and_compare(text)


# Every crash the hunt found, as the smallest expression that showed it: symbols, definitions, wrt.
REGRESSIONS = [
    # a coefficient's abs() rebuilt ||x - a|| as FrobeniusNorm(-(a - x)): TypeError
    ("{x: [3, 1], a: [3, 1]}", [r"L = \lVert x - a \rVert + 2 a^T x"], "[x]"),
    ("{x: [3, 1], a: [3, 1]}", [r"L = \lVert x - a \rVert + x^T x"], "[x]"),
    ("{x: [3, 1], a: [3, 1]}", [r"L = \lVert x - a \rVert + \lVert x \rVert^2"], "[x]"),
    # a named 1x1 definition's gradient is a scalar: it stood in a 1x1 matrix placeholder under a transpose
    ("{x: [3, 1], y: [3, 1], W: [3, 3]}",
     [r"u = W x", r"c = u^T y", r"L = - \frac{c}{\lVert u \rVert \lVert y \rVert}"], "[W]"),
    # the gradient of a named 1x1 q came back a scalar along one path and (c I_1) along another: InternalError
    ("{x: [3, 1], A: [3, 3]}", [r"q = x^T A x", r"L = \frac{q}{1 + q^2}"], "[x]"),
    ("{X: [2, 2], a: [2, 1], b: [2, 1]}", [r"s = (a^T X b)^2 + a^T X^{-1} b", r"L = \max(0, s) + s"], "[X]"),
    # SymPy's .doit() wrote (X^{-1})^2 as X^{-2}, which had no rule
    ("{X: [2, 2], B: [2, 2], a: [2, 1], b: [2, 1]}", [r"L = a^T X b + \operatorname{tr}(B X^{-2})"], "[X]"),
    # SymPy's |.| rewrote x - a as -1 * (a - x) inside matrix products, traces and determinants
    ("{x: [3, 1], a: [3, 1], A: [3, 3]}", [r"L = |(x - a)^T A x|"], "[x]"),
    ("{X: [2, 2], A: [2, 2]}", [r"L = |\operatorname{tr}(X - A)|"], "[X]"),
    ("{X: [2, 2], A: [2, 2]}", [r"L = |\det(X - A)|"], "[X]"),
    ("{x: [3, 1], a: [3, 1], b: [3, 1], A: [3, 3]}", [r"L = |(x - a)^T A x| \lVert x - b \rVert"], "[x]"),
    # ... also when a name is replaced by its definition (|s| was SymPy's own until s was expanded)
    ("{X: [2, 2], A: [2, 2]}", [r"s = \det X + (\operatorname{tr}(X - A))^2", r"L = |s| + s"], "[X]"),
    # ... and in SymPy's own (u^2)^{1/2} = |u| of a real u, or its arg(u) of another
    ("{x: [3, 1], a: [3, 1], A: [3, 3]}", [r"L = \sqrt{(\operatorname{sum}(A (x - a)))^2}"], "[x]"),
    ("{X: [2, 2], A: [2, 2]}", [r"L = \sqrt{(\tanh(\operatorname{tr}(X - A)))^2}"], "[X]"),
    ("{X: [2, 2], A: [2, 2], a: [2, 1], b: [2, 1]}",
     [r"L = \sqrt{(a^T X b + \tanh(\operatorname{tr}((X - A)^T (X - A))))^2}"], "[X]"),
    # ... and in abs() of the rule's sign(u), asked whether a product is an integer
    ("{x: [3, 1], a: [3, 1], A: [3, 3]}", [r"L = 2 |(x - a)^T A x| + \operatorname{sum}(A x)"], "[x]"),
    # ... and when it multiplied ((log u)^2)^{1/2}, which it keeps (log u may not be real) and takes apart
    ("{x: [3, 1], a: [3, 1]}", [r"L = \sqrt{(\log((x - a)^T (x - a)))^2}"], "[x]"),
    ("{x: [3, 1], a: [3, 1]}", [r"s = (x - a)^T x", r"L = \sqrt{(\log s)^2}"], "[x]"),
    # SymPy's |e^u| is e^{re(u)} when it cannot tell that u = tr(x^T x) is real: no rule for re
    ("{x: [3, 1], a: [3, 1]}", [r"L = |e^{- x^T x}| + a^T x"], "[x]"),
    # min of a 1x1 form was refused as the min of a matrix
    ("{x: [3, 1], a: [3, 1]}", [r"L = \min(1, a^T x)"], "[x]"),
]


@pytest.mark.parametrize("symbols, definitions, wrt", REGRESSIONS, ids=[r[1][-1] for r in REGRESSIONS])
def test_regression_matches_sympy_diff_and_the_check(symbols, definitions, wrt):
    lines = "".join(f"  - '{d}'\n" for d in definitions)
    solution = derive_and_compare(f"symbols: {symbols}\ndefinitions:\n{lines}loss: L\nwrt: {wrt}\n")
    report = solution.check(points=2)
    assert report.passed, report.summary()


# -- SymPy's own evaluation kept away from the matrices -------------------------------------------------------

def test_nodes_of_one_matrix_survive_sympys_sign_rewriting():
    """abs(), signsimp and xreplace rewrite x - a as -1 * (a - x): each node of one matrix takes it back."""
    from sympy import MatrixSymbol, Symbol, signsimp

    x, a, X, A = MatrixSymbol("x", 3, 1), MatrixSymbol("a", 3, 1), MatrixSymbol("X", 3, 3), MatrixSymbol("A", 3, 3)
    g = Symbol("g", real=True)
    nodes = [mo.FrobeniusNorm(x - a), mo.L1Norm(x - a), mo.SumEntries(a - x), mo.Mean(x - a),
             mo.SumEntries(mo.apply("sigmoid", x - a)), mo.SumEntries(mo.softmax(X - A)), mo.SumEntries(mo.diag(x - a))]
    for node in nodes:
        e = g / (1 + node) - node ** 2
        assert signsimp(e, evaluate=False) == e
        assert e.xreplace({g: 2 * g}).xreplace({g: g / 2}) == e and e.doit() == e and -(-e) == e
        assert abs(e).args[0] == e  # SymPy's |.| runs signsimp over the matrices, and keeps |e|
        assert (-e).could_extract_minus_sign() in (True, False)


def test_matrix_safe_functions_print_and_read_as_sympys():
    """|.|, max and min of forms print as SymPy's, equal SymPy's of numbers, and keep tr(x^T x) real."""
    import pickle

    import sympy
    from sympy import MatrixSymbol, Symbol

    x, a, A = MatrixSymbol("x", 3, 1), MatrixSymbol("a", 3, 1), MatrixSymbol("A", 3, 3)
    q = mo.as_scalar(mo.matmul(mo.transpose(x - a), A, x - a))
    assert latex(mo.norm(q)) == r"\lvert{(x^T - a^T) A (x - a)}\rvert"
    assert latex(mo.maximum(0, q)) == r"\max(0, (x^T - a^T) A (x - a))"
    assert mo.norm(sympy.exp(-q)) == sympy.exp(-q)  # not e^{-re(q)}
    u = Symbol("u", real=True)
    assert mo.SafeAbs(u - 1).xreplace({u: 3}) == 2 and mo.SafeMax(u, 1).xreplace({u: 3}) == 3
    assert pickle.loads(pickle.dumps(mo.norm(q))) == mo.norm(q)
    assert sympy.sstr(mo.minimum(1, q)).startswith("Min(")
