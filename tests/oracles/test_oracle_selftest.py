"""The oracle tests catch a wrong rule: one registry entry is replaced by a subtly wrong one, and the same
comparison functions the oracle tests use report the mismatch (and report nothing with the right rule).

Scalar rules (`derive.core.rules.RULES`): the sigmoid's local derivative sigma (1 - sigma) off by a factor
1 + 1e-6, and tanh's 1 - tanh^2 likewise, errors that a 1e-7 band of relative error would call good.
Matrix rules (`derive.core.matrix_rules.MATRIX_RULES`): the determinant's det(X) X^-1 for det(X) X^-T (right for
symmetric X only), the softmax's VJP without its row sums, the entrywise sigmoid's VJP off by 1 + 1e-6.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sympy import Rational

from derive.core import matrix_rules as matrix_rules
from derive.core import rules as rules
from derive.core import matrix_ops as mo

import test_oracle_autograd as mlps
import test_oracle_cookbook as cookbook
import test_oracle_problems as problems
import test_oracle_sympy_derivatives as sympy_cases

NEARLY = Rational(1000001, 1000000)  # 1 + 1e-6


def _scalar_rule(monkeypatch, name: str, partials) -> None:
    monkeypatch.setattr(rules, "RULES", tuple(replace(r, partials=partials) if r.name == name else r for r in rules.RULES))


def _matrix_rule(monkeypatch, name: str, vjp) -> None:
    entries = matrix_rules.MATRIX_RULES
    assert name in {r.name for r in entries}, name
    monkeypatch.setattr(matrix_rules, "MATRIX_RULES", tuple(replace(r, vjp=vjp) if r.name == name else r for r in entries))


def _problem_files(*stems):
    return [(stem, problems.PROBLEMS / f"{stem}.yaml", problems.ORACLES[stem]) for stem in stems]


def _mlp_cases(predicate, count=5):
    chosen = [c for c in mlps.ORDINARY if predicate(c)][:count]
    assert len(chosen) == count
    return chosen


def _uses(case, name):
    return name in (*case.activations, case.output)


@pytest.mark.parametrize("wrong", [False, True], ids=["right rule", "wrong rule"])
def test_a_wrong_scalar_sigmoid_rule_is_caught(monkeypatch, wrong):
    files = _problem_files("swish", "focal_loss")
    if wrong:
        _scalar_rule(monkeypatch, "sigmoid rule", lambda out, ops: (NEARLY * out * (1 - out),))
    found = {stem: problems.compare_problem(path, oracle) for stem, path, oracle in files}
    assert all(found.values()) if wrong else not any(found.values()), found


@pytest.mark.parametrize("wrong", [False, True], ids=["right rule", "wrong rule"])
def test_a_wrong_scalar_tanh_rule_is_caught(monkeypatch, wrong):
    files = _problem_files("rnn_scalar")
    if wrong:
        _scalar_rule(monkeypatch, "tanh rule", lambda out, ops: (NEARLY * (1 - out**2),))
    found = {stem: problems.compare_problem(path, oracle) for stem, path, oracle in files}
    assert all(found.values()) if wrong else not any(found.values()), found


@pytest.mark.parametrize("wrong", [False, True], ids=["right rule", "wrong rule"])
def test_a_transposed_determinant_rule_is_caught(monkeypatch, wrong):
    identities = [i for i in cookbook.IDENTITIES if i.id.startswith(("(49)", "(51)", "(58)", "(60)"))]
    cases = [c for c in sympy_cases.CASES if "det(X^-1)" in c.id]
    assert len(identities) == 4 and len(cases) == 1
    if wrong:
        _matrix_rule(monkeypatch, "determinant rule", lambda G, node, operands, i: mo.matmul(
            mo.as_scalar(G), mo.matmul(node, mo.inverse(operands[0]))))
    found = [cookbook.compare(i.latex, i.shapes, i.wrt, i.loss, i.gradient, i.symmetric) for i in identities]
    found += [sympy_cases.compare_case(c) for c in cases]
    assert all(found) if wrong else not any(found), found


@pytest.mark.parametrize("wrong", [False, True], ids=["right rule", "wrong rule"])
def test_a_softmax_rule_without_its_row_sums_is_caught(monkeypatch, wrong):
    cases = _mlp_cases(lambda c: c.output == "softmax" and c.loss in ("squared", "mse"), count=4)
    files = _problem_files("attention", "kl_softmax")
    if wrong:
        _matrix_rule(monkeypatch, "softmax rule", lambda G, node, operands, i: mo.hadamard(node, G))
    found = [mlps.compare_with_autograd(c) for c in cases]
    found += [problems.compare_problem(path, oracle) for _, path, oracle in files]
    assert all(found) if wrong else not any(found), found


@pytest.mark.parametrize("wrong", [False, True], ids=["right rule", "wrong rule"])
def test_a_slightly_wrong_entrywise_sigmoid_rule_is_caught(monkeypatch, wrong):
    cases = _mlp_cases(lambda c: _uses(c, "sigmoid"))
    files = _problem_files("skip_connection", "glu")
    if wrong:
        prime = mo.entrywise_class("sigmoid", prime=True)
        _matrix_rule(monkeypatch, "entrywise sigmoid rule", lambda G, node, operands, i: mo.scale(
            NEARLY, mo.hadamard(G, prime(operands[0]))))
    found = [mlps.compare_with_autograd(c) for c in cases]
    found += [problems.compare_problem(path, oracle) for _, path, oracle in files]
    assert all(found) if wrong else not any(found), found
