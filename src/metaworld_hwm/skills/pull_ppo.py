"""PPO objective for walking with a load at the hand: the legs of a door pull.

The door's spring needs ~50 N at the hatch to hold it 0.9 rad open (stiffness 50 N m/rad,
0.87 m from the hinge); the walk expert drifts toward a steady 20 N pull at its left hand and
falls at 40 N (``bench/door.py --loads``). This objective fine-tunes the walker's network to
track a slow velocity command (backward, sideways, or standing) while a force pulls its left
hand forward, with the left arm held in the pose it has when holding the hatch.

Each episode draws a command ``(vx, vy)`` and a load: a force toward +x (spread by a random
yaw) at the left hand site, starting at a random time and rising over ``ramp_seconds``; its
size is the curriculum's top force or, for the other episodes, one drawn below it. Reward:

    r = small_control * stand_reward * (1 + 5 * track) / 6,
    track = exp(-|v_xy - command|^2 / (2 * tracking_sigma^2))

(h1-walk's shape with a two-sided velocity term). With ``max_heading`` > 0 each episode also
draws a heading in ``[-max_heading, max_heading]`` (a door's pull turns the robot with the
door's arc while the load's reaction at the left hand yaws it away), and ``track`` is
multiplied by ``exp(-wrap(yaw - heading)^2 / (2 * heading_sigma^2))``; with 0 the heading is
0 and untracked, as the first pull expert was trained. The top force rises by ``force_step``
after ``level_iterations`` iterations and one ended episode per env, with few falls per ended
episode and mean ``track`` above ``hold_track``
(:class:`~metaworld_hwm.skills.curriculum.CurriculumWindow`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from torch import nn

from metaworld_hwm.envs.humanoid_env import CONTROL_DT, HumanoidEnv
from metaworld_hwm.envs.loads import SiteLoad
from metaworld_hwm.envs.vector import VectorStep
from metaworld_hwm.skills.curriculum import CurriculumWindow
from metaworld_hwm.skills.expert import ExpertSpec, MLPPolicy
from metaworld_hwm.skills.locomotion import (
    NUM_LEG_JOINTS,
    WalkCommand,
    leg_action,
    wrap_angle,
    yaw_of,
)
from metaworld_hwm.skills.locomotion_ppo import locomotion_signals
from metaworld_hwm.skills.ppo import EvaluateFn, Objective
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert, walk_features

#: Left-arm joint targets (shoulder pitch, roll, yaw, elbow; rad) while holding the door's
#: hatch turned open from a stance 0.1 m in front of the door (the door skill's IK).
HOLD_ARM_POSE = (-0.72, 0.6, -0.6, 0.9)
_LEFT_ARM = slice(11, 15)


def loaded_env(task: str = "walk") -> SiteLoad:
    """An h1 env with a :class:`~metaworld_hwm.envs.loads.SiteLoad` at the left hand."""
    return SiteLoad(HumanoidEnv("h1", task), site="left_hand")


@dataclass(frozen=True)
class LoadCurriculum:
    """Commands, hand loads and how the top load rises."""

    start_force: float = 20.0
    max_force: float = 70.0
    force_step: float = 5.0
    top_share: float = 0.5
    """Share of episodes given the top force (the others: uniform below it)."""
    level_iterations: int = 10
    hold_track: float = 0.6
    max_fall_share: float = 0.1
    vx_range: tuple[float, float] = (-0.4, 0.1)
    vy_range: tuple[float, float] = (-0.2, 0.2)
    onset_seconds: tuple[float, float] = (0.5, 4.0)
    ramp_seconds: float = 1.0
    yaw_spread: float = 0.4
    """Largest angle (rad) between the force and +x."""
    tracking_sigma: float = 0.25
    max_heading: float = 0.0
    """Largest commanded heading (rad, either way); 0: heading 0 and not rewarded."""
    heading_sigma: float = 0.3

    def __post_init__(self) -> None:
        if not 0 <= self.start_force <= self.max_force:
            raise ValueError(
                f"forces must satisfy 0 <= start_force <= max_force, got {self.start_force}, "
                f"{self.max_force}"
            )
        if not self.vx_range[0] < self.vx_range[1]:
            raise ValueError(f"vx_range must be (low, high) with low < high, got {self.vx_range}")


class LoadedWalkObjective(Objective):
    """Track slow velocity commands with a load at the left hand (module docstring)."""

    feature_dim = NUM_FEATURES
    output_dim = NUM_LEG_JOINTS
    signal_fn = staticmethod(locomotion_signals)

    def __init__(self, curriculum: LoadCurriculum, task: str = "walk",
                 ctrlrange: np.ndarray | None = None) -> None:  # fmt: skip
        self.curriculum = curriculum
        self.task = task
        if ctrlrange is None:
            ctrlrange = HumanoidEnv("h1", task).model.actuator_ctrlrange
        self.ctrlrange = np.array(ctrlrange, copy=True)
        self.top_force = curriculum.start_force
        self.window = CurriculumWindow(curriculum.level_iterations, min_episodes=1)

    def env_factory(self) -> Callable[[], SiteLoad]:
        return functools.partial(loaded_env, self.task)

    def _draw(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
        c = self.curriculum
        self.command[i] = (rng.uniform(*c.vx_range), rng.uniform(*c.vy_range))
        if c.max_heading > 0:  # (no draw otherwise: runs without headings replay as before)
            self.heading[i] = rng.uniform(-c.max_heading, c.max_heading)
        size = self.top_force if rng.random() < c.top_share else rng.uniform(0, self.top_force)
        yaw = rng.uniform(-c.yaw_spread, c.yaw_spread)
        onset = int(rng.uniform(*c.onset_seconds) / CONTROL_DT)
        return (size * np.array([np.cos(yaw), np.sin(yaw), 0.0]), onset,
                max(1, int(c.ramp_seconds / CONTROL_DT)))  # fmt: skip

    def start(self, num_envs: int, obs: np.ndarray, rng: np.random.Generator) -> None:
        self.command = np.zeros((num_envs, 2))
        self.heading = np.zeros(num_envs)
        self.clock = np.zeros(num_envs)
        self.pending = [self._draw(i, rng) for i in range(num_envs)]
        self.window.min_episodes = num_envs

    def env_calls(self) -> tuple[str, list[Any]] | None:
        """New episodes' loads for :meth:`SiteLoad.set_load` (None when no episode began)."""
        pending, self.pending = self.pending, None
        return None if pending is None else ("set_load", pending)

    def commands(self, obs: np.ndarray) -> np.ndarray:
        # heading h at yaw y: the rate toward heading 0 at yaw y - h
        rates = WalkCommand(heading=0.0).velocities(yaw_of(obs[:, 3:7]) - self.heading)
        rates[:, :2] = self.command
        return rates

    def features(self, obs: np.ndarray) -> np.ndarray:
        return walk_features(obs[:, :26], obs[:, 26:51], self.commands(obs), self.clock)

    def env_actions(self, outputs: np.ndarray) -> np.ndarray:
        actions = leg_action(outputs, self.ctrlrange)
        low, high = self.ctrlrange[_LEFT_ARM].T
        actions[:, _LEFT_ARM] = 2.0 * (np.asarray(HOLD_ARM_POSE) - low) / (high - low) - 1.0
        return actions

    def reward(self, step: VectorStep) -> np.ndarray:
        vx, vy, small_control, stand, yaw = step.signals.T
        error = (vx - self.command[:, 0]) ** 2 + (vy - self.command[:, 1]) ** 2
        track = np.exp(-error / (2 * self.curriculum.tracking_sigma**2))
        if self.curriculum.max_heading > 0:  # the yaw after the step, before any reset
            turn = wrap_angle(yaw - self.heading)
            track = track * np.exp(-(turn**2) / (2 * self.curriculum.heading_sigma**2))
        self.window.add_steps(float(track.sum()), len(track))
        return small_control * stand * (1.0 + 5.0 * track) / 6.0

    def after_step(self, step: VectorStep, rng: np.random.Generator) -> None:
        self.clock += CONTROL_DT
        done = np.flatnonzero(step.done)
        if len(done):
            rows: list[Any] = [None] * len(self.clock)
            for i in done:
                self.clock[i] = 0.0
                rows[i] = self._draw(i, rng)
            self.pending = rows
        return None

    def end_iteration(self, stats: dict[str, float]) -> dict[str, float]:
        c, window = self.curriculum, self.window
        window.end_iteration(stats)
        track = window.score
        if window.closed:
            if c.force_step > 0 and window.held(c.hold_track, c.max_fall_share):
                self.top_force = min(c.max_force, self.top_force + c.force_step)
            window.restart()
        return {"top_force": self.top_force, "track": track}

    def state_dict(self) -> dict[str, Any]:
        return {"command": self.command, "clock": self.clock,
                "top_force": self.top_force,
                "window": self.window.state_dict()}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.command = state["command"].copy()
        self.clock, self.top_force = state["clock"].copy(), state["top_force"]
        self.window.min_episodes = len(self.clock)
        self.window.load_state_dict(state["window"] if "window" in state else state["tallies"])


