"""`Problem`: a network, its loss and the variables to differentiate, read from YAML or built in Python
(`derive.Problem` is `derive.solve.problem.Problem`, this class with `solve` added).

The YAML format (documented in the README):

    title: 1 layer network, 1 input (scalar)
    symbols: [x, y, w]                 # scalars; or a mapping with shapes {X: [n, 3], W: [3, 1], y: scalar}
    definitions:                       # in order; "name = right-hand side" or {name: right-hand side}
      - \\hat{y} = \\sigma(w x)
      - L = \\frac{1}{2} (y - \\hat{y})^2
    loss: L
    wrt: [w]
    syntax: latex                      # or sympy, for trusted files only
    one_hot: [Y]                       # matrices whose rows sum to 1 (targets of a softmax)

or, for an L-layer perceptron, the shorthand (`derive.builders.mlp` documents every option):

    mlp: {sizes: [3, 4, 1], activations: sigmoid, output: sigmoid, loss: squared, bias: true, batch: n}

Either form may say `layout: numerator` (default `denominator`): the convention the gradients are written in.

With shapes, right-hand sides are read by derive's own matrix reader (`derive.read.matrix_parse`), which keeps
the order of products. Every error names the file, the line and the definition it concerns.

A problem file is bounded before it is believed: at most `MAX_PROBLEM_BYTES`, read from a regular file only;
YAML nested at most `MAX_YAML_DEPTH` levels and at most `MAX_YAML_NODES` values once its aliases are expanded
(a "billion laughs" file is refused, not expanded); at most `MAX_DEFINITIONS` definitions and `MAX_LAYERS`
mlp layers, and no chain of definitions deeper than `MAX_CHAIN` (deeper ones would exhaust the engine's
stack). Each is refused with one line. `syntax: sympy` runs SymPy's parser, which evaluates Python: a
warning says so whenever such a file is read (`SYMPY_WARNING`), and `grade` refuses one unless trusted.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import sympy
import yaml

from ..core.errors import DeriveError, LatexError, ProblemError
from ..core.steps import HINT_LEVELS
from ..core.network import Network, make_symbol
from .as_written import printable
from .matrix_parse import parse_matrix_latex
from .parse import parse_latex, parse_sympy, symbol_name
from .slashes import refuse_ambiguous_slash
from .sums import read_with_sums

KNOWN_KEYS = {"title", "description", "symbols", "definitions", "loss", "wrt", "syntax", "one_hot", "mlp", "hints",
              "first_equation", "layout"}
LAYOUTS = ("denominator", "numerator")  # the layout convention the gradients are written in (denominator: dL/dW shaped as W)
NOT_SYMMETRIC = ("derivatives with respect to symmetric matrices are not supported: every entry of a matrix is "
                 "taken as free; declare it as [rows, columns]")
MLP_KEYS = {"sizes", "activations", "output", "loss", "bias", "batch", "weight_decay"}
MAX_PROBLEM_BYTES = 1_000_000
MAX_YAML_DEPTH = 40  # levels of nested mappings and lists
MAX_YAML_NODES = 50_000  # values in the file once every alias is expanded
MAX_DEFINITIONS = 500
MAX_LAYERS = 100  # of the mlp shorthand
MAX_CHAIN = 250  # definitions, each using the one before: the engine recurses along such a chain
SYMPY_WARNING = ("warning: {source} uses 'syntax: sympy': its right-hand sides are read by SymPy's parser, "
                 "which evaluates Python; use it only for files you trust")


class SympySyntaxWarning(UserWarning):
    """A problem file with `syntax: sympy` was read: its text was given to SymPy's parser (which evaluates)."""


