"""Evaluation traces: the textbook example (Baydin et al. 2018), every line's local partials against sympy.diff,
random expressions in both modes against sympy.diff, problems with named definitions, branches, bad input,
the documents (real pdflatex), the graph (real Graphviz) and the method comparison."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

import derive
from derive.check.gradient_check import kink_expressions
from derive.core.errors import DeriveError, MissingRuleError
from derive.tracing.graph import dot_source, graph_file, tikz
from derive.write.output import compile_pdf
from derive.tracing.data import TraceError, v
from derive.tracing.reading import parse_expression
from derive.tracing.scalar import local_partial
from derive.tracing.methods import compare_methods

from conftest import elementary, require_pdflatex

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TEXTBOOK = r"\ln x_1 + x_1 x_2 - \sin x_2"


def textbook():
    return derive.trace(TEXTBOOK, "x1=2,x2=5")


# -- the textbook example -----------------------------------------------------------------------------------
def test_textbook_values_in_both_modes():
    """Baydin et al. (JMLR 2018), Tables 2 and 3: f = 11.652, df/dx1 = 5.5, df/dx2 = 1.716 at (2, 5)."""
    t = textbook()
    assert f"{float(t.value):.3f}" == "11.652"
    forward = [float(x) for x in t.forward.output_tangents]
    reverse = [float(g) for g in t.gradient]
    for gradient in (forward, reverse):
        assert [f"{g:.3f}" for g in gradient] == ["5.500", "1.716"]
    assert t.forward.passes == 2 and t.reverse.passes == 1
    assert t.consistency.passed and t.consistency.forward_vs_reverse < 1e-40


def test_textbook_lines_read_as_the_paper():
    t = textbook()
    x1, x2 = v(-1), v(0)
    assert [line.expr for line in t.lines] == [
        sympy.Symbol("x_1", real=True), sympy.Symbol("x_2", real=True),
        sympy.log(x1), x1 * x2, sympy.sin(x2), v(1) + v(2), v(4) - v(3)]
    assert [line.op for line in t.lines] == ["input", "input", "log", "mul", "sin", "add", "sub"]
    assert [f"{float(line.value):.3f}" for line in t.lines] == ["2.000", "5.000", "0.693", "10.000", "-0.959",
                                                               "10.693", "11.652"]
    tex = t.document()
    assert r"v_{5} & \(= v_{4} - v_{3}\)" in tex.replace(r"\(", "", 1) or r"\(v_{5}\) & \(= v_{4} - v_{3}\)" in tex


def test_textbook_tangents_and_adjoints_written_symbolically():
    t = textbook()
    tangent = {row.index: row for row in t.forward.rows}
    assert tangent[1].expr == sympy.Symbol("vdot_-1", real=True) / v(-1)
    assert [f"{float(x):.3f}" for x in tangent[5].values] == ["5.500", "1.716"]
    # x_2 feeds v_2 and v_3: its adjoint is a sum of two paths, written out
    row = t.reverse.adjoint(0)
    assert row.consumers == (2, 3) and len(row.chain.args) == 2
    assert [f"{float(c):.3f}" for c in row.contributions] == ["2.000", "-0.284"]
    assert row.expr == sympy.Symbol("vbar_2", real=True) * v(-1) + sympy.Symbol("vbar_3", real=True) * sympy.cos(v(0))


# -- correct by construction --------------------------------------------------------------------------------
def _line_partials_match_sympy(t):
    """Each local partial, with the line's own value put in, equals sympy.diff of the line, at the trace's values
    and at random points (away from kinks, where the two conventions differ)."""
    values = {line.symbol: line.value for line in t.lines}
    rng = random.Random(1)
    for line in t.lines:
        for k, partial, value in zip(line.operands, line.partials, line.partial_values):
            oracle = sympy.diff(line.expr, v(k))
            assert abs(float(sympy.N(oracle.xreplace(values), 40) - value)) < 1e-30, (line, k)
            own = partial.xreplace({line.symbol: line.expr})  # rules may use the line's own value
            for _ in range(3):
                point = {s: sympy.Rational(rng.randint(1, 40), rng.randint(7, 13)) for s in own.free_symbols | oracle.free_symbols}
                left, right = sympy.N(own.xreplace(point), 30), sympy.N(oracle.xreplace(point), 30)
                assert abs(complex(left - right)) < 1e-25, (line, k, point)


def test_every_local_partial_is_sympy_diff_of_its_line():
    for text in (TEXTBOOK, r"\frac{x + y}{1 + x^2}", r"\sigma(w x) - \tanh(x) e^{y}", r"\max(x, y)^{3} + |x|",
                 r"\sqrt{x^2 + y^2}", r"-x y + \operatorname{softplus}(x - y)", r"\frac{2}{x}"):
        values = {"x": 0.7, "y": -1.3, "w": 2, "x_1": 2, "x_2": 5}
        names = {s.name for s in parse_expression(text).free_symbols}
        _line_partials_match_sympy(derive.trace(text, {n: values[n] for n in names}))


def test_local_partial_uses_the_registry():
    w = v(1)
    partial, rules = local_partial(derive.sigmoid(v(0)), v(0), out=w)
    assert partial == w * (1 - w) and rules == ("sigmoid rule",)


def test_subtraction_division_and_negation_are_operations_of_their_own():
    t = derive.trace(r"-\frac{x}{y} + (x - y)", "x=1,y=3")
    ops = [line.op for line in t.lines if not line.is_input]
    assert "div" in ops and "sub" in ops
    assert all(len(line.operands) <= 2 for line in t.lines)
    neg = derive.trace(r"-\exp(x)", "x=1")
    assert neg.output.op == "neg" and neg.output.expr == -v(1)


def test_shared_subexpressions_are_one_line_and_accumulate():
    t = derive.trace(r"\sin(x + y) + (x + y)^2", "x=1,y=2")
    products = [line for line in t.lines if line.expr == v(-1) + v(0)]
    assert len(products) == 1
    row = t.reverse.adjoint(products[0].index)
    assert len(row.consumers) == 2
    assert float(row.value) == pytest.approx(sum(float(c) for c in row.contributions))


# -- random expressions: both modes against sympy.diff --------------------------------------------------------
SYMBOLS = sympy.symbols("a b c", real=True)


@hs.composite
def expressions(draw):
    pool = list(SYMBOLS)
    for _ in range(draw(hs.integers(1, 4))):
        rule = draw(hs.sampled_from(derive.RULES))
        pool.append(rule.example(draw(hs.sampled_from(pool)), draw(hs.sampled_from(pool))))
    expr = pool[-1] + draw(hs.sampled_from([0, 1])) * pool[-1] * draw(hs.sampled_from(pool))
    return expr, draw(hs.integers(0, 10**6))


COMPARED: list[int] = []


@settings(max_examples=int(os.environ.get("DERIVE_HYPOTHESIS_EXAMPLES", 60)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(expressions())
def test_random_expressions_agree_with_sympy_diff(case):
    expr, seed = case
    inputs = sorted(expr.free_symbols, key=lambda s: s.name)
    kinks = kink_expressions(expr)
    rng = random.Random(seed)
    oracle = [sympy.diff(elementary(expr), x) for x in inputs]
    for _ in range(10):
        point = {x: sympy.Rational(rng.randint(-15, 15), rng.randint(7, 13)) for x in inputs}
        if any(abs(sympy.N(elementary(k).subs(point), 30)) < 1e-6 for k in kinks):
            continue
        exact = [sympy.N(g.subs(point), 40) for g in oracle]
        if not all(e.is_real and e.is_finite for e in exact):
            continue
        try:
            t = derive.trace(expr, {x.name: point[x] for x in inputs})
        except TraceError:
            continue  # outside the domain somewhere on the way: the trace names the line
        forward = t.forward.output_tangents
        for computed in (forward, t.gradient):
            for c, e in zip(computed, exact):
                assert abs(float(c - e)) <= 1e-12 * max(1.0, abs(float(e))), (expr, point, computed, exact)
        COMPARED.append(1)
        return
    COMPARED.append(0)


def test_the_property_test_compared_values():
    if not COMPARED:
        test_random_expressions_agree_with_sympy_diff()
    assert sum(COMPARED) >= 0.7 * len(COMPARED)


# -- problems -----------------------------------------------------------------------------------------------
def test_problem_keeps_its_definitions_as_named_lines():
    t = derive.trace(EXAMPLES / "one_layer_scalar.yaml", {"x": 1.5, "y": 1, "w": "-1/2"})
    assert [x.name for x in t.inputs] == ["x", "y", "w"]
    names = {line.name.name: line for line in t.lines if line.name is not None and not line.is_input}
    assert set(names) == {"yhat", "L"} and names["L"] is t.output
    assert isinstance(names["yhat"].expr, derive.sigmoid)
    assert names["yhat"].partials == (names["yhat"].symbol * (1 - names["yhat"].symbol),)  # sigma' = sigma(1 - sigma)
    problem = derive.Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    exact = problem.gradient("w").expanded().subs({sympy.Symbol("x", real=True): sympy.Rational(3, 2),
                                                   sympy.Symbol("y", real=True): 1, sympy.Symbol("w", real=True): sympy.Rational(-1, 2)})
    assert float(t.gradient[2]) == pytest.approx(float(exact), rel=1e-14)


def test_problem_file_given_as_text():
    t = derive.trace(str(EXAMPLES / "one_layer_scalar.yaml"), "x=1,y=0,w=2")
    assert t.title == "1 layer network, 1 input (scalar)" and t.consistency.passed


def test_a_weight_used_twice_accumulates_in_the_problem():
    t = derive.trace(EXAMPLES / "relu_skip.yaml", "x=1,y=2,w=0.5,v=-1")
    wx = next(line for line in t.lines if line.op == "mul" and set(line.operands) == {-3, -1})
    assert len(t.reverse.adjoint(wx.index).consumers) == 2  # relu(w x) and the skip term w x
    assert t.consistency.passed


# -- matrix problems, entry by entry -------------------------------------------------------------------------
BATCH_POINT = "X=[[1,2,3],[0.5,-1,2]], y=[[1],[0]], W=[[0.1],[-0.2],[0.3]]"


def test_a_matrix_problem_is_traced_entry_by_entry():
    t = derive.trace(EXAMPLES / "one_layer_batch.yaml", BATCH_POINT)
    assert [x.name for x in t.inputs][:3] == ["X[0,0]", "X[0,1]", "X[0,2]"] and len(t.inputs) == 11
    assert t.expansion.size == 2 and {m.name: shape for m, shape in t.expansion.matrices} == {
        "X": (2, 3), "y": (2, 1), "W": (3, 1)}
    names = {line.name.name for line in t.lines if line.name is not None and not line.is_input}
    assert names == {r"\hat{y}[0,0]", r"\hat{y}[1,0]", "L"} and t.output.name.name == "L"
    assert len(t.lines) - len(t.inputs) == 19  # 2 rows x (3 products, 2 sums, sigmoid, difference, square, half) + 1
    assert t.consistency.passed and t.consistency.against_derivation < 1e-40


def test_matrix_adjoints_equal_the_matrix_gradient_by_hand():
    """The adjoints of W's entries are X^T ((yhat - y) * yhat * (1 - yhat)) at the point, computed here in
    exact arithmetic independently of derive; the adjoints of X's entries (delta W^T) too."""
    t = derive.trace(EXAMPLES / "one_layer_batch.yaml", BATCH_POINT)
    R = sympy.Rational
    X = sympy.Matrix([[1, 2, 3], [R(1, 2), -1, 2]])
    y, W = sympy.Matrix([1, 0]), sympy.Matrix([R(1, 10), R(-1, 5), R(3, 10)])
    yhat = (X * W).applyfunc(lambda z: 1 / (1 + sympy.exp(-z)))
    delta = sympy.Matrix([(yhat[i] - y[i]) * yhat[i] * (1 - yhat[i]) for i in range(2)])
    expected = {**{f"W[{i},0]": g for i, g in enumerate(X.T * delta)},
                **{f"X[{i},{j}]": (delta * W.T)[i, j] for i in range(2) for j in range(3)},
                **{f"y[{i},0]": y[i] - yhat[i] for i in range(2)}}
    got = dict(zip((x.name for x in t.inputs), t.gradient))
    assert got.keys() == expected.keys()
    for name, value in expected.items():
        assert abs(got[name] - sympy.N(value, 50)) < sympy.Float("1e-45"), name
    assert all(abs(a - b) < sympy.Float("1e-45") for a, b in zip(t.gradient, t.derived))


