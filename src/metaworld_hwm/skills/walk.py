"""The walk expert: a command-conditioned MLP with a gait clock, distilled from a teacher.

Inputs (:func:`walk_features`, 35 values, invariant to the robot's position and heading on the
floor): pelvis height, gravity in the pelvis frame, the 10 leg joint angles, the pelvis linear
velocity in the heading frame, its angular velocity in the pelvis frame, the 10 leg joint
velocities, the command (vx, vy, yaw rate) and (sin, cos) of the 0.8 s gait clock. Output: the
10 leg values of :mod:`metaworld_hwm.skills.locomotion` (torso and arms held at 0 rad). The
torso and arm joints are left out, as the teacher leaves them out: held still in every
training state, they would enter the normalised input with a near-zero spread, and any arm
motion (another expert's, or action noise) would swamp it.

State: the gait clock, seconds since :meth:`WalkExpert.reset`; each :meth:`~Expert.act`
call advances it by one control step (times the spec's ``cadence`` rate for the commanded
speed, 1 for the walk expert). Command: a :class:`WalkCommand` (default: forward along
+x, holding heading 0, as h1-walk rewards), set with ``set_command(vx=..., ...)``. A spec's
``config`` may give other ``command_ranges`` and a ``default_command`` (the run expert, PPO-
trained from this one, takes faster speeds).
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import torch

from metaworld_hwm.envs.humanoid_env import CONTROL_DT
from metaworld_hwm.skills.expert import Expert, ExpertSpec, MLPPolicy, register_controller
from metaworld_hwm.skills.locomotion import (
    COMMAND_RANGES,
    NUM_LEG_JOINTS,
    Cadence,
    WalkCommand,
    gait_clock,
    leg_action,
    projected_gravity,
    yaw_of,
)

NUM_FEATURES = 35


def walk_features(
    qpos: np.ndarray, qvel: np.ndarray, commands: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """The walk policy's inputs (B, 35) from robot qpos (B, 26), qvel (B, 25), commands
    (B, 3) and clock times (B,) s (see the module docstring)."""
    yaw = yaw_of(qpos[:, 3:7])
    cos, sin = np.cos(yaw), np.sin(yaw)
    vx, vy = qvel[:, 0], qvel[:, 1]  # free joint: world-frame linear velocity
    heading_velocity = np.stack([cos * vx + sin * vy, -sin * vx + cos * vy, qvel[:, 2]], axis=1)
    return np.concatenate(
        [
            qpos[:, 2:3],
            projected_gravity(qpos[:, 3:7]),
            qpos[:, 7 : 7 + NUM_LEG_JOINTS],
            heading_velocity,
            qvel[:, 3:6],
            qvel[:, 6 : 6 + NUM_LEG_JOINTS],
            commands,
            gait_clock(t),
        ],
        axis=1,
    )


def walk_policy(hidden: tuple[int, ...] = (256, 256)) -> MLPPolicy:
    """An untrained walk network: 35 features -> 10 raw leg values."""
    return MLPPolicy(NUM_FEATURES, NUM_LEG_JOINTS, hidden, squash=False)


@register_controller
class WalkExpert(Expert):
    """Command-conditioned walking (see the module docstring).

    Args:
        spec: the expert's spec; ``config["hidden"]`` gives the MLP's hidden sizes.
        policy: the trained network (35 -> 10).
        ctrlrange: the servos' (19, 2) ranges, to turn leg targets into normalised actions.
    """

    controller_name = "command_walker"
    command_fields = tuple(f.name for f in fields(WalkCommand))

    def __init__(self, spec: ExpertSpec, policy: MLPPolicy, ctrlrange: np.ndarray) -> None:
        super().__init__(spec)
        if ctrlrange.shape != (spec.action_dim, 2):
            raise ValueError(
                f"walk expert {spec.name!r}: ctrlrange must be ({spec.action_dim}, 2), "
                f"got {ctrlrange.shape}"
            )
        self.policy = policy.eval()
        self.ctrlrange = np.asarray(ctrlrange, dtype=np.float64)
        #: (low, high) per command field that the policy was trained on.
        self.command_ranges: dict[str, tuple[float, float]] = {
            k: tuple(v) for k, v in spec.config.get("command_ranges", COMMAND_RANGES).items()
        }
        #: Gait clock rate for the commanded speed (the walk expert's runs at real time).
        self.cadence = Cadence(**spec.config.get("cadence", {}))
        self.command = WalkCommand(**spec.config.get("default_command", {}))
        self.command.check_ranges(self.command_ranges)
        self.clock = np.zeros(1)

    @classmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> WalkExpert:
        """Rebuild from :meth:`arrays`; missing or mis-shaped weights raise ValueError."""
        arrays = dict(arrays)
        if "ctrlrange" not in arrays:
            raise ValueError(f"walk expert {spec.name!r} stores no 'ctrlrange'; re-distil it")
        ctrlrange = arrays.pop("ctrlrange")
        policy = cls.network(spec)
        try:
            policy.load_state_dict(
                {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
            )
        except RuntimeError as exc:
            raise ValueError(
                f"walk expert {spec.name!r}: stored weights do not fit its network ({exc})"
            ) from exc
        return cls(spec, policy, ctrlrange)

    @classmethod
    def network(cls, spec: ExpertSpec) -> MLPPolicy:
        """An untrained network of the shape ``spec`` describes."""
        return walk_policy(tuple(spec.config.get("hidden", (256, 256))))

    def reset(self, batch_size: int = 1) -> None:
        """Restart the gait clock of ``batch_size`` robots walking in lockstep."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.clock = np.zeros(batch_size)

    def set_command(self, **command: float | None) -> None:
        """Change the walk command, e.g. ``set_command(vx=0.5, heading=None, yaw_rate=0.3)``;
        fields not given keep their values (see :class:`WalkCommand`); speeds outside the
        expert's trained ``command_ranges`` raise ValueError."""
        super().set_command(**command)
        new = replace(self.command, **command)
        new.check_ranges(self.command_ranges)
        self.command = new

    def steer_to(self, qpos: np.ndarray, goal: np.ndarray, gain: float, heading: float,
                 max_forward: float = np.inf) -> None:  # fmt: skip
        """Command a walk toward ``goal`` (world x, y) from the pelvis pose in ``qpos``: ``gain``
        (m/s per m) times the offset in the heading frame, clipped to ``command_ranges`` (and
        forward to ``max_forward``), turning to ``heading``."""
        world = (goal - qpos[:2]) * gain
        yaw = float(yaw_of(qpos[None, 3:7])[0])
        c, s = np.cos(yaw), np.sin(yaw)
        ahead, left = c * world[0] + s * world[1], -s * world[0] + c * world[1]
        low_x, high_x = self.command_ranges["vx"]
        low_y, high_y = self.command_ranges["vy"]
        self.set_command(vx=float(np.clip(ahead, low_x, min(high_x, max_forward))),
                         vy=float(np.clip(left, low_y, high_y)), heading=heading)  # fmt: skip

    def features(self, obs: np.ndarray, clock: np.ndarray | None = None) -> np.ndarray:
        """The policy's inputs (B, NUM_FEATURES) for robot observations (B, 51) under the
        current command, at gait ``clock`` (default: the expert's own; not advanced)."""
        if obs.shape[0] != len(self.clock):
            raise ValueError(
                f"walk expert {self.name!r} was reset for {len(self.clock)} robot(s) but got "
                f"{obs.shape[0]} observations; call reset({obs.shape[0]}) at the episode start"
            )
        qpos, qvel = obs[:, :26], obs[:, 26:51]
        commands = self.command.velocities(yaw_of(qpos[:, 3:7]))
        commands[:, 0] = self.cadence.feature_speed(commands[:, 0])
        return walk_features(qpos, qvel, commands, self.clock if clock is None else clock)

    def advance_clock(self) -> None:
        """Move the gait clock on by one control step at the commanded speed's rate."""
        speeds = np.full(len(self.clock), self.command.vx)  # the gait clock runs at vx's rate
        self.clock = self.clock + CONTROL_DT * self.cadence.rate(speeds)

    @torch.no_grad()
    def _act(self, obs: np.ndarray) -> np.ndarray:
        features = self.features(obs)
        outputs = self.policy(torch.as_tensor(features, dtype=torch.float32)).numpy()
        self.advance_clock()
        return leg_action(outputs, self.ctrlrange)

    def arrays(self) -> dict[str, np.ndarray]:
        state = {k: v.detach().cpu().numpy() for k, v in self.policy.state_dict().items()}
        return state | {"ctrlrange": self.ctrlrange.copy()}
