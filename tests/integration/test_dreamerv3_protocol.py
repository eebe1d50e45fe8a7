"""`metaworld-hwm eval` and `report` on a DreamerV3 (sheeprl) run directory.

One tiny DreamerV3 run on h1-stand (100 env steps, ~20 s on one core), then the protocol on it:
the same `eval_protocol.json` as for our trainer's runs, trials of the protocol's length (not
cut by a time limit of sheeprl's), and a DreamerV3 row in the report's success table.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest
import yaml

from metaworld_hwm.baselines import train_dreamerv3
from metaworld_hwm.cli import main
from metaworld_hwm.evaluation.protocol import evaluate_run, load_policy, run_trial
from tests.unit.baselines.conftest import needs_sheeprl

TRIALS = 2
TRIAL_FIELDS = {"seed", "episode_return", "steps", "fell", "success", "weights", "forward_speed",
                "subgoals", "passed"}  # fmt: skip
SUMMARY_FIELDS = {"run_dir", "task", "method", "step", "trials", "successes", "passed",
                  "return_mean", "return_std", "experts", "per_trial"}  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one tiny DreamerV3 run on h1-stand, in ``dreamerv3/``."""
    root = tmp_path_factory.mktemp("runs")
    train_dreamerv3(
        "h1-stand", steps=100, seed=1, run_dir=root / "dreamerv3", preset="tiny", device="cpu",
        eval_every=100, eval_episodes=0, learning_starts=50, max_episode_steps=40, threads=1,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def protocol(runs: Path) -> dict[str, Any]:
    """``metaworld-hwm eval`` on the run: its ``eval_protocol.json``."""
    assert main(["eval", str(runs / "dreamerv3"), "--trials", str(TRIALS)]) == 0
    return json.loads((runs / "dreamerv3" / "eval_protocol.json").read_text())


@needs_sheeprl
def test_eval_writes_the_protocol_of_a_dreamerv3_run(runs: Path, protocol: dict) -> None:
    assert set(protocol) == SUMMARY_FIELDS
    assert protocol["run_dir"] == str(runs / "dreamerv3")
    assert protocol["task"] == "h1-stand" and protocol["method"] == "dreamerv3"
    assert protocol["step"] == 100  # the checkpoint's
    assert protocol["trials"] == TRIALS and protocol["experts"] is None
    trials = protocol["per_trial"]
    assert [t["seed"] for t in trials] == [100_000, 100_001]
    for trial in trials:
        assert set(trial) == TRIAL_FIELDS and trial["weights"] == trial["subgoals"] == []
        assert trial["passed"] is None  # h1-stand has no doorway
        assert trial["success"] == (not trial["fell"]) and 0 < trial["steps"] <= 1500
    assert protocol["successes"] == sum(t["success"] for t in trials)
    assert protocol["passed"] is None


@needs_sheeprl
def test_a_trial_is_reproducible(runs: Path, protocol: dict) -> None:
    policy = load_policy(runs / "dreamerv3")
    again = run_trial(policy, seed=100_000, record_weights=True)
    policy.close()
    assert asdict(again) == protocol["per_trial"][0]


@needs_sheeprl
def test_report_lists_dreamerv3_in_the_success_table(
    runs: Path, protocol: dict, tmp_path: Path
) -> None:
    assert main(["report", str(runs), "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    table = report.split("## Table 2")[1].split("## Table 3")[0]
    assert f"| h1-stand | dreamerv3 | {protocol['successes']} | {TRIALS} |" in table


def _copy_with_sheeprl_time_limit(runs: Path, dest: Path, limit: int) -> Path:
    """The run's last checkpoint, in a copy of its sheeprl log dir whose config asks sheeprl
    for a ``TimeLimit`` of ``limit`` steps (``env.max_episode_steps``)."""
    final = json.loads((runs / "dreamerv3" / "final.json").read_text())
    checkpoint = Path(final["checkpoint"])
    config = yaml.safe_load((checkpoint.parent.parent / "config.yaml").read_text())
    config["env"]["max_episode_steps"] = limit
    (dest / "checkpoint").mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(config))
    return Path(shutil.copy(checkpoint, dest / "checkpoint" / checkpoint.name))


def _time_limits(env: gym.Env) -> list[int]:
    limits = []
    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.wrappers.TimeLimit):
            limits.append(env.spec.max_episode_steps if env.spec else env._max_episode_steps)
        env = env.env
    return limits


@needs_sheeprl
def test_a_standing_trial_lasts_the_protocols_1500_steps(
    runs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from metaworld_hwm.baselines.dreamerv3_eval import DreamerV3Agent, DreamerV3Policy

    checkpoint = _copy_with_sheeprl_time_limit(runs, tmp_path / "version_0", limit=50)
    as_trained = DreamerV3Agent(checkpoint, env_seed=0).env
    assert _time_limits(as_trained) == [50]  # sheeprl's TimeLimit, as in training
    as_trained.close()
    policy = DreamerV3Policy(checkpoint)
    assert _time_limits(policy.env) == []  # the protocol's limit alone applies
    base = policy.env.unwrapped
    assert base.max_episode_steps == 40  # the run's short training episodes
    # A policy that never falls: the trial must run the protocol's 30 s, not 40, 50 or 1000.
    monkeypatch.setattr(base.task, "terminated", lambda physics: False)
    rewards: list[float] = []
    step = base.step

    def recorded_step(action: Any) -> tuple:
        out = step(action)
        rewards.append(float(out[1]))
        return out

    monkeypatch.setattr(base, "step", recorded_step)
    trial = run_trial(policy, seed=7)
    policy.close()
    assert (trial.steps, trial.fell, trial.success) == (1500, False, True)
    assert len(rewards) == 1500
    assert trial.episode_return == pytest.approx(sum(rewards[:1000]))


def test_eval_refuses_a_directory_without_config(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        evaluate_run(tmp_path, trials=1)


def test_eval_refuses_a_run_of_another_kind(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"method": "ppo", "arguments": {}}))
    with pytest.raises(ValueError, match="neither a run of `metaworld-hwm train`"):
        evaluate_run(tmp_path, trials=1)


def test_eval_refuses_a_dreamerv3_run_without_checkpoint(tmp_path: Path) -> None:
    config = {"method": "dreamerv3", "arguments": {"task": "h1-stand", "seed": 1}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="no DreamerV3 checkpoint to evaluate; train"):
        evaluate_run(tmp_path, trials=1)
    assert not (tmp_path / "eval_protocol.json").exists()


@needs_sheeprl
def test_a_moved_run_directory_still_finds_its_checkpoint(runs: Path, tmp_path: Path) -> None:
    """final.json records the checkpoint's absolute path; a copy elsewhere whose recorded
    path is gone finds the checkpoint inside itself."""
    from metaworld_hwm.baselines.dreamerv3 import find_checkpoint

    moved = tmp_path / "moved"
    shutil.copytree(runs / "dreamerv3", moved)
    final = json.loads((moved / "final.json").read_text())
    final["checkpoint"] = str(tmp_path / "gone" / Path(final["checkpoint"]).name)
    (moved / "final.json").write_text(json.dumps(final))
    checkpoint = find_checkpoint(moved)
    assert checkpoint.is_file() and moved in checkpoint.parents
