"""The printer's LaTeX as MathML, for web pages and notebooks (`latex2mathml` does the conversion).

`mathml(tex)` takes maths as `derive.core.printing` writes it (and as the templates wrap it: `\\text{...}`
notes with inline maths and `\\eqref` inside, `\\tag`, `\\label`, `\\notag`) and returns one `<math>` element
with the LaTeX kept in its `alttext`. Before conversion the few spellings latex2mathml does not know are
respelled (only notation, never the mathematics: this is no second printer); after it, the result is
checked: well-formed XML, no `<merror>`, no backslash command left in the text a reader sees. Anything
else is a `DeriveError` naming the maths.

Every `<math>` a page or a notebook shows is written by this module, from scratch, through one allow-list
(`sanitized`): the converter copies text it does not understand into its output (`\\text{<script>}` comes out
as a `<script>` element, `\\href{javascript:...}` as an `href` attribute), so its output is parsed as XML and
written again with only the MathML elements and attributes listed below and all text escaped; anything else
is refused (`UnsafeMathML`). A document type or processing instruction (`<!DOCTYPE`, which could declare
entities that expand without end) is refused before parsing. `safe_mathml` is the same for text nobody
printed (a student's answer): the converter's output through the allow-list, without respelling or checks.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ElementTree

from .errors import DeriveError

ElementTree.register_namespace("", "http://www.w3.org/1998/Math/MathML")

MATHML = "http://www.w3.org/1998/Math/MathML"
_MATHML = "{" + MATHML + "}"
ELEMENTS = frozenset("""math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mover munder
    munderover mtable mtr mtd mstyle mpadded mphantom menclose merror mmultiscripts mprescripts none semantics
    annotation mfenced""".split())
ATTRIBUTES = frozenset("""display mathvariant stretchy fence form accent accentunder displaystyle rowspacing
    columnspacing columnalign rowalign columnlines rowlines frame linethickness mathsize width height depth
    lspace rspace minsize maxsize movablelimits separator scriptlevel notation largeop symmetric columnspan
    rowspan open close separators align equalrows equalcolumns framespacing bevelled numalign denomalign
    mathcolor mathbackground encoding alttext""".split())
_STYLES = frozenset(f"text-align: {side}; padding: 0.15em 0" for side in ("left", "right"))  # ours, on cells
_DROPPED = re.compile(r"\\(?:label|tag)\{[^{}]*\}|\\(?:notag|nonumber|small|footnotesize|scriptsize|normalsize)\b\s*")
_PARBOX = re.compile(r"\\parbox(?:\[[a-z]\])?\{[^{}]*\}\{(?:\\raggedright(?![A-Za-z])\s*)?")  # a LaTeX note's width
_EQREF = re.compile(r"\\eqref\{eq:([^{}]*)\}")
_RESPELLED = [  # latex2mathml's gaps, respelled as commands it knows (the same symbols)
    (re.compile(r"\\lbrace\b\s*"), r"\\{"), (re.compile(r"\\rbrace\b\s*"), r"\\}"),
    (re.compile(r"\\gt\b\s*"), ">"), (re.compile(r"\\lt\b\s*"), "<"),
    (re.compile(r"\\textbackslash\{\}"), r"\\backslash "),
    (re.compile(r"\\(?:dfrac|tfrac)\b"), r"\\frac"),
    (re.compile(r"\\(arg|deg|hom|ker)\b\s*"), r"\\operatorname{\1}"),
    (re.compile(r"\\(begin|end)\{aligned\}"), r"\\\1{align*}"),  # the same rows, aligned alike
]
_COMMAND = re.compile(r"\\[A-Za-z]+")
_ORDINARY = set("()[]{}|\u2016/\u2202")  # ordinary symbols in TeX: no space beside them
_ROWS = {_MATHML + tag for tag in ("math", "mrow", "mtd", "mstyle", "mpadded", "mphantom")}  # children in a row
_TALL = {_MATHML + tag for tag in ("mfrac", "mtable", "munderover", "munder", "msubsup")}


class UnsafeMathML(DeriveError):
    """The converter's output holds something that is not MathML a page shows."""


