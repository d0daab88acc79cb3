"""The seed-003 worked solution: the example problems shipped with derive, rendered as one document."""

from __future__ import annotations

from pathlib import Path

from ..write import render
from ..solve.problem import Problem
from ..write.resources import resource_dir

SEED_003 = ("one_layer_scalar.yaml", "one_layer_vector.yaml")  # the sections the article wrote
SEED_003_ALL = SEED_003 + ("one_layer_batch.yaml", "two_layer_vector.yaml", "two_layer_batch.yaml")  # and the empty ones
TITLE = "Gradients for Neural Nets: worked solutions"


def examples_dir() -> Path:
    return resource_dir("examples")


def seed_003_document(fmt: str = "tex", everything: bool = False) -> tuple[str, list]:
    """The document (tex or md) and the check reports of every part: the article's two written sections, or
    with `everything` all five (the three it left empty: a batch, two layers, two layers with a batch)."""
    parts = []
    for name in SEED_003_ALL if everything else SEED_003:
        problem = Problem.from_yaml(examples_dir() / name)
        parts.append(problem.solve().part(True, problem.description))
    return render.render_document(render.DocumentData(TITLE, parts, fmt)), [p.check for p in parts]