def trained_pull_expert(
    name: str, policy: MLPPolicy, ctrlrange: np.ndarray, curriculum: LoadCurriculum,
    provenance: dict[str, Any], hidden: tuple[int, ...],
) -> WalkExpert:  # fmt: skip
    """A :class:`WalkExpert` for a network trained with :class:`LoadedWalkObjective`: the
    curriculum's command ranges, standing still by default."""
    spec = ExpertSpec(
        name=name, skill="walk", kind="learned", controller=WalkExpert.controller_name,
        robot="h1", task="h1-walk", obs_layout="qpos_qvel", obs_dim=51, action_dim=19,
        description="Walk slowly or stand while a load pulls the left hand, as when pulling "
                    "a door open.",
        config={
            "hidden": list(hidden),
            "design": "walk expert fine-tuned by PPO (rsl_rl) to track slow commands with a "
                      "force at the left hand (force curriculum)",
            "command_ranges": {"vx": list(curriculum.vx_range), "vy": list(curriculum.vy_range),
                               "yaw_rate": [-0.8, 0.8]},
            "default_command": asdict(WalkCommand(vx=0.0, heading=0.0)),
            "provenance": provenance | {"date": time.strftime("%Y-%m-%d")},
        },
    )  # fmt: skip
    return WalkExpert(spec, policy, ctrlrange)


