"""The task interface: scene additions, reset, observation, reward and termination.

A task never steps the simulation; :class:`metaworld_hwm.envs.humanoid_env.HumanoidEnv` does,
then asks the task for ``observe``, ``reward`` and ``terminated`` on the state the last substep
left. Reward terms are pure tolerance functions in [0, 1] and every term goes into ``info``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import mujoco
import numpy as np

from metaworld_hwm.envs.physics import H1Physics
from metaworld_hwm.envs.rewards import small_control, tolerance

#: Head height (m) above which the robot counts as standing (HumanoidBench ``_STAND_HEIGHT``).
STAND_HEIGHT = 1.65


class Task(ABC):
    """One HumanoidBench task: what to add to the scene and how to score the state."""

    name: ClassVar[str]
    #: HumanoidBench's success threshold on the episode return (reporting only).
    success_bar: ClassVar[float]
    #: Pelvis height (m) below which the episode terminates; ``None`` never terminates.
    termination_height: ClassVar[float | None] = 0.2
    #: Length of an evaluation trial (control steps) when success is surviving a duration
    #: (None: the episode's own length; see :meth:`goal_reached`).
    trial_steps: ClassVar[int | None] = None

    def add_to_scene(self, spec: mujoco.MjSpec) -> None:
        """Add the task's bodies to ``spec`` (default: nothing)."""

    def bind(self, physics: H1Physics) -> None:
        """Resolve the ids the task reads, once per compiled model (default: nothing)."""

    def reset(self, physics: H1Physics, rng: np.random.Generator) -> None:
        """Randomise task state after the robot's start state is set (default: nothing)."""

    def observation_size(self, model: mujoco.MjModel) -> int:
        """Length of :meth:`observe`'s vector for ``model``."""
        return model.nq + model.nv

    def observe(self, physics: H1Physics) -> np.ndarray:
        """Full ``qpos`` then full ``qvel`` (float64), as HumanoidBench."""
        return np.concatenate((physics.data.qpos, physics.data.qvel))

    @abstractmethod
    def reward(self, physics: H1Physics) -> tuple[float, dict[str, float]]:
        """The reward of the current state and every term that makes it up."""

    def goal_reached(self, physics: H1Physics, info: dict[str, float]) -> bool | None:
        """Whether the state after a step reaches the task's goal, for the evaluation
        protocol: a trial succeeds if the goal is reached at some step and the robot never
        falls. None (the default) for tasks whose success is surviving ``trial_steps``."""
        return None

    def passed_through(self, physics: H1Physics) -> bool | None:
        """Whether the robot is through the task's doorway, which the protocol records apart
        from success; None (the default) for tasks without one."""
        return None

    def terminated(self, physics: H1Physics) -> bool:
        """Whether the episode ends here (the robot fell)."""
        if self.termination_height is None:
            return False
        return physics.pelvis_height() < self.termination_height


def stand_terms(physics: H1Physics, upright_margin: float = 1.9) -> dict[str, float]:
    """HumanoidBench's shared standing terms: standing, upright, stand_reward, small_control."""
    standing = tolerance(
        physics.head_height(), bounds=(STAND_HEIGHT, float("inf")), margin=STAND_HEIGHT / 4
    )
    upright = tolerance(
        physics.torso_upright(),
        bounds=(0.9, float("inf")),
        margin=upright_margin,
        sigmoid="linear",
        value_at_margin=0.0,
    )
    return {
        "standing": standing,
        "upright": upright,
        "stand_reward": standing * upright,
        "small_control": small_control(physics.actuator_forces()),
    }