def test_matrix_point_as_entries_and_as_lists_and_sizes():
    by_rows = derive.trace(EXAMPLES / "one_layer_batch.yaml", BATCH_POINT)
    entries = ",".join(f"X[{i},{j}]={v}" for i, row in enumerate([[1, 2, 3], [0.5, -1, 2]]) for j, v in enumerate(row))
    by_entries = derive.trace(EXAMPLES / "one_layer_batch.yaml", entries + ",y=[1,0],W=[[0.1],[-0.2],[0.3]]")
    assert by_entries.gradient == by_rows.gradient
    import numpy as np

    lists = derive.trace(EXAMPLES / "one_layer_batch.yaml",
                         {"X": np.array([[1, 2, 3], [0.5, -1, 2]]), "y": [[1], [0]], "W": [0.1, -0.2, 0.3]})
    assert lists.gradient == by_rows.gradient
    three = derive.trace(EXAMPLES / "one_layer_batch.yaml", "X=[[1,2,3],[0.5,-1,2],[0,1,0]], y=[1,0,1], W=[1,2,3]",
                         size=3, mode="reverse")
    assert len(three.inputs) == 15 and three.consistency.passed and three.expansion.size == 3


def test_two_layer_vector_traces_and_agrees_with_derive():
    t = derive.trace(EXAMPLES / "two_layer_vector.yaml",
                     "x=[1,-1,2], y=1, W1=[[0.1,0.2,0.3],[0,1,-1],[0.5,0.5,0.5],[1,0,-2]], W2=[[1,-1,0.5,2]]",
                     direction="W1[0,0]=1, y=-1")
    assert t.consistency.passed and t.consistency.against_derivation < 1e-40 and t.forward.passes == 1
    assert {r"h[3,0]", r"\hat{y}[0,0]", "L"} <= {line.name.name for line in t.lines if line.name is not None}


