"""HIPS autograd as an independent oracle: networks written in autograd.numpy, and derive's numbers beside them.

`derive_gradient(derivation, values)` is the one place where derive's number for a gradient is computed
(`Derivation.evaluate`: the forward pass through the named definitions that derive's own check uses). `mismatch(derived, truth)` says how two gradients disagree (None when they agree)
and `assert_agrees` raises with that sentence; the self-test calls the same functions with a wrong rule.

The perceptron oracle (`MlpCase`, `mlp_loss`) is written from the builder's documented meaning
(`derive.builders.mlp`), not from derive's expressions: Z^(l) = A^(l-1) W^(l) + 1 b^(l)T, A^(l) = f_l(Z^(l)),
A^(0) = X, and the four losses, in the numerically stable forms (log-sigmoid, log-sum-exp), so that the
oracle is right at saturated points too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import autograd.numpy as anp
import numpy as np
from autograd import grad


RTOL = 1e-9
"""Agreement asked of every gradient entry: |derived - truth| <= RTOL * max(|truth_ij|, FLOOR * max |truth|)."""

FLOOR = 1e-6
"""The absolute floor as a fraction of the gradient's scale (its largest entry): RTOL * FLOOR = 1e-15 of
the largest entry, a few float64 roundings of it. An entry is a sum of products whose rounding is relative
to the gradient's largest terms, not to the entry itself: an entry that cancels to 1e-12 of the others
cannot be asked for 9 digits of its own. A wrong rule changes entries at the scale of the gradient (the
self-test shows that it is caught)."""

SLACK = 10.0
"""How many times autograd's own float64 error (its float64 result against its extended-precision one) an
entry may be off: two different float64 evaluations of one ill-conditioned quantity differ by about that."""


# -- derive's numbers ------------------------------------------------------------------------------------

def derive_gradient(derivation, values: dict) -> np.ndarray:
    """derive's value of `derivation` (dL/d wrt) at `values` ({name: number or array}), as an array of the
    variable's shape (a float for a scalar): `Derivation.evaluate`, the library's own numbers, through the
    forward pass the check uses. The oracle tests call nothing else of derive to get numbers."""
    value = derivation.evaluate(values)
    return float(value) if np.ndim(value) == 0 else np.asarray(value, dtype=float)


# -- comparing ------------------------------------------------------------------------------------------

def mismatch(derived, truth, uncertainty=None, rtol: float = RTOL, floor: float = FLOOR) -> str | None:
    """None when `derived` agrees with `truth` (arrays or numbers of one shape) entry by entry: within
    `rtol` relative on the scale max(|truth_ij|, floor * max |truth|), or within `SLACK` times the
    `uncertainty` of a float64 evaluation (see `autograd_gradient`), whichever is larger; else a sentence
    naming the worst entry and its numbers."""
    derived, truth = np.atleast_1d(np.asarray(derived, dtype=float)), np.atleast_1d(np.asarray(truth, dtype=float))
    if derived.shape != truth.shape:
        return f"shape {derived.shape} where the truth has shape {truth.shape}"
    if not np.all(np.isfinite(truth)):
        raise ValueError("the oracle's value is not finite: draw another point")
    uncertainty = np.zeros_like(truth) if uncertainty is None else np.atleast_1d(np.asarray(uncertainty, dtype=float))
    scale = float(np.max(np.abs(truth))) if truth.size else 0.0
    allowed = np.maximum(rtol * np.maximum(np.abs(truth), floor * scale), SLACK * uncertainty)
    error = np.where(np.isfinite(derived), np.abs(derived - truth), np.inf)
    excess = error - allowed
    if not np.any(excess > 0):
        return None
    worst = np.unravel_index(np.argmax(np.where(excess > 0, error / np.maximum(allowed, 1e-300), -1)), truth.shape)
    d, t = derived[worst], truth[worst]
    relative = abs(d - t) / max(abs(t), floor * scale, 1e-300)
    return (f"entry {tuple(int(i) for i in worst)}: derived {d:.17g}, truth {t:.17g}, relative error {relative:.2e} "
            f"(allowed {allowed[worst]:.2e} absolute; gradient scale {scale:.3g}, float64 uncertainty "
            f"{uncertainty[worst]:.1e})")


def assert_agrees(derived, truth, uncertainty=None, what: str = "") -> None:
    problem = mismatch(derived, truth, uncertainty)
    assert problem is None, f"{what}: {problem}"


# -- autograd's numbers ---------------------------------------------------------------------------------

def central_differences(loss, values: dict, wrt: str) -> np.ndarray:
    """Central differences of `loss(values)` (a number) in each entry of `values[wrt]`, step 1e-5 max(1, |x|):
    the third oracle beside SymPy and autograd."""
    base = np.asarray(values[wrt], dtype=float)
    numeric = np.zeros_like(base)
    for index in np.ndindex(base.shape):
        h = 1e-5 * max(1.0, abs(base[index]))
        up, down = base.copy(), base.copy()
        up[index] += h
        down[index] -= h
        numeric[index] = (loss({**values, wrt: up}) - loss({**values, wrt: down})) / (2 * h)
    return numeric


def autograd_gradient(loss, values: dict, wrt: str):
    """The gradient of `loss(values)` (written in autograd.numpy) with respect to `values[wrt]`: computed in
    extended precision (x86 long double, 64-bit mantissa) from the same float64 point, and the distance
    between it and the same computation in float64. That distance is how much a stable float64 evaluation
    of this very network loses at this point (an ill-conditioned difference such as softmax - Y near a
    confident right answer): derive, evaluating in float64, is not asked to do better than that."""
    results = []
    for dtype in (np.longdouble, np.float64):
        point = {k: (np.asarray(v, dtype=dtype) if np.ndim(v) else dtype(v)) for k, v in values.items()}

        def of(variable, point=point):
            return loss({**point, wrt: variable})

        with np.errstate(all="ignore"):
            results.append(np.asarray(grad(of)(point[wrt]), dtype=dtype))
    extended, plain = results
    return np.asarray(extended, dtype=float), np.asarray(np.abs(plain - extended), dtype=float)


# -- the perceptron, written in autograd.numpy --------------------------------------------------------

def _sigmoid(z):
    return anp.exp(-anp.logaddexp(0.0, -z))


ACTIVATIONS = {
    "sigmoid": _sigmoid, "tanh": anp.tanh, "relu": lambda z: anp.maximum(z, 0.0),
    "softplus": lambda z: anp.logaddexp(0.0, z), "identity": lambda z: z, "exp": anp.exp,
}


def _log_softmax(z):
    shifted = z - anp.max(z, axis=1, keepdims=True)
    return shifted - anp.log(anp.sum(anp.exp(shifted), axis=1, keepdims=True))


@dataclass(frozen=True)
class MlpCase:
    """One perceptron of the builder's family and the point it is compared at."""

    id: str
    sizes: tuple
    activations: tuple  # one per hidden layer
    output: str
    loss: str
    bias: bool
    batch: object  # an int, or "n"
    rows: int  # the number of rows of X at the point (= batch when it is a number)
    weight_decay: bool
    scale: float  # the spread of the weights and biases: large means saturated units
    extra_wrt: tuple = field(default=())  # "X", "Z^{(1)}", "A^{(1)}", "Yhat": inputs and intermediates
    seed: int = 0

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    def builder_arguments(self) -> dict:
        return dict(sizes=list(self.sizes), activations=list(self.activations), output=self.output, loss=self.loss,
                    bias=self.bias, batch=self.batch, weight_decay="lambda" if self.weight_decay else None)


