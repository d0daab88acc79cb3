r"""The notation the matrix LaTeX reader knows, as tables: spacing and sizing commands it skips, Greek
letters, decorations and wrappers around names, relations, commands it refuses (by name or in general),
brackets and what closes them, and the function words with the builders they make.

What does not live here: reading (the `matrix_*` reader modules use these tables).
"""

from __future__ import annotations

from typing import Callable

import sympy

from ..core.matrix_ops import apply, det, diag, maximum, mean, minimum, softmax, sum_entries, trace

_IGNORED = {",", ";", ":", "!", " ", "quad", "qquad", "enspace", "thinspace", "medspace", "thickspace",
            "negthinspace", "displaystyle", "textstyle"}
_SIZING = {"left", "right"} | {f"{size}{side}" for size in ("big", "Big", "bigg", "Bigg")
                               for side in ("", "l", "r", "m")}
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta",
          "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "varrho", "sigma", "tau", "upsilon",
          "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
          "Upsilon", "Phi", "Psi", "Omega", "ell"}
_DECORATIONS = {"hat": "hat", "widehat": "hat", "bar": "bar", "overline": "bar", "tilde": "tilde",
                "widetilde": "tilde"}
_WRAPPERS = {"mathbf", "boldsymbol", "bm", "mathrm", "mathit", "mathsf", "text", "textrm", "textbf",
             "textit", "rm", "operatorname", "mathbb"}
_ONES_WRAPPERS = {"mathbf", "boldsymbol", "bm", "mathbb"}
_UPRIGHT = {"mathsf", "mathrm", "rm", "text", "textrm", "textsf", "mathit"}  # around the T of a transpose
_FRACTIONS = {"frac", "tfrac", "dfrac", "cfrac"}
_CONSTANTS = {"e": sympy.E, "pi": sympy.pi}  # used only when not declared as symbols
_RELATIONS = {"le", "leq", "ge", "geq", "neq", "ne", "approx", "equiv", "sim", "propto", "to", "in",
              "coloneqq", "mapsto", "Rightarrow", "iff", "ll", "gg"}
_UNSUPPORTED = {"int", "iint", "oint", "sum", "prod", "lim", "partial", "nabla", "infty", "mathcal",
                "forall", "exists", "cdots", "ldots", "dots", "begin", "end"}
_NOT_SUPPORTED = {  # notation that is understood, and refused in one line
    "otimes": r"Kronecker products (\otimes) are not supported",
    "kron": r"Kronecker products (\operatorname{kron}) are not supported",
    "dagger": r"pseudo-inverses (A^\dagger, A^+) are not supported",
    "pinv": r"pseudo-inverses (\operatorname{pinv}) are not supported",
}
_NOT_OPERANDS = {"odot", "circ", "oslash", "cdot", "times", "}", "rVert", "rvert", "top", "intercal", "prime"} | _RELATIONS
_OPEN_TO_CLOSE = {("char", "("): ("char", ")"), ("char", "["): ("char", "]"), ("char", "{"): ("char", "}"),
                  ("cmd", "{"): ("cmd", "}")}


def _entrywise(name: str) -> Callable:
    return lambda x: apply(name, x)


# word -> builder, for one-argument functions; the entrywise ones also take a prime (sigma'(Z))
_FUNCTIONS: dict[str, Callable] = {
    "sigmoid": _entrywise("sigmoid"), "tanh": _entrywise("tanh"), "relu": _entrywise("relu"),
    "softplus": _entrywise("softplus"), "exp": _entrywise("exp"), "log": _entrywise("log"),
    "sin": _entrywise("sin"), "cos": _entrywise("cos"),
    "softmax": softmax, "sum": sum_entries, "mean": mean, "tr": trace, "det": det, "diag": diag,
}
_OF_A_NUMBER = {"exp", "log", "sin", "cos"}  # of a 1x1 form (x^T A x) the scalar function, not entry by entry
_SCALAR_FUNCTIONS = {"max": maximum, "min": minimum}  # any number of scalar arguments; max(0, M) is ReLU(M)
_ALIASES = {"sigma": "sigmoid", "ln": "log", "trace": "tr"}
_WORDS = set(_FUNCTIONS) | set(_SCALAR_FUNCTIONS) | set(_ALIASES)  # \operatorname{word}, compared in lower case
_COMMANDS = {"tanh", "exp", "log", "ln", "det", "max", "min", "tr", "Tr", "trace", "sigmoid", "relu", "ReLU",
             "softplus", "softmax", "mean", "sin", "cos"}  # \word; \sigma is the sigmoid when sigma is not declared