def read_problem_file(path: str | Path) -> str:
    """A problem file's text (a regular file of at most `MAX_PROBLEM_BYTES`: never a FIFO or a device);
    a `ProblemError` naming the file when it cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ProblemError("cannot read the problem file: it is not a regular file", str(path))
            data = os.read(fd, MAX_PROBLEM_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as error:
        raise ProblemError(f"cannot read the problem file: {error.strerror or error}", str(path)) from None
    if len(data) > MAX_PROBLEM_BYTES:
        raise ProblemError(f"the problem file is larger than {MAX_PROBLEM_BYTES} bytes", str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ProblemError(f"cannot read the problem file: it is not UTF-8 (byte {error.start})", str(path)) from None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with its one recursion (composing nested nodes) bounded by `MAX_YAML_DEPTH`."""

    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise ProblemError(f"the YAML is nested more than {MAX_YAML_DEPTH} levels deep",
                                   f"{self.name}, line {mark.line + 1}")
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def load_yaml(text: str, source: str = "<problem>"):
    """(data, node tree) of a YAML text, bounded in depth and in size after aliases; a one-line
    `ProblemError` for malformed, too deep or too large YAML."""
    loader = _BoundedLoader(text)
    loader.name = source
    try:
        root = loader.get_single_node()
        if root is not None and _expanded_size(root, {}) > MAX_YAML_NODES:
            raise ProblemError(f"the YAML has more than {MAX_YAML_NODES} values once its aliases (*name) are "
                               "expanded; write the values out", source)
        return (loader.construct_document(root) if root is not None else None), root
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}, line {mark.line + 1}" if mark else source
        raise ProblemError(f"malformed YAML: {getattr(error, 'problem', None) or error}", where) from None
    finally:
        loader.dispose()


