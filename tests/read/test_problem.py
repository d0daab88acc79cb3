"""`Problem` from YAML or text, the LaTeX notation derive reads, `syntax: sympy`, and located errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import sympy

import derive
from derive import DeriveError, LatexError, Problem, ProblemError, relu, sigmoid, softplus
from derive.read.parse import parse_latex, parse_sympy, symbol_name

from bad_problems import BAD_PROBLEMS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def sym(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


def symbols(*names: str) -> dict[str, sympy.Symbol]:
    return {name: sym(name) for name in names}


def problem(text: str, source: str = "p.yaml") -> Problem:
    return Problem.from_text(textwrap.dedent(text).lstrip("\n"), source)


def definitions(p: Problem) -> dict[str, sympy.Expr]:
    return {s.name: e for s, e in p.network.definitions.items()}


x, y, w, v, h, yhat, L = (sym(n) for n in ("x", "y", "w", "v", "h", "yhat", "L"))
HALF = sympy.Rational(1, 2)


# -- the examples -------------------------------------------------------------------------------------
def test_scalar_example():
    p = Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    assert p.loss == L
    assert p.wrt == [w]
    assert p.title == "1 layer network, 1 input (scalar)"
    assert "sigmoid unit" in p.description
    assert p.source.endswith("one_layer_scalar.yaml")
    assert list(p.network.inputs) == ["x", "y", "w"]
    assert definitions(p) == {"yhat": sigmoid(w * x), "L": HALF * (y - yhat) ** 2}
    assert p.gradient("w").result.equals((yhat - y) * yhat * (1 - yhat) * x)


def test_vector_example():
    p = Problem.from_yaml(str(EXAMPLES / "one_layer_vector.yaml"))
    ws = [sym(f"w_{i}") for i in (1, 2, 3)]
    xs = [sym(f"x_{i}") for i in (1, 2, 3)]
    assert p.loss == L
    assert p.wrt == ws
    assert list(p.network.inputs) == ["x_1", "x_2", "x_3", "y", "w_1", "w_2", "w_3"]
    assert definitions(p) == {"yhat": sigmoid(sum(wi * xi for wi, xi in zip(ws, xs))), "L": HALF * (y - yhat) ** 2}
    solution = p.solve()
    assert [d.wrt.name for d in solution.derivations] == ["w_1", "w_2", "w_3"]
    assert [d.wrt.name for d in p.solve(["w_2"]).derivations] == ["w_2"]


def test_relu_skip_example():
    p = Problem.from_yaml(EXAMPLES / "relu_skip.yaml")
    assert p.wrt == [w, v]
    assert definitions(p) == {"h": relu(w * x), "yhat": v * h + w * x, "L": HALF * (yhat - y) ** 2}


def test_missing_file_is_a_problem_error(tmp_path):
    with pytest.raises(ProblemError) as caught:
        Problem.from_yaml(tmp_path / "nowhere.yaml")
    assert "nowhere.yaml" in str(caught.value)


# -- other accepted forms -----------------------------------------------------------------------------
def test_mapping_definitions_and_string_symbols():
    p = problem(r"""
        symbols: x y w
        definitions:
          - \hat{y}: \sigma(w x)
          - L: \frac{1}{2} (y - \hat{y})^2
        loss: L
        wrt: w
        """)
    assert definitions(p) == {"yhat": sigmoid(w * x), "L": HALF * (y - yhat) ** 2}
    assert p.wrt == [w]


def test_symbols_as_mapping_of_scalars():
    p = problem("""
        symbols: {x: scalar, w: }
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        """)
    assert list(p.network.inputs) == ["x", "w"]


def test_sympy_syntax_matches_latex():
    latex = Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    p = problem("""
        symbols: [x, y, w]
        syntax: sympy
        definitions:
          - yhat = sigmoid(w*x)
          - L = Rational(1, 2)*(y - yhat)**2
        loss: L
        wrt: [w]
        """)
    assert definitions(p) == definitions(latex)
    assert p.gradient(w).result.equals(latex.gradient(w).result)


def test_sympy_syntax_one_by_one_matrix_is_a_scalar():
    p = problem("""
        symbols: [x, w]
        syntax: sympy
        definitions:
          - L = Matrix([[w*x]])
        loss: L
        wrt: [w]
        """)
    assert definitions(p) == {"L": w * x}


def test_parse_sympy_functions():
    assert parse_sympy("relu(x) + softplus(w) + log(x)", symbols("x", "w")) == relu(x) + softplus(w) + sympy.log(x)
    with pytest.raises(LatexError, match="unknown symbol z"):
        parse_sympy("z*x", symbols("x"))
    with pytest.raises(LatexError, match="undefined function foo"):
        parse_sympy("foo(x)", symbols("x"))


# -- bad problems: the error class, and a message naming the place ------------------------------------


@pytest.mark.parametrize("text, args, error_class, expected", [p for p in BAD_PROBLEMS if p.values[2]])
def test_bad_problem(text, args, error_class, expected):
    with pytest.raises(DeriveError) as caught:
        problem(textwrap.dedent(text))
    error = caught.value
    assert isinstance(error, error_class), repr(error)
    message = str(error)
    assert "\n" not in message
    for piece in expected:
        assert piece.search(message) if hasattr(piece, "search") else piece in message, (piece, message)


def test_error_location_defaults_to_problem():
    with pytest.raises(LatexError) as caught:
        Problem.from_text("symbols: [x]\ndefinitions:\n  - L = z\nloss: L\nwrt: [x]\n")
    assert caught.value.where == "<problem>, line 3, definition of L"
    assert caught.value.message.startswith("unknown symbol z")
    assert str(caught.value) == f"{caught.value.where}: {caught.value.message}"


def test_solve_with_unknown_variable():
    p = Problem.from_yaml(EXAMPLES / "one_layer_scalar.yaml")
    with pytest.raises(DeriveError, match="q"):
        p.solve(["q"])


# -- the LaTeX notation -------------------------------------------------------------------------------
NOTATION = [
    (r"\hat{y}", ("yhat",), yhat),
    (r"\hat y", ("yhat",), yhat),
    (r"\hat y x", ("yhat", "x"), yhat * x),
    (r"\bar{x} + \tilde{x}", ("xbar", "xtilde"), sym("xbar") + sym("xtilde")),
    (r"\sigma(x)", ("x",), sigmoid(x)),
    (r"\sigma(\sigma(x))", ("x",), sigmoid(sigmoid(x))),
    (r"\sigma\left(w x\right)", ("w", "x"), sigmoid(w * x)),
    (r"\sigma(x)^2", ("x",), sigmoid(x) ** 2),
    (r"\operatorname{ReLU}(x)", ("x",), relu(x)),
    (r"\mathrm{ReLU}(x)", ("x",), relu(x)),
    (r"\operatorname{softplus}(x)", ("x",), softplus(x)),
    (r"\operatorname{sigmoid}(x)", ("x",), sigmoid(x)),
    (r"\log x", ("x",), sympy.log(x)),
    (r"\log(\sigma(x))", ("x",), sympy.log(sigmoid(x))),
    (r"\ln x", ("x",), sympy.log(x)),
    (r"\log_2 x", ("x",), sympy.log(x) / sympy.log(2)),
    (r"\left( x + y \right)^2", ("x", "y"), (x + y) ** 2),
    (r"\bigl( x \bigr) \cdot y", ("x", "y"), x * y),
    (r"w_{1} x_1", ("w_1", "x_1"), sym("w_1") * sym("x_1")),
    (r"w_{12} x", ("w_12", "x"), sym("w_12") * x),
    (r"Y + y", ("Y", "y"), sym("Y") + y),
    (r"\frac{1}{2} (y - \hat{y})^2", ("y", "yhat"), HALF * (y - yhat) ** 2),
    (r"\exp(x) + e^{y}", ("x", "y"), sympy.exp(x) + sympy.exp(y)),
    (r"\tanh(x) + |y|", ("x", "y"), sympy.tanh(x) + sympy.Abs(y)),
    (r"\max(0, x)", ("x",), sympy.Max(0, x)),
    (r"\alpha\,x", ("alpha", "x"), sym("alpha") * x),
]


@pytest.mark.parametrize("text, names, expected", NOTATION, ids=[n[0] for n in NOTATION])
def test_latex_notation(text, names, expected):
    assert parse_latex(text, symbols(*names)) == expected


def test_log_is_natural():
    parsed = parse_latex(r"\log(x)", symbols("x"))
    assert parsed.subs(x, sympy.E) == 1
    assert parsed.subs(x, 10) != 1


def test_upper_and_lower_case_are_different_symbols():
    parsed = parse_latex("Y - y", symbols("Y", "y"))
    assert parsed.free_symbols == {sym("Y"), y}
    assert parsed.subs({sym("Y"): 3, y: 1}) == 2
    with pytest.raises(LatexError, match="unknown symbol Y"):
        parse_latex("Y", symbols("y"))
    with pytest.raises(LatexError, match="unknown symbol y"):
        parse_latex("y", symbols("Y"))


@pytest.mark.parametrize("text, names, expected", [
    (r"\foo(x)", ("x",), "\\foo"),
    (r"\operatorname{foo}(x)", ("x",), "undefined function foo"),
    (r"\text{foo}(x)", ("x",), "undefined function foo"),
    ("(x +", ("x",), "cannot read LaTeX"),
    ("", ("x",), "empty"),
    (r"\sigma^2", ("x",), "unknown symbol sigma"),
    (r"\operatorname{arcsinh}(x)", ("x",), "inverse hyperbolic"),
    ("x" * 5000, ("x",), "longer than"),
], ids=["command", "operatorname", "text", "unclosed", "empty", "bare-sigma", "arcsinh", "too-long"])
def test_latex_refused(text, names, expected):
    with pytest.raises(LatexError) as caught:
        parse_latex(text, symbols(*names))
    assert expected in str(caught.value)


@pytest.mark.parametrize("text, expected", [
    (r"\hat{y}", "yhat"), (r"\hat y", "yhat"), ("w_{1}", "w_1"), ("w_1", "w_1"), (r"\Delta", "Delta"),
    ("Y", "Y"), ("y_{12}", "y_12"), (r"\hat{y}_1", "yhat_1"),
])
def test_symbol_name(text, expected):
    assert symbol_name(text) == expected


@pytest.mark.parametrize("text", ["1x", "a_b_c", "", "x+y"])
def test_symbol_name_refused(text):
    with pytest.raises(ProblemError, match="not a valid symbol name"):
        symbol_name(text)


def test_public_names():
    assert issubclass(LatexError, DeriveError) and issubclass(ProblemError, DeriveError)
    assert derive.Problem is Problem and derive.DeriveError is DeriveError


# -- known bugs ---------------------------------------------------------------------------------------
def test_declared_e_is_a_symbol():
    p = problem("""
        symbols: [e, w]
        definitions:
          - L = e w
        loss: L
        wrt: [w]
        """)
    assert definitions(p)["L"] == sym("e") * w


def test_comma_list_is_not_an_expression():
    with pytest.raises(LatexError):
        parse_latex("x, w", symbols("x", "w"))


@pytest.mark.parametrize("name, expected", [("w_{2}", "w_2"), (r"\hat{y}", "yhat")])
def test_solve_accepts_latex_spelling(name, expected):
    p = Problem.from_yaml(EXAMPLES / "one_layer_vector.yaml")
    assert [d.wrt.name for d in p.solve([name]).derivations] == [expected]
