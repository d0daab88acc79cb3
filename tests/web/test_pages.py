"""Worked solutions as web pages, read without a browser: `derive solve EXAMPLE -o x.html` for every example
writes one well-formed, self-contained page whose numbered equations are those of the LaTeX document, each
as MathML with its number, with no TeX left for a reader to see."""

from __future__ import annotations

import dataclasses
import re

import pytest

from cli_helpers import assert_bad_input, run_cli

from .pages import EXAMPLES, solution_page, structure_problems, tex_tags, visible_text


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("pages")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_writes_a_page(example, folder):
    page = solution_page(example, folder)
    assert page.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert structure_problems(page) == []
    numbers = re.findall(r'<tr class="[a-z]+" id="eq-([^"]+)"', page)
    assert numbers == tex_tags(example)  # the same equations, numbered alike
    for number in numbers:
        row = re.search(rf'<tr class="[a-z]+" id="eq-{number}".*?</tr>', page).group()
        assert "<math" in row and f'<td class="tag">({number})</td>' in row
    targets = set(re.findall(r'href="#(eq-[^"]+)"', page))
    assert targets and targets <= {f"eq-{n}" for n in numbers}  # every reference reaches its equation
    seen = visible_text(page)
    assert not re.search(r"\\[A-Za-z]+|\\[()\[\]]", seen), re.search(r".{60}\\[A-Za-z()\[\]].{60}", seen, re.S)
    assert "$" not in seen


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_page_is_self_contained_and_in_order(example, folder):
    page = solution_page(example, folder)
    assert not re.search(r"""(src|href)=["'](?!#)""", page)  # nothing fetched: no file, no address
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count("<h1>") == 1 and page.count("<main>") == 1 and "<nav " in page
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", page)]
    assert levels[0] == 1 and all(b <= a + 1 for a, b in zip(levels, levels[1:]))  # no heading skipped
    assert all(re.search(r'<button type="button" data-action="[a-z]+"', b) for b in re.findall(r"<button.*?</button>", page))
    assert '<div class="toolbar" role="toolbar" aria-label="Page controls" hidden>' in page  # no script: no controls
    assert page.count('<details class="derivation" open>') >= 1


def test_the_page_says_what_the_pdf_says(folder):
    """The same words: the annotations and headings of the LaTeX document, in the same order."""
    example = next(p for p in EXAMPLES if p.stem == "two_layer_batch")
    page = solution_page(example, folder)
    import derive

    problem = derive.Problem.from_yaml(example)
    tex = problem.solve().document(check=False, description=problem.description)
    notes = [n for n in re.findall(r"\\raggedright\\small ([^{}]*?)(?:\\eqref|\})", tex) + re.findall(r"\\text\{\\small ([^{}\\]*)", tex)]
    for note in notes:
        assert note.strip() in page
    headings = [re.sub(r"\\\(.*?\\\)", "", h).strip() for h in re.findall(r"\\section\*\{(.*?)\}\n", tex)]
    shown = [re.sub(r"<math.*?</math>|<[^>]+>", "", h).strip() for h in re.findall(r"<h2 id=\"[^\"]+\">(.*?)</h2>", page)]
    assert [h for h in shown if h != "Contents"][:len(headings)] == headings


def test_a_failing_check_links_to_the_step_it_tests(tmp_path):
    """A wrong gradient (here: a check against a perturbed loss) lists its failing entries, each a link to the
    equation of that gradient's result."""
    import derive

    problem = derive.Problem.from_yaml(next(p for p in EXAMPLES if p.stem == "one_layer_scalar"))
    solution = problem.solve()
    report = solution.check()
    wrong = tuple(dataclasses.replace(e, band="wrong", numeric=e.numeric + 1) for e in report.entries)
    solution.report = dataclasses.replace(report, entries=wrong)
    page = solution.html()
    failures = re.findall(r'<li class="failure"><a class="ref" href="#(eq-\d+)"', page)
    final = re.findall(r'id="(eq-\d+)"', page)[-1]
    assert failures and set(failures) == {final}


@pytest.mark.parametrize("args", [("--exercise",), ()])
def test_html_is_for_solutions_not_exercise_sheets(tmp_path, args):
    example = next(p for p in EXAMPLES if p.stem == "one_layer_scalar")
    if args:
        message = assert_bad_input(run_cli(tmp_path, "solve", example, "-o", "out.html", *args), tmp_path, "out.html")
        assert "exercise sheet" in message
    else:
        result = run_cli(tmp_path, "solve", example, "-o", "sub/out.html")
        assert result.returncode == 2 and not (tmp_path / "sub").exists()
