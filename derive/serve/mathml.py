r"""Maths for the practice page as MathML that is safe to put in it: `safe_mathml` (LaTeX the page or a student
wrote, converted by a parser and then rebuilt from an allow-list) and `preview` (a student's text, converted
under a time and memory limit in a process of its own).

The converter (latex2mathml) copies text it does not understand into its output: `\text{<script>}` comes
out as a `<script>` element and `\href{javascript:...}` as an `href` attribute. So its output is parsed as
XML and written again from scratch: only MathML elements on the list below, only the attributes on the list,
all text escaped; anything else refuses the preview. A document type (`<!DOCTYPE`, which could declare
entities that expand without end) refuses it before parsing.
What does not live here: the maths' LaTeX (derive's printer, `derive.core.printing`), the page (`page`).
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ElementTree

from ..core.errors import DeriveError

MATHML = "http://www.w3.org/1998/Math/MathML"
ELEMENTS = frozenset("""math mrow mi mn mo ms mtext mspace msub msup msubsup mfrac msqrt mroot mover munder
    munderover mtable mtr mtd mstyle mpadded mphantom menclose merror mmultiscripts mprescripts none semantics
    annotation""".split())
ATTRIBUTES = frozenset("""display mathvariant stretchy fence form accent accentunder displaystyle rowspacing
    columnspacing columnalign rowalign columnlines rowlines frame linethickness mathsize width height depth
    lspace rspace minsize maxsize movablelimits separator scriptlevel notation largeop symmetric columnspan
    rowspan open close separators align equalrows equalcolumns framespacing bevelled numalign denomalign
    mathcolor mathbackground encoding""".split())
PREVIEW_SECONDS = 2.0  # clock time for converting one preview (a child process killed after it)
PREVIEW_RECURSION = 1000  # Python frames for the converter in that child (deeper input: "nests too deeply")
PREVIEW_MEMORY = 2048 << 20  # bytes of address space for that child (as verify; a fork of a big process needs it)


class UnsafeMathML(DeriveError):
    """The converter's output holds something that is not MathML the page shows."""


def converted(tex: str, display: bool = False) -> str:
    """LaTeX as MathML, by the converter only (never evaluated). The one place that names the converter, so
    that it can become derive's own `derive.core.mathml.mathml` when that exists."""
    from latex2mathml.converter import convert

    return convert(tex, display="block" if display else "inline")


def safe_mathml(tex: str, display: bool = False) -> str:
    """`tex` as MathML rebuilt from the allow-list; raises `UnsafeMathML` (or the converter's own error)."""
    return sanitized(converted(tex, display))


def sanitized(markup: str) -> str:
    """MathML markup written again from its parsed tree: allowed elements and attributes, escaped text."""
    if "<!" in markup or "<?" in markup:
        raise UnsafeMathML("the maths holds markup that is not MathML")
    try:
        root = ElementTree.fromstring(markup)
    except ElementTree.ParseError as error:
        raise UnsafeMathML(f"the maths could not be shown ({error})") from None
    return _written(root, top=True)


def _written(element, top: bool = False) -> str:
    namespace, _, name = element.tag.rpartition("}")
    if namespace.lstrip("{") != MATHML or name not in ELEMENTS or (top and name != "math"):
        raise UnsafeMathML("the maths holds markup that is not MathML")
    attributes = "".join(f' {key}="{html.escape(value, quote=True)}"' for key, value in element.attrib.items()
                         if key in ATTRIBUTES)
    if top:
        attributes = f' xmlns="{MATHML}"' + attributes
    inner = html.escape(element.text or "", quote=False)
    for child in element:
        inner += _written(child) + html.escape(child.tail or "", quote=False)
    return f"<{name}{attributes}>{inner}</{name}>"


def preview(text: str, display: bool = True) -> str:
    """A student's text as MathML (display or inline), converted in a child process killed after `PREVIEW_SECONDS` (the
    converter recurses and is not ours to bound); raises `DeriveError` with one line when it cannot be shown."""
    import sys

    from ..grade.deadline import ChildCrashed, TimeLimitReached, limit_memory, within
    from ..read.answers import bracket_depth, clean
    from ..read.matrix_tokens import MAX_DEPTH

    if bracket_depth(text) > MAX_DEPTH:  # the reader refuses this nesting too; decided here, before converting
        raise DeriveError("the maths nests too deeply to show")

    def work(report):
        sys.setrecursionlimit(PREVIEW_RECURSION)  # the child's own bound, whatever the server process set
        try:
            return safe_mathml(clean(text), display=display)
        except UnsafeMathML as error:
            return DeriveError(error.message)
        except RecursionError:
            return DeriveError("the maths nests too deeply to show")
        except Exception as error:  # noqa: BLE001 - the converter's own errors: unbalanced braces and the like
            return DeriveError(_converter_error(error))

    try:
        result = within(work, PREVIEW_SECONDS, child_setup=lambda: limit_memory(PREVIEW_MEMORY))
    except TimeLimitReached:
        raise DeriveError(f"no preview within {PREVIEW_SECONDS:g} s") from None
    except (ChildCrashed, MemoryError):
        raise DeriveError("no preview: showing it needed more memory than allowed") from None
    if isinstance(result, DeriveError):
        raise result
    return result


CONVERTER_ERRORS = {  # the converter's errors, as a student would say them
    "NoAvailableTokensError": "something is missing at the end (a brace or an operand)",
    "ExtraLeftOrMissingRightError": r"a \left has no \right, or a \right no \left",
    "MissingSuperScriptOrSubscriptError": "a ^ or _ has nothing after it",
    "DoubleSubscriptsError": "two subscripts in a row (write x_{ab})",
    "DoubleSuperscriptsError": "two superscripts in a row (write x^{ab})",
    "DenominatorNotFoundError": r"a \frac has no denominator",
    "NumeratorNotFoundError": r"a \frac has no numerator",
    "MissingEndError": r"a \begin has no \end",
}


def _converter_error(error: Exception) -> str:
    """The converter's error in a few words; one it does not name is said as its class name is."""
    import re

    name = type(error).__name__
    words = CONVERTER_ERRORS.get(name) or re.sub(r"(?<!^)(?=[A-Z])", " ", re.sub(r"Error$", "", name)).lower()
    return f"cannot show this yet: {words}"
