"""derive: neural-network gradients derived step by step by the chain rule, as LaTeX, checked numerically.

    >>> import derive, sympy
    >>> net = derive.Network()
    >>> x, y, w = net.symbols("x y w")
    >>> yhat = net.define("yhat", derive.sigmoid(w * x))
    >>> L = net.define("L", sympy.Rational(1, 2) * (y - yhat) ** 2)
    >>> net.gradient(L, w).result
    x*yhat*(1 - yhat)*(-y + yhat)

The public names below are loaded when first used (PEP 562), so `import derive` and `derive --help` cost
almost nothing; ARCHITECTURE.md shows the packages behind them (core, read, write, check, solve, tracing,
grade, stochastic, cli) and which may import which. The modules of derive 0.1's flat layout
(`derive.errors`, `derive.steps`, ...) still import, as the modules that now hold them, with a
DeprecationWarning naming the new path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

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
_PACKAGES = ("core", "read", "write", "check", "solve", "tracing", "grade", "stochastic", "cli", "builders",
             "matrix_ops")  # and the README's two module paths
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


_MOVED = {  # derive 0.1's flat modules -> the modules that hold them now
    "errors": "derive.core.errors", "ops": "derive.core.ops", "rules": "derive.core.rules",
    "steps": "derive.core.steps", "network": "derive.solve.network", "engine": "derive.core.engine",
    "matrix_rules": "derive.core.matrix_rules", "matrix_engine": "derive.core.matrix_engine",
    "printing": "derive.core.printing", "parse": "derive.read.parse", "matrix_parse": "derive.read.matrix_parse",
    "answers": "derive.read.answers", "problem": "derive.solve.problem", "render": "derive.write.render",
    "output": "derive.write.output", "resources": "derive.write.resources", "plots": "derive.write.plots",
    "numeric": "derive.check.numeric", "forward_pass": "derive.check.forward_pass", "methods": "derive.check.methods",
    "exact": "derive.check.exact", "comparison": "derive.check.comparison", "forward_mode": "derive.check.forward_mode",
    "derivation": "derive.solve.derivation", "trace_matrix": "derive.tracing.matrix",
    "trace_methods": "derive.tracing.methods", "trace_render": "derive.tracing.render", "graph": "derive.tracing.graph",
    "verify": "derive.grade.verify", "deadline": "derive.grade.deadline", "estimators": "derive.stochastic.estimators",
    "estimate_render": "derive.stochastic.render", "demo": "derive.cli.demo",
}


class _MovedModule(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds `derive.<old flat module>` and makes the name the module that holds its code now (the way
    `derive/matrix_ops.py` does for the README's path), warning once that it moved."""

    def find_spec(self, fullname, path=None, target=None):
        package, _, name = fullname.partition(".")
        if package == __name__ and name in _MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None  # a plain module, replaced in exec_module

    def exec_module(self, module):
        new = _MOVED[module.__name__.partition(".")[2]]
        warnings.warn(f"{module.__name__} is now {new}", DeprecationWarning, stacklevel=2)
        sys.modules[module.__name__] = importlib.import_module(new)


if not any(isinstance(finder, _MovedModule) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModule())


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
