"""Shared set-up of the physical-layer tests: one CPU thread, small helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from metaworld_hwm.physical.agent import TDMPC2Agent
from metaworld_hwm.physical.config import WorldModelConfig, make_config

torch.set_num_threads(1)

OBS_DIM = 10
ACTION_DIM = 3


def tiny_config(**overrides: object) -> WorldModelConfig:
    """The tiny preset for a small made-up task (obs 10, action 3, 100-step episodes)."""
    return make_config("tiny", OBS_DIM, ACTION_DIM, 100, **overrides)


def random_batch(
    cfg: WorldModelConfig, seed: int = 0, a_ref: bool = False
) -> dict[str, torch.Tensor]:
    """A fixed batch of sub-trajectories with the shapes `TDMPC2Agent.update` expects."""
    g = torch.Generator().manual_seed(seed)
    H, B = cfg.horizon, cfg.batch_size
    batch = {
        "obs": torch.randn(H + 1, B, cfg.obs_dim, generator=g),
        "action": torch.rand(H, B, cfg.action_dim, generator=g) * 2 - 1,
        "reward": torch.rand(H, B, 1, generator=g) * 2,
        "terminated": (torch.rand(H, B, 1, generator=g) < 0.1).float(),
    }
    if a_ref:
        batch["a_ref"] = torch.full((H, B, cfg.action_dim), 0.5)
    return batch


@pytest.fixture
def make_cfg() -> Callable[..., WorldModelConfig]:
    """`tiny_config` as a fixture."""
    return tiny_config


@pytest.fixture
def make_batch() -> Callable[..., dict[str, torch.Tensor]]:
    """`random_batch` as a fixture."""
    return random_batch


def perturbed_agent(
    preset: str = "tiny", episodic: bool = True, **overrides: object
) -> TDMPC2Agent:
    """An agent (obs 10, action 3) whose reward and Q heads are not zero (they start at zero):
    every parameter gets fixed noise of std 0.05."""
    cfg = make_config(preset, OBS_DIM, ACTION_DIM, 100, episodic=episodic, **overrides)
    agent = TDMPC2Agent(cfg, seed=0, device="cpu")
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in agent.model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.05)
    agent.acting.refresh()  # weights edited by hand: re-quantise int8 planning weights
    return agent


@pytest.fixture
def make_agent() -> Callable[..., TDMPC2Agent]:
    """`perturbed_agent` as a fixture."""
    return perturbed_agent
