"""Every check method on scalar and matrix networks: right gradients pass, wrong ones fail, kinks are named,
steps suit the dtype, the sweep shows each difference's order, the comparison measures every method."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy

import derive
from derive.check.gradient_check import METHODS, check_gradients
from derive.core.errors import CheckError
from derive.core.network import make_symbol

from conftest import require_pdflatex

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FLOAT_METHODS = [m for m in METHODS if m != "exact"]
x, y, w = make_symbol("x"), make_symbol("y"), make_symbol("w")


def sigmoid_unit():
    net = derive.Network()
    xx, yy, ww = net.symbols("x y w")
    L = net.define("L", (yy - derive.sigmoid(ww * xx)) ** 2 / 2)
    return net, L, ww


def solved(name: str):
    return derive.Problem.from_yaml(EXAMPLES / f"{name}.yaml").solve()


@pytest.mark.parametrize("method, example", [
    (method, example) for method in METHODS
    for example in ["one_layer_scalar", "one_layer_vector", "two_layer_batch", "mlp_softmax"]
    if (method, example) != ("exact", "mlp_softmax")])  # 3 s a point; the exact matrix case is one_layer_batch below
def test_every_method_passes_the_examples(method, example):
    report = solved(example).check(points=2, method=method)
    assert report.passed, report.summary()
    assert report.entries and report.points == 2


@pytest.mark.parametrize("method", METHODS)
def test_every_method_fails_a_sign_error(method):
    net, L, ww = sigmoid_unit()
    wrong = -net.gradient(L, ww).expanded()
    report = check_gradients(net.expand(L), {ww: wrong}, sorted(net.inputs.values(), key=str), method, points=3)
    assert not report.passed and report.failures()
    named = "failed: direction 1 at point 1" if method == "directional" else "failed: dL/dw at point 1"
    assert named in report.summary()


@pytest.mark.parametrize("method", FLOAT_METHODS)
def test_every_float_method_fails_a_wrong_matrix_entry(method):
    solution = solved("two_layer_batch")
    inputs = sorted(solution.network.inputs.values(), key=lambda s: s.name)
    gradients = {d.wrt: d.expanded() for d in solution.derivations}
    W2 = solution.network.symbol("W^{(2)}")
    bump = sympy.Matrix(4, 1, lambda i, j: sympy.Rational(1, 10) if i == 2 else 0)
    gradients[W2] = gradients[W2] + sympy.ImmutableMatrix(bump)  # dL/dW2[2,0] off by 0.1
    report = check_gradients(solution.network.expand(solution.loss), gradients, inputs, method, points=1)
    assert not report.passed
    if method != "directional":
        assert {e.label for e in report.failures()} == {"W^{(2)}[2,0]"}


def test_exact_check_finds_what_floats_cannot():
    net, L, ww = sigmoid_unit()
    right = net.gradient(L, ww).expanded()
    slightly_wrong = {ww: right + sympy.Rational(1, 10**14) * x}
    loss = net.expand(L)
    assert check_gradients(loss, slightly_wrong, [ww, x, y], "central").passed  # 1e-14 is below float noise
    exact = check_gradients(loss, slightly_wrong, [ww, x, y], "exact")
    assert not exact.passed and "wrong" in {e.band for e in exact.entries}


def test_exact_check_is_rational_where_the_loss_is():
    L = (w * x - y) ** 2
    report = check_gradients(L, {w: 2 * x * (w * x - y)}, [w, x, y], "exact", points=4)
    assert {e.band for e in report.entries} == {"exact"} and report.dtype == "exact"
    transcendental = check_gradients(sympy.exp(w * x), {w: x * sympy.exp(w * x)}, [w, x], "exact")
    assert {e.band for e in transcendental.entries} == {"good"}


def test_exact_check_of_a_matrix_network_uses_entries():
    report = solved("one_layer_batch").check(method="exact", points=1)
    assert report.passed and len(report.entries) == 3
    assert [e.label for e in report.entries] == ["W[0,0]", "W[1,0]", "W[2,0]"]


def test_complex_step_reaches_machine_precision_and_refuses_kinks():
    net, L, ww = sigmoid_unit()
    report = net.gradient(L, ww).check(method="complex step", points=5)
    assert max(e.relative_error for e in report.entries) < 1e-13
    with pytest.raises(CheckError, match="not complex-analytic"):
        solved("relu_skip").check(method="complex step")


def test_complex_step_on_a_matrix_network():
    report = solved("mlp_softmax").check(method="complex step", points=1)
    assert max(e.relative_error for e in report.entries) < 1e-12, report.summary()


def test_sweep_shows_each_orders():
    report = solved("two_layer_batch").check(points=1)
    orders = {s.method: s.order for s in report.sweep}
    assert orders["forward"] == pytest.approx(1, abs=0.2)
    assert orders["central"] == pytest.approx(2, abs=0.2)
    assert orders["richardson"] == pytest.approx(4, abs=0.5)
    assert all(s.consistent for s in report.sweep)
    assert min(report.sweep[0].steps) < 1e-13 and max(report.sweep[0].steps) == pytest.approx(0.1)


def test_sweep_of_a_wrong_gradient_does_not_converge():
    net, L, ww = sigmoid_unit()
    wrong = 1.1 * net.gradient(L, ww).expanded()
    report = check_gradients(net.expand(L), {ww: wrong}, [ww, x, y], points=1)
    central = next(s for s in report.sweep if s.method == "central")
    assert central.order is not None and not central.consistent
    assert "NOT as expected" in report.summary()


def test_at_a_kink_the_one_sided_derivatives_are_reported():
    report = solved("relu_skip").check(points={"w": 0, "x": 1.5, "y": 0.3, "v": 0.7})
    assert report.passed
    (kink,) = report.kinks()
    # L = (v ReLU(w x) + w x - y)^2 / 2 at w = 0: left (w x - y) x = -0.45, right (-y)(v x + x) = -0.765
    assert kink.left == pytest.approx(-0.45, rel=1e-7) and kink.right == pytest.approx(-0.765, rel=1e-7)
    assert kink.band == "not differentiable" and kink.analytic == pytest.approx(-0.45)
    assert "not differentiable at w = 0" in report.summary()


def test_a_wrong_gradient_at_a_kink_fails():
    loss = sympy.Abs(w - 1) * x
    assert check_gradients(loss, {w: x * sympy.sign(w - 1)}, [w, x], points={"w": 1, "x": 2}).passed
    report = check_gradients(loss, {w: 5 * x}, [w, x], points={"w": 1, "x": 2})
    assert not report.passed and report.failures()[0].left == pytest.approx(-2)


def test_steps_shrink_near_a_kink():
    report = solved("relu_skip").check(points={"w": 1e-9, "x": 1.5, "y": 0.3, "v": 0.7})
    assert report.passed and any("shrunk" in n for n in report.notes)


def test_matrix_relu_at_a_kink():
    net = derive.Network()
    from sympy import MatrixSymbol
    from derive.core import matrix_ops as mo
    X, W = net.declare(MatrixSymbol("X", 1, 2)), net.declare(MatrixSymbol("W", 2, 1))
    L = net.define("L", mo.sum_entries(mo.apply("relu", mo.matmul(X, W))))
    report = net.gradient(L, W).check(points={"X": [[1.0, 2.0]], "W": [[2.0], [-1.0]]})  # X W = 0
    assert report.passed and len(report.kinks()) == 2
    assert sorted((e.left, e.right) for e in report.kinks()) == [
        pytest.approx((0.0, 1.0), abs=1e-8), pytest.approx((0.0, 2.0), abs=1e-8)]


def test_steps_below_the_resolution_are_refused():
    net, L, ww = sigmoid_unit()
    d = net.gradient(L, ww)
    with pytest.raises(CheckError, match="below float64's resolution"):
        d.check(step=1e-17)
    with pytest.raises(CheckError, match="below float32's resolution"):
        d.check(step=1e-8, dtype="float32")
    with pytest.raises(CheckError, match="unknown check method"):
        d.check(method="secant")


def test_float32_uses_its_own_steps_and_bands():
    report = solved("two_layer_batch").check(dtype="float32")
    assert report.passed and report.dtype == "float32"
    assert report.to_dict()["bands"][0] == [1e-3, "good"]
    assert max(e.relative_error for e in report.entries) > 1e-7  # float32 really was used


def test_points_given_explicitly():
    net, L, ww = sigmoid_unit()
    d = net.gradient(L, ww)
    report = d.check(points=[{"w": 0.5, "x": 1, "y": 0}, {"w": -1}])
    assert report.points == 2 and report.sample_points[0] == {"w": 0.5, "x": 1.0, "y": 0.0}
    assert any("x, y drawn at random" in n for n in report.notes)
    with pytest.raises(CheckError, match="q is not an input"):
        d.check(points={"q": 1})
    with pytest.raises(CheckError, match="must have shape"):
        solved("one_layer_batch").check(points={"W": [1, 2]})


def test_a_domain_error_names_the_expression_and_point():
    net = derive.Network()
    (xx,) = net.symbols("x")
    L = net.define("L", sympy.log(xx) * xx)
    with pytest.raises(CheckError, match=r"log\(x\) is nan \(outside its domain\) at x = -1"):
        net.gradient(L, xx).check(points={"x": -1})


def test_directional_check_names_directions():
    report = solved("two_layer_batch").check(method="directional", probes=4, points=1)
    assert [e.label for e in report.entries] == [f"direction {i}" for i in range(1, 5)]


def test_comparison_measures_every_method_against_the_exact_gradient():
    report = solved("one_layer_vector").check(points=1, compare=True)
    rows = {r.method.split(" (")[0].split(",")[0]: r for r in report.comparison}
    assert report.reference.startswith("sympy.diff")
    assert rows["forward difference"].max_relative_error > rows["central difference"].max_relative_error
    assert rows["central difference"].max_relative_error > rows["Richardson extrapolation of central differences"].max_relative_error
    assert rows["complex step"].max_absolute_error < 1e-14
    assert rows["forward difference"].evaluations == "4 loss evaluations"  # 3 weights + the base point
    assert rows["central difference"].evaluations == "6 loss evaluations"
    names = " ".join(r.method for r in report.comparison)
    assert "reverse mode" in names and "exact" in names and "directional" in names
    assert "complex step" in report.comparison_text()


def test_document_with_sweep_and_comparison_compiles():
    problem = derive.Problem.from_yaml(EXAMPLES / "relu_skip.yaml")
    tex = problem.solve().document(check_extras=("sweep", "comparison"))
    assert r"\usepackage{pgfplots}" in tex and r"\begin{loglogaxis}" in tex and "complex step" in tex
    assert r"\usepackage{pgfplots}" not in problem.solve().document()
    require_pdflatex()
    from derive.write.output import compile_pdf
    assert compile_pdf(tex).startswith(b"%PDF")


def test_float32_evaluation_keeps_its_precision():
    from derive.check.numeric import MatrixEvaluator, compile_expression
    f = compile_expression(derive.sigmoid(w) + derive.softplus(w), [w])
    assert f(np.float32(0.3)).dtype == np.float32
    from sympy import MatrixSymbol
    from derive.core import matrix_ops as mo
    Z = MatrixSymbol("Z", 2, 2)
    value = MatrixEvaluator({Z: np.ones((2, 2))}, dtype=np.float32)(mo.apply("sigmoid", Z))
    assert value.dtype == np.float32


def test_forward_mode_reproduces_the_known_example():
    """Baydin et al. (JMLR 2018): f = ln x1 + x1 x2 - sin x2 at (2, 5): df/dx1 = 5.5, df/dx2 = 1.716."""
    from derive.check.forward_mode import forward_mode_gradient
    x1, x2 = make_symbol("x1"), make_symbol("x2")
    f = sympy.log(x1) + x1 * x2 - sympy.sin(x2)
    gradient, passes = forward_mode_gradient(f, [x1, x2], [x1, x2], np.array([2.0, 5.0]))
    assert passes == 2
    assert gradient == pytest.approx([1 / 2 + 5, 2 - np.cos(5.0)], rel=1e-15)  # (5.5, 1.7163378145367738)


def test_forward_mode_row_of_the_comparison():
    rows = {r.method: r for r in solved("relu_skip").check(points=1, compare=True).comparison}
    forward = rows["forward mode (tangents from the local derivatives)"]
    assert forward.max_relative_error < 1e-14 and forward.evaluations == "2 forward passes"
    matrix = {r.method: r for r in solved("one_layer_batch").check(points=1, compare=True).comparison}
    assert "reverse mode" in matrix["forward mode (tangents from the local derivatives)"].note
