"""The Markdown derive writes renders wherever it is read, tested with the readers themselves: every maths span
of every example's Markdown (worked solution with its check, Derivation.markdown, exercise sheet, demo,
trace, estimator report) is typeset by KaTeX and by MathJax 3 (Node, tests/js), pandoc finds exactly those spans and its HTML
(--mathml, where pandoc's own TeX reader must read every formula) has no raw TeX left, and GitHub's Markdown
pass (pandoc's GFM reader standing in for it) leaves the TeX of each span as it was.

The readers are skipped when missing, unless DERIVE_REQUIRE_RENDERERS=1 (as .ci/run sets): then they must be
there."""

from __future__ import annotations

import functools
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy

from derive.write.exercise import render_exercise
from derive.write.markdown import maths_spans, portable, portable_tex

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
JS = ROOT / "tests" / "js"
ESTIMATE_EXAMPLES = ("router.yaml", "router_mlp.yaml")


def _require(tool: str, present: bool, hint: str) -> None:
    if not present:
        if os.environ.get("DERIVE_REQUIRE_RENDERERS") == "1":
            pytest.fail(f"{tool} is required (DERIVE_REQUIRE_RENDERERS=1) but missing: {hint}")
        pytest.skip(f"{tool} is missing: {hint}")


def require_node() -> None:
    _require("node with katex and mathjax-full", shutil.which("node") is not None and (JS / "node_modules" / "katex").is_dir()
             and (JS / "node_modules" / "mathjax-full").is_dir(), "npm ci --prefix tests/js")


def require_pandoc() -> None:
    _require("pandoc", shutil.which("pandoc") is not None, "apt-get install pandoc")


# -- the documents -------------------------------------------------------------------------------------------
def _point(inputs) -> dict:
    """A point away from kinks and zeros: distinct values in (-0.9, 0.9)."""
    return {x: sympy.Rational((37 * k) % 17 - 8, 10) or sympy.Rational(3, 10) for k, x in enumerate(inputs, start=1)}


@functools.lru_cache(maxsize=None)
def documents() -> dict[str, str]:
    from derive.cli.demo import seed_003_document
    from derive.solve.problem import Problem
    from derive.stochastic.estimators import estimate
    from derive.tracing import tracer

    found = {"demo --all": seed_003_document("md", everything=True)[0]}
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name in ESTIMATE_EXAMPLES:
            found[f"estimate {path.name}"] = estimate(path, None, samples=2000, seed=0).markdown(plot="plot.png")
            continue
        problem = Problem.from_yaml(path)
        solution = problem.solve()
        solution.report = solution.check(points=2, compare=True)
        found[f"solve {path.name}"] = solution.markdown(description=problem.description,
                                                        check_extras=("sweep", "comparison"))
        found[f"derivation {path.name}"] = solution.derivations[-1].markdown(check=False)
        found[f"exercise {path.name}"] = render_exercise(solution.part(False, problem.description), "md", "deltas")
        if _traceable(path):
            inputs = tracer._target(path, "", 2)[3]
            found[f"trace {path.name}"] = tracer.trace(path, _point(inputs)).markdown()
    return found


def _traceable(path: Path) -> bool:
    """Traces refuse one-hot targets."""
    from derive.solve.problem import Problem

    return not Problem.from_yaml(path).network.one_hot


def document_names() -> list[str]:
    """The names `documents()` gives, known without writing them (for parametrizing)."""
    names = ["demo --all"]
    for path in sorted(EXAMPLES.glob("*.yaml")):
        if path.name in ESTIMATE_EXAMPLES:
            names.append(f"estimate {path.name}")
            continue
        names += [f"solve {path.name}", f"derivation {path.name}", f"exercise {path.name}"]
        names += [f"trace {path.name}"] if _traceable(path) else []
    return names


def spans(text: str) -> list[tuple[str, bool]]:
    """(TeX, display) of each maths span, as derive.write.markdown finds them."""
    return [(text[s + (2 if d else 1):e - (2 if d else 1)].strip(), d) for s, e, d in maths_spans(text)]


def all_spans() -> list[tuple[str, str, bool]]:
    return [(name, tex, display) for name, text in documents().items() for tex, display in spans(text)]


# -- the readers ---------------------------------------------------------------------------------------------
def typeset(items: list[tuple[str, bool]]) -> list[dict]:
    payload = json.dumps([{"tex": tex, "display": display} for tex, display in items])
    run = subprocess.run(["node", str(JS / "check_maths.js")], input=payload, capture_output=True, text=True,
                         timeout=600, cwd=JS)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def pandoc(text: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["pandoc", *arguments], input=text, capture_output=True, text=True, timeout=300)


