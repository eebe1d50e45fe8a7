"""Reference motion clips for H1 and the trajectory-tracking reward that imitates them.

Clip file format (``.npz``, as written by :func:`save_clip`):

* ``qpos``: float array (T, 26), H1's qpos per frame: pelvis position (m, world), pelvis
  quaternion (w, x, y, z), then the 19 joint angles (rad) in ``JOINT_NAMES`` order;
* ``fps``: scalar frame rate (Hz);
* ``name``: optional string.

Retargeted motion capture (the paper uses AMASS) goes into this format; :func:`sinusoidal_gait`
generates a walking clip procedurally for tests and smoke runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from metaworld_hwm.envs.robot import JOINT_NAMES
from metaworld_hwm.utils.atomic import atomic_write_bytes

NQ = 7 + len(JOINT_NAMES)


@dataclass(frozen=True)
class MotionClip:
    """H1 joint trajectory ``qpos`` (T, 26) sampled at ``fps``."""

    qpos: np.ndarray
    fps: float
    name: str = ""

    def __post_init__(self) -> None:
        q = np.asarray(self.qpos, dtype=np.float64)
        if q.ndim != 2 or q.shape[1] != NQ or len(q) < 2:
            raise ValueError(f"clip qpos must have shape (T >= 2, {NQ}), got {q.shape}")
        if not np.isfinite(q).all():
            raise ValueError("clip qpos contains NaN or inf")
        if not np.allclose(np.linalg.norm(q[:, 3:7], axis=1), 1.0, atol=1e-3):
            raise ValueError("clip qpos[:, 3:7] must be unit quaternions (w, x, y, z)")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"clip fps must be positive, got {self.fps}")
        object.__setattr__(self, "qpos", q)

    @property
    def duration(self) -> float:
        """Length in seconds (time of the last frame)."""
        return (len(self.qpos) - 1) / self.fps

    def at(self, t: float, loop: bool = True) -> np.ndarray:
        """qpos (26,) at time t (s), linearly interpolated (quaternion renormalised).

        With ``loop`` the clip repeats, its pelvis x/y advanced by one clip's displacement per
        cycle; otherwise t is clamped to the clip.
        """
        cycles, t_in = divmod(t, self.duration) if loop else (0.0, min(max(t, 0.0), self.duration))
        s = t_in * self.fps
        i = min(int(s), len(self.qpos) - 2)
        frac = s - i
        q = (1 - frac) * self.qpos[i] + frac * self.qpos[i + 1]
        q[3:7] /= np.linalg.norm(q[3:7])
        q[:2] += cycles * (self.qpos[-1, :2] - self.qpos[0, :2])
        return q


def save_clip(clip: MotionClip, path: str | Path) -> Path:
    """Write a clip in the documented npz format (atomically)."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, qpos=clip.qpos, fps=np.array(clip.fps), name=np.array(clip.name))
    return atomic_write_bytes(path, buffer.getvalue())


def load_clip(path: str | Path) -> MotionClip:
    """Read a clip; a missing key or a bad shape raises ValueError naming it."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"motion clip {path} does not exist")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in ("qpos", "fps") if k not in data]
        if missing:
            raise ValueError(f"motion clip {path} lacks {missing}; see the format in motion.py")
        name = str(data["name"]) if "name" in data else path.stem
        try:
            return MotionClip(data["qpos"], float(data["fps"]), name)
        except ValueError as exc:
            raise ValueError(f"motion clip {path}: {exc}") from exc


def sinusoidal_gait(
    duration: float = 2.0, fps: float = 50.0, speed: float = 1.0, step_hz: float = 1.0
) -> MotionClip:
    """A procedural walking cycle: hips swing in anti-phase, knees flex on the swing, arms
    counter-swing, the pelvis advances at ``speed`` m/s and bobs 1 cm per step."""
    t = np.arange(round(duration * fps) + 1) / fps
    phase = 2 * np.pi * step_hz * t
    q = np.zeros((len(t), NQ))
    q[:, 0] = speed * t
    q[:, 2] = 0.98 + 0.01 * np.cos(2 * phase)
    q[:, 3] = 1.0
    idx = {n: 7 + i for i, n in enumerate(JOINT_NAMES)}
    for side, sign in (("left", 1.0), ("right", -1.0)):
        swing = sign * np.sin(phase)
        q[:, idx[f"{side}_hip_pitch"]] = -0.4 - 0.35 * swing
        q[:, idx[f"{side}_knee"]] = 0.8 + 0.5 * np.clip(-sign * np.cos(phase), 0.0, None)
        q[:, idx[f"{side}_ankle"]] = -0.4 + 0.2 * swing
        q[:, idx[f"{side}_shoulder_pitch"]] = 0.3 * swing
    return MotionClip(q, fps, "sinusoidal_gait")


class TrackingReward(gym.Wrapper):
    """Add a trajectory-tracking reward for ``clip`` to an H1 env's reward.

    r = task_weight * r_task + tracking_weight * r_track, with
    r_track = exp(-joint_scale * mean (q_joint - q_ref)^2)
            * exp(-velocity_scale * |v_xy - v_ref_xy|^2) * exp(-height_scale * (z - z_ref)^2),
    each factor in (0, 1]; the reference velocity is the clip's pelvis velocity. Every term
    goes into ``info`` under ``tracking/``.
    """

    def __init__(
        self, env: gym.Env, clip: MotionClip, task_weight: float = 0.0,
        tracking_weight: float = 1.0, joint_scale: float = 5.0, velocity_scale: float = 2.0,
        height_scale: float = 100.0,
    ) -> None:  # fmt: skip
        super().__init__(env)
        self.clip = clip
        self.weights = (task_weight, tracking_weight)
        self.scales = (joint_scale, velocity_scale, height_scale)
        self._t = 0.0

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        self._t = 0.0
        return self.env.reset(**kwargs)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._t += self.env.unwrapped.dt
        terms = self.tracking_terms(obs[:NQ], obs[NQ : NQ + NQ - 1], self._t)
        info = {**info, **{f"tracking/{k}": v for k, v in terms.items()}, "task_reward": reward}
        task_w, track_w = self.weights
        return obs, task_w * reward + track_w * terms["reward"], terminated, truncated, info

    def tracking_terms(self, qpos: np.ndarray, qvel: np.ndarray, t: float) -> dict[str, float]:
        """The tracking factors and their product at time t for state (qpos, qvel)."""
        ref = self.clip.at(t)
        dt = 1.0 / self.clip.fps
        v_ref = (self.clip.at(t + dt)[:2] - ref[:2]) / dt
        joint_scale, velocity_scale, height_scale = self.scales
        terms = {
            "joint": float(np.exp(-joint_scale * np.mean((qpos[7:] - ref[7:]) ** 2))),
            "velocity": float(np.exp(-velocity_scale * np.sum((qvel[:2] - v_ref) ** 2))),
            "height": float(np.exp(-height_scale * (qpos[2] - ref[2]) ** 2)),
        }
        terms["reward"] = terms["joint"] * terms["velocity"] * terms["height"]
        return terms
