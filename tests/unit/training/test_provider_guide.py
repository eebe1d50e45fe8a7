"""Any callable from observations to actions guides the trainer (the tier-agnostic path)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.physical.guide_interface import ProviderGuide
from metaworld_hwm.training import OnlineTrainer


def test_a_plain_provider_guides_planning_and_the_policy_loss(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    calls: list[int] = []

    def hold_zero(obs: np.ndarray) -> np.ndarray:
        calls.append(len(obs))
        return np.zeros((len(obs), 1), dtype=np.float32)

    cfg = RunConfig(
        task="gym:InvertedPendulum-v5", preset="tiny", steps=40, seed=0, seed_steps=20,
        eval_every=1000, eval_episodes=0, guidance_lambda=0.5, run_dir=str(tmp_path),
        tensorboard=False, world_model={"batch_size": 8, "num_samples": 16, "num_elites": 4},
    )  # fmt: skip
    trainer = OnlineTrainer.from_config(cfg, guide=ProviderGuide(hold_zero))
    trainer.train()
    assert 1 in calls  # acting: one observation at a time
    assert 3 * 8 in calls  # updates: H x B replayed observations
    header = (tmp_path / "train.csv").read_text().splitlines()[0]
    assert "pi_guidance" in header


def test_a_provider_with_the_wrong_shape_is_a_clear_error() -> None:
    guide = ProviderGuide(lambda obs: np.zeros(3))
    with pytest.raises(ValueError, match="expected \\(N, action_dim\\)"):
        guide.reference(np.zeros((2, 4)), None)
    guide = ProviderGuide(lambda obs: np.full((2, 1), np.nan))
    with pytest.raises(ValueError, match="NaN or inf"):
        guide.reference(np.zeros((2, 4)), None)
