"""derive: neural-network gradients derived step by step by the chain rule, as LaTeX, checked numerically.

    >>> import derive, sympy
    >>> net = derive.Network()
    >>> x, y, w = net.symbols("x y w")
    >>> yhat = net.define("yhat", derive.sigmoid(w * x))
    >>> L = net.define("L", sympy.Rational(1, 2) * (y - yhat) ** 2)
    >>> net.gradient(L, w).result
    x*yhat*(1 - yhat)*(-y + yhat)

The public names below are loaded when first used (PEP 562), so `import derive` and `derive --help` cost
almost nothing; ARCHITECTURE.md shows the packages behind them (core, read, write, check, solve, trace,
grade, stochastic, cli) and which may import which.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {  # name -> the module that defines it
    "CheckError": "derive.core.errors", "DeriveError": "derive.core.errors", "LatexError": "derive.core.errors",
    "MissingRuleError": "derive.core.errors", "PdfError": "derive.core.errors", "ProblemError": "derive.core.errors",
    "relu": "derive.core.ops", "sigmoid": "derive.core.ops", "softplus": "derive.core.ops", "tanh": "derive.core.ops",
    "RULES": "derive.core.rules", "Rule": "derive.core.rules",
    "differentiate": "derive.core.engine",
    "CheckReport": "derive.check.gradient_check",
    "Network": "derive.solve.network", "Problem": "derive.solve.problem",
    "Derivation": "derive.solve.derivation", "Solution": "derive.solve.derivation",
    "Trace": "derive.tracing.tracer", "trace": "derive.tracing.tracer",
    "Verdict": "derive.grade.verify", "verify": "derive.grade.verify",
    "EstimateReport": "derive.stochastic.estimators", "StochasticProblem": "derive.stochastic.estimators",
    "estimate": "derive.stochastic.estimators",
}
_PACKAGES = ("core", "read", "write", "check", "solve", "tracing", "grade", "stochastic", "cli")
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """A public name, imported from its module the first time it is asked for (then kept here); a package
    (`derive.grade`, for `derive.grade.grade`) is imported when first reached the same way."""
    if name in _PACKAGES:
        return importlib.import_module(f"derive.{name}")
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
