"""Reading derive's web pages in tests without a browser: every example's page written by the CLI once per
process, the page's structure (its tags balanced, its maths well-formed XML) and its words outside markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import yaml

from cli_helpers import run_cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.yaml")
                  if "stochastic" not in yaml.safe_load(p.read_text(encoding="utf-8")))
STOCHASTIC = sorted(p for p in (ROOT / "examples").glob("*.yaml") if p not in EXAMPLES)
VOID = {"meta", "link", "br", "hr", "img", "input", "col", "area", "base", "wbr", "source", "track", "embed"}


@lru_cache(maxsize=None)
def solution_page(example: Path, folder: Path) -> str:
    """The page `derive solve EXAMPLE -o EXAMPLE.html` writes (in `folder`), checked to be written."""
    output = folder / f"{example.stem}.html"
    result = run_cli(folder, "solve", example, "-o", output)
    assert result.returncode == 0, result.stderr
    assert f"wrote {output}" in result.stdout
    return output.read_text(encoding="utf-8")


class _Structure(HTMLParser):
    """Every tag closed in order (void elements excepted), and each <math> element's text kept whole."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
            if tag in self.open:
                while self.open and self.open.pop() != tag:
                    pass
        else:
            self.open.pop()


def structure_problems(page: str) -> list[str]:
    """What is malformed in `page`: unbalanced tags, and any <math> element that is not well-formed XML."""
    parser = _Structure()
    parser.feed(page)
    parser.close()
    problems = parser.problems + [f"<{t}> never closed" for t in parser.open]
    for maths in re.findall(r"<math\b.*?</math>", page, re.S):
        try:
            ElementTree.fromstring(maths)
        except ElementTree.ParseError as error:
            problems.append(f"MathML not well-formed ({error}): {maths[:120]}")
    return problems


def visible_text(page: str) -> str:
    """The page without its style, script and the values of its attributes (where `alttext` keeps the
    LaTeX): what a reader sees, tags and all."""
    page = re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S)
    return re.sub(r'="[^"]*"', '=""', page)


def tex_tags(example: Path) -> list[str]:
    """The equation numbers of the example's LaTeX worked solution, in order."""
    import derive

    problem = derive.Problem.from_yaml(example)
    document = problem.solve().document(check=False, description=problem.description)
    return re.findall(r"\\tag\{([^{}]*)\}", document)
