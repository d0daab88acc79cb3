"""Networks with a stochastic node: a softmax router that samples one of k experts, or a Bernoulli gate.

The model (issue 7, seed 000): an input x (d entries), router weights W_r (k x d), logits z = W_r x,
p = softmax(z), a sample i ~ p, and the sampled expert's output e_i(x) with a loss on it,
L_i = 1/2 (y - e_i(x))^2 (or L_i = e_i(x), a loss linear in the one-hot sample). An expert is either
linear, e_i(x) = u_i^T x (its row u_i given as numbers), or an ordinary derive network
(`NetworkExpert`: LaTeX definitions read by derive's `Problem` reader, inline or from a problem file,
with its inputs x_1, ..., x_d and values for its parameters). A Bernoulli gate
b ~ Bernoulli(sigma(w_g^T x)) is the case k = 2 with logits (0, w_g^T x): expert 0 outputs 0 ("off"),
expert 1 is u^T x ("on"), and the parameter is the second row of W_r.

What lives here: `StochasticProblem` (plain numbers, read from the `stochastic:` key of a YAML file,
every bad value a one-line `ProblemError`) and the experts as ordinary derive networks. The symbolic side
(the engine's derivation of d log p_i / d W_r, the expected loss written out entry by entry, the oracle for
the exact gradient) lives in `symbolic`. No NumPy: the estimators, the exact gradient's numbers and the
Monte Carlo study live in `estimators`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import sympy
import yaml
from sympy import Rational

from ..solve.derivation import Solution
from ..core.errors import ProblemError
from ..core.network import make_symbol
from ..solve.network import Network
from ..read.problem import read_problem_file

NODES = ("categorical", "bernoulli")
LOSSES = ("squared", "linear")
CORRECTIONS = ("holm", "bonferroni")
STOCHASTIC_KEYS = {"node", "x", "W_r", "w_g", "probabilities", "experts", "y", "loss", "baseline", "tau", "group",
                   "correction"}
EXPERT_KEYS = {"title", "symbols", "definitions", "syntax", "output", "values", "problem"}
TOP_KEYS = {"title", "description", "stochastic"}


@dataclass(frozen=True)
class StochasticProblem:
    """A router (or gate) over experts, as plain numbers; `W_r` is k x d, `experts` holds u_i (d entries each)."""

    x: tuple
    W_r: tuple  # k rows of d numbers: logits z = W_r x
    experts: tuple  # k experts: a row u_i (e_i(x) = u_i^T x; a gate's "off" expert is all zeros) or a NetworkExpert
    y: float = 0.0
    loss: str = "squared"
    node: str = "categorical"
    baseline: float = 0.0
    tau: float = 0.5
    group: int = 4
    correction: str = "holm"  # multiple-comparison correction of the study: holm or bonferroni
    title: str = ""
    description: str = ""
    source: str = "<problem>"

    def __post_init__(self):
        validate(self)

    @property
    def k(self) -> int:
        return len(self.W_r)

    @property
    def d(self) -> int:
        return len(self.x)

    @property
    def parameter(self) -> str:
        """The name of the router's parameter, as the documents print it."""
        return "w_g" if self.node == "bernoulli" else "W_r"

    @property
    def rows(self) -> tuple:
        """The rows of W_r that are parameters (a gate's first logit is fixed at 0)."""
        return (1,) if self.node == "bernoulli" else tuple(range(self.k))

    @property
    def trained_experts(self) -> tuple:
        """The experts whose weights are parameters (a gate's "off" branch has none)."""
        return (1,) if self.node == "bernoulli" else tuple(range(self.k))

    def replace(self, **changes) -> "StochasticProblem":
        from dataclasses import replace

        return replace(self, **changes)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "StochasticProblem":
        return cls.from_text(read_problem_file(path), str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "<problem>") -> "StochasticProblem":
        data, root = _load(text, source)
        return _read(data, source, root)


def _load(text: str, source: str):
    """The YAML's data and its node tree (whose marks give the lines of an expert's definitions)."""
    from ..read.problem import load_yaml  # bounded in depth and in aliases

    return load_yaml(text, source)


def is_stochastic(data) -> bool:
    """Whether loaded YAML describes a problem with a stochastic node (for `derive solve` to refuse it)."""
    return isinstance(data, dict) and "stochastic" in data


