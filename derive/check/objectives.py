"""The loss as a function of the checked coordinates at one point: `ScalarObjective` and `MatrixObjective`
(a vectorised loss of many parameter vectors, the derived gradient there, the signs of the kinks), and the
point's coordinates by name (`LazyPoint`, named on first use).

The problems they belong to (drawing points, reading given ones) are in `problems`; the measuring in
`gradient_check`.
"""

from __future__ import annotations

import numpy as np
from sympy import MatrixSymbol

from .numeric import MatrixEvaluator


class ScalarObjective:
    """A scalar network at one point: the loss as a vectorised function of the wrt coordinates, the others fixed."""

    def __init__(self, problem: "ScalarProblem", values: np.ndarray):
        self.problem = problem
        self.values = values
        self.coordinates = [problem.inputs.index(w) for w in problem.wrts]
        self.theta = values[self.coordinates].astype(float)
        self.labels = [(w.name, None) for w in problem.wrts]
        self.has_kinks = problem.kink_f is not None

    def _arguments(self, thetas: np.ndarray) -> list:
        rows = len(thetas)
        args = [np.full(rows, v, dtype=thetas.dtype if thetas.dtype.kind == "f" else float) for v in self.values]
        for j, c in enumerate(self.coordinates):
            args[c] = thetas[:, j]
        return args

    def loss(self, thetas: np.ndarray) -> np.ndarray:
        function = self.problem.complex_f() if thetas.dtype.kind == "c" else self.problem.f
        with np.errstate(all="ignore"):
            return np.broadcast_to(np.asarray(function(*self._arguments(thetas))), (len(thetas),))

    def analytic(self, dtype) -> np.ndarray:
        with np.errstate(all="ignore"):
            return np.asarray(self.problem.g(*self.values.astype(dtype)), dtype=float).reshape(-1)

    def signature(self, thetas: np.ndarray) -> np.ndarray:
        """The sign of every kink expression, one row per parameter vector."""
        with np.errstate(all="ignore"):
            values = self.problem.kink_f(*self._arguments(thetas.astype(float)))
        return np.sign(np.stack([np.broadcast_to(np.asarray(v, dtype=float), (len(thetas),)) for v in values], axis=1))

    def named_point(self) -> dict:
        return {s.name: float(v) for s, v in zip(self.problem.inputs, self.values)}


