"""derive: neural-network gradients derived step by step by the chain rule, as LaTeX, checked numerically.

    >>> import derive, sympy
    >>> net = derive.Network()
    >>> x, y, w = net.symbols("x y w")
    >>> yhat = net.define("yhat", derive.sigmoid(w * x))
    >>> L = net.define("L", sympy.Rational(1, 2) * (y - yhat) ** 2)
    >>> net.gradient(L, w).result
    x*yhat*(1 - yhat)*(-y + yhat)

The public names are re-exported here; each module's docstring says what lives in it.
"""

__version__ = "0.1.0"

from .check import CheckReport
from .derivation import Derivation, Solution
from .engine import differentiate
from .estimators import EstimateReport, StochasticProblem, estimate
from .errors import CheckError, DeriveError, LatexError, MissingRuleError, PdfError, ProblemError
from .network import Network
from .ops import relu, sigmoid, softplus, tanh
from .problem import Problem
from .rules import RULES, Rule
from .trace import Trace, trace
from .verify import Verdict, verify

__all__ = [
    "CheckError", "CheckReport", "Derivation", "DeriveError", "EstimateReport", "LatexError", "MissingRuleError",
    "Network", "PdfError", "Problem", "ProblemError", "RULES", "Rule", "Solution", "StochasticProblem", "Trace",
    "Verdict", "differentiate", "estimate", "relu", "sigmoid", "softplus", "tanh", "trace", "verify",
]
