"""Table-driven over the matrix rule registry: each entry's example, differentiated by the matrix engine,
agrees entry by entry with `sympy.diff` of the explicit loss, and actually uses that entry."""

import pytest
from sympy import Symbol
from sympy.matrices.expressions import MatrixSymbol

from derive.matrix_rules import MATRIX_RULES
from derive.network import Network
from derive.derivation import Solution

from matrix_oracle import assert_matches_oracle

N = Symbol("n", integer=True, positive=True)


def example_symbols():
    return {"A": MatrixSymbol("A", 3, 3), "B": MatrixSymbol("B", 3, 3), "X": MatrixSymbol("X", N, 3),
            "W": MatrixSymbol("W", 3, 2), "x": MatrixSymbol("x", 3, 1), "y": Symbol("y", real=True)}


@pytest.mark.parametrize("rule", MATRIX_RULES, ids=lambda r: r.name)
def test_rule_example_matches_sympy_diff(rule):
    symbols = example_symbols()
    loss_expr = rule.example(symbols)
    network = Network([s for s in symbols.values() if loss_expr.has(s)])
    loss = network.define("L", loss_expr)
    solution = Solution.derive(network, loss, list(network.inputs.values()))
    used = {name for step in solution.steps for name in getattr(step, "rules", ())}
    assert rule.name in used, f"the example {loss_expr} does not use the {rule.name}"
    assert_matches_oracle(solution)
