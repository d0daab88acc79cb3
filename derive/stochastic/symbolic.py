"""The symbolic side of a stochastic problem, through derive's engines and SymPy: the engine's derivation of
d log p_i / d W_r and of an expert's gradient, the expected loss written out entry by entry, and `sympy.diff`
of it at the problem's numbers (the oracle for the exact gradients, the router's and the experts' weights').
The problem itself is read in `problem`; no NumPy here.
"""

from __future__ import annotations

import sympy
from sympy import MatrixSymbol, Rational

from ..solve.network import Network
from .problem import NetworkExpert, StochasticProblem


def log_softmax_derivation(k: int, d: int):
    """derive's matrix engine on log p_i = sum(s (.) log softmax(x^T W_r^T)), s = e_i^T a one-hot row (1 x k).

    The logits are written as the row z = x^T W_r^T (1 x k) so that the row-wise softmax applies; the
    engine's result (s - p)^T x^T is (e_i - p) x^T, k x d, the shape of W_r (denominator layout).
    """
    net = Network(title=r"The score of the router: $\partial \log p_i / \partial W_r$")
    x = net.declare(MatrixSymbol("x", d, 1))
    W = net.declare(MatrixSymbol("W_r", k, d))
    s = net.declare(MatrixSymbol("s", 1, k))
    net.one_hot.add(s)
    from ..core import matrix_ops as mo

    z = net.define("z", mo.matmul(mo.transpose(x), mo.transpose(W)))
    p = net.define("p", mo.softmax(z))
    ell = net.define("ell", mo.sum_entries(mo.hadamard(s, mo.apply("log", p))))
    return net.gradient(ell, W)


def expert_derivation(d: int, loss: str = "squared"):
    """An expert as an ordinary derive network: e = u^T x, L = 1/2 (y - e)^2 (or L = e); d L / d u."""
    from ..core import matrix_ops as mo

    net = Network(title=r"An expert: $\partial L_i / \partial u_i$")
    x = net.declare(MatrixSymbol("x", d, 1))
    u = net.declare(MatrixSymbol("u", d, 1))
    y = net.declare("y")
    e = net.define("e", mo.as_scalar(mo.matmul(mo.transpose(u), x)))
    L = net.define("L", Rational(1, 2) * (y - e) ** 2 if loss == "squared" else e)
    return net.gradient(L, u)


def scalar_model(k: int, d: int):
    """The model written out entry by entry for `sympy.diff`: (symbols, p, L_i) with W_r[i][j] = w_{i,j}."""
    W = [[sympy.Symbol(f"w_{i}_{j}", real=True) for j in range(d)] for i in range(k)]
    x = [sympy.Symbol(f"x_{j}", real=True) for j in range(d)]
    losses = [sympy.Symbol(f"L_{i}", real=True) for i in range(k)]
    z = [sum(W[i][j] * x[j] for j in range(d)) for i in range(k)]
    total = sum(sympy.exp(zi) for zi in z)
    p = [sympy.exp(zi) / total for zi in z]
    return W, x, losses, p


def expected_loss(k: int, d: int):
    """E_{i ~ p}[L_i] = sum_i p_i L_i, explicit, with the symbols it is written in."""
    W, x, losses, p = scalar_model(k, d)
    return W, x, losses, p, sum(pi * Li for pi, Li in zip(p, losses))


def expert_outputs(problem: StochasticProblem, x, parameters: dict | None = None) -> list:
    """e_i as SymPy expressions at the given x (numbers or symbols); a network expert's parameters take their
    values unless `parameters` maps (expert index, parameter) to a symbol."""
    outputs = []
    for i, expert in enumerate(problem.experts):
        if isinstance(expert, NetworkExpert):
            point = {s: sympy.Float(v) for s, v in expert.point(x).items()}
            point.update({s: (parameters or {}).get((i, s), point[s]) for s in expert.parameters})
            point.update(dict(zip(expert.inputs(), x)))
            outputs.append(expert.output_expression().xreplace(point))
        else:
            outputs.append(sum((parameters or {}).get((i, j), sympy.Float(u)) * xj
                               for j, (u, xj) in enumerate(zip(expert, x))))
    return outputs


def expert_losses(problem: StochasticProblem, x, parameters: dict | None = None) -> list:
    """L_i as SymPy expressions of the experts' outputs (see `expert_outputs`)."""
    outputs = expert_outputs(problem, x, parameters)
    if problem.loss == "linear":
        return outputs
    return [Rational(1, 2) * (sympy.Float(problem.y) - e) ** 2 for e in outputs]


def sympy_exact_gradient(problem: StochasticProblem, limit: int = 64):
    """d/dW_r sum_i p_i L_i by `sympy.diff` of the written-out expected loss, at the problem's numbers, as
    nested lists (the parameter's rows); None when W_r has more than `limit` entries (too slow to be useful)."""
    if problem.k * problem.d > limit:
        return None
    W, x, losses, p, expected = expected_loss(problem.k, problem.d)
    values = {s: sympy.Float(v) for row_s, row_v in zip(W, problem.W_r) for s, v in zip(row_s, row_v)}
    values.update({s: sympy.Float(v) for s, v in zip(x, problem.x)})
    values.update(dict(zip(losses, expert_losses(problem, problem.x))))
    return [[float(sympy.diff(expected, W[i][j]).subs(values)) for j in range(problem.d)] for i in problem.rows]


def expert_parameter_symbols(problem: StochasticProblem) -> dict:
    """(expert index, parameter) -> a fresh symbol, for every trained expert's weights (a linear expert's
    are indexed by column j)."""
    symbols = {}
    for i in problem.trained_experts:
        expert = problem.experts[i]
        keys = expert.parameters if isinstance(expert, NetworkExpert) else range(problem.d)
        for key in keys:
            symbols[(i, key)] = sympy.Symbol(f"theta_{i}_{getattr(key, 'name', key)}", real=True)
    return symbols


def sympy_expert_gradient(problem: StochasticProblem) -> list:
    """d/dtheta sum_i p_i L_i(theta_i) for every trained expert's weights by `sympy.diff`, at the problem's
    numbers (p at the problem's W_r), in the order of `expert_parameter_symbols`."""
    symbols = expert_parameter_symbols(problem)
    x = [sympy.Float(v) for v in problem.x]
    logits = [sum(sympy.Float(w) * xj for w, xj in zip(row, x)) for row in problem.W_r]
    total = sum(sympy.exp(z) for z in logits)
    expected = sum(sympy.exp(z) / total * L for z, L in zip(logits, expert_losses(problem, x, symbols)))
    values = {}
    for (i, key), symbol in symbols.items():
        expert = problem.experts[i]
        values[symbol] = (sympy.Float(expert.values[expert.parameters.index(key)]) if isinstance(expert, NetworkExpert)
                          else sympy.Float(expert[key]))
    return [float(sympy.diff(expected, symbol).xreplace(values)) for symbol in symbols.values()]