def pandoc_maths(text: str) -> list[tuple[str, bool]]:
    """(TeX, display) of every Math element of pandoc's reading of `text`, in order."""
    tree = json.loads(pandoc(text, "-f", "markdown", "-t", "json").stdout)
    found = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("t") == "Math":
                kind, tex = node["c"]
                found.append((tex.strip(), kind["t"] == "DisplayMath"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(tree)
    return found


# -- the tests -----------------------------------------------------------------------------------------------
def test_every_example_writes_maths():
    assert list(documents()) == document_names()
    counts = {name: len(spans(text)) for name, text in documents().items()}
    assert all(count > 5 for count in counts.values()), counts
    assert any(d for _, _, d in all_spans()) and any(not d for _, _, d in all_spans())


def test_katex_and_mathjax_typeset_every_maths_span():
    require_node()
    items = list(dict.fromkeys((tex, display) for _, tex, display in all_spans()))
    results = typeset(items)
    refused = [(engine, error, tex) for (tex, _), result in zip(items, results) for engine, error in result.items()
               if error]
    assert not refused, "\n\n".join(f"{engine}: {error}\n{tex}" for engine, error, tex in refused[:10])


def test_the_checker_sees_errors_of_both_engines():
    """The Node checker is no rubber stamp: an unknown command, a bad brace and \\notag outside an environment
    are refused (MathJax's merror nodes, KaTeX's exceptions), and \\tag in an align display is not."""
    require_node()
    results = typeset([(r"\frac{a}{b} \unknowncommand", False), (r"x^{", False), (r"a \notag", False),
                       (r"\begin{align} a &= b \tag{1} \\ c &= d \nonumber \end{align}", True)])
    assert all(r["katex"] and r["mathjax"] for r in results[:2]), results
    assert results[3] == {"katex": None, "mathjax": None}, results


@pytest.mark.parametrize("name", document_names())
def test_pandoc_reads_the_same_maths_and_converts_all_of_it(name):
    require_pandoc()
    text = documents()[name]
    assert [(same_text(t), d) for t, d in pandoc_maths(text)] == [(same_text(t), d) for t, d in spans(text)]
    run = pandoc(text, "-f", "markdown", "-t", "html", "--mathml")
    assert run.returncode == 0, run.stderr
    assert "Could not convert TeX math" not in run.stderr, run.stderr[:2000]
    page = re.sub(r"<annotation encoding=\"application/x-tex\">.*?</annotation>", "", run.stdout, flags=re.S)
    assert page.count("<math") == len(spans(text))  # every span became MathML, its TeX kept only as annotation
    assert 'class="math' not in page  # what texmath cannot read stays raw TeX in such a span
    assert "\\begin{" not in page and "\\frac" not in page and "\\partial" not in page


ROW_BREAK = "\\\\\n"


def same_text(text: str) -> str:
    """Text as TeX reads it: a run of spaces and newlines is one space."""
    return re.sub(r"\s+", " ", text).strip()


def test_githubs_markdown_pass_leaves_the_maths_alone():
    r"""GitHub runs Markdown's escapes, emphasis and HTML over the maths before MathJax sees it: each span,
    read as a GFM paragraph, must come out as the same text. The one exception is the row break `\\` at the end
    of a line, which GitHub hands on whole there (and only there: a `\\` inside a line is checked)."""
    require_pandoc()
    items = list(dict.fromkeys((tex, display) for _, tex, display in all_spans()))
    marker = "ROWBREAKMARK\n"
    paragraphs = [tex.replace(ROW_BREAK, marker) for tex, _ in items]
    run = pandoc("\n\n".join(paragraphs), "-f", "gfm", "-t", "html", "--wrap=preserve")
    read = [html.unescape(p) for p in re.findall(r"<p>(.*?)</p>", run.stdout, re.S)]
    changed = [(before, after) for before, after in zip(paragraphs, read) if same_text(before) != same_text(after)]
    assert len(read) == len(paragraphs)
    assert not changed, "\n\n".join(f"{a}\n  became\n{b}" for a, b in changed[:8])
    inline_bars = [tex for tex, display in items if not display and "|" in tex]
    assert not inline_bars, inline_bars[:5]  # a bar would end a table cell


def test_displays_are_paragraphs_of_their_own():
    for name, text in documents().items():
        for start, end, display in maths_spans(text):
            if display:
                assert text[:start].endswith("\n\n") or start == 0, (name, text[start - 80:start + 20])
                assert text[end:].startswith("\n\n") or end == len(text), (name, text[end - 20:end + 40])


# -- the spelling itself ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("tex, portable_form", [
    (r"l \in \{1, 2\}", r"l \in \lbrace1, 2\rbrace"),
    (r"\left\{x\right\}", r"\left\lbrace x\right\rbrace"),
    (r"a \notag \\ b", "a \\nonumber \\\\\n b"),
    (r"\sqrt{\varepsilon}\,\max(1, |x|)", r"\sqrt{\varepsilon}\ \max(1, \vert x\vert)"),
    (r"[X]_{n \times 3} \hat{y}_{1}", r"[X]_ {n \times 3} \hat{y}_ {1}"),
    (r"w_{1} x_1", r"w_{1} x_1"),
    (r"a^* < b", r"a^\ast \lt b"),
    (r"a && \text{since each row of $Y$ sums to 1}", r"a && \text{since each row of }Y\text{ sums to 1}"),
    (r"\text{$x$ and $y$}", r"x\text{ and }y"),
])
def test_portable_spelling(tex, portable_form):
    assert portable_tex(tex) == portable_form


