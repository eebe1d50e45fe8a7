"""dm_control-style tolerance rewards: pure functions with values in [0, 1].

``tolerance(x, bounds, margin, sigmoid, value_at_margin)`` is 1 inside ``bounds``; outside it
decays with d = (distance to the nearest bound) / margin:

* ``gaussian``:  ``v ** (d ** 2)``                 (= exp(-0.5 (d s)^2), s = sqrt(-2 ln v))
* ``linear``:    ``max(0, 1 - (1 - v) d)``
* ``quadratic``: ``max(0, 1 - (1 - v) d ** 2)``    (HumanoidBench uses it with v = 0)

A margin of 0 makes it a hard step. Scalars take a pure-Python path (the env step calls these
every control step); arrays are handled elementwise by :func:`tolerance_array`.
"""

from __future__ import annotations

import numpy as np

SIGMOIDS = ("gaussian", "linear", "quadratic")


def _check(
    bounds: tuple[float, float], margin: float, sigmoid: str, value_at_margin: float
) -> None:
    lower, upper = bounds
    if lower > upper:
        raise ValueError(f"tolerance bounds must satisfy lower <= upper, got {bounds}")
    if margin < 0:
        raise ValueError(f"tolerance margin must be >= 0, got {margin}")
    if sigmoid not in SIGMOIDS:
        raise ValueError(f"unknown sigmoid {sigmoid!r}; accepted: {', '.join(SIGMOIDS)}")
    if not 0 <= value_at_margin < 1 or (sigmoid == "gaussian" and value_at_margin == 0):
        raise ValueError(
            f"value_at_margin must lie in [0, 1) (and be > 0 for gaussian), got {value_at_margin}"
        )


def _decay(d: float, sigmoid: str, value_at_margin: float) -> float:
    if sigmoid == "gaussian":
        return value_at_margin ** (d * d)
    if sigmoid == "linear":
        return max(0.0, 1.0 - (1.0 - value_at_margin) * d)
    return max(0.0, 1.0 - (1.0 - value_at_margin) * d * d)


def tolerance(
    x: float,
    bounds: tuple[float, float] = (0.0, 0.0),
    margin: float = 0.0,
    sigmoid: str = "gaussian",
    value_at_margin: float = 0.1,
) -> float:
    """Tolerance reward of a scalar ``x`` (see the module docstring)."""
    _check(bounds, margin, sigmoid, value_at_margin)
    lower, upper = bounds
    if lower <= x <= upper:
        return 1.0
    if margin == 0.0:
        return 0.0
    d = (lower - x if x < lower else x - upper) / margin
    return _decay(d, sigmoid, value_at_margin)


def tolerance_array(
    x: np.ndarray,
    bounds: tuple[float, float] = (0.0, 0.0),
    margin: float = 0.0,
    sigmoid: str = "gaussian",
    value_at_margin: float = 0.1,
) -> np.ndarray:
    """Elementwise :func:`tolerance` of an array."""
    _check(bounds, margin, sigmoid, value_at_margin)
    x = np.asarray(x, dtype=np.float64)
    lower, upper = bounds
    inside = (x >= lower) & (x <= upper)
    if margin == 0.0:
        return inside.astype(np.float64)
    d = np.where(x < lower, lower - x, x - upper) / margin
    if sigmoid == "gaussian":
        out = np.power(value_at_margin, d * d)
    elif sigmoid == "linear":
        out = np.maximum(0.0, 1.0 - (1.0 - value_at_margin) * d)
    else:
        out = np.maximum(0.0, 1.0 - (1.0 - value_at_margin) * d * d)
    return np.where(inside, 1.0, out)


def effort_terms(actuator_force: np.ndarray) -> np.ndarray:
    """Each actuator's share of :func:`small_control`: ``tol(f, margin 10 N m, quadratic,
    v 0)`` = ``max(0, 1 - (f/10)^2)`` (1 for a joint that needs no torque)."""
    f = actuator_force * 0.1
    return np.maximum(0.0, 1.0 - f * f)


def small_control(actuator_force: np.ndarray) -> float:
    """HumanoidBench's control-effort term, in [0.8, 1]: ``(4 + mean(effort_terms)) / 5``."""
    return (4.0 + float(effort_terms(actuator_force).mean())) / 5.0

