"""`derive demo`: the seed-003 worked solution (a sigmoid unit with the squared loss), the example problems
shipped with derive rendered as one document."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import compile_pdf, pdflatex_path, write_atomically


SEED_003 = ("one_layer_scalar.yaml", "one_layer_vector.yaml")  # the sections the article wrote
SEED_003_ALL = SEED_003 + ("one_layer_batch.yaml", "two_layer_vector.yaml", "two_layer_batch.yaml")  # and the empty ones
TITLE = "Gradients for Neural Nets: worked solutions"


def examples_dir() -> Path:
    from ..write.resources import resource_dir

    return resource_dir("examples")


def seed_003_document(fmt: str = "tex", everything: bool = False) -> tuple[str, list]:
    """The document (tex or md) and the check reports of every part: the article's two written sections, or
    with `everything` all five (the three it left empty: a batch, two layers, two layers with a batch)."""
    from ..solve.problem import Problem
    from ..write import render

    parts = []
    for name in SEED_003_ALL if everything else SEED_003:
        problem = Problem.from_yaml(examples_dir() / name)
        parts.append(problem.solve().part(True, problem.description))
    return render.render_document(render.DocumentData(TITLE, parts, fmt)), [p.check for p in parts]


@click.command()
@click.option("-d", "--directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write into.")
@click.option("--name", default="derive-demo", show_default=True, help="File name without extension.")
@click.option("--all", "everything", is_flag=True,
              help="All five sections of the seed-003 article, the three it left empty included (matrices, two layers).")
def demo(directory: Path, name: str, everything: bool):
    """Write the seed-003 worked solution (sigmoid unit, squared loss): .tex, and .pdf where pdflatex exists."""
    if not directory.is_dir():
        raise DeriveError(f"no folder '{directory}'")
    tex, reports = seed_003_document("tex", everything)
    write_atomically(directory / f"{name}.tex", tex)
    click.echo(f"wrote {directory / f'{name}.tex'}")
    if pdflatex_path():
        write_atomically(directory / f"{name}.pdf", compile_pdf(tex))
        click.echo(f"wrote {directory / f'{name}.pdf'}")
    else:
        click.echo("pdflatex not found: no PDF written (install texlive-latex-base and texlive-latex-recommended)")
    passed = all(r.passed for r in reports)
    click.echo(f"numeric check of every gradient: {'PASS' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)
