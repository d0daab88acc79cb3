"""Random perceptrons of the `mlp` builder against HIPS autograd, at ordinary and at saturated points.

Each case is a network of `derive.builders.mlp` (every hidden activation, output and loss the builder takes,
bias on and off, a numeric or a symbolic batch, weight decay on and off) with the gradients of every weight
and bias, and often of the input X and of an intermediate (Z^(l), A^(l), Yhat) too. The same network is
written independently in autograd.numpy (`oracle_autograd.mlp_forward`, from the builder's documented
meaning), differentiated by autograd in extended precision, and compared entry by entry with derive's
number (`oracle_autograd.derive_gradient`: `Derivation.evaluate`, the forward pass derive's own check
uses) to 1e-9 relative, with an absolute floor of 1e-15 times the gradient's largest entry, or ten times autograd's own float64 error where that is larger (`oracle_autograd.mismatch`
says why).

ORDINARY: 200 networks, depth 1-4, widths 1-5, weights of spread 0.5-2 (pre-activations of a few units;
spread 0.5 where an exp layer would otherwise reach 1e65). SATURATED: 100 networks with weights of spread
4-16, so that sigmoid and tanh units saturate and sigmoid outputs under binary cross-entropy sit at
1 - 1e-15 or closer. The exponential activation is left
out there (it overflows rather than saturates) and softmax outputs are taken with the cross-entropy only
(softmax under another loss at saturation: EXTREME's points). A case derive got wrong would be a strict xfail
naming the cause (`KNOWN`; empty now). EXTREME holds three points found outside the table's ranges, which
derive got wrong until the softmax's fused delta was evaluated without cancellation.
"""

from __future__ import annotations

import numpy as np
import pytest

from derive.builders import ACTIVATIONS, LOSSES, mlp

from oracle_autograd import MlpCase, central_differences, derive_gradient, mismatch, mlp_forward, mlp_truths, parameter_names

SATURATING = ("sigmoid", "tanh", "relu", "softplus", "identity")


def _cases(prefix: str, count: int, seed: int, scales, activations, saturated: bool) -> list[MlpCase]:
    """`count` seeded random perceptrons (the table is fixed by `seed`: KNOWN names its cases by id)."""
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        depth = int(rng.choice([1, 1, 2, 2, 2, 3, 3, 4]))
        sizes = [int(s) for s in rng.integers(1, 6, size=depth + 1)]
        loss = str(rng.choice(LOSSES))
        if loss == "cross-entropy":
            output = "softmax"
        elif loss == "bce":
            output = "sigmoid" if saturated else str(rng.choice(["sigmoid", "sigmoid", "softmax"]))
        else:
            output = str(rng.choice(list(activations) + ([] if saturated else ["softmax"])))
        if output == "softmax" and sizes[-1] == 1:  # a softmax of one column is the constant 1
            sizes[-1] = int(rng.integers(2, 6))
        hidden = tuple(str(a) for a in rng.choice(activations, size=depth - 1))
        bias, symbolic = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
        rows, decay = int(rng.integers(1, 5)), bool(rng.integers(0, 3) == 0)
        scale = float(rng.choice(scales))
        if "exp" in (*hidden, output):
            scale = min(scale, 0.5)  # exp of exp of a spread-2 layer reaches 1e65: see EXTREME
        extra = []
        if rng.uniform() < 0.4:
            extra.append("X")
        if rng.uniform() < 0.4:
            l = int(rng.integers(1, depth + 1))
            chosen = str(rng.choice([f"Z^{{({l})}}", "Yhat" if l == depth else f"A^{{({l})}}"]))
            if chosen == "Yhat" and saturated and loss in ("bce", "cross-entropy"):
                chosen = f"Z^{{({l})}}"  # dL/dYhat = -Y/(N Yhat) + ... is infinite where Yhat rounds to 0 or 1
            extra.append(chosen)
        cases.append(MlpCase(f"{prefix}{i}", tuple(sizes), hidden, output, loss, bias, "n" if symbolic else rows, rows,
                             decay, scale, tuple(extra), seed * 1000 + i))
    return cases


ORDINARY = _cases("ordinary-", 200, 12, (0.5, 1.0, 2.0), ACTIVATIONS, saturated=False)
SATURATED = _cases("saturated-", 100, 7, (4.0, 6.0, 10.0, 16.0), SATURATING, saturated=True)

KNOWN: dict[str, str] = {
    # found by running the table (the sigma' and tanh' cases it found once are ordinary cases now that the forward
    # pass evaluates sigma' as sigma(Z) sigma(-Z) and tanh' as 1/cosh^2(Z); saturated-95, binary cross-entropy
    # where sigma(-Z) underflows to 0, is one since its delta fuses to (Yhat - Y) / (n k), which has no quotient)
}

