"""Ready-made networks that derive their gradients (`derive.builders`): the builders of `derive.core.builders`
(`mlp`, `sigmoid_chain`, their option names and checks) making `derive.Network`s."""

from __future__ import annotations

import functools

from ..core import builders as core
from ..core.builders import ACTIVATIONS, LOSSES  # noqa: F401 (the builders' vocabulary, as before)
from .network import Network


@functools.wraps(core.mlp)
def mlp(*args, **options):
    return core.mlp(*args, **{"network_class": Network, **options})


@functools.wraps(core.sigmoid_chain)
def sigmoid_chain(depth: int, network_class: type = Network):
    return core.sigmoid_chain(depth, network_class)