@pytest.mark.parametrize("at, expected", [
    ("X=[[1,2],[3,4]], y=[1,0], W=[1,2,3]", ["X must be 2\u00d73", "2\u00d72", "X=[[1,2,3],[4,5,6]]"]),
    ("y=[1,0], W=[1,2,3]", ["no value given for the matrix X (2\u00d73, n = 2)"]),
    ("X=[[1,2,3],[4,5,6], y=[1,0], W=[1,2,3]", ["'[' without its ']'"]),
    ("X=[[1,2,3],[4,five,6]], y=[1,0], W=[1,2,3]", ["value of X[1,1] must be a number", "five"]),
    ("X=[[1,2,3],[4,5]], y=[1,0], W=[1,2,3]", ["rows of X have different lengths"]),
    ("X=7, y=[1,0], W=[1,2,3]", ["cannot read the matrix X from '7'", "X=[[1,2,3],[4,5,6]]"]),
    ("X=[[1,2,3],[4,5,6]], X[0,0]=1, y=[1,0], W=[1,2,3]", ["two values given for X[0,0]"]),
])
def test_bad_matrix_points_are_one_line(at, expected):
    with pytest.raises(TraceError) as error:
        derive.trace(EXAMPLES / "one_layer_batch.yaml", at)
    message = str(error.value)
    assert "\n" not in message
    for piece in expected:
        assert piece in message, (piece, message)


