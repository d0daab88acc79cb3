"""Shared helpers: the pdflatex requirement, and an oracle that compares expressions at exact points."""

from __future__ import annotations

import os
import random
import shutil

import pytest
import sympy

from derive.core.ops import relu, sigmoid, softplus


def require_pdflatex() -> str:
    """The pdflatex path; skips the test when it is missing, unless DERIVE_REQUIRE_PDFLATEX=1 (then fails)."""
    path = shutil.which("pdflatex")
    if path is None:
        if os.environ.get("DERIVE_REQUIRE_PDFLATEX") == "1":
            pytest.fail("pdflatex is required (DERIVE_REQUIRE_PDFLATEX=1) but not installed")
        pytest.skip("pdflatex is not installed (Debian: texlive-latex-base, texlive-latex-recommended)")
    return path


def elementary(expr):
    """`expr` with derive's activations rewritten to SymPy's own functions: the oracle's input."""
    return expr.replace(sigmoid, lambda u: 1 / (1 + sympy.exp(-u))).replace(
        relu, lambda u: sympy.Max(0, u)).replace(softplus, lambda u: sympy.log(1 + sympy.exp(u)))


def agree_at_random_points(a, b, symbols, trials: int = 4, seed: int = 0, digits: int = 40) -> None:
    """Assert a == b at random rational points, evaluated to `digits` significant digits."""
    rng = random.Random(seed)
    for _ in range(trials):
        point = {s: sympy.Rational(rng.randint(-19, 19), rng.randint(5, 11)) for s in symbols}
        left = sympy.N(a.subs(point), digits)
        right = sympy.N(b.subs(point), digits)
        assert abs(complex(left - right)) <= 1e-25 * max(1.0, abs(complex(right))), (point, left, right)