def mlp_forward(case: MlpCase, values: dict, start: str | None = None):
    """The loss, and every intermediate by name, from `values` ({name: array}); `start` names an intermediate
    taken from `values` instead of being computed (the gradient with respect to it holds it fixed)."""
    names = {}
    a = values["X"]
    z = None
    for l in range(1, case.layers + 1):
        zname, aname = f"Z^{{({l})}}", ("Yhat" if l == case.layers else f"A^{{({l})}}")
        if start == zname:
            z = values[zname]
        elif start != aname:
            z = anp.dot(a, values[f"W^{{({l})}}"])
            if case.bias:
                z = z + anp.transpose(values[f"b^{{({l})}}"])
        f = case.output if l == case.layers else case.activations[l - 1]
        if start == aname:
            a = values[aname]
        else:
            a = anp.exp(_log_softmax(z)) if f == "softmax" else ACTIVATIONS[f](z)
        names[zname], names[aname] = z, a
    return _loss(case, values, a, z, start), names


def _loss(case: MlpCase, values: dict, yhat, z, start):
    Y = values["Y"]
    if case.loss == "squared":
        value = 0.5 * anp.sum((yhat - Y) ** 2)
    elif case.loss == "mse":
        value = anp.mean((yhat - Y) ** 2)
    elif case.loss == "bce":
        if case.output == "sigmoid" and start != "Yhat":  # log sigma(z) = -softplus(-z), log(1 - sigma(z)) = -softplus(z)
            log_p, log_q = -anp.logaddexp(0.0, -z), -anp.logaddexp(0.0, z)
        else:
            log_p, log_q = anp.log(yhat), anp.log1p(-yhat)
        value = -anp.mean(Y * log_p + (1 - Y) * log_q)
    elif start == "Yhat":
        value = -anp.sum(Y * anp.log(yhat)) / Y.shape[0]
    else:  # softmax cross-entropy, mean over the rows, from the logits
        value = anp.sum(_cross_entropy_rows(z, Y)) / Y.shape[0]
    if case.weight_decay:
        value = value + values["lambda"] / 2 * sum(anp.sum(values[f"W^{{({l})}}"] ** 2)
                                                  for l in range(1, case.layers + 1))
    return value