def test_one_hot_targets_are_refused_in_one_line():
    with pytest.raises(TraceError, match="one-hot targets .*Y"):
        derive.trace(EXAMPLES / "mlp_softmax.yaml", {})


def test_a_matrix_trace_compiles_and_says_it_was_expanded():
    require_pdflatex()
    t = derive.trace(EXAMPLES / "one_layer_batch.yaml", BATCH_POINT)
    tex = t.document()
    assert "traced at concrete sizes, entry by entry" in tex and r"\(n = 2\)" in tex
    assert "compared with the matrix gradient (the derivation of each matrix gradient" in tex
    assert compile_pdf(tex)[:4] == b"%PDF"
    data = json.loads(t.to_json())
    assert data["expansion"]["size"] == 2 and data["expansion"]["matrices"]["X"] == [2, 3]
    assert data["consistency"]["against_derivation"] < 1e-12
    methods = {m.method: m for m in compare_methods(t)}
    assert methods["manual analytic"].absolute_error < 1e-12 and methods["central difference"].absolute_error < 1e-8


# -- bad input ----------------------------------------------------------------------------------------------
def test_outside_the_domain_names_the_line():
    with pytest.raises(TraceError) as error:
        derive.trace(r"x_1 x_2 + \ln(x_1 - x_2)", "x1=2,x2=5")
    message = str(error.value)
    assert "trace line v_3 = log(v_2)" in message and "v_2 = -3" in message and "x_1 = 2, x_2 = 5" in message


