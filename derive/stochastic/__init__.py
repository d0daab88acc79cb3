"""Networks that sample a discrete choice (a router picking an expert) and the gradient estimators for them.

- `problem`: the stochastic problem file (router, experts) and its exact expected loss;
- `estimators`: `derive.estimate`: score-function, straight-through, Gumbel-softmax and other estimators,
  derived and measured (bias, variance) against the exact gradient;
- `render`: the estimator report as LaTeX and Markdown.

A feature: it builds on solve, check, write, read and core, and no other feature imports it.
"""
