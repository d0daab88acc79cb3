"""Table-driven over the matrix rule registry: each entry's example, differentiated by the matrix engine,
agrees entry by entry with `sympy.diff` of the explicit loss, and actually uses that entry."""

import pytest
from sympy import Symbol
from sympy.matrices.expressions import MatrixSymbol

from derive.core.matrix_rules import MATRIX_RULES
from derive import Network
from derive.solve.derivation import Solution

from matrix_oracle import assert_matches_oracle

N = Symbol("n", integer=True, positive=True)


def example_symbols():
    return {"A": MatrixSymbol("A", 3, 3), "B": MatrixSymbol("B", 3, 3), "X": MatrixSymbol("X", N, 3),
            "W": MatrixSymbol("W", 3, 2), "x": MatrixSymbol("x", 3, 1), "y": Symbol("y", real=True)}


def solved_example(rule):
    """The rule's example as a network with loss L, differentiated with respect to every input."""
    symbols = example_symbols()
    loss_expr = rule.example(symbols)
    network = Network([s for s in symbols.values() if loss_expr.has(s)])
    loss = network.define("L", loss_expr)
    return network, loss, Solution.derive(network, loss, list(network.inputs.values()))


@pytest.mark.parametrize("rule", MATRIX_RULES, ids=lambda r: r.name)
def test_rule_example_matches_sympy_diff(rule):
    network, loss, solution = solved_example(rule)
    used = {name for step in solution.steps for name in getattr(step, "rules", ())}
    assert rule.name in used, f"the example {network.definitions[loss]} does not use the {rule.name}"
    assert_matches_oracle(solution)


@pytest.mark.parametrize("rule", MATRIX_RULES, ids=lambda r: r.name)
def test_numpy_evaluation_agrees_with_explicit_entries(rule):
    """The checker's NumPy evaluation of each example's loss and gradients equals the explicit entries."""
    import numpy as np
    import sympy

    from derive.check.gradient_check import explicit_instance
    from derive.check.numeric import MatrixEvaluator

    network, loss, solution = solved_example(rule)
    inputs = sorted(network.inputs.values(), key=lambda s: s.name)
    gradients = {d.wrt: d.expanded() for d in solution.derivations}
    scalar_loss, entries, entry_inputs, _ = explicit_instance(network.expand(loss), gradients, inputs, 2)
    rng = np.random.default_rng(3)
    point = {e: float(rng.uniform(-1, 1)) for e in entry_inputs}
    values = {N: 2}
    for s in inputs:
        if isinstance(s, MatrixSymbol):
            rows, cols = (int(sympy.sympify(d).subs(N, 2)) for d in s.shape)
            values[s] = np.array([[point[Symbol(f"{s.name}[{i},{j}]", real=True)] for j in range(cols)]
                                  for i in range(rows)])
        else:
            values[s] = point[s]
    evaluate = MatrixEvaluator(values)
    assert np.isclose(float(np.asarray(evaluate(network.expand(loss))).reshape(-1)[0]),
                      float(scalar_loss.xreplace(point)), rtol=1e-10)
    for d in solution.derivations:
        numeric = np.asarray(evaluate(d.expanded()), dtype=float).reshape(-1)
        exact = [float(entries[e].xreplace(point)) for e in entries if str(e).startswith(f"{d.wrt.name}[")
                 or e == d.wrt]
        assert np.allclose(numeric, exact, rtol=1e-9, atol=1e-12), (d.wrt, numeric, exact)
