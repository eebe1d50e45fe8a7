"""Reach: bring the left hand to a random goal while staying upright (HumanoidBench ``Reach``).

Difference from HumanoidBench: the goal is drawn from the env's seeded generator (HumanoidBench
uses numpy's global generator, so ``reset(seed=...)`` did not make its goals reproducible).
"""

from __future__ import annotations

import mujoco
import numpy as np

from metaworld_hwm.envs.physics import H1Physics
from metaworld_hwm.envs.tasks.base import Task

GOAL_LOW = np.array([-2.0, -2.0, 0.2])
GOAL_HIGH = np.array([2.0, 2.0, 2.0])
#: Hand-to-goal distance (m) that counts as reached in the evaluation protocol (the task's
#: own success bonus radius).
REACH_SUCCESS_M = 0.05


class Reach(Task):
    """``5 pelvis_zz - 1e-4 |qvel|^2 + 5 [d < 1] + 10 [d < 0.05]``, d = |left hand - goal|."""

    name = "reach"
    success_bar = 12000.0
    termination_height = None

    def __init__(self) -> None:
        self.goal = np.zeros(3)
        self._marker = -1

    def add_to_scene(self, spec: mujoco.MjSpec) -> None:
        marker = spec.worldbody.add_body(name="reach_goal", mocap=True, pos=(0, 0, 1))
        marker.add_geom(
            type=mujoco.mjtGeom.mjGEOM_SPHERE, size=(0.05, 0, 0), contype=0, conaffinity=0,
            rgba=(0.8, 0.28, 0.28, 1), group=1,
        )  # fmt: skip

    def goal_reached(self, physics: H1Physics, info: dict[str, float]) -> bool:
        """The left hand is within :data:`REACH_SUCCESS_M` of the goal."""
        return info["hand_dist"] < REACH_SUCCESS_M

    def bind(self, physics: H1Physics) -> None:
        self._marker = int(physics.model.body_mocapid[physics.model.body("reach_goal").id])

    def reset(self, physics: H1Physics, rng: np.random.Generator) -> None:
        self.goal = rng.uniform(GOAL_LOW, GOAL_HIGH)
        physics.data.mocap_pos[self._marker] = self.goal

    def observation_size(self, model: mujoco.MjModel) -> int:
        return model.nq + model.nv + 6

    def observe(self, physics: H1Physics) -> np.ndarray:
        data = physics.data
        return np.concatenate((data.qpos, data.qvel, physics.left_hand_position(), self.goal))

    def reward(self, physics: H1Physics) -> tuple[float, dict[str, float]]:
        hand_dist = float(np.linalg.norm(physics.left_hand_position() - self.goal))
        qvel = physics.data.qvel
        terms = {
            "hand_dist": hand_dist,
            "healthy_reward": 5.0 * physics.pelvis_upright(),
            "motion_penalty": float(qvel @ qvel),
            "reward_close": 5.0 if hand_dist < 1.0 else 0.0,
            "reward_success": 10.0 if hand_dist < REACH_SUCCESS_M else 0.0,
        }
        reward = (
            terms["healthy_reward"] - 1e-4 * terms["motion_penalty"]
            + terms["reward_close"] + terms["reward_success"]
        )  # fmt: skip
        return reward, terms
