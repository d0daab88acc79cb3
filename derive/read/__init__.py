r"""Reading what people write: problem files and LaTeX.

- `problem`: the YAML problem file (symbols, definitions, loss, wrt, or the `mlp:` shorthand) into a network;
- `parse`: the scalar LaTeX reader (through latex2sympy2) and symbol names;
- `matrix_parse`: derive's own reader for matrix LaTeX (`parse_matrix_latex`), which keeps the order of
  products and never evaluates its text; its parts, one per piece of the grammar: `matrix_tokens` (the
  tokens, the limits, where reading failed), `matrix_products` (sums, Hadamard products, products, powers,
  transposes, brackets), `matrix_functions` (\frac, \sqrt, norms, \operatorname{...}, functions applied,
  refused commands), `matrix_names` (symbols, subscripts, layer indices, \mathbf{1}, I), `matrix_unsized`
  (\mathbf{1} and I until a neighbour fixes their size), `matrix_notation` (the tables of notation);
- `answers`: students' answers, read as untrusted text with limits on length and depth;
- `sums`: scalar index sums written out (`\sum_{i=1}^{3} w_i x_i`), for answers and definitions;
- `slashes`: a slash a person could read two ways (`x^2 / 4 w`), refused in a problem file;
- `as_written`: a definition's LaTeX normalised (spacing, bracket sizing, name forms) to print as written.

Read builds on `derive.core` only. What does not live here: solving a problem
(`derive.solve.problem.Problem.solve`), deciding whether an answer is right (`derive.grade`).
"""
