"""Writes tutorial.ipynb, derive's tutorial notebook, from the cells below (without outputs).

The notebook is built here so that its text reads as plain Python in a diff; edit the cells in this file and
run `python examples/make_tutorial.py`. tests/examples/test_tutorial.py checks that the committed notebook is
exactly what this script writes, executes it with a Jupyter kernel and looks at what it displayed.

Code cells carry a tag when the test reads their output (`derivation`, `solution`, `check`, `trace`, ...).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOK = Path(__file__).resolve().parent / "tutorial.ipynb"

CELLS = [
    ("md", None, r"""
# Gradients step by step: a derive tutorial

derive takes a neural network written as formulas, derives the gradient of its loss by the chain rule one
step at a time, checks every result numerically, and writes the derivation up as a worked solution. This
notebook walks through it from top to bottom:

1. a single sigmoid unit: its gradient, the steps, the worked derivation and its numeric check;
2. a two-layer network on a batch of inputs: gradients in matrix form, evaluated at NumPy arrays and compared
   with finite differences computed here;
3. forward and reverse mode, shown as evaluation traces;
4. checking a student's answer;
5. writing a worked solution to a file.

The notebook sits beside derive's example problem files, and Jupyter runs it in that folder, so the files are
opened by their names. Run the cells in order (*Run All* works)."""),
    ("code", None, r"""
import numpy as np
import sympy
from IPython.display import Math, SVG, display

import derive"""),
    ("md", None, r"""
## 1. One sigmoid unit

The network has one input $x$, one weight $w$ and a target $y$:

$$\hat{y} = \sigma(w x), \qquad L = \tfrac{1}{2}(y - \hat{y})^2.$$

A `derive.Network` holds its symbols and named definitions, in order. `derive.sigmoid` is the logistic
function $\sigma$; the name `yhat` prints as $\hat{y}$."""),
    ("code", None, r"""
net = derive.Network(title="One sigmoid unit")
x, y, w = net.symbols("x y w")
yhat = net.define("yhat", derive.sigmoid(w * x))
L = net.define("L", sympy.Rational(1, 2) * (y - yhat) ** 2)"""),
    ("md", None, r"""
`net.gradient(L, w)` derives $\partial L / \partial w$. The result is stated in the network's own named
quantities, as you would write it by hand, not as a tangle of exponentials:"""),
    ("code", "result", r"""
d = net.gradient(L, w)
d.result"""),
    ("md", None, r"""
That is $(\hat{y} - y)\,\hat{y}(1 - \hat{y})\,x$. The same gradient written in the inputs alone, with
$\hat{y}$ put back as $\sigma(w x)$:"""),
    ("code", None, r"""
d.expanded()"""),
    ("md", None, r"""
