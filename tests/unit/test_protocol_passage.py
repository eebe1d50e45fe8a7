"""The protocol records, apart from its success, whether a door trial walked through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mujoco
import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.evaluation.policy import PolicyInfo, ProtocolPolicy
from metaworld_hwm.evaluation.protocol import run_trial
from metaworld_hwm.evaluation.report import RunRecord, table_success


class StandingPolicy(ProtocolPolicy):
    """Holds the servos at mid-range; ``start_x`` (m) sets the robot down there instead."""

    def __init__(self, task: str, start_x: float | None = None) -> None:
        self.env = HumanoidEnv("h1grip", task.removeprefix("h1grip-"), max_episode_steps=30)
        self.run_info = PolicyInfo(task=task, method="standing", step=0)
        self.start_x = start_x

    def start_episode(self, obs: Any, seed: int) -> None:
        if self.start_x is not None:
            data = self.env.data
            data.qpos[0] = self.start_x
            mujoco.mj_forward(self.env.model, data)

    def act(self, obs: Any, t0: bool) -> np.ndarray:
        return np.zeros(self.env.action_space.shape)


def test_a_door_trial_says_whether_the_robot_walked_through() -> None:
    stayed = run_trial(StandingPolicy("h1grip-door"), seed=0)
    through = run_trial(StandingPolicy("h1grip-door", start_x=1.6), seed=0)
    assert stayed.passed is False and through.passed is True
    assert run_trial(StandingPolicy("h1grip-walk"), seed=0).passed is None
    trials = [{"episode_return": 1.0, "passed": p} for p in (False, True)]
    run = RunRecord(Path("r"), "h1grip-door", "m", 1,
                    protocol={"successes": 0, "trials": 2, "per_trial": trials})  # fmt: skip
    assert table_success([run]).splitlines()[-1].endswith("| 1/2 |")