def _expanded_size(node, sizes: dict) -> int:
    """How many values `node` stands for with every alias written out (a shared node counts each time it
    is used; each node is measured once, so this is linear in the file; depth is bounded already)."""
    key = id(node)
    if key not in sizes:
        sizes[key] = 0  # a recursive alias (&a [*a]) counts once
        children = node.value if isinstance(node, yaml.SequenceNode) else (
            [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else [])
        sizes[key] = min(1 + sum(_expanded_size(child, sizes) for child in children), MAX_YAML_NODES + 1)
    return sizes[key]


@dataclass
class Problem:
    """A network with a loss and the variables whose gradients are wanted."""

    network_class: ClassVar[type] = Network  # the class of network read (derive.Problem: one that derives)

    network: Network
    loss: object  # sympy Symbol
    wrt: list = field(default_factory=list)
    title: str = ""
    description: str = ""
    source: str = ""
    hints: str = "none"  # the exercise sheet's hint level, one of derive.core.steps.HINT_LEVELS
    first_equation: int = 1  # the number of the worked solution's first equation: 1, or 0
    layout: str = "denominator"  # or "numerator": dL/dW is written with the shape of W^T

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Problem":
        """Read a problem file; a `ProblemError` (or `LatexError`) names file, line and definition."""
        return cls.from_text(read_problem_file(path), str(path))

    @classmethod
    def from_text(cls, text: str, source: str = "<problem>", trust: bool = True) -> "Problem":
        """The problem in `text`; with `trust=False`, a `syntax: sympy` file (which evaluates) is refused."""
        data, root = load_yaml(text, source)
        if not isinstance(data, dict):
            raise ProblemError("a problem file must be a YAML mapping with symbols, definitions, loss and wrt", source)
        if not trust and isinstance(data, dict) and data.get("syntax") == "sympy":
            raise ProblemError("'syntax: sympy' has SymPy's parser evaluate Python, so grading refuses it: give "
                               "--trust-problem if you wrote this file, or write the definitions in LaTeX",
                               _Reader(data, root, source).where("syntax"))
        reader = _Reader(data, root, source, cls)
        problem = reader.problem()
        problem.hints = reader.hints()
        problem.first_equation = reader.first_equation()
        return problem

    def _symbol(self, name):
        """A symbol given as a SymPy symbol or by name, spelled plainly (w_2, yhat) or in LaTeX (w_{2}, \\hat{y})."""
        return self.network.symbol(symbol_name(name)) if isinstance(name, str) else name


def _as_list(value) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


class _Reader:
    """Turns the loaded YAML into a Problem, remembering each definition's line for error messages."""

    def __init__(self, data: dict, root, source: str, problem_class: type = Problem):
        self.problem_class = problem_class
        self.data = data
        self.source = source
        self.lines = _key_lines(root)
        self.definition_lines = _item_lines(root, "definitions")

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.source}, line {line}" if line else self.source

    def hints(self) -> str:
        level = self.data.get("hints") or "none"
        if level not in HINT_LEVELS:
            raise ProblemError(f"hints must be one of {', '.join(HINT_LEVELS)}, not '{level}'", self.where("hints"))
        return level

    def problem(self) -> Problem:
        if "stochastic" in self.data:
            raise ProblemError("this problem has a stochastic node (a sampled router or gate): backpropagation stops "
                               "at the sample: use 'derive estimate' on it", self.where("stochastic"))
        if "symmetric" in self.data:
            raise ProblemError(NOT_SYMMETRIC, self.where("symmetric"))
        unknown = sorted(set(map(str, self.data)) - KNOWN_KEYS)
        if unknown:
            raise ProblemError(f"unknown key '{unknown[0]}' (known: {', '.join(sorted(KNOWN_KEYS))})", self.where(unknown[0]))
        layout = self.layout()
        if "mlp" in self.data:
            return self.mlp(layout)
        for key in ("symbols", "definitions", "loss"):
            if self.data.get(key) in (None, "", [], {}):
                raise ProblemError(f"the problem has no '{key}'", self.source)
        syntax = self.data.get("syntax", "latex")
        if syntax not in ("latex", "sympy"):
            raise ProblemError(f"syntax must be 'latex' or 'sympy', not '{syntax}'", self.where("syntax"))
        if syntax == "sympy":
            warnings.warn(SYMPY_WARNING.format(source=self.source), SympySyntaxWarning, stacklevel=2)
        network = self.problem_class.network_class(self.symbols(), title=str(self.data.get("title", "")))
        declared = self.data["symbols"]
        for name, shape in (declared.items() if isinstance(declared, dict) else ()):
            if shape == [1, 1]:  # held as a scalar; its value is still a 1 x 1 array
                network.declared_shapes[network.inputs[symbol_name(str(name))]] = (1, 1)
        for name in _as_list(self.data.get("one_hot") or []):
            symbol = self.lookup(network, name, "one_hot")
            if not getattr(symbol, "is_Matrix", False):
                raise ProblemError(f"one_hot names {name}, which is not a matrix", self.where("one_hot"))
            network.one_hot.add(symbol)
        self.define_all(network, syntax)
        loss = self.lookup(network, self.data["loss"], "loss")
        wrt = [self.lookup(network, w, "wrt") for w in _as_list(self.data.get("wrt") or [])]
        if not wrt:
            raise ProblemError("the problem has no 'wrt' (the variables to differentiate with respect to)", self.source)
        try:
            network.check_loss(loss)
        except ProblemError as error:  # name the definition that is not scalar, else the loss: line
            raise ProblemError(error.message, error.where or self.where("loss")) from None
        return self.problem_class(network, loss, wrt, str(self.data.get("title", "")), str(self.data.get("description", "")),
                                  self.source, layout=layout)

    def first_equation(self) -> int:
        """The `first_equation:` key: the number the worked solution's equations start from (1, or 0)."""
        value = self.data.get("first_equation", 1)
        if isinstance(value, bool) or value not in (0, 1):
            raise ProblemError(f"first_equation must be 0 or 1 (the number of the first equation), not '{value}'",
                               self.where("first_equation"))
        return value

    def layout(self) -> str:
        layout = self.data.get("layout", LAYOUTS[0])
        if layout not in LAYOUTS:
            raise ProblemError(f"layout must be 'denominator' or 'numerator', not '{layout}'", self.where("layout"))
        return layout

    def mlp(self, layout: str = LAYOUTS[0]) -> Problem:
        """The `mlp:` shorthand: an L-layer perceptron built by `derive.builders.mlp`."""
        from ..core.builders import mlp

        options = self.data["mlp"]
        if not isinstance(options, dict):
            raise ProblemError("'mlp' must be a mapping with sizes (and activations, output, loss, bias, batch, "
                               "weight_decay)", self.where("mlp"))
        unknown = sorted(set(map(str, options)) - MLP_KEYS)
        if unknown:
            raise ProblemError(f"unknown mlp option '{unknown[0]}' (known: {', '.join(sorted(MLP_KEYS))})", self.where("mlp"))
        other = sorted(set(map(str, self.data)) & {"symbols", "definitions", "loss", "one_hot", "syntax"})
        if other:
            raise ProblemError(f"'{other[0]}' cannot be combined with the mlp shorthand, which defines the whole network",
                               self.where(other[0]))
        if "sizes" not in options:
            raise ProblemError("the mlp shorthand needs sizes: [inputs, hidden..., outputs]", self.where("mlp"))
        if isinstance(options["sizes"], list) and len(options["sizes"]) - 1 > MAX_LAYERS:
            raise ProblemError(f"the mlp has {len(options['sizes']) - 1} layers; derive writes out at most "
                               f"{MAX_LAYERS}", self.where("mlp"))
        title = str(self.data.get("title", ""))
        try:
            network, loss, parameters = mlp(title=title, network_class=self.problem_class.network_class,
                                            **{str(k): v for k, v in options.items()})
        except (ProblemError, TypeError) as error:
            raise ProblemError(str(getattr(error, "message", error)), self.where("mlp")) from None
        wrt = [self.lookup(network, w, "wrt") for w in _as_list(self.data.get("wrt") or [])] or list(parameters)
        return self.problem_class(network, loss, wrt, title, str(self.data.get("description", "")), self.source,
                                  layout=layout)

    def shape(self, name, shape, dimensions: dict):
        """The declared shape of a symbol: None for a scalar, else (rows, cols) with named sizes as symbols."""
        if shape in (None, "scalar", [], [1, 1]):
            return None
        if "symmetric" in (shape if isinstance(shape, list) else [shape]):
            raise ProblemError(f"symbol {name}: {NOT_SYMMETRIC}", self.where("symbols"))
        if not (isinstance(shape, list) and len(shape) == 2):
            raise ProblemError(f"symbol {name} has shape {shape}: a shape is [rows, columns], e.g. [n, 3]", self.where("symbols"))
        sizes = []
        for size in shape:
            if isinstance(size, int) and not isinstance(size, bool) and size >= 1:
                sizes.append(sympy.Integer(size))
            elif isinstance(size, str) and re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", size):
                sizes.append(dimensions.setdefault(size, sympy.Symbol(size, integer=True, positive=True)))
            else:
                raise ProblemError(f"symbol {name} has shape {shape}: each size is a positive integer or a name such as n",
                                   self.where("symbols"))
        return tuple(sizes)

    def symbols(self) -> list:
        declared = self.data["symbols"]
        if isinstance(declared, str):
            declared = declared.replace(",", " ").split()
        if isinstance(declared, dict):
            dimensions: dict = {}
            symbols = []
            for name, shape in declared.items():
                try:
                    plain = symbol_name(str(name))
                except ProblemError as error:
                    raise ProblemError(error.message, self.where("symbols")) from None
                shape = self.shape(name, shape, dimensions)
                symbols.append(make_symbol(plain) if shape is None else sympy.MatrixSymbol(plain, *shape))
            return symbols
        if not isinstance(declared, list):
            raise ProblemError("'symbols' must be a list of names or a mapping name: shape", self.where("symbols"))
        names = []
        for name in declared:
            try:
                names.append(make_symbol(symbol_name(str(name))))
            except ProblemError as error:
                raise ProblemError(error.message, self.where("symbols")) from None
        return names

    def define_all(self, network: Network, syntax: str) -> None:
        items = self.data["definitions"]
        if not isinstance(items, list):
            raise ProblemError("'definitions' must be a list, one definition per item", self.where("definitions"))
        if len(items) > MAX_DEFINITIONS:
            raise ProblemError(f"the problem has {len(items)} definitions; derive writes out at most {MAX_DEFINITIONS}",
                               self.where("definitions"))
        pending = [self.split(item, i) for i, item in enumerate(items)]
        chains: dict = {}  # definition -> the length of the longest chain of definitions it ends
        position = {name: i for i, (name, _) in enumerate(pending)}
        named = {name: make_symbol(name) for name in position}
        parse = parse_latex if syntax == "latex" else parse_sympy
        if syntax == "latex" and network.has_matrices:
            parse = parse_matrix_latex
            named = {}  # shapes of later definitions are not known yet: their names are reported as defined later
        for i, (name, rhs) in enumerate(pending):
            where = f"{self.source}, line {self.definition_lines[i]}, definition of {name}"
            try:
                if position[name] != i:
                    raise ProblemError(f"{name} is defined twice")
                known = {s.name: s for s in network.all_symbols()}
                expr = read_with_sums(parse, rhs, {**known, **{n: s for n, s in named.items() if n not in known}})
                if syntax == "latex":
                    refuse_ambiguous_slash(rhs)  # x^2 / 4 w: an instructor's definition is never guessed
                mentioned = {s.name for s in getattr(expr, "free_symbols", ())}
                if name in mentioned:
                    raise ProblemError(f"the definition of {name} uses {name} itself")
                later = sorted((position[n], n) for n in mentioned if n in position and position[n] > i)
                if later:
                    line = self.definition_lines[later[0][0]]
                    raise ProblemError(f"uses {later[0][1]}, which is defined later (line {line})")
                symbol = network.define(name, expr, where=where)
                written = printable(network.definitions[symbol], rhs) if syntax == "latex" else None
                if written is not None:
                    network.written[symbol] = (network.definitions[symbol], written)
            except DeriveError as error:
                unknown = _unknown_name(error.message)
                if unknown and position.get(unknown, -1) > i:
                    later = position[unknown]
                    raise ProblemError(f"uses {pending[later][0]}, which is defined later (line {self.definition_lines[later]})",
                                       where) from None
                raise type(error)(error.message, where) from None
            _check_chain(network, name, chains, where)

    def split(self, item, index: int) -> tuple[str, str]:
        where = f"{self.source}, line {self.definition_lines[index]}"
        if any(ord(ch) < 32 and ch != "\n" for ch in str(item)):
            raise LatexError("the definition contains a tab or control character: YAML turns \\t in double quotes "
                             "into a tab, so write LaTeX unquoted or in single quotes ('\\tanh(x)')", where)
        if isinstance(item, dict) and len(item) == 1:
            (lhs, rhs), = item.items()
        elif isinstance(item, str) and "=" in item:
            lhs, rhs = item.split("=", 1)
        else:
            raise ProblemError("a definition must read 'name = right-hand side' (or name: right-hand side)", where)
        try:
            return symbol_name(str(lhs)), str(rhs).strip()
        except ProblemError as error:
            raise ProblemError(error.message, where) from None

    def lookup(self, network: Network, name, key: str):
        try:
            return network.symbol(symbol_name(str(name)))
        except ProblemError:
            raise ProblemError(f"'{key}' names {name}, which is not a symbol or definition of the problem "
                               f"(it has {', '.join(network.names())})", self.where(key)) from None