def test_a_derivative_outside_the_domain_names_the_line():
    with pytest.raises(TraceError, match=r"trace line v_1 = sqrt\(v_0\).*derivative is not finite"):
        derive.trace(r"\sqrt{x}", "x=0")


def test_missing_and_unknown_values_are_named():
    with pytest.raises(TraceError, match="no value given for the input x_2"):
        derive.trace(TEXTBOOK, "x1=2")
    with pytest.raises(TraceError, match="x3, which is not an input"):
        derive.trace(TEXTBOOK, "x1=2,x2=5,x3=1")
    with pytest.raises(TraceError, match="must be a number"):
        derive.trace(TEXTBOOK, "x1=2,x2=__import__('os')")
    with pytest.raises(TraceError, match="write name=value"):
        derive.trace(TEXTBOOK, "x1 2")


def test_names_in_either_spelling_and_exact_values():
    a = derive.trace(TEXTBOOK, "x_1=2,x_{2}=5/2")
    b = derive.trace(TEXTBOOK, {"x1": 2, "x2": 2.5})
    assert a.point == b.point == (2, sympy.Rational(5, 2))


def test_operation_without_rule_is_named():
    with pytest.raises(MissingRuleError, match="tan"):
        derive.trace(sympy.tan(sympy.Symbol("x", real=True)), "x=1")


def test_nothing_to_trace():
    with pytest.raises(TraceError, match="nothing to trace"):
        derive.trace("x", "x=1")


def test_expression_reader_never_evaluates_text():
    with pytest.raises(DeriveError):
        parse_expression("__import__('os').system('true')")


# -- directions and modes -----------------------------------------------------------------------------------
def test_one_direction_is_one_pass_and_consistent():
    t = derive.trace(TEXTBOOK, "x1=2,x2=5", direction="x1=1,x2=-1")
    assert t.forward.passes == 1
    assert float(t.forward.output_tangents[0]) == pytest.approx(5.5 - 1.7163378145367738, rel=1e-15)
    assert t.consistency.passed
    assert "the whole gradient would take 2 passes" in t.document()
    with pytest.raises(TraceError, match="direction is zero"):
        derive.trace(TEXTBOOK, "x1=2,x2=5", direction="x1=0")


def test_a_kink_is_reported_not_failed():
    """max at a tie: derive routes to the first argument, sympy.diff takes Heaviside(0) = 1/2. The derivative
    does not exist there: the modes must agree with each other, sympy.diff's value is shown but not judged."""
    t = derive.trace(r"\max(x, y)", "x=1,y=1")
    assert t.consistency.forward_vs_reverse == 0 and t.consistency.against_symbolic > 0.1
    assert t.consistency.at_kink and t.consistency.passed
    assert "not part of the verdict" in t.document()
    assert [line.op for line in t.kinks] == ["max"] and "at a kink" in t.document()
    assert not derive.trace(r"\max(x, y)", "x=1,y=2").kinks


