"""Numbers: evaluating networks and checking derived gradients against numerical derivatives.

- `numeric`: NumPy evaluation of scalar expressions and matrix networks (`MatrixEvaluator`);
- `forward_pass`: a network's definitions evaluated in order, then a gradient in its named intermediates, in
  numerically stable forms (the evaluator of `evaluate()` and of the check);
- `methods`: forward, central, Richardson, complex step and directional differences, the error budget of
  each, the step ladder and the step sweep;
- `gradient_check`: `check_gradients` and its report (`CheckReport`, one `CheckEntry` per entry);
- `exact`: the check against `sympy.diff` in exact arithmetic;
- `comparison`, `forward_mode`: the table of every method, and forward-mode derivatives.

Check builds on `derive.core` only; it does not write documents.
"""
