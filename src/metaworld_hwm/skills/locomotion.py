"""What every H1 walking policy here shares: commands, the gait clock, leg targets -> actions.

A walking policy outputs 10 leg values ``u`` (per leg: hip yaw, hip roll, hip pitch, knee,
ankle); the leg servo targets are ``LEG_ACTION_SCALE * u + LEG_DEFAULT_POSE``, the torso and
arms are held at 0 rad, and the targets become normalised actions through the servos' ranges.
These are the conventions of Unitree's public H1 walker (the teacher the walk expert is
distilled from), kept so teacher and student outputs mean the same thing.

A :class:`WalkCommand` is a velocity command in the robot's heading frame (forward ``vx``,
sideways ``vy``, turn ``yaw_rate``); with ``heading`` set, the yaw rate is instead chosen to
hold that world heading (``yaw_rate = clip(HEADING_GAIN * (heading - yaw))``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Per-leg default pose (rad): hip yaw, hip roll, hip pitch, knee, ankle.
LEG_DEFAULT_POSE = np.array([0.0, 0.0, -0.1, 0.3, -0.2])
LEG_ACTION_SCALE = 0.25
#: Period of the gait clock (s): one left-right stride.
GAIT_PERIOD = 0.8
HEADING_GAIN = 0.5
#: Command ranges the walk expert is trained on: (low, high) per field.
COMMAND_RANGES: dict[str, tuple[float, float]] = {
    "vx": (-0.5, 1.2), "vy": (-0.3, 0.3), "yaw_rate": (-0.8, 0.8),
}  # fmt: skip
NUM_LEG_JOINTS = 10


@dataclass(frozen=True)
class WalkCommand:
    """Velocity command: forward/sideways speed (m/s) and turn rate (rad/s) or a heading.

    The speeds are what the policy is asked for; walking policies fall short of the faster
    ones (the teacher walks ~1.05 m/s when asked for 1.2). The default, 1.2 m/s holding
    heading 0, is h1-walk's task: 1 m/s or more along +x.

    heading: world yaw (rad) to hold; when given it overrides ``yaw_rate``.
    """

    vx: float = 1.2
    vy: float = 0.0
    yaw_rate: float = 0.0
    heading: float | None = 0.0

    def __post_init__(self) -> None:
        for name in COMMAND_RANGES:
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"walk command {name} must be finite, got {getattr(self, name)}")
        if self.heading is not None and not np.isfinite(self.heading):
            raise ValueError(f"walk command heading must be finite or None, got {self.heading}")

    def check_ranges(self, ranges: dict[str, tuple[float, float]] = COMMAND_RANGES) -> None:
        """Raise ValueError if a velocity lies outside the (low, high) a policy was trained on
        (default: the walk expert's :data:`COMMAND_RANGES`)."""
        for name, (low, high) in ranges.items():
            value = getattr(self, name)
            if not low - 1e-9 <= value <= high + 1e-9:
                raise ValueError(
                    f"walk command {name}={value} lies outside the trained range "
                    f"[{low}, {high}]; choose a value inside it"
                )

    def velocities(self, yaw: np.ndarray) -> np.ndarray:
        """(vx, vy, yaw rate) per row (B, 3) for the robots' current yaws (B,)."""
        yaw = np.asarray(yaw, dtype=np.float64)
        if self.heading is None:
            rate = np.full_like(yaw, self.yaw_rate)
        else:
            low, high = COMMAND_RANGES["yaw_rate"]
            rate = np.clip(HEADING_GAIN * wrap_angle(self.heading - yaw), low, high)
        return np.stack([np.full_like(yaw, self.vx), np.full_like(yaw, self.vy), rate], axis=1)


@dataclass(frozen=True)
class Cadence:
    """How fast the gait clock runs for a commanded forward speed: ``rate = clip(|vx| /
    reference_speed, 1, max_rate)`` times real time. The walk expert's clock runs at real time
    (``max_rate`` 1: one stride per :data:`GAIT_PERIOD`); a runner steps faster as it is asked
    to go faster, which a fixed stride period would forbid. Commanded speeds above
    ``max_feature_speed`` enter the policy as that value: past the walker's commands the
    cadence, not an extrapolated input, carries the extra speed."""

    reference_speed: float = 1.1
    max_rate: float = 1.0
    max_feature_speed: float = float("inf")

    def __post_init__(self) -> None:
        if self.reference_speed <= 0 or self.max_rate < 1:
            raise ValueError(
                f"cadence needs reference_speed > 0 and max_rate >= 1, got {self.reference_speed},"
                f" {self.max_rate}"
            )

    def feature_speed(self, vx: np.ndarray) -> np.ndarray:
        """The forward speeds the policy reads for commanded speeds ``vx``."""
        return np.minimum(vx, self.max_feature_speed)

    def rate(self, vx: np.ndarray | float) -> np.ndarray:
        """Gait clock seconds per real second for forward speeds ``vx`` (m/s)."""
        return np.clip(np.abs(np.asarray(vx, dtype=np.float64)) / self.reference_speed, 1.0,
                       self.max_rate)  # fmt: skip


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return (np.asarray(angle) + np.pi) % (2 * np.pi) - np.pi


def gait_clock(t: np.ndarray) -> np.ndarray:
    """(sin, cos) of the gait phase 2 pi t / GAIT_PERIOD, shape (B, 2), for times t (B,) s."""
    phase = 2 * np.pi * np.asarray(t, dtype=np.float64) / GAIT_PERIOD
    return np.stack([np.sin(phase), np.cos(phase)], axis=1)


def unit_quaternion(quat: np.ndarray) -> np.ndarray:
    """Quaternions (B, 4) scaled to unit norm (a reset's qpos noise leaves them slightly off)."""
    quat = np.asarray(quat, dtype=np.float64)
    return quat / np.linalg.norm(quat, axis=-1, keepdims=True)


def projected_gravity(quat: np.ndarray) -> np.ndarray:
    """Gravity's direction in the body frame (B, 3) for body quaternions (B, 4) (w, x, y, z).

    Upright gives (0, 0, -1).
    """
    w, x, y, z = unit_quaternion(quat).T
    return np.stack([2 * (-z * x + w * y), -2 * (z * y + w * x), 1 - 2 * (w * w + z * z)], 1)


def yaw_of(quat: np.ndarray) -> np.ndarray:
    """Heading (rad) of body quaternions (B, 4) (w, x, y, z)."""
    w, x, y, z = unit_quaternion(quat).T
    return np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def leg_action(outputs: np.ndarray, ctrlrange: np.ndarray) -> np.ndarray:
    """Normalised actions (B, nu) in [-1, 1] for raw leg outputs (B, 10).

    ctrlrange: the servos' (nu, 2) ranges; the first 10 are the legs, the rest are held at
    0 rad (clipped into their range).
    """
    outputs = np.asarray(outputs, dtype=np.float64)
    targets = np.zeros((outputs.shape[0], len(ctrlrange)))
    targets[:, :NUM_LEG_JOINTS] = LEG_ACTION_SCALE * outputs + np.tile(LEG_DEFAULT_POSE, 2)
    low, high = ctrlrange[:, 0], ctrlrange[:, 1]
    return np.clip(2 * (targets - low) / (high - low) - 1, -1.0, 1.0)
