"""`derive.builders`, the path the README uses: the same module as `derive.solve.builders` (ready-made
networks, `mlp` and `sigmoid_chain`, that derive their gradients)."""

import sys

from .solve import builders

sys.modules[__name__] = builders
