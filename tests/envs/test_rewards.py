"""The tolerance function against hand-computed values, one case per sigmoid."""

import math

import numpy as np
import pytest

from metaworld_hwm.envs.rewards import small_control, tolerance, tolerance_array


def test_inside_bounds_is_one() -> None:
    assert tolerance(1.7, bounds=(1.65, math.inf), margin=0.4125) == 1.0
    assert tolerance(0.0) == 1.0


def test_gaussian_value_at_margin_and_beyond() -> None:
    # d = 1 gives v; d = 2 gives v ** 4 (dm_control: exp(-0.5 (d s)^2), s^2 = -2 ln v).
    assert tolerance(2.0, margin=2.0) == pytest.approx(0.1)
    assert tolerance(-4.0, margin=2.0) == pytest.approx(0.1**4)
    s = math.sqrt(-2 * math.log(0.1))
    assert tolerance(0.5, margin=2.0) == pytest.approx(math.exp(-0.5 * (0.25 * s) ** 2))


def test_linear() -> None:
    # Walk's move term: clip(vx / 1, 0, 1).
    for vx, expected in [(-0.3, 0.0), (0.0, 0.0), (0.25, 0.25), (1.0, 1.0), (3.0, 1.0)]:
        got = tolerance(vx, (1.0, math.inf), margin=1.0, sigmoid="linear", value_at_margin=0.0)
        assert got == pytest.approx(expected)
    # Door hatch: bounds (0.75, 2), margin 0.75, v 0.1: at angle 0, d = 1 -> 0.1.
    assert tolerance(0.0, (0.75, 2.0), margin=0.75, sigmoid="linear") == pytest.approx(0.1)
    assert tolerance(0.375, (0.75, 2.0), margin=0.75, sigmoid="linear") == pytest.approx(0.55)


def test_quadratic() -> None:
    assert tolerance(5.0, margin=10.0, sigmoid="quadratic", value_at_margin=0.0) == 0.75
    assert tolerance(-12.0, margin=10.0, sigmoid="quadratic", value_at_margin=0.0) == 0.0


def test_zero_margin_is_a_step() -> None:
    assert tolerance(1.01, bounds=(-1, 1)) == 0.0
    assert tolerance(0.99, bounds=(-1, 1)) == 1.0


def test_array_matches_scalar() -> None:
    xs = np.linspace(-5, 5, 41)
    for sigmoid, v in [("gaussian", 0.1), ("linear", 0.0), ("quadratic", 0.0)]:
        arr = tolerance_array(xs, (-1.0, 0.5), margin=2.0, sigmoid=sigmoid, value_at_margin=v)
        ref = [tolerance(float(x), (-1.0, 0.5), 2.0, sigmoid, v) for x in xs]
        np.testing.assert_allclose(arr, ref)


def test_small_control_by_hand() -> None:
    forces = np.array([0.0, 5.0, -10.0, 20.0])  # terms 1, 0.75, 0, 0 -> mean 0.4375
    assert small_control(forces) == pytest.approx((4 + 0.4375) / 5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bounds": (1.0, 0.0)}, "lower <= upper"),
        ({"margin": -1.0}, "margin must be >= 0"),
        ({"sigmoid": "cosine"}, "unknown sigmoid"),
        ({"value_at_margin": 1.5}, "value_at_margin"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tolerance(0.0, **kwargs)
