"""The numerical differentiation methods of the check in one namespace (`from derive.check import methods as m`).

Nothing is defined here; the names live in three modules:
- `formulas`: forward, central, Richardson, complex step and directional differences, `Precision` (a float
  type's eps, default steps and bands), `steps_for`;
- `error_budget`: `Budget`, `Quotients` (the ladder of steps), `judge`, the loss's rounding noise (`loss_noise`,
  `noise_level`, `wide_noise`);
- `step_sweep`: `SweepSeries`, `sweep`, `sweep_steps`, `fitted_order`, `theil_sen`.
"""

from .error_budget import (  # noqa: F401
    COMPLEX_ULPS, DERIVED_ULPS, LARGEST_STEP, NOISE_GAIN, ORDER, PARTS, RATIO, ROUND_OFF_DEVIATIONS, TRUNCATION_SAFETY,
    Budget, Quotients, in_wider, judge, ladder_top, loss_noise, noise_level, round_off, wide_noise,
)
from .formulas import (  # noqa: F401
    DIFFERENCES, EXPECTED_ORDER, PRECISIONS, Precision, StepError, complex_step, differences, directional,
    evaluate_rows, precision, steps_for, unit_directions,
)
from .step_sweep import (  # noqa: F401
    ABOVE_ROUND_OFF, ROUND_OFF_TAIL, SweepSeries, fitted_order, sweep, sweep_steps, theil_sen,
)