# -- output -------------------------------------------------------------------------------------------------
def test_markdown_and_json():
    t = textbook()
    md = t.markdown()
    assert "| line | operation | value |" in md and "**2 passes**" in md and "**1 reverse pass**" in md
    data = json.loads(t.to_json())
    assert data["value"] == pytest.approx(11.652071455223084)
    assert data["gradient"] == pytest.approx({"x_1": 5.5, "x_2": 1.7163378145367738})
    assert data["forward"]["passes"] == 2 and data["reverse"]["passes"] == 1 and data["consistency"]["passed"]
    assert [m["method"] for m in data["methods"]][-2:] == ["forward mode", "reverse mode"]


def test_markdown_table_cells_survive_absolute_values():
    md = derive.trace(r"|x - y| + x", "x=1,y=3").markdown()
    rows = [line for line in md.splitlines() if line.startswith("| $v_{")]
    assert rows and all(line.count("|") == rows[0].count("|") for line in rows if "\\bar" not in line)
    assert r"\vert" in md


def test_document_compiles_with_pdflatex():
    require_pdflatex()
    for t in (textbook(), derive.trace(EXAMPLES / "relu_skip.yaml", "x=1,y=2,w=0.5,v=-1"),
              derive.trace(EXAMPLES / "one_layer_vector.yaml", ",".join(f"{n}=0.5" for n in
                                                                         ("x_1", "x_2", "x_3", "y", "w_1", "w_2", "w_3")))):
        tex = t.document()
        assert r"\begin{tikzpicture}" in tex and r"\begin{longtable}" in tex
        assert compile_pdf(tex)[:4] == b"%PDF"


def test_graph_labels_partials_and_adjoints():
    t = textbook()
    source = dot_source(t, adjoints=True)
    assert source.count("->") == sum(len(line.operands) for line in t.lines)
    assert "v₅ = v₄ - v₃" in source and "← -0.284" in source  # the adjoint flowing back into sin
    assert r"\leftarrow" in tikz(t, adjoints=True) and r"\leftarrow" not in tikz(t)


def test_graph_drawn_by_graphviz():
    if shutil.which("dot") is None:
        if os.environ.get("DERIVE_REQUIRE_PDFLATEX") == "1":
            pytest.fail("Graphviz dot is required (DERIVE_REQUIRE_PDFLATEX=1) but not installed")
        pytest.skip("Graphviz dot is not installed (Debian: graphviz)")
    t = textbook()
    assert graph_file(t, ".png")[:8] == b"\x89PNG\r\n\x1a\n"
    assert t.graph(".dot").startswith("digraph") and b"<svg" in t.graph(".svg")
    svg = graph_file(t, ".svg", adjoints=True)
    assert b"<svg" in svg and b"11.652" in svg


def test_method_comparison_measures_errors():
    methods = {m.method: m for m in compare_methods(textbook())}
    assert methods["forward difference"].cost == "3 evaluations of f"
    assert methods["central difference"].cost == "4 evaluations of f"
    assert methods["forward mode"].cost == "2 forward passes"
    assert 1e-12 < methods["central difference"].relative_error < methods["forward difference"].relative_error < 1e-6
    for exact_method in ("manual analytic", "backpropagation"):
        assert methods[exact_method].relative_error < 1e-15
    for table in ("forward mode", "reverse mode"):
        assert methods[table].relative_error < 1e-40


def test_manual_analytic_for_a_problem_is_derives_derivation():
    t = derive.trace(EXAMPLES / "one_layer_scalar.yaml", "x=1.5,y=1,w=-0.5")
    analytic = next(m for m in compare_methods(t) if m.method == "manual analytic")
    assert analytic.relative_error < 1e-14 and len(analytic.values) == 3


def test_forward_mode_only_shows_no_adjoints():
    tex = derive.trace(TEXTBOOK, "x1=2,x2=5", mode="forward").document()
    assert "Forward mode" in tex and "Reverse mode" not in tex and r"\leftarrow" not in tex
    assert "Consistency check" in tex  # the check always runs both modes
