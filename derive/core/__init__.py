"""The core of derive: what a network is and how it is differentiated, with nothing about files, documents or
numbers.

- `network`: declared inputs and named definitions (`Network`), checked as they are added;
- `ops`, `rules`: the scalar ops (sigma, ReLU, softplus, ...) and their rule registry: one `Rule` per op,
  with its partial derivatives and its LaTeX;
- the matrix layer, from the bottom up: `matrix_algebra` (products, sums, transposes in normal form, no
  shape checks), `matrix_safe` (|.|, sign, max, min of matrix forms), `matrix_nodes` (entrywise functions,
  softmax, diag, norms, dL/dV: what the printer, evaluator and rules dispatch on), `matrix_explicit`
  (explicit matrices of scalar entries, the checks' oracle), `matrix_ops` (the shape-checked builders,
  offering the whole layer under one name: `derive.matrix_ops`), `matrix_rules` (their vector-Jacobian
  products, one entry per op);
- `steps`: the immutable steps a derivation is made of;
- `engine`, `matrix_engine`: the chain rule for scalar and for matrix networks, producing steps;
  `matrix_tidy` (matrix gradients in textbook form) and `matrix_recursions` (one form for every layer);
- `printing`: the one printer of maths (`latex`), used by every document, message and diagnosis;
- `builders`: ready-made networks (a sigmoid chain, the L-layer perceptron `mlp`);
- `errors`: the exceptions every package raises.

Core imports no other package of derive. Reading problem files lives in `derive.read`, documents in
`derive.write`, numbers in `derive.check`, and `Solution`/`Derivation` (what users get) in `derive.solve`.
"""
