"""One short DreamerV3 (tiny) run through sheeprl on InvertedPendulum: the run dir it writes.

About 30 s on one CPU core: sheeprl's start-up (~10 s), 300 env steps with 24 gradient steps,
then two checkpoints evaluated.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from metaworld_hwm.baselines import evaluate_dreamerv3, train_dreamerv3
from metaworld_hwm.evaluation.curves import read_columns
from tests.unit.baselines.conftest import needs_sheeprl

pytestmark = needs_sheeprl


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("dreamerv3") / "run"
    returned = train_dreamerv3(
        "gym:InvertedPendulum-v5", steps=300, seed=1, run_dir=run, preset="tiny", device="cpu",
        eval_every=150, eval_episodes=2, learning_starts=60, threads=1,
    )  # fmt: skip
    assert returned == run
    return run


def test_train_csv_has_every_training_episode(run_dir: Path) -> None:
    with (run_dir / "train.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["step", "episode_reward", "episode_length"]
        rows = list(reader)
    steps = [int(r["step"]) for r in rows]
    assert len(rows) >= 10  # random actions drop the pole within ~5 steps
    assert steps == sorted(steps) and 0 < steps[-1] <= 300
    # InvertedPendulum-v5 pays 1 per step that does not drop the pole (0 for the one that does).
    for row in rows:
        assert float(row["episode_reward"]) == pytest.approx(int(row["episode_length"]) - 1)
    # The first episode ends at its own length; each later one, its length after the previous.
    lengths = [int(r["episode_length"]) for r in rows]
    assert steps[0] == lengths[0] and np.all(np.diff(steps) == lengths[1:])


def test_eval_csv_has_one_row_per_checkpoint(run_dir: Path) -> None:
    with (run_dir / "eval.csv").open(newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [
            "step", "episode_reward", "episode_reward_std", "episode_length",
        ]  # fmt: skip
    steps, returns = read_columns(run_dir / "eval.csv", "step", "episode_reward")
    assert steps == [150.0, 300.0]
    assert all(r > 0 for r in returns)


def test_final_json_and_checkpoint(run_dir: Path) -> None:
    final = json.loads((run_dir / "final.json").read_text())
    assert final["step"] == 300
    assert len(final["eval_returns"]) == 2
    assert final["eval_mean_return"] == pytest.approx(np.mean(final["eval_returns"]))
    checkpoint = Path(final["checkpoint"])
    assert checkpoint.is_file() and checkpoint.name == "ckpt_300_0.ckpt"
    assert checkpoint.is_relative_to(run_dir.resolve() / "sheeprl")


def test_config_json_has_our_arguments_and_sheeprls_config(run_dir: Path) -> None:
    config = json.loads((run_dir / "config.json").read_text())
    assert config["method"] == "dreamerv3"
    assert config["implementation"] == {"name": "sheeprl", "version": "0.8.4"}
    assert config["arguments"]["task"] == "gym:InvertedPendulum-v5"
    assert config["arguments"]["steps"] == 300
    sheeprl = config["sheeprl_config"]
    assert sheeprl["algo"]["mlp_keys"]["encoder"] == ["state"]
    assert sheeprl["algo"]["total_steps"] == 300
    assert sheeprl["env"]["capture_video"] is False
    assert len(config["checkpoints"]) == 2


def test_evaluation_is_reproducible_from_the_run_dir(run_dir: Path) -> None:
    final = json.loads((run_dir / "final.json").read_text())
    assert evaluate_dreamerv3(run_dir, episodes=2) == final["eval_returns"]