def _cross_entropy_rows(z, Y):
    """-log softmax(z)_y per row, y the one-hot column of Y: log(1 + sum_{j != y} e^(z_j - z_y)) when z_y is
    the largest logit, so that its gradient softmax - Y has no cancellation near a confident right answer
    (1 - s_y is computed as the sum of the others); the shifted log-sum-exp otherwise."""
    d = z - anp.sum(Y * z, axis=1, keepdims=True)  # z_j - z_y, 0 in column y
    top = anp.max(d, axis=1)
    others = anp.sum((1 - Y) * anp.exp(anp.where(d <= 0, d, 0.0)), axis=1)  # not minimum: it halves the gradient at d = 0
    confident = anp.log1p(others)
    shifted = d - top[:, None]
    general = top + anp.log(anp.sum(anp.exp(shifted), axis=1))
    return anp.where(top <= 0, confident, general)


def mlp_point(case: MlpCase, rng: np.random.Generator) -> dict:
    """Random inputs, targets and parameters for `case` (weights spread by `case.scale`)."""
    n, sizes = case.rows, case.sizes
    values = {"X": rng.normal(size=(n, sizes[0]))}
    for l in range(1, case.layers + 1):
        values[f"W^{{({l})}}"] = rng.normal(size=(sizes[l - 1], sizes[l])) * case.scale / np.sqrt(sizes[l - 1])
        if case.bias:
            values[f"b^{{({l})}}"] = rng.normal(size=(sizes[l], 1)) * case.scale / 2
    k = sizes[-1]
    if case.loss == "cross-entropy":
        values["Y"] = np.eye(k)[rng.integers(0, k, size=n)]
    elif case.loss == "bce":
        values["Y"] = np.where(rng.uniform(size=(n, k)) < 0.3, rng.integers(0, 2, size=(n, k)).astype(float),
                               rng.uniform(size=(n, k)))
    else:
        values["Y"] = rng.normal(size=(n, k))
    if case.weight_decay:
        values["lambda"] = float(rng.uniform(0.05, 1.0))
    return values


def mlp_truth(case: MlpCase, values: dict, wrt: str):
    """autograd's gradient of the loss with respect to `wrt` (an input, a parameter or an intermediate), its
    float64 uncertainty (see `autograd_gradient`), and the point with the intermediate's value in it."""
    with np.errstate(all="ignore"):
        _, intermediates = mlp_forward(case, values)
    start = wrt if wrt in intermediates else None
    point = dict(values)
    if start:
        point[wrt] = np.asarray(intermediates[wrt], dtype=float)
    truth, uncertainty = autograd_gradient(lambda v: mlp_forward(case, v, start)[0], point, wrt)
    return truth, uncertainty, point


def near_kink(case: MlpCase, values: dict) -> bool:
    """Whether a ReLU's argument is (nearly) 0 at the point: derive's subgradient there is 0, autograd's 1/2."""
    with np.errstate(all="ignore"):
        _, intermediates = mlp_forward(case, values)
    for l in range(1, case.layers + 1):
        f = case.output if l == case.layers else case.activations[l - 1]
        z = np.asarray(intermediates[f"Z^{{({l})}}"], dtype=float)
        if f == "relu" and np.min(np.abs(z)) < 1e-9 * max(1.0, float(np.max(np.abs(z)))):
            return True
    return False


def mlp_truths(case: MlpCase, wrts: list[str], tries: int = 50) -> dict:
    """{wrt: (truth, uncertainty, point)} at the first of `case`'s seeded random points where every
    gradient is finite and no ReLU sits at its kink."""
    rng = np.random.default_rng(case.seed)
    for _ in range(tries):
        values = mlp_point(case, rng)
        if near_kink(case, values):
            continue
        truths = {w: mlp_truth(case, values, w) for w in wrts}
        if all(usable(t[0]) for t in truths.values()):
            return truths
    raise AssertionError(f"{case.id}: no point with finite gradients away from kinks in {tries} draws")


def usable(truth) -> bool:
    """A gradient worth comparing: finite, and not in float64's overflow or underflow region (largest entry
    above 1e200, or below 1e-250 without being 0), where the order of evaluation decides what survives."""
    truth = np.asarray(truth, dtype=float)
    if not np.all(np.isfinite(truth)):
        return False
    scale = float(np.max(np.abs(truth), initial=0.0))
    return scale < 1e200 and (scale == 0.0 or scale > 1e-250)


def parameter_names(case: MlpCase) -> list[str]:
    names = []
    for l in range(1, case.layers + 1):
        names.append(f"W^{{({l})}}")
        if case.bias:
            names.append(f"b^{{({l})}}")
    return names
