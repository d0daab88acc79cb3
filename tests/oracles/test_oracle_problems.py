r"""Hand-written problem files for what the `mlp` builder cannot make, solved by derive and compared with autograd.

Each file in tests/oracle_problems/ (skip connections, tied weights, attention, batch and layer
normalisation, log-sum-exp, Huber, hinge, binary cross-entropy with logits, cosine similarity, unrolled
recurrent networks, Gaussian negative log-likelihoods and more) is read by `derive.Problem.from_yaml`,
solved, and every gradient it asks for is compared at seeded random float64 points with autograd's gradient
of the same network written here in autograd.numpy (ORACLES), to 1e-9 relative (`oracle_autograd.mismatch`:
an absolute floor of 1e-15 times the gradient's largest entry, or ten times autograd's own float64 error).

Problems derive cannot take yet are strict xfails that name the cause and the exception they must fail with,
so that they fail loudly (XPASS) the day the fix lands, and fail plainly if they break another way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, NamedTuple

import autograd.numpy as anp
import numpy as np
import pytest
import sympy
from sympy.matrices.expressions import MatrixSymbol

import derive
from derive.core.errors import DeriveError

from oracle_autograd import autograd_gradient, derive_gradient, mismatch

PROBLEMS = Path(__file__).resolve().parents[1] / "oracle_problems"
ROWS = 3  # every symbolic size (n) at the sample points
POINTS = 3


def sigmoid(z):
    return anp.exp(-anp.logaddexp(0.0, -z))


def softplus(z):
    return anp.logaddexp(0.0, z)


def softmax(z):
    e = anp.exp(z - anp.max(z, axis=1, keepdims=True))
    return e / anp.sum(e, axis=1, keepdims=True)


def frob(a):
    return anp.sqrt(anp.sum(a * a))


def det3(M):
    """The determinant of a 3x3 matrix by cofactors (numpy.linalg has no long double)."""
    return (M[0, 0] * (M[1, 1] * M[2, 2] - M[1, 2] * M[2, 1]) - M[0, 1] * (M[1, 0] * M[2, 2] - M[1, 2] * M[2, 0])
            + M[0, 2] * (M[1, 0] * M[2, 1] - M[1, 1] * M[2, 0]))


def inv3(M):
    """The inverse of a 3x3 matrix: the transposed cofactors over the determinant."""
    def cofactor(i, j):
        r, c = [k for k in range(3) if k != i], [k for k in range(3) if k != j]
        return (-1) ** (i + j) * (M[r[0], c[0]] * M[r[1], c[1]] - M[r[0], c[1]] * M[r[1], c[0]])
    return anp.stack([anp.stack([cofactor(j, i) for j in range(3)]) for i in range(3)]) / det3(M)


def _batch_norm(v, sqrt_form=False):
    Z = v["X"] @ v["W"]
    C = Z - anp.mean(Z, axis=0, keepdims=True)
    V = anp.mean(C * C, axis=0, keepdims=True)
    N = C / anp.sqrt(V + 0.1)
    if sqrt_form:
        return 0.5 * anp.sum((N - v["Y"]) ** 2)
    return 0.5 * anp.sum((N * v["g"] + v["b"] - v["Y"]) ** 2)


def _rnn_vector(v):
    h = v["h_0"]
    for x in (v["x_1"], v["x_2"], v["x_3"]):
        h = anp.tanh(v["W"] @ x + v["U"] @ h)
    return 0.5 * (anp.sum(v["v"] * h) - v["y"]) ** 2


def _rnn_scalar(v):
    h = v["h_0"]
    for x in (v["x_1"], v["x_2"], v["x_3"]):
        h = anp.tanh(v["w"] * x + v["u"] * h)
    return 0.5 * (v["v"] * h - v["y"]) ** 2


def _layer_norm(v):
    z = v["W"] @ v["x"]
    c = z - anp.mean(z)
    return anp.sum(v["a"] * anp.tanh(c / anp.sqrt(anp.sum(c * c))))


def _attention(v):
    Q, K, V = v["X"] @ v["W_q"], v["X"] @ v["W_k"], v["X"] @ v["W_v"]
    return 0.5 * anp.sum((softmax(0.5 * Q @ K.T) @ V - v["Y"]) ** 2)


def _triplet(v):
    a, p, q = v["W"] @ v["x_a"], v["W"] @ v["x_p"], v["W"] @ v["x_q"]
    return anp.maximum(0.0, anp.sum((a - p) ** 2) - anp.sum((a - q) ** 2) + v["m"])


def _huber(v):
    a = anp.abs(v["w"] * v["x"] + v["b"] - v["y"])
    return 0.5 * anp.minimum(a, v["delta"]) ** 2 + v["delta"] * anp.maximum(a - v["delta"], 0.0)


def _cosine(v):
    u = v["W"] @ v["x"]
    return -anp.sum(u * v["y"]) / (frob(u) * frob(v["y"]))


def _kl(v):
    logits = (v["W"] @ v["x"]).T
    log_p = logits - anp.log(anp.sum(anp.exp(logits)))
    return anp.sum(v["q"] * (anp.log(v["q"]) - log_p))


def _normal(rng, shape):
    return rng.normal(size=shape)


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _uniform(low, high):
    return lambda rng, shape: rng.uniform(low, high, size=shape)


def _spread(scale):
    return lambda rng, shape: scale * rng.normal(size=shape)


def _well_conditioned(rng, shape):
    return rng.normal(size=shape) + 3 * np.eye(shape[0])


def _distribution(rng, shape):
    p = rng.uniform(0.1, 1.0, size=shape)
    return p / p.sum()


def _mask(rng, shape):
    return 2.0 * rng.integers(0, 2, size=shape)


class Oracle(NamedTuple):
    """The network of one problem file in autograd.numpy, how to draw its inputs, and why it fails today."""

    loss: Callable[[dict], object]
    draws: dict = {}  # input name -> (rng, shape) -> value; inputs not named are standard normal
    xfail: str = ""
    raises: tuple = (DeriveError,)  # what an xfail must fail with


ORACLES: dict[str, Oracle] = {
    "skip_connection": Oracle(lambda v: 0.5 * anp.sum(
        (sigmoid((anp.tanh(v["X"] @ v["W_1"]) + v["X"]) @ v["W_2"]) - v["y"]) ** 2)),
    "tied_autoencoder": Oracle(lambda v: 0.5 * anp.sum((sigmoid(v["X"] @ v["W"]) @ v["W"].T - v["X"]) ** 2)),
    "attention": Oracle(_attention),
    "batch_norm": Oracle(_batch_norm),
    "batch_norm_sqrt": Oracle(lambda v: _batch_norm(v, sqrt_form=True)),
    "layer_norm": Oracle(_layer_norm),
    "logsumexp_scalar": Oracle(lambda v: anp.log(sum(anp.exp(v[f"w_{i}"] * v["x"] + v[f"c_{i}"]) for i in (1, 2, 3)))
                               - (v["w_2"] * v["x"] + v["c_2"])),
    "logsumexp_matrix": Oracle(lambda v: anp.log(anp.sum(anp.exp(v["X"] @ v["w"])))),
    "huber": Oracle(_huber, {"delta": _uniform(0.5, 1.5)}),
    "hinge_scalar": Oracle(lambda v: anp.maximum(
        0.0, 1 - v["y"] * (v["w_1"] * v["x_1"] + v["w_2"] * v["x_2"] + v["b"])), {"y": _signs}),
    "hinge_matrix": Oracle(lambda v: anp.mean(anp.maximum(0.0, 1 - v["y"] * (v["X"] @ v["w"]))), {"y": _signs}),
    "hinge_max_matrix": Oracle(lambda v: anp.mean(anp.maximum(0.0, 1 - v["y"] * (v["X"] @ v["w"]))), {"y": _signs}),
    "relu_max_matrix": Oracle(lambda v: 0.5 * anp.sum((anp.maximum(0.0, v["X"] @ v["W"]) @ v["v"] - v["y"]) ** 2)),
    "bce_logits_scalar": Oracle(lambda v: (lambda z: v["y"] * softplus(-z) + (1 - v["y"]) * softplus(z))(
        v["w_1"] * v["x_1"] + v["w_2"] * v["x_2"] + v["b"]), {"y": _uniform(0, 1), "w_1": _spread(4)}),
    "bce_logits_matrix": Oracle(lambda v: (lambda Z: anp.mean(v["Y"] * softplus(-Z) + (1 - v["Y"]) * softplus(Z)))(
        v["X"] @ v["W"]), {"Y": _uniform(0, 1), "W": _spread(6)}),
    "cosine_scalar": Oracle(lambda v: sum(v[f"u_{i}"] * v[f"v_{i}"] for i in (1, 2, 3))
                            / (anp.sqrt(sum(v[f"u_{i}"] ** 2 for i in (1, 2, 3)))
                               * anp.sqrt(sum(v[f"v_{i}"] ** 2 for i in (1, 2, 3))))),
    "cosine_matrix": Oracle(_cosine),
    "cosine_named_dot": Oracle(_cosine),
    "cosine_sqrt": Oracle(lambda v: -_cosine(v)),
    "rnn_scalar": Oracle(_rnn_scalar),
    "rnn_vector": Oracle(_rnn_vector),
    "gaussian_nll_scalar": Oracle(lambda v: (v["c"] * v["x"] + v["d"])
                                  + (v["y"] - v["a"] * v["x"] - v["b"]) ** 2 / (2 * anp.exp(2 * (v["c"] * v["x"] + v["d"])))),
    "gaussian_nll_matrix": Oracle(lambda v: anp.sum(v["X"] @ v["b"] + 0.5 * (v["y"] - v["X"] @ v["a"]) ** 2
                                                    * anp.exp(-2 * (v["X"] @ v["b"])))),
    "gaussian_nll_logdet": Oracle(lambda v: 0.5 * anp.log(det3(v["A"] @ v["A"].T))
                                  + 0.5 * anp.sum(v["x"] * (inv3(v["A"] @ v["A"].T) @ v["x"])),
                                  {"A": _well_conditioned}),
    "focal_loss": Oracle(lambda v: -(1 - sigmoid(v["w"] * v["x"])) ** 2 * anp.log(sigmoid(v["w"] * v["x"]))),
    "glu": Oracle(lambda v: 0.5 * anp.sum((((v["X"] @ v["W"]) * sigmoid(v["X"] @ v["V"])) @ v["u"] - v["y"]) ** 2)),
    "swish": Oracle(lambda v: 0.5 * (v["v"] * v["w"] * v["x"] * sigmoid(v["w"] * v["x"]) - v["y"]) ** 2),
    "maxout": Oracle(lambda v: 0.5 * (anp.maximum(v["a"] * v["x"] + v["b"], v["c"] * v["x"] + v["d"]) - v["y"]) ** 2),
    "elu": Oracle(lambda v: 0.5 * ((lambda z: anp.maximum(z, 0.0) + anp.minimum(anp.exp(z) - 1, 0.0))(v["w"] * v["x"])
                                   - v["y"]) ** 2),
    "softmax_scalar": Oracle(lambda v: -(v["w_1"] * v["x"]) + anp.log(sum(anp.exp(v[f"w_{i}"] * v["x"]) for i in (1, 2, 3)))),
    "triplet": Oracle(_triplet, {"m": _uniform(0.5, 2.0)}),
    "siamese": Oracle(lambda v: 0.5 * (anp.sum((anp.tanh(v["W"] @ v["x_a"]) - anp.tanh(v["W"] @ v["x_b"])) ** 2)
                                       - v["t"]) ** 2, {"t": _uniform(0, 2)}),
    "weight_norm": Oracle(lambda v: 0.5 * anp.sum((sigmoid(v["X"] @ (v["g"] / frob(v["v"]) * v["v"])) - v["y"]) ** 2)),
    "dropout_mask": Oracle(lambda v: 0.5 * anp.sum(((v["M"] * anp.maximum(v["X"] @ v["W_1"], 0.0)) @ v["W_2"] - v["y"]) ** 2),
                           {"M": _mask}),
    "kl_softmax": Oracle(_kl, {"q": _distribution}),
    "normalise_vector": Oracle(lambda v: anp.sum(v["a"] * v["x"]) / frob(v["x"])),
    "norm2_vector": Oracle(lambda v: frob(v["W"] @ v["x"] - v["y"])),
    "log_quadratic": Oracle(lambda v: anp.log(anp.sum((v["B"] @ v["x"]) ** 2))),
    "quad_plus_norm": Oracle(lambda v: anp.sum(v["x"] * (v["A"] @ v["x"])) + anp.sum(v["x"] ** 2)),
    "trace_plus_frobenius": Oracle(lambda v: anp.trace(v["X"].T @ v["A"] @ v["X"]) + v["g"] * anp.sum(v["X"] ** 2)),
    "det_plus_trace_inverse": Oracle(lambda v: det3(v["X"]) + anp.trace(v["A"] @ inv3(v["X"])),
                                     {"X": _well_conditioned}),
    "ridge_identity": Oracle(lambda v: 0.5 * anp.sum(v["w"] * ((v["X"].T @ v["X"] + v["lambda"] * anp.eye(3)) @ v["w"]))
                             - anp.sum(v["y"] * (v["X"] @ v["w"])), {"lambda": _uniform(0.1, 1.0)}),
    "rayleigh": Oracle(lambda v: anp.sum(v["x"] * (v["A"] @ v["x"])) / anp.sum(v["x"] ** 2)),
    "l1_penalty": Oracle(lambda v: 0.5 * anp.sum((v["X"] @ v["W"] - v["Y"]) ** 2) + v["lambda"] * anp.sum(anp.abs(v["W"])),
                         {"lambda": _uniform(0.1, 1.0)}),
    "sum_abs": Oracle(lambda v: anp.sum(anp.abs(v["X"] @ v["W"]))),
    "entrywise_sin_cos": Oracle(lambda v: 0.5 * anp.sum(((anp.sin(v["X"] @ v["W"]) + anp.cos(v["X"] @ v["W"])) @ v["v"]
                                                         - v["y"]) ** 2)),
    "inverse_square": Oracle(lambda v: anp.trace(v["A"] @ inv3(v["X"] @ v["X"])), {"X": _well_conditioned}),
    "bias_square_batch": Oracle(lambda v: 0.5 * anp.sum((anp.tanh(v["X"] @ v["W"] + v["b"].T) - v["Y"]) ** 2)),  # X W + 1 b^T
}


def draw_point(network, oracle: Oracle, rng: np.random.Generator) -> dict:
    """Values for every input of `network` by name: standard normal unless `oracle.draws` says otherwise."""
    sizes = {d: ROWS for d in network.dimensions}
    point = {}
    for name, symbol in sorted(network.inputs.items()):
        shape = tuple(int(sympy.sympify(s).xreplace(sizes)) for s in symbol.shape) if isinstance(symbol, MatrixSymbol) else ()
        value = oracle.draws.get(name, _normal)(rng, shape)
        point[name] = float(value) if shape == () else np.asarray(value, dtype=float)
    return point


def compare_problem(path: Path, oracle: Oracle, points: int = POINTS, seed: int = 0) -> list[str]:
    """The disagreements between derive and `oracle` on the problem file at `path`, at `points` seeded points."""
    problem = derive.Problem.from_yaml(path)
    solution = problem.solve()
    rng = np.random.default_rng(seed)
    problems = []
    for number in range(1, points + 1):
        point = draw_point(problem.network, oracle, rng)
        for derivation in solution.derivations:
            name = derivation.wrt.name
            truth, uncertainty = autograd_gradient(oracle.loss, point, name)
            found = mismatch(derive_gradient(derivation, point), truth.reshape(np.shape(point[name])),
                             uncertainty.reshape(np.shape(point[name])))
            if found:
                problems.append(f"point {number}, dL/d{name}: {found}")
    return problems


def _param(stem: str):
    oracle = ORACLES[stem]
    marks = [pytest.mark.xfail(strict=True, reason=oracle.xfail, raises=oracle.raises)] if oracle.xfail else []
    return pytest.param(stem, id=stem, marks=marks)


@pytest.mark.parametrize("stem", [_param(s) for s in sorted(ORACLES)])
def test_problem_file_matches_autograd(stem):
    problems = compare_problem(PROBLEMS / f"{stem}.yaml", ORACLES[stem])
    assert not problems, f"{stem}.yaml:\n" + "\n".join(problems)


def test_every_problem_file_has_an_oracle():
    files = {p.stem for p in PROBLEMS.glob("*.yaml")}
    assert files == set(ORACLES), (files ^ set(ORACLES))
    assert len(files) >= 25
    assert sum(not o.xfail for o in ORACLES.values()) >= 25  # runs today
