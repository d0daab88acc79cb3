"""Bad problem files, one table for the library (`Problem.from_text`) and the CLI (`derive solve`).

Each case: the YAML text, extra CLI arguments, the error class the library raises (None: CLI only,
where the arguments matter), and pieces the one-line message must contain (the CLI prints the same
message after `derive: error:`).
"""

import re

import pytest

from derive.core.errors import LatexError, ProblemError

BAD_PROBLEMS = [
    pytest.param(r"""
        symbols: [x, y, w
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 2', 'malformed YAML', 'p.yaml', re.compile(r'p\.yaml, line [12]\b')], id='malformed-yaml'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - \hat{y} = \sigma(w x)
          - L = \frac{1}{2} (y - \hat{y} + z)^2
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 4, definition of L', 'unknown symbol z'], id='unknown-symbol'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = Y w
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 3, definition of L', 'unknown symbol Y'], id='case-sensitive'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = \foo(x) + w
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 3, definition of L', '\\foo', 'foo'], id='undefined-command'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = \operatorname{foo}(x) + w
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 3, definition of L', 'undefined function foo'], id='undefined-operatorname'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = (x +
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 3, definition of L', '(x +'], id='malformed-latex'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = L + x
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 3, definition of L', 'uses L itself'], id='uses-itself'),
    pytest.param(r"""
        symbols: [x, w]
        definitions:
          - \hat{y} = \hat y + w x
          - L = \hat{y}
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 3, definition of yhat', 'uses yhat itself'], id='hat-uses-itself'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - h = g + x
          - g = w x
          - L = h
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 3, definition of h', 'uses g', 'defined later (line 4)'], id='uses-later'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: x
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 4', 'loss x is not a definition'], id='loss-not-definition'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: L
        wrt: [q]
        """, [], ProblemError, ['p.yaml, line 5', "'wrt' names q"], id='wrt-unknown'),
    pytest.param(r"""
        symbols: [x, y, w]
        syntax: sympy
        definitions:
          - L = Matrix([[x], [y]])
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line', 'loss L is not scalar: it is a 2x1 matrix', 'loss L is not scalar', '2x1'], id='non-scalar-loss'),
    pytest.param(r"""
        symbols: [x, y, w]
        syntax: sympy
        definitions:
          - L = (w*
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 4, definition of L', 'cannot read SymPy expression'], id='sympy-malformed'),
    pytest.param(r"""
        symbols: [x, y, w]
        foo: 1
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 2', "unknown key 'foo'"], id='unknown-key'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions: []
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml', "no 'definitions'"], id='empty-definitions'),
    pytest.param(r"""
        symbols: [x, w]
        definitions: {L: w x}
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 2', 'must be a list'], id='definitions-mapping'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
          - 42
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 4', 'name = right-hand side'], id='definition-not-name-equals-rhs'),
    pytest.param(r"""
        symbols: [x, w]
        definitions:
          - 1x = w
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 3', 'not a valid symbol name'], id='bad-definition-name'),
    pytest.param(r"""
        symbols: [x, w]
        definitions:
          - L = x = w
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 3, definition of L', 'expected an expression'], id='equation'),
    pytest.param(r"""
        symbols: [x, w]
        definitions:
          - L = \frac{d}{dx} w x
        loss: L
        wrt: [w]
        """, [], LatexError, ['p.yaml, line 3, definition of L', 'derivatives'], id='derivative'),
    pytest.param(r"""
        symbols: {x: [3], w: scalar}
        definitions:
          - L = w
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 1', 'shape [3]'], id='vector-symbol'),
    pytest.param(r"""
        symbols: [x, w]
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        syntax: python
        """, [], ProblemError, ['p.yaml, line 6', 'syntax must be'], id='unknown-syntax'),
    pytest.param(r"""
        - a list
        """, [], ProblemError, ['p.yaml', 'mapping'], id='not-a-mapping'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - h = w x
          - L = (x +
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 4, definition of L', '(x +'], id='malformed-latex'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = \frac{1}{2} (y - \hat{y})^2
          - \hat{y} = \sigma(w x)
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 3, definition of L', 'uses yhat', 'defined later (line 4)'], id='uses-later-hat'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: M
        wrt: [w]
        """, [], None, ['p.yaml, line 4', "'loss' names M"], id='loss-unknown'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        """, ['--wrt', 'q'], None, ['q', 'x, y, w, L'], id='wrt-option-unknown'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - h = w x
          - w x
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 4', 'name = right-hand side'], id='definition-not-name-equals-rhs'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - h = w x
          - h = x
          - L = h
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 3, definition of h', 'defined twice'], id='defined-twice'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - w = x
          - L = w
        loss: L
        wrt: [x]
        """, [], None, ['p.yaml, line 3, definition of w', 'already an input'], id='definition-redefines-input'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L =
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 3, definition of L', 'empty'], id='empty-right-hand-side'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: L
        """, [], None, ['p.yaml', "no 'wrt'"], id='no-wrt'),
    pytest.param(r"""
        symbols: [x, y, w]
        syntax: python
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 2', 'syntax must be'], id='unknown-syntax'),
    pytest.param(r"""
        symbols: [x, y, w]
        syntax: sympy
        definitions:
          - L = foo(w*x)
        loss: L
        wrt: [w]
        """, [], None, ['p.yaml, line 4, definition of L', 'undefined function foo'], id='sympy-undefined-function'),
    pytest.param(r"""
        - just
        - a list
        """, [], None, ['p.yaml', 'mapping'], id='not-a-mapping'),
    pytest.param(r"""

        """, [], None, ['p.yaml', 'mapping'], id='empty-file'),
    pytest.param(r"""
        symbols: [x, y, w]
        syntax: sympy
        definitions:
          - h = Matrix([[x], [y]])
          - L = w*h
        loss: L
        wrt: [w]
        """, [], ProblemError, ['p.yaml, line 4, definition of h', 'loss L is not scalar', 'through h'], id='non-scalar-through-intermediate'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        layout: sideways
        """, [], ProblemError, ['p.yaml, line 6', "layout must be 'denominator' or 'numerator', not 'sideways'"], id='unknown-layout'),
    pytest.param(r"""
        mlp: {sizes: [3, 1]}
        layout: column
        """, [], ProblemError, ['p.yaml, line 2', "layout must be 'denominator' or 'numerator'"], id='unknown-layout-mlp'),
    pytest.param(r"""
        symbols: [x, y, w]
        definitions:
          - L = w x
        loss: L
        wrt: [w]
        """, ["--layout", "sideways"], None, ["--layout", "'sideways'", "denominator", "numerator"], id='unknown-layout-option'),
]
