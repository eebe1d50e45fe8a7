"""Shared helpers of the skill-layer unit tests: one CPU thread, small made-up experts."""

from __future__ import annotations

import numpy as np
import torch

from metaworld_hwm.skills.expert import Expert, ExpertSpec, LearnedExpert

torch.set_num_threads(1)


class ConstantExpert(Expert):
    """Acts with a fixed action whatever the observation (for fusion maths)."""

    def __init__(self, name: str, action: np.ndarray, obs_dim: int = 4) -> None:
        spec = ExpertSpec(
            name=name, skill="walk", kind="analytic", robot="h1", obs_layout="qpos_qvel",
            obs_dim=obs_dim, action_dim=len(action),
        )  # fmt: skip
        super().__init__(spec)
        self.action = np.asarray(action, dtype=np.float32)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return np.repeat(self.action[None], len(obs), axis=0)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"action": self.action}


def learned_expert(name: str = "walk-bc", obs_dim: int = 51, action_dim: int = 19) -> LearnedExpert:
    """A small randomly initialised learned expert."""
    torch.manual_seed(0)
    spec = ExpertSpec(
        name=name, skill="walk", kind="learned", robot="h1", task="h1-walk",
        obs_layout="qpos_qvel", obs_dim=obs_dim, action_dim=action_dim,
        config={"hidden": [32, 32]},
    )  # fmt: skip
    return LearnedExpert(spec)
