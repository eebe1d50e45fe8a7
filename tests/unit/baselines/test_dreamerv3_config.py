"""DreamerV3 run configuration (no training): arguments, overrides, presets, bookkeeping."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from metaworld_hwm.baselines import dreamerv3, sheeprl_run
from metaworld_hwm.baselines.sheeprl_run import (
    CONFIG_DIR,
    DreamerV3Args,
    SheeprlNotInstalledError,
    SheeprlOutput,
    build_overrides,
    compose_sheeprl_config,
    read_episodes,
    sheeprl_environment,
)
from tests.unit.baselines.conftest import needs_sheeprl


def _args(tmp_path: Path, **kwargs: object) -> DreamerV3Args:
    fields: dict[str, object] = {
        "task": "gym:InvertedPendulum-v5", "steps": 400, "seed": 3, "run_dir": str(tmp_path),
    }  # fmt: skip
    return DreamerV3Args(**(fields | kwargs))  # type: ignore[arg-type]


def test_overrides_name_the_preset_env_and_run(tmp_path: Path) -> None:
    overrides = build_overrides(_args(tmp_path, learning_starts=50, eval_every=200))
    run_dir = tmp_path.resolve()
    for expected in [
        "exp=metaworld_hwm_dreamer_v3_tiny",
        "env.id='gym:InvertedPendulum-v5'",
        "seed=3",
        "algo.total_steps=400",
        "algo.learning_starts=50",
        "checkpoint.every=200",
        "fabric.accelerator=cpu",
        "env.capture_video=False",
        f"env.wrapper.episode_log='{run_dir / 'episodes'}'",
        f"log_root='{run_dir}'",
    ]:
        assert expected in overrides


def test_user_overrides_come_last(tmp_path: Path) -> None:
    overrides = build_overrides(_args(tmp_path, overrides=("algo.replay_ratio=0.2",)))
    assert overrides[-1] == "algo.replay_ratio=0.2"


def test_learning_starts_default_is_capped_at_a_quarter_of_the_run(tmp_path: Path) -> None:
    assert _args(tmp_path, steps=400).resolved_learning_starts == 100
    assert _args(tmp_path, steps=1_000_000).resolved_learning_starts == 1024
    assert _args(tmp_path, learning_starts=7).resolved_learning_starts == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [("preset", "huge"), ("device", "tpu"), ("steps", 0), ("eval_every", 0), ("threads", 0)],
)
def test_bad_arguments_are_named(tmp_path: Path, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        _args(tmp_path, **{field: value})


def test_paper_runs_need_at_least_one_step_per_env(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="steps"):
        _args(tmp_path, preset="paper", steps=3)


def test_environment_puts_our_configs_first_and_sets_threads() -> None:
    env = sheeprl_environment(3, base={"SHEEPRL_SEARCH_PATH": "pkg://other.configs"})
    assert env["SHEEPRL_SEARCH_PATH"] == f"file://{CONFIG_DIR};pkg://other.configs"
    assert env["OMP_NUM_THREADS"] == "3"
    assert (CONFIG_DIR / "env" / "metaworld_hwm.yaml").is_file()


def test_missing_sheeprl_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: object) -> object:
        return None if name == "sheeprl" else real_find_spec(name, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(sheeprl_run.importlib.util, "find_spec", find_spec)
    with pytest.raises(SheeprlNotInstalledError, match=r"pip install 'metaworld-hwm\[dreamerv3\]'"):
        dreamerv3.train_dreamerv3("gym:InvertedPendulum-v5", 100, 0, tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written before the check


def test_stdout_parsing() -> None:
    output = SheeprlOutput()
    output.feed("Log dir: /runs/x/sheeprl/dreamer_v3/version_0")
    output.feed("Rank-0: policy_step=12, reward_env_1=3.5")
    output.feed("Rank-0: policy_step=20, reward_env_0=-1e-05")
    assert output.log_dir == Path("/runs/x/sheeprl/dreamer_v3/version_0")
    assert output.episodes == [(12, 1, 3.5), (20, 0, -1e-05)]
    assert output.last_step == 20


def test_episode_files_become_policy_steps(tmp_path: Path) -> None:
    header = "env_step,episode_reward,episode_length\n"
    (tmp_path / "env_0.csv").write_text(header + "3,1.5,3\n9,2.0,6\n")
    (tmp_path / "env_1.csv").write_text(header + "5,4.0,5\n")
    assert read_episodes(tmp_path, num_envs=2) == [(6, 1.5, 3), (10, 4.0, 5), (18, 2.0, 6)]


def test_recorded_episodes_must_match_the_printed_ones(tmp_path: Path) -> None:
    recorded = [(6, 1.5, 3), (10, 4.0, 5)]
    dreamerv3._check_against_stdout(recorded, [(10, 1, 4.0), (6, 0, 1.5)], tmp_path)
    with pytest.raises(RuntimeError, match="disagree"):
        dreamerv3._check_against_stdout(recorded, [(6, 0, 1.5)], tmp_path)
    with pytest.raises(RuntimeError, match="disagree"):
        dreamerv3._check_against_stdout(recorded, [(6, 0, 1.5), (10, 1, 5.0)], tmp_path)


def test_an_earlier_run_is_not_overwritten(tmp_path: Path) -> None:
    if importlib.util.find_spec("sheeprl") is None:
        pytest.skip("sheeprl is not installed (pip install 'metaworld-hwm[dreamerv3]')")
    (tmp_path / "final.json").write_text("{}")
    with pytest.raises(FileExistsError, match="already holds"):
        dreamerv3.train_dreamerv3("gym:InvertedPendulum-v5", 100, 0, tmp_path)


@needs_sheeprl
def test_tiny_preset_composes_to_a_small_proprio_dreamer(tmp_path: Path) -> None:
    cfg = compose_sheeprl_config(_args(tmp_path, device="cuda", max_episode_steps=50))
    algo, env = cfg["algo"], cfg["env"]
    assert algo["name"] == "dreamer_v3"
    assert algo["mlp_keys"] == {"encoder": ["state"], "decoder": ["state"]}
    assert algo["cnn_keys"] == {"encoder": [], "decoder": []}
    assert (algo["dense_units"], algo["mlp_layers"]) == (64, 1)
    assert algo["world_model"]["recurrent_model"]["recurrent_state_size"] == 64
    assert (algo["per_rank_batch_size"], algo["per_rank_sequence_length"]) == (8, 32)
    assert algo["replay_ratio"] == 0.1
    assert algo["total_steps"] == 400 and algo["learning_starts"] == 100
    assert algo["run_test"] is False
    assert env["capture_video"] is False and env["action_repeat"] == 1 and env["num_envs"] == 1
    assert env["wrapper"]["_target_"] == "metaworld_hwm.baselines.sheeprl_env.make_sheeprl_env"
    assert env["wrapper"]["task"] == "gym:InvertedPendulum-v5"
    assert env["wrapper"]["max_episode_steps"] == 50
    assert cfg["fabric"]["accelerator"] == "cuda"
    assert cfg["log_root"] == str(tmp_path.resolve())
    assert cfg["checkpoint"]["keep_last"] is None


@needs_sheeprl
def test_paper_preset_is_dreamerv3_s_for_proprio_control(tmp_path: Path) -> None:
    cfg = compose_sheeprl_config(_args(tmp_path, preset="paper", task="h1-walk", steps=2_000_000))
    algo = cfg["algo"]
    assert (algo["dense_units"], algo["mlp_layers"]) == (512, 2)
    assert algo["world_model"]["recurrent_model"]["recurrent_state_size"] == 512
    world_model = algo["world_model"]
    assert (world_model["discrete_size"], world_model["stochastic_size"]) == (32, 32)
    assert (algo["per_rank_batch_size"], algo["per_rank_sequence_length"]) == (16, 64)
    # Train ratio 512 replayed steps per env step, in gradient steps per policy step.
    assert algo["replay_ratio"] * 16 * 64 == 512
    assert (algo["horizon"], algo["lmbda"]) == (15, 0.95)
    assert algo["mlp_keys"]["encoder"] == ["state"] and algo["cnn_keys"]["decoder"] == []
    assert cfg["env"]["num_envs"] == 4 and cfg["env"]["wrapper"]["task"] == "h1-walk"
    assert algo["learning_starts"] == 1024


@needs_sheeprl
def test_a_bad_task_fails_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown task"):
        dreamerv3.train_dreamerv3("h1-nope", 100, 0, tmp_path / "run")
    assert not (tmp_path / "run").exists()
