"""Numbers: evaluating networks and checking derived gradients against numerical derivatives.

The forward pass (how every number is computed):
- `numeric`: NumPy evaluation of scalar expressions and matrix networks (`MatrixEvaluator`);
- `forward_pass`: a network's definitions evaluated in order (`Program`: the steps an expression needs, the
  definitions rewritten into stable forms, the matrix evaluation);
- `stable_forms`: the values kept beside activations (sigma(-u) beside sigma(u), log-softmax, sech^2);
- `tape`: scalar expressions compiled to a list of NumPy operations (`Tape`);
- `evaluation`: a network's expressions at the values a user gives (`evaluate_in`, behind `evaluate()`).

The numerical derivatives (pure NumPy; `methods` names them all in one namespace):
- `formulas`: forward, central, Richardson, complex step and directional differences; `Precision`;
- `error_budget`: what a numerical derivative's error may be, by cause (`Budget`, `Quotients`, `judge`);
- `step_sweep`: the error over decades of steps and the observed convergence order (`sweep`, `fitted_order`).

The check:
- `gradient_check`: `check_gradients`, the driver (each method's run at a point, kinks, the sweep);
- `report`: `CheckReport`, one `CheckEntry` per entry, the bands, the words and the JSON form;
- `options`: the methods' names and titles, `CheckOptionError`;
- `problems`, `objectives`: the loss and gradients of a check, its points (drawn or given, `parse_point`),
  the loss as a function of the checked coordinates at one point;
- `kinks`: where a loss is not differentiable, and why it is not complex-analytic;
- `exact_method`: the exact method (`exact_check`) and `explicit_instance`; `exact`: the sympy.diff oracle in
  exact arithmetic;
- `comparison`, `forward_mode`: the table of every method, and forward-mode derivatives.

`from derive.check import check_gradients, CheckReport, PASSING` works: the public names below are imported
from their module when first asked for, so importing one module of check does not load the others.
Check builds on `derive.core` only; it does not write documents.
"""
import importlib

_PUBLIC = {  # name -> the module that defines it
    "check_gradients": "derive.check.gradient_check", "central_difference_check": "derive.check.gradient_check",
    "matrix_difference_check": "derive.check.gradient_check",
    "CheckReport": "derive.check.report", "CheckEntry": "derive.check.report", "ComparisonRow": "derive.check.report",
    "PASSING": "derive.check.report", "BANDS": "derive.check.report", "relative_error": "derive.check.report",
    "METHODS": "derive.check.options", "METHOD_TITLES": "derive.check.options",
    "CheckOptionError": "derive.check.options",
    "ScalarProblem": "derive.check.problems", "MatrixProblem": "derive.check.problems",
    "parse_point": "derive.check.problems",
    "kink_expressions": "derive.check.kinks", "not_analytic_reason": "derive.check.kinks",
    "exact_check": "derive.check.exact_method", "explicit_instance": "derive.check.exact_method",
    "compare_methods": "derive.check.comparison",
    "Precision": "derive.check.formulas", "PRECISIONS": "derive.check.formulas", "StepError": "derive.check.formulas",
    "MatrixEvaluator": "derive.check.numeric", "Program": "derive.check.forward_pass",
    "evaluate_in": "derive.check.evaluation",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    """A public name, imported from its module the first time it is asked for (then kept here)."""
    module = _PUBLIC.get(name)
    if module is None:  # derive 0.1's `derive.check` module: its other names, from where they live now
        driver = importlib.import_module("derive.check.gradient_check")
        if name.startswith("__") or not hasattr(driver, name):
            raise AttributeError(f"module 'derive.check' has no attribute {name!r}")
        return getattr(driver, name)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
