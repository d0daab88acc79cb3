"""Evaluation traces: a network evaluated line by line at a point, in forward and reverse mode.

- `tracer`: `derive.trace` and the `Trace` it returns (the data below with its output methods), and what
  `derive trace` writes;
- `data`: a trace's data: its lines, the forward and reverse tables, their agreement, the lines' names;
- `scalar`: a scalar expression taken apart into lines, evaluated, and its two tables computed;
- `reading`: the expression to trace (LaTeX in any symbols) and the point and direction;
- `matrix`: traces of matrix networks, entry by entry;
- `methods`: the trace's gradient against the other ways of computing it;
- `graph`: the computational graph, drawn by Graphviz or TikZ;
- `render`: traces as LaTeX, Markdown and JSON.

A feature: it builds on solve, check, write, read and core, and no other feature imports it. What does
not live here: the symbolic derivation (`derive.core`), the numeric check of a gradient (`derive.check`).
"""
