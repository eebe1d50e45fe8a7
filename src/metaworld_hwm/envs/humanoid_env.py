"""The Gymnasium environment: one H1 robot, one HumanoidBench task, MuJoCo physics.

One env step is one control step of 0.02 s (50 Hz): the action is mapped linearly from
[-1, 1] to each servo's ctrlrange (``-1, 0, 1 -> low, middle, high``), held for 10 physics
substeps of 2 ms, and the task reads the state the last substep left. Episodes last 1000
steps (``truncated``); a fall ends them (``terminated``). The two stay separate.
"""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import mujoco
import numpy as np

from metaworld_hwm.envs.physics import H1Physics
from metaworld_hwm.envs.rendering import OffscreenRenderer
from metaworld_hwm.envs.robot import CONTROL_DT, FRAME_SKIP, ROBOTS
from metaworld_hwm.envs.scene import build_model
from metaworld_hwm.envs.tasks import TASKS

__all__ = ["CONTROL_DT", "EPISODE_STEPS", "FRAME_SKIP", "RESET_NOISE", "HumanoidEnv"]
EPISODE_STEPS = 1000
#: Half-width of the uniform noise added to every qpos entry at reset (HumanoidBench).
RESET_NOISE = 0.01


class HumanoidEnv(gym.Env[np.ndarray, np.ndarray]):
    """HumanoidBench-style task on the position-controlled Unitree H1.

    Args:
        robot: ``"h1"`` or ``"h1grip"`` (H1 with two-finger grippers).
        task: one of ``stand``, ``walk``, ``run``, ``reach``, ``door``.
        render_mode: ``None`` or ``"rgb_array"`` (offscreen; EGL, OSMesa fallback).
        width, height: rendered frame size in pixels.
        max_episode_steps: steps after which ``truncated`` is returned.
        reset_noise: half-width of the uniform noise added to every qpos entry at reset
            (HumanoidBench: 0.01; 0 starts exactly at the keyframe).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["rgb_array"], "render_fps": 50}

    def __init__(
        self,
        robot: str = "h1",
        task: str = "stand",
        render_mode: str | None = None,
        width: int = 320,
        height: int = 240,
        max_episode_steps: int = EPISODE_STEPS,
        reset_noise: float = RESET_NOISE,
    ) -> None:
        if robot not in ROBOTS:
            raise ValueError(f"unknown robot {robot!r}; accepted robots: {', '.join(ROBOTS)}")
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; accepted tasks: {', '.join(TASKS)}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(f"unknown render_mode {render_mode!r}; accepted: None, 'rgb_array'")
        if not 0.0 <= reset_noise <= 0.5:
            raise ValueError(f"reset_noise must lie in [0, 0.5], got {reset_noise}")
        if max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
        self.robot = robot
        self.task = TASKS[task]()
        self.model = build_model(robot, task)
        self.data = mujoco.MjData(self.model)
        self.physics = H1Physics(self.model, self.data)
        self.task.bind(self.physics)
        self.frame_skip = FRAME_SKIP
        self.max_episode_steps = max_episode_steps
        self.reset_noise = reset_noise
        self.render_mode = render_mode
        self._render_size = (height, width)
        self._renderer: OffscreenRenderer | None = None

        low, high = self.model.actuator_ctrlrange.T.copy()
        self._ctrl_low = low
        self._ctrl_half_range = (high - low) / 2.0
        self.action_space = gym.spaces.Box(-1.0, 1.0, shape=(self.model.nu,), dtype=np.float32)
        obs_size = self.task.observation_size(self.model)
        self.observation_space = gym.spaces.Box(
            -np.inf, np.inf, shape=(obs_size,), dtype=np.float64
        )
        self._steps = 0

    @property
    def dt(self) -> float:
        """Control period in seconds (0.02)."""
        return self.model.opt.timestep * self.frame_skip

    @property
    def task_name(self) -> str:
        """The task's name, e.g. ``"walk"``."""
        return self.task.name

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Keyframe ``qpos0`` plus U(-noise, noise) on every qpos entry, zero velocity."""
        super().reset(seed=seed)
        mujoco.mj_resetDataKeyframe(self.model, self.data, 0)
        self.data.qpos += self.np_random.uniform(
            -self.reset_noise, self.reset_noise, size=self.model.nq
        )
        self.data.qvel[:] = 0.0
        self.task.reset(self.physics, self.np_random)
        mujoco.mj_forward(self.model, self.data)
        self._steps = 0
        return self.task.observe(self.physics), {}

    def get_state(self) -> dict[str, Any]:
        """Everything a step depends on: MuJoCo's integration state, the step count and the
        reset generator's state (see :meth:`set_state`)."""
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        physics = np.empty(mujoco.mj_stateSize(self.model, spec))
        mujoco.mj_getState(self.model, self.data, physics, spec)
        return {"physics": physics, "steps": self._steps,
                "rng": self.np_random.bit_generator.state}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a :meth:`get_state` snapshot: later steps and resets are then exactly those
        the snapshotted env would have made. Derived quantities (site positions, sensors) are
        recomputed for the restored state, so keep the last observation from before the
        snapshot rather than observing again."""
        spec = mujoco.mjtState.mjSTATE_INTEGRATION
        mujoco.mj_setState(self.model, self.data, np.asarray(state["physics"]), spec)
        mujoco.mj_forward(self.model, self.data)
        self._steps = int(state["steps"])
        self.np_random.bit_generator.state = state["rng"]

    def action_to_ctrl(self, action: np.ndarray) -> np.ndarray:
        """Map a normalised action in [-1, 1] to servo targets in each ctrlrange."""
        return self._ctrl_low + (action + 1.0) * self._ctrl_half_range

    def hold_action(self) -> np.ndarray:
        """The normalised action whose servo targets are the keyframe joint angles.

        Holding it does not keep H1 up (it tips backward within ~75 steps): it is the
        "do nothing" baseline of the demo, not a controller.
        """
        key = self.model.key_qpos[0]
        targets = key[self.model.jnt_qposadr[self.model.actuator_trnid[:, 0]]]
        action = (targets - self._ctrl_low) / self._ctrl_half_range - 1.0
        return action.astype(np.float32)

    def step(
        self, action: np.ndarray
    ) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        """Apply ``action`` for one 0.02 s control step; returns the Gymnasium 5-tuple."""
        action = self._validated(action)
        self.data.ctrl[:] = self.action_to_ctrl(action)
        mujoco.mj_step(self.model, self.data, nstep=self.frame_skip)
        self._steps += 1
        obs = self.task.observe(self.physics)
        reward, info = self.task.reward(self.physics)
        terminated = self.task.terminated(self.physics)
        truncated = self._steps >= self.max_episode_steps
        return obs, reward, terminated, truncated, info

    def _validated(self, action: np.ndarray) -> np.ndarray:
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.action_space.shape:
            raise ValueError(
                f"action has shape {action.shape}, expected {self.action_space.shape} "
                f"(one value in [-1, 1] per actuator of {self.robot})"
            )
        if not np.isfinite(action).all():
            bad = np.flatnonzero(~np.isfinite(action)).tolist()
            raise ValueError(
                f"action contains NaN or inf at indices {bad}; every entry must be a finite "
                "value in [-1, 1]"
            )
        return action

    def render(self) -> np.ndarray | None:
        """An RGB frame (height, width, 3) from the tracking camera, or None without a mode."""
        if self.render_mode is None:
            return None
        if self._renderer is None:
            self._renderer = OffscreenRenderer(self.model, *self._render_size)
        return self._renderer.render(self.data)

    def close(self) -> None:
        """Release the renderer's GL context."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
