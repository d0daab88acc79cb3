"""`derive.matrix_ops`, the path the README uses: the same module as `derive.core.matrix_ops` (the matrix
layer's nodes and the builders that check shapes: `matmul`, `apply`, `norm`, ...)."""

import sys

from .core import matrix_ops

sys.modules[__name__] = matrix_ops