# -- reading and validation -----------------------------------------------------------------------------
def _read(data, source: str, root=None) -> StochasticProblem:
    if not is_stochastic(data):
        raise ProblemError("a problem for 'derive estimate' needs a top-level 'stochastic:' mapping "
                           "(node, x, W_r or w_g or probabilities, experts, y)", source)
    unknown = sorted(set(map(str, data)) - TOP_KEYS)
    if unknown:
        raise ProblemError(f"unknown key '{unknown[0]}' (known: {', '.join(sorted(TOP_KEYS))})", source)
    spec = data["stochastic"]
    if not isinstance(spec, dict):
        raise ProblemError("'stochastic' must be a mapping (node, x, W_r, experts, y, ...)", source)
    unknown = sorted(set(map(str, spec)) - STOCHASTIC_KEYS)
    if unknown:
        raise ProblemError(f"unknown key 'stochastic.{unknown[0]}' (known: {', '.join(sorted(STOCHASTIC_KEYS))})", source)
    node = spec.get("node", "categorical")
    if node not in NODES:
        raise ProblemError(f"stochastic.node must be one of {', '.join(NODES)}, not '{node}'", source)
    x, W_r = _router(spec, node, source)
    experts = _experts(spec.get("experts"), _child(_child(root, "stochastic"), "experts"), len(x), source)
    if node == "bernoulli":
        if len(experts) != 1:
            raise ProblemError(f"a Bernoulli gate has one expert (the 'on' branch), not {len(experts)}", source)
        experts = ((0.0,) * len(x), experts[0])
    options = {key: spec[key] for key in ("y", "loss", "baseline", "tau", "group", "correction") if key in spec}
    for key in ("y", "baseline", "tau"):
        if key in options:
            options[key] = _number(options[key], f"stochastic.{key}", source)
    return StochasticProblem(x, W_r, experts, node=node, title=str(data.get("title", "")),
                             description=str(data.get("description", "")), source=source, **options)


def _router(spec: dict, node: str, source: str) -> tuple[tuple, tuple]:
    """x and W_r from x with W_r (categorical) or w_g (gate), or from written-out probabilities (x = [1])."""
    given = [key for key in ("W_r", "w_g", "probabilities") if key in spec]
    expected = "w_g" if node == "bernoulli" else "W_r"
    if len(given) != 1 or (given[0] != "probabilities" and given[0] != expected):
        raise ProblemError(f"a {node} node needs exactly one of '{expected}' or 'probabilities' "
                           f"(found {', '.join(given) or 'neither'})", source)
    if given[0] == "probabilities":
        p = validate_distribution(_vector(spec["probabilities"], "stochastic.probabilities", source),
                                  "stochastic.probabilities", source)
        if "x" in spec:
            raise ProblemError("with 'probabilities' the logits log p are the parameters: leave out 'x'", source)
        if node == "bernoulli":
            if len(p) != 2:
                raise ProblemError(f"a Bernoulli gate's probabilities are [P(b=0), P(b=1)], not {len(p)} numbers", source)
            return (1.0,), ((0.0,), (math.log(p[1] / p[0]),))
        return (1.0,), tuple((math.log(q),) for q in p)
    x = _vector(spec.get("x"), "stochastic.x", source)
    if node == "bernoulli":
        w = _vector(spec["w_g"], "stochastic.w_g", source, length=len(x))
        return x, ((0.0,) * len(x), w)
    return x, _matrix(spec["W_r"], "stochastic.W_r", source, columns=len(x))


def _child(node, key: str):
    """The node under `key` of a YAML mapping node (None when absent: line numbers are then not known)."""
    if isinstance(node, yaml.MappingNode):
        for name, value in node.value:
            if getattr(name, "value", None) == key:
                return value
    return None


def _experts(value, node, d: int, source: str) -> tuple:
    """Each expert: a row u_i of d numbers (linear) or a mapping that defines a derive network."""
    if not isinstance(value, list) or not value:
        raise ProblemError("stochastic.experts must be a list, one expert per item: a row of numbers u_i "
                           "(e_i(x) = u_i^T x) or a network (symbols, definitions, output, values)", source)
    nodes = node.value if isinstance(node, yaml.SequenceNode) else [None] * len(value)
    experts = []
    for i, (item, item_node) in enumerate(zip(value, nodes), start=1):
        if isinstance(item, dict):
            experts.append(NetworkExpert.read(item, item_node, i, d, source))
        else:
            experts.append(_vector(item, f"stochastic.experts row {i}", source, length=d))
    return tuple(experts)


