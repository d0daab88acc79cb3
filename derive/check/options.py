"""What a check may be asked: its methods (canonical names, aliases, the titles reports print) and the error
for an option that cannot be used (`CheckOptionError`). The driver is `gradient_check.check_gradients`."""

from __future__ import annotations

from ..core.errors import CheckError


METHODS = ("central", "forward", "richardson", "complex step", "directional", "exact")
_ALIASES = {"central difference": "central", "forward difference": "forward", "complex": "complex step",
            "complex-step": "complex step", "complex_step": "complex step", "richardson extrapolation": "richardson",
            "sympy": "exact", "symbolic": "exact"}
METHOD_TITLES = {"central": "central difference", "forward": "forward difference",
                 "richardson": "Richardson extrapolation of central differences", "complex step": "complex step",
                 "directional": "directional central difference along random unit directions",
                 "exact": "exact comparison with sympy.diff at rational points"}


class CheckOptionError(CheckError):
    """A check option (method, dtype, step, point) that cannot be used: about the request, not the loss."""


def method_name(method: str) -> str:
    """The canonical name of a method ("central", "complex step", ...); a one-line error for an unknown one."""
    key = _ALIASES.get(str(method).strip().lower(), str(method).strip().lower())
    if key not in METHODS:
        raise CheckOptionError(f"unknown check method '{method}' (known: {', '.join(METHODS)})")
    return key
