"""Behaviour a first review found wrong, kept right: each test names the input that once misbehaved."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import sympy

import derive
from derive import Problem
from derive.core import steps as st
from derive.write.output import compile_pdf, write_atomically
from derive.read.parse import parse_latex
from derive.core.network import make_symbol
from derive.core.printing import latex

from conftest import agree_at_random_points, require_pdflatex


def problem(text: str) -> Problem:
    return Problem.from_text(text, "p.yaml")


@pytest.mark.parametrize("name, latex_name", [("gamma", r"\gamma"), ("Gamma", r"\Gamma"), ("pi", r"\pi"),
                                               ("e", "e"), ("I", "I")])
def test_declared_constant_names_are_symbols(name, latex_name):
    s = make_symbol(name)
    w = make_symbol("w")
    assert parse_latex(rf"{latex_name} w^2", {name: s, "w": w}) == s * w**2


@pytest.mark.parametrize("written, name", [("e_1", "e_1"), ("e_{12}", "e_12"), ("E_2", "E_2"), ("I_1", "I_1"),
                                           ("I_{k}", "I_k")])
def test_subscripted_e_and_i_are_names_not_constants(written, name):
    """The grammar reads e, E and I as constants: e_1 failed to read, and I_1 became the imaginary unit."""
    s, w = make_symbol(name), make_symbol("w")
    assert parse_latex(rf"\frac{{{written}}}{{{written} + w}}", {name: s, "w": w}) == s / (s + w)


def test_undeclared_subscripted_e_is_an_unknown_symbol():
    with pytest.raises(derive.LatexError, match="unknown symbol e_1"):
        parse_latex(r"e_1 w", {"w": make_symbol("w")})


def test_undeclared_gamma_is_unknown_not_eulers_constant():
    with pytest.raises(derive.LatexError, match="unknown symbol gamma"):
        parse_latex(r"\gamma w", {"w": make_symbol("w")})


def test_weight_decay_gradient_with_respect_to_lambda_like_symbol():
    p = problem("symbols: [x, y, w, \\gamma]\ndefinitions:\n  - L = \\frac12 (y - w x)^2 + \\gamma w^2\n"
                "loss: L\nwrt: [w, \\gamma]\n")
    gamma = p.network.symbol("gamma")
    assert p.solve(["gamma"]).derivations[0].result == p.network.symbol("w") ** 2
    assert p.solve().check().passed
    assert gamma in p.network.definitions[p.loss].free_symbols


def test_same_named_symbols_are_one_symbol():
    net = derive.Network()
    x, w = net.symbols("x w")
    L = net.define("L", (sympy.Symbol("w") * x - 1) ** 2)
    d = net.gradient(L, sympy.Symbol("w"))
    assert sympy.expand(d.result - 2 * x * (w * x - 1)) == 0 and d.result.free_symbols == {x, w}
    assert d.check().passed


def test_alias_definition_and_rule_less_steps_render_and_compile():
    p = problem("symbols: [x, y, w, b]\ndefinitions:\n  - h = \\sigma(w x)\n  - \\hat{y} = h\n"
                "  - L = \\frac{1}{2}(\\hat{y} - y)^2\nloss: L\nwrt: [w, h, b, w]\n")
    solution = p.solve()
    assert [d.wrt.name for d in solution.derivations] == ["w", "h", "b"]
    tex = solution.document()
    assert "directly" in tex
    assert "This gradient was derived above" in tex
    assert r"does not depend on \(b\)" in tex
    assert "The remaining factor, from the definition of" in tex
    require_pdflatex()
    assert compile_pdf(tex).startswith(b"%PDF")


def test_gradient_of_the_loss_with_respect_to_itself_is_refused():
    p = Problem.from_yaml("examples/one_layer_scalar.yaml")
    with pytest.raises(derive.ProblemError, match="loss itself"):
        p.solve(["L"])


def test_indicators_print_with_mathbf_and_ties_route_to_the_first():
    u, v = make_symbol("u"), make_symbol("v")
    assert latex(sympy.Heaviside(u, 0)) == r"\mathbf{1}[u > 0]"
    assert latex(sympy.Heaviside(u, 1)) == r"\mathbf{1}[u \geq 0]"
    from derive.core.rules import RULES
    max_rule = next(r for r in RULES if r.name == "max rule")
    partials = max_rule.partials(sympy.Max(u, v), (u, v))
    at_tie = [p.subs({u: 1, v: 1}) for p in partials]
    assert at_tie == [1, 0]


def test_accumulation_marks_explicit_partials_of_definitions_not_only_the_loss():
    p = Problem.from_yaml("examples/relu_skip.yaml")
    solution = p.solve(["w"])
    acc = next(s for s in solution.steps if isinstance(s, st.Accumulate))
    yhat = p.network.symbol("yhat")
    assert dict(zip(acc.through, acc.explicit))[yhat] is True
    assert r"\left.\frac{\partial \hat{y}}{\partial w}\right|_{\text{explicit}}" in solution.latex().split("sum over paths")[0]


def deep_problem(order: str) -> Problem:
    return problem("symbols: [x, y, w_1, w_2, w_3]\ndefinitions:\n  - h_1 = \\tanh(w_1 x)\n"
                   "  - h_2 = \\sigma(w_2 h_1)\n  - \\hat{y} = \\sigma(w_3 h_2)\n  - L = (\\hat{y} - y)^2\n"
                   f"loss: L\nwrt: [{order}]\n")


def test_deltas_are_numbered_from_the_input_side_whatever_the_wrt_order():
    for order in ("w_1, w_2, w_3", "w_3, w_2, w_1"):
        tex = deep_problem(order).solve().latex()
        assert r"\frac{\partial L}{\partial w_{1}} &= \Delta^{(1)} x" in tex
        assert r"\frac{\partial L}{\partial w_{3}} &= \Delta^{(3)} h_{2}" in tex


def test_a_user_symbol_delta_does_not_collide_with_the_delta_term():
    p = problem("symbols: [x, y, w, \\Delta]\ndefinitions:\n  - \\hat{y} = \\sigma(w x + \\Delta)\n"
                "  - L = (\\hat{y} - y)^2\nloss: L\nwrt: [w]\n")
    tex = p.solve().latex()
    assert r"\delta &= " in tex and r"\Delta &= " not in tex


def test_json_names_and_defines_each_delta():
    data = json.loads(deep_problem("w_1, w_2, w_3").solve().to_json())
    assert [d["symbol_latex"] for d in data["deltas"]] == [r"\Delta^{(3)}", r"\Delta^{(2)}", r"\Delta^{(1)}"] or \
        sorted(d["symbol_latex"] for d in data["deltas"]) == [r"\Delta^{(1)}", r"\Delta^{(2)}", r"\Delta^{(3)}"]
    compact = {g["variable"]: g["compact_latex"] for g in data["gradients"]}
    assert compact["w_1"] == r"\Delta^{(1)} x" and compact["w_2"] == r"\Delta^{(2)} h_{1}"


def test_one_half_written_with_a_slash_is_a_half():
    x, y, w = (make_symbol(n) for n in "xyw")
    assert parse_latex("1/2 (y - w x)^2", {"x": x, "y": y, "w": w}) == (y - w * x) ** 2 / 2


def test_a_tab_from_double_quoted_yaml_gets_a_hint():
    with pytest.raises(derive.LatexError, match="single quotes"):
        problem('symbols: [x, w]\ndefinitions:\n  - "L = \\tanh(w x)"\nloss: L\nwrt: [w]\n')


@pytest.mark.parametrize("text, message", [
    (r"\operatorname{gelu}(w x)", "undefined function gelu"),
    (r"\sigma(w x", r"cannot read LaTeX '\sigma(w x'"),
])
def test_latex_errors_speak_the_users_notation(text, message):
    with pytest.raises(derive.LatexError) as caught:
        parse_latex(text, {"w": make_symbol("w"), "x": make_symbol("x")})
    assert message in str(caught.value) and "arcsinh" not in str(caught.value)


def test_written_files_get_the_usual_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomically(tmp_path / "a.tex", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.tex").stat().st_mode) == 0o644


def test_upper_case_suffix_is_accepted(tmp_path):
    run = subprocess.run([sys.executable, "-m", "derive", "solve",
                          os.path.abspath("examples/one_layer_scalar.yaml"), "-o", "OUT.MD"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "OUT.MD").read_text().startswith("# ")


def test_document_without_check_runs_no_check(monkeypatch):
    d = Problem.from_yaml("examples/one_layer_scalar.yaml").solve().derivations[0]
    import derive.solve.derivation as module
    monkeypatch.setattr(module, "central_difference_check", lambda *a, **k: pytest.fail("the check ran"))
    assert d.document(check=False).startswith(r"\documentclass")
    assert d.markdown(check=False).startswith("# ")


def test_plain_sympy_latex_uses_the_registry_names():
    u = sympy.Symbol("u")
    assert sympy.latex(derive.sigmoid(u)) == r"\sigma\left(u\right)"
    assert sympy.latex(derive.relu(u)) == r"\operatorname{ReLU}\left(u\right)"
    assert float(sympy.N(derive.sigmoid(1))) == pytest.approx(0.7310585786300049)


def test_redraw_notes_are_merged_when_checking_intermediates():
    p = problem("symbols: [x, w]\ndefinitions:\n  - h = \\log(x) w\n  - L = h^2\nloss: L\nwrt: [h, w]\n")
    report = p.solve().check(points=4)
    assert len(report.notes) <= 1


def test_check_that_cannot_sample_names_the_loss_definition():
    p = problem("symbols: [x, w]\ndefinitions:\n  - L = \\log(-w^2 - 1) x\nloss: L\nwrt: [w]\n")
    with pytest.raises(derive.CheckError, match="p.yaml, line 3, definition of L"):
        p.solve().check()


# -- scalar intermediates of matrix networks ---------------------------------------------------------------
# A scalar named from a 1x1 product (e = u^T x, held as tr(u^T x)) gave dL/du = 0: SymPy's own transpose of
# G x^T also transposed the placeholder dL/de, a Derivative of one symbol by another, and so evaluated it to 0.

def _scalar_intermediate_networks():
    from sympy import MatrixSymbol, Rational
    from derive.core import matrix_ops as mo

    def build(kind):
        net = derive.Network(title=kind)
        u, x = net.declare(MatrixSymbol("u", 2, 1)), net.declare(MatrixSymbol("x", 2, 1))
        A = net.declare(MatrixSymbol("A", 2, 2))
        (y,) = net.symbols("y")
        if kind == "inner product":
            e = net.define("e", mo.as_scalar(mo.matmul(mo.transpose(u), x)))
        elif kind == "quadratic form":
            e = net.define("e", mo.as_scalar(mo.matmul(mo.transpose(x), A, u)))
        else:
            e = net.define("e", mo.trace(mo.matmul(A, u, mo.transpose(x))))
        h = net.define("h", derive.sigmoid(e) * e)
        L = net.define("L", Rational(1, 2) * (y - h) ** 2)
        return net, L, [u, A, x]

    return build


@pytest.mark.parametrize("kind", ["inner product", "quadratic form", "trace"])
def test_scalar_intermediate_of_matrices_has_the_right_gradient(kind):
    from matrix_oracle import assert_matches_oracle

    net, L, params = _scalar_intermediate_networks()(kind)
    solution = net.gradients(L, params)
    assert_matches_oracle(solution)
    assert solution.check().passed