The derivation is a list of steps: the definitions, the chain rule, each local derivative, the substitution,
the *delta* (the gradient at the unit's input $w x$, which backpropagation passes back) and the final form:"""),
    ("code", "steps", r"""
[type(step).__name__ for step in d.steps]"""),
    ("md", None, r"""
### The derivation, displayed

A derivation displays itself: the numbered equations of the worked solution, each step saying which rule it
used and which earlier equations it builds on."""),
    ("code", "derivation", r"""
d"""),
    ("md", None, r"""
### The numeric check

Every derived gradient can be checked against finite differences: `d.check()` compares it with central
differences $\bigl(L(w + h) - L(w - h)\bigr) / 2h$ at three random points."""),
    ("code", "check", r"""
report = d.check()
report"""),
    ("code", "verdict", r"""
report.verdict"""),
    ("md", None, r"""
What the verdict means:

- **pass**: at every point, the derived gradient and the finite difference agree to within what the finite
  difference itself can be off by: its rounding error, which grows as the step $h$ shrinks, and its
  truncation error, which grows with $h$. This *error budget* is worked out for each entry, so there is no
  fixed tolerance to tune.
- **fail**: some entry differs by more than its budget allows; the report names each such entry, the point,
  both values and how far beyond the budget it went. A gradient that fails is almost certainly wrong.

Each comparison also gets a band from its relative error: *good* below $10^{-7}$, *acceptable* below
$10^{-4}$, and, for entries beyond their budget, *suspicious* or *wrong*."""),
    ("code", None, r"""
for entry in report.entries:
    print(f"point {entry.point_number}: derived {entry.analytic:+.12f}, finite difference {entry.numeric:+.12f}, "
          f"relative error {entry.relative_error:.1e} ({entry.band})")"""),
    ("md", None, r"""
### Numbers at a point

`evaluate` computes the gradient at a point the way backpropagation does: a forward pass through the
definitions, then the derived formula in the named quantities. Any intermediate can be evaluated too."""),
    ("code", None, r"""
point = {"x": 0.5, "y": 1.0, "w": -0.3}
print(f"dL/dw = {d.evaluate(point):.6f} and yhat = {net.evaluate('yhat', point):.6f} at {point}")"""),
    ("md", "problem-file", r"""
## 2. A network on a batch of inputs

Problems can also be written in a file. `two_layer_batch.yaml`, beside this notebook, holds a network with a
hidden layer of 4 sigmoid units, applied to a batch of $n$ inputs, one per row of $X$. Each symbol has its
shape, `[rows, columns]`, and the definitions are LaTeX:

```yaml
title: "2 layer network, multiple inputs (vector)"
description: >
  A batch of $n$ inputs, one per row of $X$ (3 features each); the hidden layer $H = \sigma(X W^{(1)})$ has 4
  sigmoid units per input and the output $\hat{y} = \sigma(H W^{(2)})$ one; $y$ holds the $n$ targets. Half the
  squared error summed over the batch. No bias terms.
symbols:
  X: [n, 3]
  y: [n, 1]
  "W^{(1)}": [3, 4]
  "W^{(2)}": [4, 1]
definitions:
  - H = \sigma(X W^{(1)})
  - \hat{y} = \sigma(H W^{(2)})
  - L = \frac{1}{2} \lVert y - \hat{y} \rVert^2
loss: L
wrt: ["W^{(1)}", "W^{(2)}"]
```"""),
    ("md", None, r"""
`derive.Problem.from_yaml` reads it (every shape is checked as it is read), and `solve()` derives the gradient
with respect to each weight matrix, sharing the steps they have in common. The solution displays itself like
a derivation, with a line under every matrix product checking its shapes."""),
    ("code", "solution", r"""
problem = derive.Problem.from_yaml("two_layer_batch.yaml")
solution = problem.solve()
solution"""),
    ("md", None, r"""
The gradients come out in matrix form, in the layout where $\partial L/\partial W$ has the shape of $W$.
Each is written with a delta $\Delta$, the gradient of the loss at a layer's pre-activation:"""),
    ("code", "compact", r"""
for derivation in solution.derivations:
    print(f"dL/d{derivation.wrt} = {derivation.compact}")
    display(Math(r"\frac{\partial L}{\partial " + str(derivation.wrt) + "} = " + derivation.result_latex()))"""),
    ("md", None, r"""
### Evaluating at NumPy arrays, and a finite difference of our own

`solution.evaluate` takes NumPy arrays by name and returns every gradient as an array of its weight's shape;
the batch size $n$ is read off the arrays. Here is a batch of 5 inputs:"""),
    ("code", None, r"""
rng = np.random.default_rng(0)
values = {
    "X": rng.normal(size=(5, 3)),
    "y": rng.uniform(size=(5, 1)),
    "W^{(1)}": rng.normal(size=(3, 4)),
    "W^{(2)}": rng.normal(size=(4, 1)),
}
gradients = solution.evaluate(values)
gradients["W^{(1)}"]"""),
    ("md", None, r"""
To see that these numbers are right without trusting derive, compute central differences of the loss
ourselves: nudge each entry of a weight matrix up and down by $h$, evaluate the loss $L$ at both, and divide
the difference by $2h$."""),
    ("code", "finite-difference", r"""
def loss_at(values):
    return float(problem.network.evaluate("L", values))

def central_difference(name, values, h=1e-6):
    estimate = np.zeros_like(values[name])
    for index in np.ndindex(estimate.shape):
        up, down = values[name].copy(), values[name].copy()
        up[index] += h
        down[index] -= h
        estimate[index] = (loss_at({**values, name: up}) - loss_at({**values, name: down})) / (2 * h)
    return estimate

for name in ("W^{(1)}", "W^{(2)}"):
    numeric = central_difference(name, values)
    relative = np.max(np.abs(numeric - gradients[name])) / np.max(np.abs(gradients[name]))
    print(f"{name}: largest difference {relative:.1e} of the largest entry, "
          f"agree: {np.allclose(numeric, gradients[name], rtol=1e-5, atol=1e-9)}")"""),
    ("md", None, r"""
### Perceptrons without a file

`derive.builders.mlp` writes a multi-layer perceptron directly: here 3 inputs, a hidden layer of 4 tanh units,
a sigmoid output, a bias in each layer, and binary cross-entropy, on a batch of $n$ rows. `gradients` derives all its
weights and biases at once."""),
    ("code", None, r"""
from derive.builders import mlp

perceptron, loss, parameters = mlp([3, 4, 1], activations="tanh", loss="bce", bias=True, batch="n")
perceptron_solution = perceptron.gradients(loss, parameters)
for derivation in perceptron_solution.derivations:
    display(Math(r"\frac{\partial L}{\partial " + str(derivation.wrt) + "} = " + derivation.result_latex()))"""),
    ("md", None, r"""
## 3. Forward and reverse mode

An evaluation trace breaks the loss into elementary operations $v_1, v_2, \dots$, one per line, with each
line's value and local partial derivatives at a point. Forward mode pushes tangents $\dot v_i$ from the inputs
to the loss, one pass per input; reverse mode (backpropagation) pulls adjoints $\bar v_i$ from the loss back
to every input in one pass. Here is the sigmoid unit of part 1, as written in `one_layer_scalar.yaml`, at
$x = 1.5$, $y = 1$, $w = -1/2$:"""),
    ("code", "trace", r"""
unit = derive.Problem.from_yaml("one_layer_scalar.yaml")
t = derive.trace(unit, at="x=1.5, y=1, w=-1/2")
t"""),
    ("md", None, r"""
Both modes give the same gradient (with respect to $x$, $y$ and $w$), and it agrees with SymPy's own
derivative of the loss:"""),
    ("code", "trace-gradient", r"""
[float(g) for g in t.gradient], t.consistency.passed"""),
    ("md", None, r"""
The computational graph, with the adjoints flowing back along its edges:"""),
    ("code", None, r"""
SVG(t.graph(".svg", adjoints=True))"""),
    ("md", None, r"""
## 4. Checking a student's answer

`derive.verify` decides whether an answer, written in LaTeX, is the gradient: *correct*, *incorrect* (with a
diagnosis of the mistake) or *undecided* (it never guesses). It says how it read the answer, so a student can
see a typing slip. A correct answer for $\partial L / \partial W^{(2)}$ of the two-layer network:"""),
    ("code", "verify-correct", r"""
correct = derive.verify(problem, "W^{(2)}", r"H^T ((\hat{y} - y) \odot \hat{y} \odot (1 - \hat{y}))")
print(correct.summary())"""),
    ("md", None, r"""
And the same answer with $y - \hat{y}$ where $\hat{y} - y$ belongs, a sign error:"""),
    ("code", "verify-sign", r"""
sign_error = derive.verify(problem, "W^{(2)}", r"H^T ((y - \hat{y}) \odot \hat{y} \odot (1 - \hat{y}))")
print(sign_error.summary())
sign_error.outcome, sign_error.diagnosis.kind"""),
    ("md", None, r"""
Other mistakes get their own diagnosis: a transposed answer, a missing factor such as the sigmoid's derivative,
matrices multiplied in the wrong order. A whole class is graded from the command line with `derive grade`."""),
    ("code", "verify-missing", r"""
print(derive.verify(problem, "W^{(2)}", r"H^T (\hat{y} - y)").summary())"""),
    ("md", None, r"""
## 5. A worked solution in a file

The worked solution is a LaTeX document (`document()`) or Markdown with `$$` maths (`markdown()`), which
GitHub, Jupyter and pandoc render. Both end with the numeric check. They are written here to a folder
`tutorial-output` beside this notebook:"""),
    ("code", "write", r"""
from pathlib import Path

folder = Path("tutorial-output")
folder.mkdir(exist_ok=True)
(folder / "two_layer_batch.tex").write_text(solution.document())
(folder / "two_layer_batch.md").write_text(solution.markdown())
sorted(path.name for path in folder.iterdir())"""),
    ("md", None, r"""
The same solution as a web page (`html()`): one file that reads offline, its maths as MathML, each gradient's
derivation folding open and closed, references jumping to their equations. Open it in a browser:"""),
    ("code", "write-html", r"""
page = folder / "two_layer_batch.html"
page.write_text(solution.html(), encoding="utf-8")
page.name"""),
    ("md", None, r"""
From a terminal, `derive solve two_layer_batch.yaml -o two_layer_batch.pdf` writes the same solution as a
PDF (with `pdflatex` installed), `-o two_layer_batch.md` as Markdown and `-o two_layer_batch.html` as a page. `derive --help` lists the other
commands: `check`, `trace`, `verify`, `grade` and more."""),
]


def build_notebook() -> nbformat.NotebookNode:
    """The tutorial as a notebook without outputs; cell ids are numbered so that the file is the same each time."""
    cells = []
    for number, (kind, tag, source) in enumerate(CELLS, start=1):
        cell = new_markdown_cell(source.strip("\n")) if kind == "md" else new_code_cell(source.strip("\n"))
        cell["id"] = f"cell-{number:02d}"
        if tag:
            cell["metadata"]["tags"] = [tag]
        cells.append(cell)
    notebook = new_notebook(cells=cells)
    notebook["metadata"] = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return notebook


def notebook_text() -> str:
    return nbformat.writes(build_notebook()) + "\n"


def main() -> int:
    NOTEBOOK.write_text(notebook_text(), encoding="utf-8")
    print(f"wrote {NOTEBOOK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
