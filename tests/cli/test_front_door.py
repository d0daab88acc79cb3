"""The front door is lazy: `derive --version`, `derive --help` and `import derive` load none of the heavy
libraries (SymPy, NumPy, the LaTeX parser, Jinja, YAML, matplotlib), and the public names still work."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("sympy", "numpy", "latex2sympy2_extended", "antlr4", "jinja2", "yaml", "matplotlib", "scipy")


def loaded_after(code: str) -> list[str]:
    """The heavy top-level modules a fresh interpreter has loaded after running `code`."""
    probe = f"{code}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [m for m in done.stdout.split()[-1000:] if m in HEAVY]


@pytest.mark.parametrize("code", [
    "import derive",
    "import derive.cli.main",
    "from derive.cli.main import main\ntry:\n    main.main(['--version'], standalone_mode=False)\nexcept SystemExit:\n    pass",
    "from derive.cli.main import main\ntry:\n    main.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass",
    "from derive.cli.main import main\ntry:\n    main.main(['solve', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass",
])
def test_the_front_door_loads_no_heavy_library(code):
    assert loaded_after(code) == []


def test_the_command_prints_its_version_and_help():
    version = subprocess.run([sys.executable, "-m", "derive", "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == "derive, version 0.1.0"
    helped = subprocess.run([sys.executable, "-m", "derive", "--help"], capture_output=True, text=True, timeout=120)
    assert helped.returncode == 0
    for command in ("solve", "check", "trace", "verify", "grade", "estimate", "demo"):
        assert f"  {command} " in helped.stdout


def test_public_names_load_when_first_used():
    code = ("import derive, sympy\n"
            "net = derive.Network()\n"
            "x, y, w = net.symbols('x y w')\n"
            "yhat = net.define('yhat', derive.sigmoid(w * x))\n"
            "L = net.define('L', sympy.Rational(1, 2) * (y - yhat) ** 2)\n"
            "print(net.gradient(L, w).result)\n"
            "print(sorted(n for n in derive.__all__ if not hasattr(derive, n)))\n"
            "print(derive.grade.grade.__name__, derive.check.check_gradients.__name__, derive.trace.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["x*yhat*(1 - yhat)*(-y + yhat)", "[]", "grade check_gradients trace"]


def test_an_unknown_name_is_an_attribute_error():
    import derive

    with pytest.raises(AttributeError, match="no attribute 'Netwrok'"):
        derive.Netwrok  # noqa: B018