def test_spans_skip_code_and_escaped_dollars():
    text = "costs \\$5 and $x$; `$y$` and\n```\n$$z$$\n```\n$$\na \\\\\nb\n$$\nand $ 3 $ no, $a$5 no"
    assert spans(text) == [("x", False), ("a \\\\\nb", True)]


def test_portable_puts_a_display_in_its_own_paragraph():
    assert portable("defined by\n$$a = b$$\nwhere $c$.") == "defined by\n\n$$\na = b\n$$\n\nwhere $c$."


# -- GitHub's documented rules ---------------------------------------------------------------------------------
GITHUB_MATHS_DOC = ("https://docs.github.com/en/get-started/writing-on-github/working-with-advanced-formatting/"
                    "writing-mathematical-expressions")


def github_violations(text: str) -> list[str]:
    """What in the Markdown `text` breaks the rules of GitHub's "Writing mathematical expressions" page
    (GITHUB_MATHS_DOC), one line each:

    - inline maths is `$...$` (or $`...`$); a block "starts a new line" and is delimited by `$$` (or is a
      ```math fenced block): so a display's `$$` opens at the start of a line and closes at the end of one;
    - "to display a dollar sign as a character in the same line as a mathematical expression, you need to
      escape the non-delimiter $": inside maths as `\\$`, outside maths on such a line in `<span>$</span>`.

    And two rules the page leaves to the Markdown it extends, which every reader derive targets shares: the
    opening `$` of inline maths is not followed by a space nor the closing one preceded by one (`$ x $` is not
    maths, so its dollars are stray ones beside maths), and no maths span holds a blank line (it would end the
    paragraph)."""
    found = []
    spans = maths_spans(text)
    inside = [False] * len(text)
    for start, end, display in spans:
        inside[start:end] = [True] * (end - start)
        body = text[start + (2 if display else 1):end - (2 if display else 1)]
        where = text[start:start + 40].replace("\n", " ")
        if display:
            if start > 0 and text[start - 1] != "\n":
                found.append(f"a display's $$ does not start a line: {where!r}")
            if text[end:end + 1] not in ("", "\n"):
                found.append(f"a display's closing $$ does not end a line: {text[end - 20:end + 20]!r}")
        if "\n\n" in body or "\n \n" in body:
            found.append(f"a blank line inside maths: {where!r}")
        if re.search(r"(?<!\\)\$", body):
            found.append(f"an unescaped $ inside maths: {where!r}")
    line_start, fenced = 0, False
    for line in text.split("\n"):
        fenced ^= line.lstrip().startswith("```")
        if not fenced and any(inside[line_start:line_start + len(line)]):
            outside = "".join(" " if inside[line_start + k] else c for k, c in enumerate(line))
            outside = re.sub(r"<span>\$</span>", "", re.sub(r"(`+).*?\1", "", outside))  # code is no text
            if "$" in outside:
                found.append(f"a dollar sign beside maths, not in <span>$</span>: {line[:60]!r}")
        line_start += len(line) + 1
    return found


@pytest.mark.parametrize("name", document_names())
def test_every_example_follows_githubs_rules_for_maths(name):
    """Every example's Markdown (each kind: solution, derivation, exercise, demo, trace, estimate) against the
    rules of GitHub's "Writing mathematical expressions" (see `github_violations`; GitHub itself cannot be
    reached from the test machine, its documented rules can)."""
    violations = github_violations(documents()[name])
    assert not violations, "\n".join(violations[:10])


@pytest.mark.parametrize("text, problem", [
    ("where\n$$a = b$$ and more", "does not end a line"),
    ("where $$\na\n$$\n", "does not start a line"),
    ("so $x$ costs <b>$</b>5", "dollar sign beside maths"),
    ("so\n$$\na \\text{ costs $5}\n$$\n", "unescaped $"),
    ("so $x $ is $y$", "dollar sign beside maths"),
])
def test_the_github_checker_refuses_what_the_page_forbids(text, problem):
    assert any(problem in v for v in github_violations(text)), github_violations(text)


def test_the_github_checker_accepts_the_pages_own_examples():
    page = ("This sentence uses `$` delimiters to show math inline: $\\sqrt{3x-1}+(1+x)^2$\n\n"
            "**The Cauchy-Schwarz Inequality**\n$$\\left( \\sum_{k=1}^n a_k b_k \\right)^2 \\leq \\left( "
            "\\sum_{k=1}^n a_k^2 \\right) \\left( \\sum_{k=1}^n b_k^2 \\right)$$\n\n"
            "This expression uses `\\$` to display a dollar sign: $\\sqrt{\\$4}$\n\n"
            "To split <span>$</span>100 in half, we calculate $100/2$\n")
    assert github_violations(page) == []