def _number(value, name: str, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProblemError(f"{name} must be a finite number, not {value!r}", source)
    return float(value)


def _vector(value, name: str, source: str, length: int | None = None) -> tuple:
    if not isinstance(value, list) or not value:
        raise ProblemError(f"{name} must be a non-empty list of numbers, e.g. [0.5, -1.0]", source)
    numbers = tuple(_number(v, f"{name}[{i + 1}]", source) for i, v in enumerate(value))
    if length is not None and len(numbers) != length:
        raise ProblemError(f"{name} has {len(numbers)} entries but x has {length}", source)
    return numbers


def _matrix(value, name: str, source: str, columns: int) -> tuple:
    if not isinstance(value, list) or not value:
        raise ProblemError(f"{name} must be a list of rows, each a list of {columns} numbers", source)
    return tuple(_vector(row, f"{name} row {i + 1}", source, length=columns) for i, row in enumerate(value))


def validate_distribution(p, name: str = "probabilities", where: str | None = None) -> tuple:
    """p as a tuple of floats, if it is a distribution every entry of which is possible (0 < p_i <= 1, sum 1)."""
    p = tuple(float(q) for q in p)
    if len(p) < 2:
        raise ProblemError(f"{name} must have at least 2 entries, not {len(p)}", where)
    for i, q in enumerate(p, start=1):
        if not math.isfinite(q) or q <= 0 or q > 1:
            raise ProblemError(f"{name} {list(p)} is not a distribution over the experts: entry {i} is {q} "
                               f"(each must be in (0, 1]; log p_i needs p_i > 0)", where)
    if abs(math.fsum(p) - 1) > 1e-9:
        raise ProblemError(f"{name} {list(p)} is not a distribution: the entries sum to {math.fsum(p):.12g}, not 1", where)
    return p


def validate(problem: StochasticProblem) -> None:
    where = problem.source
    if problem.node not in NODES:
        raise ProblemError(f"node must be one of {', '.join(NODES)}, not '{problem.node}'", where)
    if problem.loss not in LOSSES:
        raise ProblemError(f"stochastic.loss must be one of {', '.join(LOSSES)}, not '{problem.loss}'", where)
    if problem.k < 2:
        raise ProblemError(f"the router needs at least 2 experts, not {problem.k}", where)
    if len(problem.experts) != problem.k:
        raise ProblemError(f"W_r has {problem.k} rows (experts) but {len(problem.experts)} experts are given", where)
    rows = (*problem.W_r, *(e for e in problem.experts if not isinstance(e, NetworkExpert)))
    if any(len(row) != problem.d for row in rows):
        raise ProblemError(f"every row of W_r and every linear expert needs {problem.d} entries, like x", where)
    for expert in problem.experts:
        if isinstance(expert, NetworkExpert) and expert.d != problem.d:
            raise ProblemError(f"{expert.label} reads x_1, ..., x_{expert.d} but x has {problem.d} entries", where)
    validate_tau(problem.tau, where)
    if problem.correction not in CORRECTIONS:
        raise ProblemError(f"stochastic.correction must be one of {', '.join(CORRECTIONS)}, not {problem.correction!r}", where)
    if isinstance(problem.group, bool) or not isinstance(problem.group, int) or problem.group < 2:
        raise ProblemError(f"stochastic.group (draws per leave-one-out estimate) must be an integer >= 2, "
                           f"not {problem.group!r}", where)


def validate_tau(tau, where: str | None = None) -> float:
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not math.isfinite(tau) or tau <= 0:
        raise ProblemError(f"the Gumbel-softmax temperature tau must be a number > 0, not {tau!r}", where)
    return float(tau)


# -- experts as ordinary derive networks ------------------------------------------------------------------
@dataclass(frozen=True)
class NetworkExpert:
    """An expert given as derive definitions, read by derive's `Problem` reader (scalar networks).

    Its inputs are x_1, ..., x_d (the problem's x; `x` alone when d = 1), `output` names the definition that
    is the expert's output e_i(x), and every other input is a parameter with a value in `values`. The
    problem's loss is put on top of the output (`loss_solution`); derive's engine differentiates both.
    """

    problem: object  # derive.Problem: loss = the expert's output, wrt = its parameters (in the order of values)
    values: tuple  # (value, ...) of the parameters, in the order of problem.wrt
    d: int
    label: str

    @classmethod
    def read(cls, item: dict, node, index: int, d: int, source: str) -> "NetworkExpert":
        from ..read.problem import _Reader
        from ..solve.problem import Problem

        label = f"expert {index}"
        where = f"{source}, stochastic.experts item {index}"
        unknown = sorted(set(map(str, item)) - EXPERT_KEYS)
        if unknown:
            raise ProblemError(f"unknown key '{unknown[0]}' in {label} (known: {', '.join(sorted(EXPERT_KEYS))})", where)
        values = item.get("values")
        if not isinstance(values, dict) or not values:
            raise ProblemError(f"{label} needs 'values': a mapping from each of its parameters to a number", where)
        data, reader_source = dict(item), source
        if "problem" in item:
            data, node, reader_source = _expert_file(item, label, where, source)
        output = item.get("output")  # required, also with a problem file: its own loss is not an expert's output
        if not output:
            raise ProblemError(f"{label} needs 'output': the definition that is the expert's output e_{index}(x)", where)
        data = {key: data[key] for key in ("title", "symbols", "definitions", "syntax") if key in data}
        data.update(loss=output, wrt=list(map(str, values)))
        problem: Problem = _Reader(data, node, reader_source, Problem).problem()
        network = problem.network
        if network.has_matrices:
            raise ProblemError(f"{label} must be a scalar network (symbols as a list; inputs x_1, ..., x_{d})", where)
        inputs = input_names(d)
        given = {s.name for s in problem.wrt}
        clash = sorted(given & set(inputs))
        if clash:
            raise ProblemError(f"{label} gives a value for {clash[0]}, which is the problem's input x", where)
        used = {s.name for s in network.expand(problem.loss).free_symbols}  # a file's own loss may use more
        free = sorted(used - given - set(inputs))
        if free:
            raise ProblemError(f"{label}'s {free[0]} is neither an input x_1, ..., x_{d} nor given in 'values'", where)
        numbers = tuple(_number(values[key], f"{label} value of {key}", where) for key in values)
        return cls(problem, numbers, d, label)

    @property
    def parameters(self) -> tuple:
        return tuple(self.problem.wrt)

    @property
    def output(self):
        return self.problem.loss

    def inputs(self) -> tuple:
        return tuple(make_symbol(name) for name in input_names(self.d))

    def point(self, x) -> dict:
        """Symbol -> number for the inputs (at x) and the parameters."""
        return {**dict(zip(self.inputs(), x)), **dict(zip(self.parameters, self.values))}

    def output_expression(self):
        """e_i in the inputs and the parameters (every definition substituted)."""
        return self.problem.network.expand(self.output)

    def output_solution(self):
        """derive's engine on d e_i / d theta_i, one derivation per parameter."""
        return self.problem.solve()

    def loss_solution(self, loss: str, y: float):
        """derive's engine on d L_i / d theta_i, with the problem's loss on top of the expert's output."""
        title = f"{self.label.capitalize()}: backpropagation of the loss through it"
        network = Network(self.problem.network.inputs.values(), title=title)
        for name, expr in self.problem.network.definitions.items():
            network.define(name, expr, where=self.problem.network.where.get(name))
        taken = set(network.names())
        name = next(n for n in ("L", "ell", "J", "loss") if n not in taken)
        output = network.symbol(self.output.name)
        L = network.define(name, Rational(1, 2) * (sympy.Float(y) - output) ** 2 if loss == "squared" else output)
        return Solution.derive(network, L, list(self.parameters))


def input_names(d: int) -> tuple:
    return ("x",) if d == 1 else tuple(f"x_{j}" for j in range(1, d + 1))


def _expert_file(item: dict, label: str, where: str, source: str):
    """The data and node tree of an expert's problem file (a path relative to the router's file)."""
    other = sorted(set(map(str, item)) - {"problem", "output", "values"})
    if other:
        raise ProblemError(f"{label} names a problem file: '{other[0]}' cannot be given beside it", where)
    path = Path(source).parent / str(item["problem"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProblemError(f"cannot read {label}'s problem file {path}: {getattr(error, 'strerror', None) or error}",
                           where) from None
    data, node = _load(text, str(path))
    if not isinstance(data, dict) or is_stochastic(data) or "mlp" in data:
        raise ProblemError(f"{label}'s problem file must define a scalar network (symbols, definitions)", str(path))
    return data, node, str(path)
