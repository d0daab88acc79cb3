"""The core of derive: what a network is and how it is differentiated, with nothing about files, documents or
numbers.

- `network`: declared inputs and named definitions (`Network`), checked as they are added;
- `ops`, `rules`: the scalar ops (sigma, ReLU, softplus, ...) and their rule registry: one `Rule` per op,
  with its partial derivatives and its LaTeX;
- `matrix_ops`, `matrix_rules`: the matrix layer's nodes (entrywise functions, norms, the identity, ...) and
  their vector-Jacobian products, one entry per op;
- `steps`: the immutable steps a derivation is made of;
- `engine`, `matrix_engine`: the chain rule for scalar and for matrix networks, producing steps;
- `printing`: the one printer of maths (`latex`), used by every document, message and diagnosis;
- `builders`: ready-made networks (a sigmoid chain, the L-layer perceptron `mlp`);
- `errors`: the exceptions every package raises.

Core imports no other package of derive. Reading problem files lives in `derive.read`, documents in
`derive.write`, numbers in `derive.check`, and `Solution`/`Derivation` (what users get) in `derive.solve`.
"""
