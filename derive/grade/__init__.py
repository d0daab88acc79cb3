"""Checking students' work: answer verification, batch grading, limits on time and memory.

- `verify`: `derive.verify`, a student's answer against the derived gradient (structural, symbolic, numeric,
  exact) with a diagnosis;
- `batch`: `derive.grade.grade`, a folder of submissions graded on a pool of processes, for Gradescope and
  other platforms;
- `deadline`: running untrusted work under a time and memory limit.

A feature: it builds on solve, check, write, read and core, and no other feature imports it.
"""
