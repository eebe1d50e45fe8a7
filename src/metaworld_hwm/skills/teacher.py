"""Teachers to distil experts from: legged_gym / rsl_rl-style TorchScript locomotion policies.

Such a policy (e.g. Unitree's public H1 walker, ``unitree_rl_gym``'s ``motion.pt``) is an LSTM
actor exported with TorchScript: ``forward(x)`` takes one observation (1, obs_dim) and updates
its hidden and cell states in module buffers, so it runs one env at a time. :class:`LSTMTeacher`
reads the same weights and evaluates the same maths for a batch of envs, each row with its own
recurrent state (reset per row at episode start).

:class:`H1WalkTeacher` adds what the Unitree H1 walker expects around it: its 41-value
observation built from our env's state (pelvis angular velocity, projected gravity, scaled
command, leg joints relative to its default pose, their velocities, its previous output, a 0.8 s
gait clock) and its output (10 leg values) mapped to our 19 normalised servo actions. The
teacher is read by the commands that make experts, never by the product at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from metaworld_hwm.skills.locomotion import (
    LEG_DEFAULT_POSE,
    gait_clock,
    projected_gravity,
)


class TeacherError(ValueError):
    """A teacher file is missing, unreadable, or not the kind of policy expected."""


class LSTMTeacher:
    """A TorchScript LSTM actor (one LSTM layer, then Linear/ELU layers), evaluated batched.

    Args:
        path: the TorchScript file. Its parameters must be named as rsl_rl's recurrent actor
            exports them: ``memory.{weight,bias}_{ih,hh}_l0`` and ``actor.<i>.{weight,bias}``.
    """

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise TeacherError(f"teacher file {path} does not exist; pass --teacher PATH")
        try:
            module = torch.jit.load(str(path), map_location="cpu")
        except RuntimeError as exc:
            raise TeacherError(f"{path} is not a TorchScript module ({exc})") from exc
        params = {k: v.detach().clone() for k, v in module.named_parameters()}
        lstm_keys = [f"memory.{w}_{g}_l0" for w in ("weight", "bias") for g in ("ih", "hh")]
        if any(k not in params for k in lstm_keys):
            raise TeacherError(
                f"{path} has no one-layer LSTM named 'memory' (parameters: {sorted(params)}); "
                "only rsl_rl-style recurrent actors are supported"
            )
        self.path = path
        self.hidden_size = params["memory.weight_hh_l0"].shape[1]
        self.obs_dim = params["memory.weight_ih_l0"].shape[1]
        self.lstm = torch.nn.LSTM(self.obs_dim, self.hidden_size)
        self.lstm.load_state_dict({k.removeprefix("memory."): params[k] for k in lstm_keys})
        layers = sorted(
            {int(k.split(".")[1]) for k in params if k.startswith("actor.")}
        )
        self.actor = [(params[f"actor.{i}.weight"], params[f"actor.{i}.bias"]) for i in layers]
        self.action_dim = self.actor[-1][0].shape[0]
        self.h = torch.zeros(1, 0, self.hidden_size)
        self.c = torch.zeros(1, 0, self.hidden_size)

    def reset(self, batch_size: int, rows: np.ndarray | None = None) -> None:
        """Zero the recurrent state: of every row (new batch of ``batch_size``) or of ``rows``."""
        if rows is None or self.h.shape[1] != batch_size:
            self.h = torch.zeros(1, batch_size, self.hidden_size)
            self.c = torch.zeros(1, batch_size, self.hidden_size)
        else:
            self.h[:, rows] = 0.0
            self.c[:, rows] = 0.0

    @torch.no_grad()
    def __call__(self, obs: np.ndarray) -> np.ndarray:
        """Raw outputs (B, action_dim) for observations (B, obs_dim); advances the state."""
        if obs.ndim != 2 or obs.shape[1] != self.obs_dim:
            raise ValueError(f"teacher takes observations (B, {self.obs_dim}), got {obs.shape}")
        if obs.shape[0] != self.h.shape[1]:
            raise ValueError(
                f"teacher state holds {self.h.shape[1]} rows, got {obs.shape[0]}; call reset(B)"
            )
        x = torch.as_tensor(obs, dtype=torch.float32)[None]
        out, (self.h, self.c) = self.lstm(x, (self.h, self.c))
        y = out[0]
        for i, (weight, bias) in enumerate(self.actor):
            y = y @ weight.T + bias
            if i < len(self.actor) - 1:
                y = torch.nn.functional.elu(y)
        return y.numpy().astype(np.float64)


@dataclass(frozen=True)
class H1WalkObservation:
    """Scales of the Unitree H1 walker's observation (``unitree_rl_gym`` H1 config)."""

    angular_velocity: float = 0.25
    command: tuple[float, float, float] = (2.0, 2.0, 0.25)
    joint_velocity: float = 0.05


class H1WalkTeacher:
    """Unitree's H1 walking policy on our env state, batched (see the module docstring).

    ``act(qpos, qvel, commands, t)`` takes robot qpos (B, 26), qvel (B, 25), commands
    (B, 3: vx, vy, yaw rate), seconds since each episode's start (B,) and returns raw leg
    outputs (B, 10); :func:`metaworld_hwm.skills.locomotion.leg_action` maps them to servo
    actions. ``previous`` holds the last executed output per row (what the teacher sees as its
    previous action), set by whoever executes.
    """

    def __init__(self, path: str | Path, scales: H1WalkObservation | None = None) -> None:
        self.policy = LSTMTeacher(path)
        if (self.policy.obs_dim, self.policy.action_dim) != (41, 10):
            raise TeacherError(
                f"{path}: expected the H1 walker's 41 inputs and 10 outputs, got "
                f"{self.policy.obs_dim} and {self.policy.action_dim}"
            )
        self.scales = scales or H1WalkObservation()
        self.previous = np.zeros((0, 10))

    def reset(self, batch_size: int, rows: np.ndarray | None = None) -> None:
        """Start episodes: every row (a new batch) or just ``rows``."""
        self.policy.reset(batch_size, rows)
        if rows is None or len(self.previous) != batch_size:
            self.previous = np.zeros((batch_size, 10))
        else:
            self.previous[rows] = 0.0

    def observation(
        self, qpos: np.ndarray, qvel: np.ndarray, commands: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        """The teacher's 41 inputs (B, 41): angular velocity, gravity, command, leg angles, leg
        velocities, previous output, gait clock (unitree_rl_gym's H1 order and scales)."""
        s = self.scales
        default = np.tile(LEG_DEFAULT_POSE, 2)
        return np.concatenate(
            [
                qvel[:, 3:6] * s.angular_velocity,
                projected_gravity(qpos[:, 3:7]),
                commands * np.asarray(s.command),
                qpos[:, 7:17] - default,
                qvel[:, 6:16] * s.joint_velocity,
                self.previous,
                gait_clock(t),
            ],
            axis=1,
        )

    def act(
        self, qpos: np.ndarray, qvel: np.ndarray, commands: np.ndarray, t: np.ndarray
    ) -> np.ndarray:
        """Raw leg outputs (B, 10); the caller sets ``previous`` to what it executes."""
        return self.policy(self.observation(qpos, qvel, commands, t))
