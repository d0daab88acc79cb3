"""Layer recursions: per-layer deltas and per-layer weight gradients that share one form, written once at a
general layer l (`layer_recursions`, a `Recursion` step checked on each layer), and `final_form`, the last
line of a step. The chain rule that produces the steps lives in `matrix_engine`.
"""

from __future__ import annotations

import re

from sympy import Symbol, preorder_traversal, sstr
from sympy.matrices.expressions import MatrixSymbol

from . import matrix_ops as mo
from . import steps as st


def final_form(step):
    """The last line of a Pullback or Delta step: simplified when that differs, else substituted."""
    return step.simplified if step.simplified is not None else step.shown


_LAYER = re.compile(r"^(.*)\^\{\((\d+)\)\}$")


def _layer_of(symbol) -> tuple[str, int] | None:
    match = _LAYER.match(getattr(symbol, "name", "") or "")
    return (match.group(1), int(match.group(2))) if match else None


def _at_layer(expr, k: int, index: Symbol):
    """`expr` with every layer-indexed name X^{(j)} written X^{(l + j - k)}: the layer-k form made general."""
    swap = {}
    for node in preorder_traversal(expr):
        layer = _layer_of(node) if isinstance(node, MatrixSymbol) else None
        if layer:
            shift = layer[1] - k
            label = sympy_str(index + shift)
            swap[node] = MatrixSymbol(f"{layer[0]}^{{({label})}}", *node.shape)
    return expr.xreplace(swap)


def sympy_str(expr) -> str:
    """The expression as SymPy writes it, without spaces: names only (a layer's shapes are not in it)."""
    return sstr(expr).replace(" ", "")


def layer_recursions(builder) -> list:
    """Recursion steps of a `MatrixGradientBuilder` (`matrix_engine`): the per-layer deltas, and the per-layer weight gradients, that share one form.

    Each family (Delta^{(k)} for pre-activations Z^{(k)}; dL/dP^{(k)} for parameters P^{(k)}) is written at a
    general layer l; the layers that agree (at least two) give one Recursion step, checked on each of them."""
    index = Symbol("l", integer=True, positive=True)
    families: dict = {}
    for step in list(builder.steps.values()):
        if isinstance(step, st.Delta) and step.chain is not None and step.site == step.inside and _layer_of(step.site):
            stem, k = _layer_of(step.symbol)
            families.setdefault(("delta", stem), []).append((k, step, step.symbol))
        elif isinstance(step, st.Pullback) and _layer_of(step.wrt) and step.wrt in builder.network.inputs.values():
            stem, k = _layer_of(step.wrt)
            families.setdefault(("gradient", stem), []).append((k, step, mo.GradientOf(builder.loss, step.wrt)))
    found = []
    for (kind, stem), members in families.items():
        patterns: dict = {}
        for k, step, lhs in sorted(members, key=lambda m: m[0]):
            general = (_at_layer(lhs, k, index), _at_layer(final_form(step), k, index))
            key = tuple(sympy_str(e) for e in general)  # names only: the shapes differ from layer to layer
            patterns.setdefault(key, []).append((k, step, general))
        agreeing = max(patterns.values(), key=len)
        if len(agreeing) >= 2 and len(patterns) <= 2:
            lhs, result = agreeing[0][2]
            layers = tuple(k for k, _, _ in agreeing)
            step = st.Recursion(builder.loss, lhs, index, result, layers, tuple(s.key for _, s, _ in agreeing))
            builder.steps.setdefault(step.key, step)
            found.append(step)
    return found
