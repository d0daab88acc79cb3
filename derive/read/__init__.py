r"""Reading what people write: problem files and LaTeX.

- `problem`: the YAML problem file (symbols, definitions, loss, wrt, or the `mlp:` shorthand) into a network;
- `parse`: the scalar LaTeX reader (through latex2sympy2) and symbol names;
- `matrix_parse`: derive's own reader for matrix LaTeX (`parse_matrix_latex`), which keeps the order of
  products and never evaluates its text; its parts, one per piece of the grammar: `matrix_tokens` (the
  tokens, the limits, where reading failed), `matrix_products` (sums, Hadamard products, products, powers,
  transposes, brackets), `matrix_functions` (\frac, \sqrt, norms, \operatorname{...}, functions applied,
  refused commands), `matrix_names` (symbols, subscripts, layer indices, \mathbf{1}, I), `matrix_unsized`
  (\mathbf{1} and I until a neighbour fixes their size), `matrix_notation` (the tables of notation);
- `answers`: students' answers, read as untrusted text with limits on length and depth.

Read builds on `derive.core` only. What does not live here: solving a problem
(`derive.solve.problem.Problem.solve`), deciding whether an answer is right (`derive.grade`).
"""
