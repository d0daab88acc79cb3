r"""Values whose shape is not known yet: \mathbf{1} or I written without a size, held as an `_Unsized`
value until a neighbour in a product, sum or Hadamard product fixes its size, and the products, sums and
signs of such values.

What does not live here: reading them (`matrix_names`), the other builders (`core.matrix_ops`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sympy import S

from ..core.matrix_ops import as_scalar, is_1x1, is_matrix, matmul, negate, ones, same, transpose


class _NoSize(Exception):
    r"""A \mathbf{1} or an I whose size nothing fixed (the argument says which)."""


@dataclass(frozen=True, slots=True)
class _Unsized:
    r"""\mathbf{1} or I with no size, or an expression built from one: `rows`/`cols` are the dimensions
    known so far (None if not), `build(rows, cols)` makes the expression once both are known. A `square`
    value (the identity) has one size: knowing its rows is knowing its columns."""

    rows: object
    cols: object
    build: Callable
    square: bool = False
    what: str = r"\mathbf{1}"
    filled: Callable | None = None  # in a sum or Hadamard product: the value with the shape of the matrices there

    def fix(self, rows=None, cols=None):
        """This value with its unknown dimensions set where given; dimensions already known stay."""
        new_rows = self.rows if self.rows is not None else rows
        new_cols = self.cols if self.cols is not None else cols
        if self.square:
            new_rows = new_cols = new_rows if new_rows is not None else new_cols
        if (new_rows, new_cols) == (self.rows, self.cols):
            return self
        return _unsized(new_rows, new_cols, self.build, self.square, self.what,
                        self.filled if (new_rows, new_cols) == (None, self.cols) else None)

    def like(self, rows, cols, build, filled=None):
        """An expression of this value, with its squareness and its name (for a message)."""
        return _Unsized(rows, cols, build, self.square, self.what, filled)


def _unsized(rows, cols, build, square=False, what=r"\mathbf{1}", filled=None):
    if rows is not None and cols is not None:
        return build(rows, cols)
    return _Unsized(rows, cols, build, square, what, filled)


def unsized_ones():
    r"""\mathbf{1} without a size: a column whose length a product fixes (X^T \mathbf{1}), or, in a sum or a
    Hadamard product, the all-ones matrix of the shape of the matrices there (\mathbf{1} - H, H n x 3)."""
    return _Unsized(None, S.One, lambda rows, cols: ones(rows, S.One), filled=lambda rows, cols: ones(rows, cols))


def _is_unsized(value) -> bool:
    return isinstance(value, _Unsized)


def _shape(value):
    """(rows, cols) of a matrix or an unsized value (None for unknown parts); None for a scalar."""
    if _is_unsized(value):
        return value.rows, value.cols
    return value.shape if is_matrix(value) else None


def _fixed(value, rows=None, cols=None):
    return value.fix(rows, cols) if _is_unsized(value) else value


def _concrete(value):
    if _is_unsized(value):
        raise _NoSize(value.what)
    return value


def _negated(value):
    if _is_unsized(value):
        filled = value.filled and (lambda r, c: negate(value.filled(r, c)))
        return value.like(value.rows, value.cols, lambda r, c: negate(value.fix(r, c)), filled)
    return negate(value)


def _transposed(value):
    if _is_unsized(value):
        filled = value.filled and (lambda r, c: transpose(value.filled(c, r)))
        return value.like(value.cols, value.rows, lambda r, c: transpose(value.fix(c, r)), filled)
    return transpose(value)


def _filled(value, rows, cols):
    r"""An item of a sum or Hadamard product whose matrices are rows x cols: an unsized \mathbf{1} takes their
    whole shape; other unsized values take the dimensions they do not have yet."""
    if _is_unsized(value) and value.filled is not None:
        return value.filled(rows, cols)
    return _fixed(value, rows, cols)


def _numbers_of_forms(factors: list) -> list:
    r"""A run of 1x1 factors beside a matrix it does not chain with is the number it is, whichever side the
    matrix is on: (yhat - y) yhat (1 - yhat) x, h^T (yhat - y) yhat (1 - yhat) with yhat 1 x 1."""
    out = list(factors)
    matrices = [i for i, f in enumerate(factors) if is_matrix(f)]
    k = 0
    while k < len(matrices):
        if not is_1x1(factors[matrices[k]]):
            k += 1
            continue
        end = k
        while end < len(matrices) and is_1x1(factors[matrices[end]]):
            end += 1
        left = factors[matrices[k - 1]] if k > 0 else None
        right = factors[matrices[end]] if end < len(matrices) else None
        if (left is not None and not same(left.shape[1], 1)) or (right is not None and not same(right.shape[0], 1)):
            for i in matrices[k:end]:
                out[i] = as_scalar(factors[i])
        k = end
    return out


def _size_from_neighbours(factors: list) -> None:
    """Fix the inner dimensions of unsized factors from their nearest matrix neighbours, until nothing changes."""
    changed = True
    while changed:
        changed = False
        shaped = [i for i, f in enumerate(factors) if _shape(f) is not None]
        for left, right in zip(shaped, shaped[1:]):
            a, b = factors[left], factors[right]
            inner_a, inner_b = _shape(a)[1], _shape(b)[0]
            new_a = _fixed(a, cols=inner_b) if inner_b is not None else a
            new_b = _fixed(b, rows=inner_a) if inner_a is not None else b
            if new_a is not a or new_b is not b:
                factors[left], factors[right] = new_a, new_b
                changed = True


def _product(factors: list):
    """matmul over the factors, left to right; an unsized factor takes its length from its neighbours."""
    factors = list(factors)
    _size_from_neighbours(factors)
    if not any(_is_unsized(f) for f in factors):
        return matmul(*_numbers_of_forms(factors))
    shaped = [i for i, f in enumerate(factors) if _shape(f) is not None]
    first, last = shaped[0], shaped[-1]

    def build(rows, cols):
        sized = list(factors)
        sized[first] = _fixed(sized[first], rows=rows)
        sized[last] = _fixed(sized[last], cols=cols)
        _size_from_neighbours(sized)
        return matmul(*_numbers_of_forms([_concrete(f) for f in sized]))

    alone = factors[first] if first == last and _is_unsized(factors[first]) else None  # c I is square as I is
    if alone is not None:  # c 1 in a sum takes the sum's shape as 1 does (X V - 50 1, X V n x 4)
        def filled(rows, cols):
            sized = list(factors)
            sized[first] = alone.filled(rows, cols)
            return matmul(*_numbers_of_forms([_concrete(f) for f in sized]))

        return alone.like(alone.rows, alone.cols, build, filled if alone.filled is not None else None)
    return _unsized(_shape(factors[first])[0], _shape(factors[last])[1], build)



def _combine(builder: Callable, items: list):
    """`add` or `hadamard` over the items; an unsized item takes the shape of the matrices beside it."""
    if not any(_is_unsized(i) for i in items):
        return builder(*items)
    matrices = [i for i in items if is_matrix(i)]
    if matrices:
        rows, cols = builder(*matrices).shape
        return builder(*[_filled(i, rows, cols) for i in items])
    unsized = [i for i in items if _is_unsized(i)]
    rows = next((u.rows for u in unsized if u.rows is not None), None)
    cols = next((u.cols for u in unsized if u.cols is not None), None)
    square = all(u.square for u in unsized)
    filled = (lambda r, c: builder(*[_filled(i, r, c) for i in items])) if all(u.filled for u in unsized) else None
    return _unsized(rows, cols, lambda r, c: builder(*[_fixed(i, r, c) for i in items]), square, unsized[0].what,
                    filled)
