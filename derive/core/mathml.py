"""The printer's LaTeX as MathML, for web pages and notebooks (`latex2mathml` does the conversion).

`mathml(tex)` takes maths as `derive.core.printing` writes it (and as the templates wrap it: `\\text{...}`
notes with inline maths and `\\eqref` inside, `\\tag`, `\\label`, `\\notag`) and returns one `<math>` element
with the LaTeX kept in its `alttext`. Before conversion the few spellings latex2mathml does not know are
respelled (only notation, never the mathematics: this is no second printer); after it, the result is
checked: well-formed XML, no `<merror>`, no backslash command left in the text a reader sees. Anything
else is a `DeriveError` naming the maths.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

from .errors import DeriveError

ElementTree.register_namespace("", "http://www.w3.org/1998/Math/MathML")

_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_DROPPED = re.compile(r"\\(?:label|tag)\{[^{}]*\}|\\(?:notag|nonumber|small|footnotesize|scriptsize|normalsize)\b\s*")
_PARBOX = re.compile(r"\\parbox(?:\[[a-z]\])?\{[^{}]*\}\{(?:\\raggedright(?![A-Za-z])\s*)?")  # a LaTeX note's width
_EQREF = re.compile(r"\\eqref\{eq:([^{}]*)\}")
_RESPELLED = [  # latex2mathml's gaps, respelled as commands it knows (the same symbols)
    (re.compile(r"\\lbrace\b\s*"), r"\\{"), (re.compile(r"\\rbrace\b\s*"), r"\\}"),
    (re.compile(r"\\gt\b\s*"), ">"), (re.compile(r"\\lt\b\s*"), "<"),
    (re.compile(r"\\textbackslash\{\}"), r"\\backslash "),
    (re.compile(r"\\(?:dfrac|tfrac)\b"), r"\\frac"),
    (re.compile(r"\\(arg|deg|hom|ker)\b\s*"), r"\\operatorname{\1}"),
]
_COMMAND = re.compile(r"\\[A-Za-z]+")
_ORDINARY = set("()[]{}|\u2016/\u2202")  # ordinary symbols in TeX: no space beside them
_TALL = {_MATHML + tag for tag in ("mfrac", "mtable", "munderover", "munder", "msubsup")}


def mathml(tex: str, display: bool = False) -> str:
    """`tex` (maths as derive prints it, without `$` or `\\(`) as one MathML `<math>` element: a block
    (`display`) or inline; `alttext` holds the LaTeX for screen readers and copying."""
    from latex2mathml.converter import convert

    source = _normalised(tex)
    if not source:  # an empty cell of an aligned row
        return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{"block" if display else "inline"}" alttext=""></math>'
    try:
        converted = convert(source, display="block" if display else "inline")
    except Exception as error:  # latex2mathml raises its own exceptions (and IndexError, KeyError) on bad input
        raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: {error or type(error).__name__}") from None
    root = _checked(converted, tex)
    _set_as_tex_does(root)
    root.set("alttext", _alttext(tex))
    return ElementTree.tostring(root, encoding="unicode", short_empty_elements=False)


def _normalised(tex: str) -> str:
    text = _PARBOX.sub(r"\\text{", tex)
    text = _EQREF.sub(r"(\1)", text)
    text = _DROPPED.sub("", text)
    text = _inline_maths_in_text(text)
    for pattern, spelling in _RESPELLED:
        text = pattern.sub(spelling, text)
    return text.strip()


def _inline_maths_in_text(tex: str) -> str:
    """`\\text{since \\(a = b\\)}` (maths inside a note) as `\\text{since }a = b\\text{}`: latex2mathml reads
    no maths inside `\\text`."""
    return re.sub(r"\\\((.*?)\\\)", r"}\1\\text{", tex) if r"\(" in tex else tex


def _alttext(tex: str) -> str:
    return " ".join(_DROPPED.sub("", tex).split())


def _short(tex: str) -> str:
    tex = " ".join(tex.split())
    return tex if len(tex) <= 80 else tex[:77] + "..."


def _set_as_tex_does(root) -> None:
    """Spacing as TeX sets the maths: brackets, bars, slashes and the partial sign are ordinary symbols (no
    space beside them, where MathML's operator dictionary would space some as operators), and a bracket pair
    `\\left( ... \\right)` around maths no taller than a line keeps its size, as TeX's does (stretched, it takes
    a wider glyph that reads as a gap)."""
    for element in root.iter(_MATHML + "mo"):
        if (element.text or "") in _ORDINARY:
            element.set("lspace", "0em")
            element.set("rspace", "0em")
    for element in root.iter(_MATHML + "mi"):
        if len(element.text or "") == 1 and "\u0391" <= element.text <= "\u03a9":
            element.set("mathvariant", "normal")  # capital Greek is upright in TeX (\\Delta), italic in MathML
    for row in root.iter(_MATHML + "mrow"):
        children = list(row)
        if (len(children) >= 2 and children[0].get("form") == "prefix" and children[-1].get("form") == "postfix"
                and not any(e.tag in _TALL for child in children[1:-1] for e in child.iter())):
            children[0].set("stretchy", "false")
            children[-1].set("stretchy", "false")


def _checked(converted: str, tex: str):
    try:
        root = ElementTree.fromstring(converted)
    except ElementTree.ParseError as error:
        raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: {error}") from None
    for element in root.iter():
        if element.tag == _MATHML + "merror":
            raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: it has an error")
        command = _COMMAND.search(element.text or "")
        if command:
            raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: {command.group()} is not known")
    return root
