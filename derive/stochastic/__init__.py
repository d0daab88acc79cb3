"""Networks that sample a discrete choice (a router picking an expert) and the gradient estimators for them.

- `problem`: the stochastic problem file (router, experts), the experts as derive networks;
- `symbolic`: the router's and experts' derivations by derive's engines, and the exact expected loss by SymPy;
- `estimators`: `derive.estimate`: score-function, straight-through, Gumbel-softmax and other estimators,
  derived and measured (bias, variance) against the exact gradient;
- `ztest`: the corrected z-tests (Holm, Bonferroni) a study's means are judged by;
- `render`: the estimator report as LaTeX and Markdown.

A feature: it builds on solve, check, write, read and core, and no other feature imports it. What does
not live here: the deterministic networks the experts are (`derive.solve`), the document's words
(`templates/estimate*.j2`).
"""

import importlib
import warnings

_OLD_HOMES = ("derive.stochastic.problem", "derive.stochastic.symbolic")  # derive 0.1's derive.stochastic module


def __getattr__(name: str):
    """derive 0.1's `derive.stochastic` module's names (`StochasticProblem`, `validate`, ...), from the modules
    that hold them now, with a DeprecationWarning naming it (PEP 562: nothing is imported until asked for)."""
    if not name.startswith("__"):
        for home in _OLD_HOMES:
            module = importlib.import_module(home)
            if hasattr(module, name):
                warnings.warn(f"derive.stochastic.{name} is now {home}.{name}", DeprecationWarning, stacklevel=2)
                return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