def mathml(tex: str, display: bool = False) -> str:
    """`tex` (maths as derive prints it, without `$` or `\\(`) as one MathML `<math>` element: a block
    (`display`) or inline; `alttext` holds the LaTeX for screen readers and copying."""
    source = _normalised(tex)
    if not source:  # an empty cell of an aligned row
        return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{"block" if display else "inline"}" alttext=""></math>'
    try:
        markup = converted(source, display)
    except Exception as error:  # latex2mathml raises its own exceptions (and IndexError, KeyError) on bad input
        raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: {error or type(error).__name__}") from None
    root = _checked(markup, tex)
    _set_as_tex_does(root)
    root.set("alttext", _alttext(tex))
    return _written(root, top=True)


def converted(tex: str, display: bool = False) -> str:
    """LaTeX as MathML by the converter only (never evaluated; raises the converter's own errors). The one
    place that names the converter; its output is not yet safe to show (see `sanitized`)."""
    from latex2mathml.converter import convert

    return convert(tex, display="block" if display else "inline")


def safe_mathml(tex: str, display: bool = False) -> str:
    """`tex` (anyone's text) as MathML rebuilt from the allow-list; raises `UnsafeMathML` or the converter's
    own error."""
    return sanitized(converted(tex, display))


def sanitized(markup: str) -> str:
    """MathML markup written again from its parsed tree: allowed elements and attributes, escaped text."""
    return _written(_parsed(markup), top=True)


def _parsed(markup: str):
    if "<!" in markup or "<?" in markup:
        raise UnsafeMathML("the maths holds markup that is not MathML")
    try:
        return ElementTree.fromstring(markup)
    except ElementTree.ParseError as error:
        raise UnsafeMathML(f"the maths could not be shown ({error})") from None


def _written(element, top: bool = False) -> str:
    namespace, _, name = element.tag.rpartition("}")
    if namespace.lstrip("{") != MATHML or name not in ELEMENTS or (top and name != "math"):
        raise UnsafeMathML("the maths holds markup that is not MathML")
    attributes = "".join(f' {key}="{html.escape(value, quote=True)}"' for key, value in element.attrib.items()
                         if key in ATTRIBUTES or (key == "style" and name == "mtd" and value in _STYLES))
    if top:
        attributes = f' xmlns="{MATHML}"' + attributes
    inner = html.escape(element.text or "", quote=False)
    for child in element:
        inner += _written(child) + html.escape(child.tail or "", quote=False)
    return f"<{name}{attributes}>{inner}</{name}>"


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
    for cell in root.iter(_MATHML + "mtd"):  # MathML Core reads no columnalign: say it in CSS
        if cell.get("columnalign") in ("left", "right"):
            cell.set("style", f"text-align: {cell.get('columnalign')}; padding: 0.15em 0")
    for parent in [e for e in root.iter() if e.tag in _ROWS]:
        children = list(parent)
        for i, child in enumerate(children):
            if child.tag == _MATHML + "mo" and child.text in ("\u2212", "+") and (
                    i == 0 or (children[i - 1].tag == _MATHML + "mo" and children[i - 1].get("form") != "postfix"
                               and children[i - 1].text not in (")", "]", "}", "|", "\u2016"))):
                child.set("lspace", "0em")  # a sign, not a subtraction: -0.5, (1, -2)
                child.set("rspace", "0em")
            if child.tag in (_MATHML + "mi", _MATHML + "mo") and len(child.text or "") > 1 and child.text.isalpha():
                if child.tag == _MATHML + "mo":  # \operatorname{sum}: a function's name, not an operator
                    child.set("lspace", "0em")
                    child.set("rspace", "0em")
                following = children[i + 1] if i + 1 < len(children) else None
                if following is not None and (following.text or "") not in ("(", "[", "\u2061") and following.tag != _MATHML + "mspace":
                    parent.insert(list(parent).index(child) + 1, ElementTree.Element(_MATHML + "mspace", width="0.1667em"))
    for row in root.iter(_MATHML + "mrow"):
        children = list(row)
        if (len(children) >= 2 and children[0].get("form") == "prefix" and children[-1].get("form") == "postfix"
                and not any(e.tag in _TALL for child in children[1:-1] for e in child.iter())):
            children[0].set("stretchy", "false")
            children[-1].set("stretchy", "false")


def _checked(markup: str, tex: str):
    try:
        root = _parsed(markup)
    except UnsafeMathML as error:
        raise UnsafeMathML(f"cannot write the maths '{_short(tex)}' as MathML: {error.message}") from None
    for element in root.iter():
        if element.tag == _MATHML + "merror":
            raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: it has an error")
        command = _COMMAND.search(element.text or "")
        if command:
            raise DeriveError(f"cannot write the maths '{_short(tex)}' as MathML: {command.group()} is not known")
    return root
