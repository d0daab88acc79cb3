"""`Problem`, the one users read (`derive.Problem`): a problem file read by `derive.read.problem` into a
network that derives (`derive.solve.network.Network`), with `solve` and `gradient`."""

from __future__ import annotations

from ..read import problem as read
from ..read.problem import KNOWN_KEYS, MLP_KEYS, NOT_SYMMETRIC, read_problem_file  # noqa: F401 (derive 0.1's derive.problem)
from .derivation import Solution
from .network import Network


class Problem(read.Problem):
    """A network with a loss and the variables whose gradients are wanted, read from a problem file
    (`Problem.from_yaml(path)`, `Problem.from_text(text)`) and solved by `solve()`."""

    network_class = Network

    def solve(self, wrt=None) -> Solution:
        """Derive the gradients (all of `self.wrt`, or the given ones) as one `Solution`."""
        wrts = self.wrt if wrt is None else [self._symbol(w) for w in read._as_list(wrt)]
        return Solution.derive(self.network, self.loss, wrts, self.title, layout=self.layout)

    def gradient(self, wrt):
        """The derivation of the loss with respect to one variable."""
        return self.solve([wrt]).derivations[0]
