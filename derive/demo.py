"""The seed-003 worked solution: the example problems shipped with derive, rendered as one document."""

from __future__ import annotations

from pathlib import Path

from . import render
from .problem import Problem
from .resources import resource_dir

SEED_003 = ("one_layer_scalar.yaml", "one_layer_vector.yaml")
TITLE = "Gradients for Neural Nets: worked solutions"


def examples_dir() -> Path:
    return resource_dir("examples")


def seed_003_document(fmt: str = "tex") -> tuple[str, list]:
    """The document (tex or md) and the check reports of every part."""
    parts = []
    for name in SEED_003:
        problem = Problem.from_yaml(examples_dir() / name)
        parts.append(problem.solve().part(True, problem.description))
    return render.render_document(render.DocumentData(TITLE, parts, fmt)), [p.check for p in parts]
