"""`derive demo`: the seed-003 worked solution (a sigmoid unit with the squared loss), the example problems
shipped with derive rendered as one document."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..core.errors import DeriveError
from ..write.output import check_writable, compile_pdf, pdflatex_path, write_atomically
from .formats import output_format


SEED_003 = ("one_layer_scalar.yaml", "one_layer_vector.yaml")  # the sections the article wrote
SEED_003_ALL = SEED_003 + ("one_layer_batch.yaml", "two_layer_vector.yaml", "two_layer_batch.yaml")  # and the empty ones
TITLE = "Gradients for Neural Nets: worked solutions"


def examples_dir() -> Path:
    from ..write.resources import resource_dir

    return resource_dir("examples")


def seed_003_document(fmt: str = "tex", everything: bool = False) -> tuple[str, list]:
    """The document (tex, md or html: a self-contained page) and the check reports of every part: the
    article's two written sections, or with `everything` all five (the three it left empty: a batch, two
    layers, two layers with a batch)."""
    from ..solve.problem import Problem
    from ..write import render
    from ..write.html import solution_page

    parts = []
    for name in SEED_003_ALL if everything else SEED_003:
        problem = Problem.from_yaml(examples_dir() / name)
        parts.append(problem.solve().part(True, problem.description))
    data = render.DocumentData(TITLE, parts, fmt)
    document = solution_page(data) if fmt == "html" else render.render_document(data)
    return document, [p.check for p in parts]


@click.command()
@click.option("-d", "--directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write into.")
@click.option("--name", default="derive-demo", show_default=True, help="File name without extension.")
@click.option("--all", "everything", is_flag=True,
              help="All five sections of the seed-003 article, the three it left empty included (matrices, two layers).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write only this file: .tex, .pdf (runs pdflatex), .md or .html (a web page), in place of -d and --name.")
def demo(directory: Path, name: str, everything: bool, output: Path | None):
    """Write the seed-003 worked solution (sigmoid unit, squared loss): .tex, and .pdf where pdflatex exists."""
    if output is not None:
        _write_one(output, everything)
        return
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


def _write_one(output: Path, everything: bool) -> None:
    """The demo as the one file `output`, its format from its extension, as `derive solve -o` writes it."""
    fmt = output_format(output)
    if fmt == ".json":
        raise DeriveError(f"cannot write the demo '{output}': it must end in .tex, .pdf, .md or .html")
    check_writable(output)
    document, reports = seed_003_document({".pdf": "tex"}.get(fmt, fmt[1:]), everything)
    write_atomically(output, compile_pdf(document) if fmt == ".pdf" else document)
    click.echo(f"wrote {output}")
    passed = all(r.passed for r in reports)
    click.echo(f"numeric check of every gradient: {'PASS' if passed else 'FAIL'}")
    sys.exit(0 if passed else 1)