# Points found while building the table, outside its ranges, kept because derive got them wrong: the fused softmax
# delta Yhat - Y lost 1 - softmax_y's digits near a confident answer, and a saturated row's exact 0 in the softmax
# VJP came out as 1e-16, which exp layers' activations (up to 1e65) multiplied; the forward pass now evaluates
# Yhat - Y as Yhat (1 - Y) - (1 - Yhat) Y with 1 - Yhat the sum of each row's other entries.
EXTREME = [
    MlpCase("extreme-exp-exp-softmax", (4, 4, 2, 1, 3), ("softplus", "exp", "exp"), "softmax", "squared", True, 4, 4,
            True, 2.0, ("X", "A^{(2)}"), 12165),
    MlpCase("extreme-exp-softmax", (3, 5, 3, 4), ("identity", "exp"), "softmax", "squared", True, "n", 2, False, 2.0,
            (), 12085),
    MlpCase("extreme-confident-softmax", (5, 1, 2, 3), ("tanh", "softplus"), "softmax", "cross-entropy", True, "n", 1,
            False, 16.0, ("X",), 8253),
]


def _param(case: MlpCase):
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN[case.id])] if case.id in KNOWN else []
    return pytest.param(case, id=case.id, marks=marks)


def compare_with_autograd(case: MlpCase) -> list[str]:
    """Every gradient of `case` as derive computes it against autograd; the sentences of the disagreements."""
    network, loss, parameters = mlp(**case.builder_arguments())
    wrts = [p.name for p in parameters] + list(case.extra_wrt)
    solution = network.gradients(loss, wrts)
    truths = mlp_truths(case, wrts)
    problems = []
    for derivation in solution.derivations:
        truth, uncertainty, point = truths[derivation.wrt.name]
        problem = mismatch(derive_gradient(derivation, point), truth, uncertainty)
        if problem:
            problems.append(f"dL/d{derivation.wrt.name}: {problem}")
    return problems


def _describe(case: MlpCase) -> str:
    return (f"mlp(sizes={list(case.sizes)}, activations={list(case.activations)}, output={case.output}, "
            f"loss={case.loss}, bias={case.bias}, batch={case.batch!r}, weight_decay={case.weight_decay}) with "
            f"{case.rows} rows, weights of spread {case.scale}, seed {case.seed}")


@pytest.mark.parametrize("case", [_param(c) for c in ORDINARY + SATURATED + EXTREME])
def test_mlp_gradients_match_autograd(case):
    problems = compare_with_autograd(case)
    assert not problems, _describe(case) + "\n" + "\n".join(problems)


@pytest.mark.parametrize("case", ORDINARY[::4], ids=lambda c: c.id)
def test_the_oracle_matches_central_differences(case):
    """autograd's gradients of the hand-written network are themselves right: central differences of the
    same forward pass in plain NumPy agree to 1e-6 of the gradient's scale."""
    wrts = parameter_names(case) + list(case.extra_wrt)
    for wrt, (truth, _, point) in mlp_truths(case, wrts).items():
        start = None if wrt in parameter_names(case) or wrt == "X" else wrt  # an intermediate is held fixed
        numeric = central_differences(lambda values: mlp_forward(case, values, start)[0], point, wrt)
        scale = max(float(np.max(np.abs(truth))), 1e-12)
        assert np.max(np.abs(numeric - truth)) <= 1e-6 * scale, (wrt, truth, numeric)


def test_the_table_covers_the_builder():
    """Every hidden activation, output and loss of the builder; bias, batch, weight decay both ways; gradients
    with respect to X, pre-activations, activations and the output; saturated points."""
    cases = ORDINARY + SATURATED
    assert len(cases) >= 200
    assert {a for c in cases for a in c.activations} == set(ACTIVATIONS)
    assert {c.output for c in cases} == set(ACTIVATIONS) | {"softmax"}
    assert {c.loss for c in cases} == set(LOSSES)
    assert {(c.loss, c.output) for c in cases} >= {("bce", "sigmoid"), ("bce", "softmax"), ("squared", "softmax")}
    assert {c.bias for c in cases} == {True, False} and {c.weight_decay for c in cases} == {True, False}
    assert {isinstance(c.batch, str) for c in cases} == {True, False} and {c.rows for c in cases} >= {1, 4}
    extra = {w.split("^")[0] for c in cases for w in c.extra_wrt}
    assert extra == {"X", "Z", "A", "Yhat"}
    assert max(c.layers for c in cases) == 4 and min(c.layers for c in cases) == 1
    assert sum(c.scale >= 4 for c in cases) >= 90