def loaded_episode(
    policy: nn.Module,
    ctrlrange: np.ndarray,
    force: float,
    command: tuple[float, float],
    seed: int,
    steps: int = 1000,
) -> tuple[float, float, bool]:
    """(objective return, mean |velocity error| m/s, fell) of the leg ``policy`` (features
    -> leg outputs) commanded ``command`` with ``force`` N pulling its left hand along +x
    from 1 s on."""  # fmt: skip
    import torch

    curriculum = LoadCurriculum(start_force=force, max_force=force)
    objective = LoadedWalkObjective(curriculum, ctrlrange=ctrlrange)
    env = loaded_env()
    obs, _ = env.reset(seed=seed)
    objective.command, objective.clock = np.array([command], dtype=np.float64), np.zeros(1)
    objective.heading = np.zeros(1)
    env.set_load((np.array([force, 0.0, 0.0]), int(1.0 / CONTROL_DT), int(1.0 / CONTROL_DT)))
    ret, errors, terminated = 0.0, [], False
    for _ in range(steps):
        with torch.no_grad():
            out = policy(torch.as_tensor(objective.features(obs[None]), dtype=torch.float32))
        obs, _, terminated, truncated, info = env.step(objective.env_actions(out.numpy())[0])
        vel = env.unwrapped.physics.center_of_mass_velocity()
        signals = locomotion_signals(env, info)[None]
        step = VectorStep(obs[None], np.zeros(1), np.zeros(1, bool), np.zeros(1, bool), signals)
        ret += float(objective.reward(step)[0])
        errors.append(float(np.hypot(vel[0] - command[0], vel[1] - command[1])))
        objective.clock += CONTROL_DT
        if terminated or truncated:
            break
    return ret, float(np.mean(errors)), bool(terminated)


def evaluation(
    ctrlrange: np.ndarray,
    force: float = 60.0,
    command: tuple[float, float] = (-0.2, 0.0),
    seed: int = 10_000,
) -> EvaluateFn:
    """An ``evaluate`` callback for :class:`~metaworld_hwm.skills.ppo.PPOTrainer`: episode k
    (seed ``seed + k``) at a fixed load and command, comparable across the curriculum."""

    def evaluate(policy: nn.Module, episode: int) -> dict[str, float]:
        ret, error, fell = loaded_episode(policy, ctrlrange, force, command, seed + episode)
        return {"eval_return": ret, "eval_error": error, "eval_fell": int(fell)}

    return evaluate
