"""The numeric check: it passes right gradients, fails wrong ones, and steers clear of kinks and NaNs."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import derive
from derive.check.gradient_check import band, central_difference_check, judged_band, relative_error
from derive.core.errors import CheckError
from derive.core.network import make_symbol

x, w = make_symbol("x"), make_symbol("w")


def test_bands():
    assert [band(e) for e in (0.0, 1e-8, 1e-5, 1e-3, 0.5)] == ["good", "good", "acceptable", "suspicious", "wrong"]
    assert relative_error(0.0, 0.0) == 0.0 and relative_error(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    # within its error budget an entry is good or acceptable whatever its relative error, beyond it never
    assert [judged_band(e, True) for e in (1e-8, 1e-5, 0.5)] == ["good", "acceptable", "acceptable"]
    assert [judged_band(e, False) for e in (1e-12, 1e-3, 0.5)] == ["suspicious", "suspicious", "wrong"]


def test_a_zero_entry_against_round_off_passes():
    """Both essentially zero (derived 0, numerical 1e-22 of round-off) agree: the budget, not a fixed floor."""
    report = central_difference_check(x * w**2, {w: 2 * x * w}, [w, x], points={"w": 0, "x": 1.5})
    (entry,) = report.entries
    assert report.passed and entry.analytic == 0 and entry.absolute_error <= entry.budget.total


def test_a_wrong_gradient_fails_with_the_entry_named():
    loss = sympy.sin(w * x)
    report = central_difference_check(loss, {w: 2 * x * sympy.cos(w * x)}, [w, x], points=3)
    assert not report.passed and report.verdict == "fail"
    assert {e.band for e in report.entries} == {"wrong"}
    assert "FAIL" in report.summary() and "d/dw" in report.summary()


def test_a_sign_error_fails():
    net = derive.Network()
    xx, y, ww = net.symbols("x y w")
    yhat = net.define("yhat", derive.sigmoid(ww * xx))
    L = net.define("L", (y - yhat) ** 2 / 2)
    d = net.gradient(L, ww)
    wrong = -d.expanded()
    report = central_difference_check(net.expand(L), {ww: wrong}, [xx, y, ww], points=3)
    assert not report.passed
    assert d.check().passed


def test_relu_points_near_the_kink_are_redrawn_not_failed():
    net = derive.Network()
    xx, ww = net.symbols("x w")
    L = net.define("L", derive.relu(ww * xx) + derive.relu(ww - 0.001))
    report = net.gradient(L, ww).check(points=20, seed=5)
    assert report.passed
    for e in report.entries:
        assert abs(e.point["w"] * e.point["x"]) >= 1e-3


def test_domain_errors_are_redrawn_and_reported():
    net = derive.Network()
    (xx,) = net.symbols("x")
    L = net.define("L", sympy.log(xx) * xx)
    report = net.gradient(L, xx).check(points=5, seed=0)
    assert report.passed
    assert all(e.point["x"] > 0 for e in report.entries)
    assert report.notes and "redrawn" in report.notes[0]


def test_no_valid_point_is_a_clear_error():
    net = derive.Network()
    (xx,) = net.symbols("x")
    L = net.define("L", sympy.log(-xx**2 - 1))
    with pytest.raises(CheckError, match="no sample point"):
        net.gradient(L, xx).check()


def test_large_inputs_use_stable_sigmoid():
    from derive.check.numeric import evaluate
    u = make_symbol("u")
    with np.errstate(over="raise"):
        assert evaluate(derive.sigmoid(u), {u: -800.0}) == pytest.approx(0.0)
        assert evaluate(derive.softplus(u), {u: 800.0}) == pytest.approx(800.0)
