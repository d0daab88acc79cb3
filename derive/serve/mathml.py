r"""Maths for the practice page: `preview` (a student's text as MathML, converted under a time and memory limit
in a process of its own, its errors said in a student's words).

What does not live here: the conversion and the allow-list every page's MathML is rebuilt from
(`derive.core.mathml`: `safe_mathml`, `sanitized`, `UnsafeMathML`),
the maths' LaTeX (derive's printer, `derive.core.printing`), the page (`page`).
"""

from __future__ import annotations

from ..core.errors import DeriveError
from ..core.mathml import UnsafeMathML, safe_mathml

PREVIEW_SECONDS = 2.0  # clock time for converting one preview (a child process killed after it)
PREVIEW_RECURSION = 1000  # Python frames for the converter in that child (deeper input: "nests too deeply")
PREVIEW_MEMORY = 2048 << 20  # bytes of address space for that child (as verify; a fork of a big process needs it)


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