def _unknown_name(message: str) -> str | None:
    """The plain name of the symbol an "unknown symbol ..." message is about (spelled as the user wrote it)."""
    unknown = re.match(r"unknown symbol (.+?),? \(declared", message)
    try:
        return symbol_name(unknown.group(1)) if unknown else None
    except ProblemError:
        return None


def _check_chain(network: Network, name: str, chains: dict, where: str) -> None:
    """Refuse a definition ending a chain of more than `MAX_CHAIN` definitions (each using the one before)."""
    symbol = network.symbol(name)
    chains[symbol] = 1 + max((chains.get(u, 0) for u in network.uses(symbol)), default=0)
    if chains[symbol] > MAX_CHAIN:
        raise ProblemError(f"{name} ends a chain of {chains[symbol]} definitions, each using the one before; "
                           f"derive differentiates chains of at most {MAX_CHAIN}", where)


def _key_lines(root) -> dict:
    if not isinstance(root, yaml.MappingNode):
        return {}
    return {key.value: key.start_mark.line + 1 for key, _ in root.value if isinstance(key, yaml.ScalarNode)}


def _item_lines(root, key: str) -> list[int]:
    if isinstance(root, yaml.MappingNode):
        for k, value in root.value:
            if getattr(k, "value", None) == key and isinstance(value, yaml.SequenceNode):
                return [item.start_mark.line + 1 for item in value.value]
    return []
