r"""The matrix reader's names: declared symbols as written (W, W_1, W^{(2)}, W^{(2)T}, \hat{y}, \mathbf{x},
Greek letters, names spelled out such as lr), subscripts and layer indices, the all-ones vector
\mathbf{1}_n and the identity I_n, and sizes written as subscripts. `NameReader` is one part of the reader.

What does not live here: function words (`matrix_functions`), sums and products (`matrix_products`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sympy import Integer, S

from ..core.errors import LatexError
from ..core.matrix_ops import identity, is_matrix, ones
from .matrix_notation import _CONSTANTS, _DECORATIONS, _GREEK, _UPRIGHT, _WORDS, _WRAPPERS
from .matrix_tokens import MAX_DIGITS, MAX_NAME
from .matrix_unsized import _Unsized, _transposed, unsized_ones


@dataclass(frozen=True, slots=True)
class _Name:
    r"""A symbol name as written: base (W, yhat, Delta), subscript (1), layer index ((2)), and whether a
    T followed the index (W^{(2)T})."""

    base: str
    sub: str | None = None
    index: str | None = None
    transposed: bool = False

    @property
    def canonical(self) -> str:
        sub = f"_{self.sub}" if self.sub else ""
        index = f"^{{({self.index})}}" if self.index else ""
        return self.base + sub + index


class NameReader:
    r"""Symbol names, subscripts, layer indices, \mathbf{1} and I, read by recursive descent."""

    # -- symbols

    def letters(self):
        r"""Letters side by side: a declared name spelled out (lr, W1), a function word (relu(Z)), or a
        product of one-letter symbols."""
        pos = self.peek().pos
        run = self.run_text()
        if len(run) > 1:
            found = self.try_symbol()
            if found is not None:
                return found
            if run.lower() in _WORDS and (self.at("char", "(", "'", offset=len(run))):
                self.index += len(run)
                return self.function(run.lower(), pos)
        return self.symbol(run)

    def run_text(self) -> str:
        """The letters and digits written together from here (at most MAX_NAME characters: no name is longer)."""
        text, i = "", self.index
        while len(text) < MAX_NAME and self.tokens[i].kind in (("letter", "digit") if text else ("letter",)):
            if text and self.tokens[i].pos != self.tokens[i - 1].pos + 1:
                break
            text += self.tokens[i].text
            i += 1
        return text

    def try_symbol(self):
        """The declared symbol whose name is spelled here, whole; None (and nothing read) if there is none."""
        start = self.index
        name = self.read_name(whole_run=True)
        value = self.known(name) if name is not None else None
        if value is None:
            self.index = start
            return None
        return _transposed(value) if name.transposed else value

    def symbol(self, run: str = ""):
        pos = self.peek().pos
        name = self.read_name(whole_run=False)
        if name is None:
            raise self.fail(pos, "expected a symbol name")
        if name.base == "I" and name.index is None and "I" not in self.symbols and self.known(name) is None:
            return self.identity(pos, name.sub)
        value = self.lookup(name, pos, run)
        return _transposed(value) if name.transposed else value

    def known(self, name: _Name):
        key = name.canonical
        if key in self.symbols:
            return self.symbols[key]
        return self.dimensions.get(key, _CONSTANTS.get(key))

    def lookup(self, name: _Name, pos: int, run: str = ""):
        value = self.known(name)
        if value is None:
            declared = ", ".join(sorted(self.symbols)) or "none"
            spelled = f"; '{run}' reads as a product of one-letter symbols" if len(run) > 1 else ""
            raise LatexError(f"unknown symbol {name.canonical} (declared: {declared}{spelled}), "
                             f"{self.located(pos)}")
        return value

    def read_name(self, whole_run: bool) -> _Name | None:
        core = self.name_core(whole_run)
        return self.name_suffixes(core) if core is not None else None

    def name_core(self, whole_run: bool) -> _Name | None:
        r"""The start of a name: letters, a Greek letter, \hat{...}, or \mathbf{...} around a name."""
        token = self.peek()
        if token.kind == "letter":
            text = self.run_text() if whole_run else token.text
            self.index += len(text)
            return _Name(text)
        if token.kind == "cmd" and token.text in _GREEK:
            self.take()
            return _Name(token.text)
        if token.kind == "cmd" and token.text in _DECORATIONS:
            return self.decorated()
        if token.kind == "cmd" and token.text in _WRAPPERS - {"operatorname", "mathbb"}:
            return self.wrapped_name()
        return None

    def decorated(self) -> _Name:
        token = self.take()
        with self.nested(token.pos):
            if self.at("char", "{"):
                self.take()
                inner = self.name_core(whole_run=True)
                inner = self.name_suffixes(inner) if inner is not None else None
                if inner is None or not self.at("char", "}"):
                    raise self.fail(token.pos, f"expected one symbol name inside \\{token.text}{{...}}")
                self.take()
            else:
                inner = self.name_core(whole_run=False)
                if inner is None:
                    raise self.fail(token.pos, f"expected a symbol name after \\{token.text}")
        return replace(inner, base=inner.base + _DECORATIONS[token.text])

    def wrapped_name(self) -> _Name | None:
        token = self.take()
        if self.at("letter"):
            return _Name(self.take().text)
        if not self.at("char", "{"):
            return None
        self.take()
        with self.nested(token.pos):
            inner = self.name_core(whole_run=True)
            inner = self.name_suffixes(inner) if inner is not None else None
        if inner is None or not self.at("char", "}"):
            return None
        self.take()
        return inner

    def name_suffixes(self, name: _Name) -> _Name:
        """A subscript and a layer index, in either order, after a name."""
        while not name.transposed:
            if self.at("char", "_") and name.sub is None:
                name = replace(name, sub=self.subscript_text("a subscript"))
            elif self.at("char", "^") and name.index is None and (found := self.layer_index()) is not None:
                name = replace(name, index=found[0], transposed=found[1])
            else:
                break
        return name

    def subscript_text(self, what: str) -> str:
        r"""The letters and digits of a subscript: _1, _{12}, _{\text{out}}."""
        pos = self.take().pos
        if self.at("letter") or self.at("digit"):
            return self.take().text
        if not self.at("char", "{"):
            raise self.fail(pos, f"expected {what} after _")
        self.take()
        text, depth = "", 1
        while depth:
            token = self.take()
            if token.kind in ("letter", "digit"):
                text += token.text
            elif token.kind == "char" and token.text in "{}":
                depth += 1 if token.text == "{" else -1
            elif not (token.kind == "cmd" and token.text in _UPRIGHT):
                raise self.fail(token.pos, "a subscript holds letters and digits only")
        if not text:
            raise self.fail(pos, "an empty subscript")
        return text

    def layer_index(self) -> tuple[str, bool] | None:
        r"""(index, transposed) for a layer or example index ^{(1)}, ^{[l]}, ^{(2)T}; None if this is
        not one (a power such as ^{(1/2)} is read later as a power)."""
        if not (self.at("char", "{", offset=1) and self.at("char", "(", "[", offset=2)):
            return None
        start = self.index
        closer = ")" if self.peek(2).text == "(" else "]"
        self.index += 3
        text = ""
        while self.at("letter") or self.at("digit") or self.at("char", "+", "-"):
            text += self.take().text
        if text and self.at("char", closer):
            self.take()
            transposed = self.transpose_length(braced=False)
            self.index += transposed
            if self.at("char", "}"):
                self.take()
                return text, bool(transposed)
        self.index = start
        return None

    # -- the all-ones vector, the identity, sizes

    def ones_length(self) -> int:
        if self.at("digit", "1", offset=1):
            return 2
        if self.at("char", "{", offset=1) and self.at("digit", "1", offset=2) and self.at("char", "}", offset=3):
            return 4
        return 0

    def all_ones(self):
        if not self.at("char", "_"):
            return unsized_ones()
        pos = self.peek().pos
        return ones(self.size(self.subscript_text("a size"), r"\mathbf{1}", pos), S.One)

    def identity(self, pos: int, size: str | None = None):
        r"""The identity I, I_n, \mathbf{I}_3 (when no symbol I is declared), sized from its neighbours as
        \mathbf{1} is when no size is written."""
        if size is None and self.at("char", "_"):
            pos = self.peek().pos
            size = self.subscript_text("a size")
        if size is None:
            return _Unsized(None, None, lambda rows, cols: identity(rows), square=True, what="I")
        return identity(self.size(size, "I", pos))

    def size(self, size: str, what: str, pos: int):
        """A size written as a subscript: a positive whole number or one of the declared dimensions."""
        if size.isdigit() and int(size) > 0 and len(size) <= MAX_DIGITS:
            largest = getattr(self, "max_size", None)  # an answer's: the problem's largest size
            if largest is not None and int(size) > largest:  # never right; \mathbf{1}_{1000000000} would fill memory
                raise LatexError(rf"{what}_{{{size}}} is larger than any size in the problem (at most {largest}), "
                                 f"{self.located(pos)}")
            return Integer(int(size))
        if size not in self.dimensions:
            known = ", ".join(sorted(self.dimensions)) or "none"
            raise LatexError(rf"unknown dimension {size} in {what}_{size} (the declared shapes use: "
                             f"{known}), {self.located(pos)}")
        return self.dimensions[size]
