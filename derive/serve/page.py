"""The practice page's HTML, from `templates/practice.html.j2` (the words are there), escaped as HTML except
the statements and the maths, which are HTML and MathML built by `statement` and `mathml`."""

from __future__ import annotations

_ENV = None


def render_page(problems: dict, key: str, settings) -> str:
    """The page with every problem in `problems` ({key: Practice}) and `key`'s shown."""
    from ..read.parse import MAX_LENGTH
    from ..write.render import environment

    global _ENV
    if _ENV is None:
        _ENV = environment().overlay(autoescape=True)
    items = list(problems.values())
    return _ENV.get_template("practice.html.j2").render(
        problems=items, selected=problems[key], max_answer=MAX_LENGTH, time_limit=f"{settings.time_limit:g}",
        logged=bool(settings.log))
