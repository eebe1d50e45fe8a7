"""Stand, walk and run (HumanoidBench ``basic_locomotion_envs``)."""

from __future__ import annotations

from typing import ClassVar

from metaworld_hwm.envs.physics import H1Physics
from metaworld_hwm.envs.rewards import tolerance
from metaworld_hwm.envs.robot import CONTROL_DT
from metaworld_hwm.envs.tasks.base import Task, stand_terms

#: Locomotion succeeds in the evaluation protocol by not falling for this long (s).
SURVIVAL_SECONDS = 30.0
SURVIVAL_STEPS = round(SURVIVAL_SECONDS / CONTROL_DT)


class Stand(Task):
    """Stand still: ``small_control * stand_reward * dont_move``."""

    name = "stand"
    success_bar = 800.0
    trial_steps = SURVIVAL_STEPS

    def reward(self, physics: H1Physics) -> tuple[float, dict[str, float]]:
        terms = stand_terms(physics)
        vel = physics.center_of_mass_velocity()
        terms["dont_move"] = 0.5 * (
            tolerance(float(vel[0]), margin=2.0) + tolerance(float(vel[1]), margin=2.0)
        )
        reward = terms["small_control"] * terms["stand_reward"] * terms["dont_move"]
        return reward, terms


class Walk(Task):
    """Move along +x at ``speed`` m/s or faster: ``small_control*stand_reward*(5 move+1)/6``."""

    name = "walk"
    success_bar = 700.0
    trial_steps = SURVIVAL_STEPS
    speed: ClassVar[float] = 1.0

    def reward(self, physics: H1Physics) -> tuple[float, dict[str, float]]:
        terms = stand_terms(physics)
        vx = float(physics.center_of_mass_velocity()[0])
        terms["move"] = tolerance(
            vx, bounds=(self.speed, float("inf")), margin=self.speed, sigmoid="linear",
            value_at_margin=0.0,
        )  # fmt: skip
        reward = terms["small_control"] * terms["stand_reward"] * (5.0 * terms["move"] + 1.0) / 6.0
        return reward, terms


class Run(Walk):
    """Walk's reward with a 5 m/s target."""

    name = "run"
    speed = 5.0
