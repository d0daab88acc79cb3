"""Evaluation traces: a network evaluated line by line at a point, in forward and reverse mode.

- `tracer`: `derive.trace` and the `Trace` it returns (its lines, values and adjoints);
- `matrix`: traces of matrix networks, entry by entry;
- `methods`: the trace's gradient against the other ways of computing it;
- `graph`: the computational graph, drawn by Graphviz or TikZ;
- `render`: traces as LaTeX, Markdown and JSON.

A feature: it builds on solve, check, write, read and core, and no other feature imports it.
"""
