"""What users get: a network that derives its gradients, and the derivations themselves.

- `network`: `derive.Network`, the core network with `gradient`, `gradients` and `evaluate`;
- `problem`: `derive.Problem`, a problem file read by `derive.read` with `solve`;
- `derivation`: `Solution` and `Derivation`: the steps from the engine, the check, the documents;
- `builders`: `derive.builders`, ready-made networks that derive.

Solve joins the layers below it (core, read, write, check); the features (tracing, grade, stochastic)
and the command line build on it. What does not live here: the chain rule itself (`derive.core`), the
numbers (`derive.check`), the documents' words (`templates/`).
"""
