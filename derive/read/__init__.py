"""Reading what people write: problem files and LaTeX.

- `problem`: the YAML problem file (symbols, definitions, loss, wrt, or the `mlp:` shorthand) into a network;
- `parse`: the scalar LaTeX reader (through latex2sympy2) and symbol names;
- `matrix_parse`: derive's own reader for matrix LaTeX, which keeps the order of products and never evaluates
  its text;
- `answers`: students' answers, read as untrusted text with limits on length and depth.

Read builds on `derive.core` only. Solving a problem is `derive.solve.problem.Problem.solve`.
"""
