"""Networks that sample a discrete choice (a router picking an expert) and the gradient estimators for them.

- `problem`: the stochastic problem file (router, experts), the experts as derive networks;
- `symbolic`: the router's and experts' derivations by derive's engines, and the exact expected loss by SymPy;
- `estimators`: `derive.estimate`: score-function, straight-through, Gumbel-softmax and other estimators,
  derived and measured (bias, variance) against the exact gradient;
- `ztest`: the corrected z-tests (Holm, Bonferroni) a study's means are judged by;
- `render`: the estimator report as LaTeX and Markdown.

A feature: it builds on solve, check, write, read and core, and no other feature imports it. What does
not live here: the deterministic networks the experts are (`derive.solve`), the document's words
(`templates/estimate*.j2`).
"""
