"""TD-MPC2 (tiny preset) learns a cheap continuous-control task within a CI-sized budget.

InvertedPendulum-v5 pays 1 per step while the pole is up; random actions drop it in about 5
steps. After 5000 env steps (1250 of them random) the planner holds it 10x longer, and the
training episodes show the same. At 3000 steps the tiny model's best evaluation still swung
from 47 to 1000 across seeds (8 seeds tried), so the budget is 5000.
"""

import csv
from pathlib import Path

import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.evaluation.curves import read_columns
from metaworld_hwm.training import OnlineTrainer

RANDOM_POLICY_RETURN = 5.0


def test_tdmpc2_learns_inverted_pendulum(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    cfg = RunConfig(
        task="gym:InvertedPendulum-v5", preset="tiny", steps=5000, seed=1,
        eval_every=1000, eval_episodes=2, checkpoint_every=3000, run_dir=str(tmp_path),
        tensorboard=False,
    )  # fmt: skip
    OnlineTrainer.from_config(cfg).train()
    steps, evals = read_columns(tmp_path / "eval.csv", "step", "episode_reward")
    assert steps == [1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
    assert max(evals) >= 10 * RANDOM_POLICY_RETURN, evals
    episodes = [float(r["episode_reward"]) for r in csv.DictReader((tmp_path / "train.csv").open())]
    first, last = sum(episodes[:10]) / 10, sum(episodes[-10:]) / 10
    assert first < 2 * RANDOM_POLICY_RETURN  # the seed phase acts at random
    assert last >= 5 * RANDOM_POLICY_RETURN, (first, last)