class MatrixObjective:
    """A matrix network at one point (arrays for every input): the loss as a function of the wrt entries."""

    def __init__(self, problem: "MatrixProblem", values: dict, evaluator: MatrixEvaluator | None = None):
        self.problem = problem
        self.values = values
        self._evaluator = evaluator  # float64, with the loss and gradients at this point already evaluated
        self.theta = np.concatenate([np.asarray(values[w], dtype=float).reshape(-1) for w in problem.wrts])
        self.has_kinks = problem.has_kinks

    @property
    def labels(self) -> list:
        """(matrix name, (row, column)) per coordinate, row-major (built on demand: 100k entries take a while)."""
        return [(w.name, index) for w in self.problem.wrts for index in np.ndindex(*self.problem.shape(w))]

    def _values_for(self, theta: np.ndarray) -> dict:
        shifted, start = dict(self.values), 0
        for w in self.problem.wrts:
            shape = self.problem.shape(w)
            size = int(np.prod(shape))
            piece = theta[start:start + size]
            shifted[w] = piece.reshape(shape) if isinstance(w, MatrixSymbol) else piece[0]
            start += size
        return shifted

    def _evaluate(self, theta: np.ndarray) -> MatrixEvaluator:
        return self.problem.run(self._values_for(theta), [self.problem.loss], theta.dtype)[1]

    def loss(self, thetas: np.ndarray, chunk: int = 1 << 21) -> np.ndarray:
        """The loss at each row of `thetas`: one batched evaluation (B x rows x cols arrays) per chunk of rows."""
        rows = max(1, chunk // max(1, thetas.shape[1]))
        return np.concatenate([self._batch_loss(thetas[i:i + rows]) for i in range(0, len(thetas), rows)])

    def _batch_loss(self, thetas: np.ndarray) -> np.ndarray:
        values, start = dict(self.values), 0
        for w in self.problem.wrts:
            shape = self.problem.shape(w)
            size = int(np.prod(shape))
            piece = thetas[:, start:start + size]
            values[w] = piece.reshape(len(thetas), *shape) if isinstance(w, MatrixSymbol) else piece[:, 0]
            start += size
        (result,), _ = self.problem.run(values, [self.problem.loss], thetas.dtype, batch=True)
        return np.broadcast_to(np.asarray(result).reshape(-1), (len(thetas),)).copy()

    def analytic(self, dtype) -> np.ndarray:
        reuse = self._evaluator is not None and np.dtype(dtype) == np.float64  # the forward pass at this point
        gradients, _ = self.problem.run(self.values, list(self.problem.gradients.values()), dtype,
                                        evaluator=self._evaluator if reuse else None)
        return np.concatenate([np.asarray(g, dtype=float).reshape(-1) for g in gradients])

    def signature(self, thetas: np.ndarray) -> np.ndarray:
        rows = []
        for t in thetas:
            signs = self._evaluate(t.astype(float)).kink_signs
            rows.append(np.concatenate(signs) if signs else np.zeros(0))
        return np.array(rows)

    def named_point(self) -> dict:
        return _point_of(self.values, self.problem.inputs, self.problem.one_hot)


_UNNAMED = object()


class LazyPoint(dict):
    """A sample point's coordinates by name (X[0,1], ...), named on first use: a network with 100k parameters
    would otherwise spend most of a directional check naming entries that no report line reads. A dict in every
    other respect (JSON, comparison, copying); pickled as a plain dict."""

    __slots__ = ("_build",)

    def __init__(self, build):
        super().__init__()
        dict.__setitem__(self, _UNNAMED, None)  # never empty until named: C code reading the size sees entries
        self._build = build

    def _filled(self) -> dict:
        if self._build is not None:
            build, self._build = self._build, None
            dict.clear(self)
            dict.update(self, build())
        return self

    def __reduce__(self):
        return dict, (dict(self._filled().items()),)

    def __eq__(self, other):
        return dict.__eq__(self._filled(), other._filled() if isinstance(other, LazyPoint) else other)

    def __ne__(self, other):
        return not self == other


def _filling(method):
    def filled(self, *args, **kwargs):
        return method(self._filled(), *args, **kwargs)
    filled.__name__ = method.__name__
    return filled


for _name in ("__getitem__", "__iter__", "__len__", "__contains__", "__repr__", "__reversed__",
              "__or__", "__ror__", "__ior__", "__setitem__", "__delitem__", "keys", "values", "items", "get", "copy",
              "update", "pop", "popitem", "setdefault", "clear"):
    setattr(LazyPoint, _name, _filling(getattr(dict, _name)))


def _point_of(values, inputs, one_hot) -> dict:
    """The free coordinates of a sample point, named X[0,1] as in `explicit_instance` (on first use)."""
    if not any(isinstance(s, MatrixSymbol) for s in inputs):
        return _named_coordinates(values, inputs, one_hot)
    return LazyPoint(lambda: _named_coordinates(values, inputs, one_hot))


def _named_coordinates(values, inputs, one_hot) -> dict:
    point = {}
    for symbol in inputs:
        value = values[symbol]
        if isinstance(symbol, MatrixSymbol):
            cols = value.shape[1] - (1 if symbol in one_hot else 0)
            rows = np.asarray(value, dtype=float).tolist()
            point.update({f"{symbol.name}[{i},{j}]": row[j] for i, row in enumerate(rows) for j in range(cols)})
        else:
            point[symbol.name] = float(value)
    return point
