"""The composition layer: method x ablation x preset, resolved and built from one run config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import get_args

import pytest

from metaworld_hwm.agent import (
    ABLATIONS,
    METHODS,
    PRESETS,
    RunConfig,
    build_agent,
    make_run_env,
    read_run_config,
    resolve,
    run_method,
    saved_run_config,
)
from metaworld_hwm.agent.build import run_fusion
from metaworld_hwm.agent.variants import AblationName, Method
from metaworld_hwm.physical import PRESETS as WORLD_MODEL_SIZES

PENDULUM = "gym:InvertedPendulum-v5"


def test_each_axis_is_spelled_once() -> None:
    assert METHODS == get_args(Method) == ("tdmpc2", "metaworld", "dreamerv3")
    assert tuple(ABLATIONS) == get_args(AblationName)
    assert set(PRESETS) == {*WORLD_MODEL_SIZES, "paper"}
    assert {name: p.dreamerv3 for name, p in PRESETS.items() if name in ("tiny", "5m", "paper")} \
        == {"tiny": "tiny", "5m": "paper", "paper": "paper"}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"steps": 0}, "steps"), ({"preset": "7m"}, "preset"), ({"method": "ppo"}, "method"),
     ({"ablation": "no-vlm"}, "ablation"), ({"seed_steps": -1}, "seed_steps"),
     ({"alpha": 1.5}, "alpha")],
)  # fmt: skip
def test_an_invalid_field_is_named(changes: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}=.* is invalid; must be"):
        RunConfig(**changes)


def test_method_and_ablation_decide_lambda_fusion_and_label() -> None:
    assert RunConfig(method="tdmpc2").resolved_lambda == 0.0
    assert RunConfig(method="metaworld").resolved_lambda == 100.0
    guided_off = RunConfig(method="metaworld", ablation="no-guidance")
    assert guided_off.resolved_lambda == 0.0 and guided_off.method_label == "metaworld-no-guidance"
    assert RunConfig(method="metaworld", guidance_lambda=0.05).resolved_lambda == 0.05
    full = run_fusion(RunConfig(method="metaworld", alpha=0.6))
    assert (full.alpha, full.semantic, full.sharpness) == (0.6, "planner", 4.0)
    assert run_fusion(RunConfig(method="metaworld", ablation="no-dynamic-selection")).alpha == 1.0
    assert run_fusion(RunConfig(method="metaworld", ablation="no-vlm")).semantic == "learned"
    assert RunConfig(task="gym:Hopper-v5", seed=3).resolved_run_dir == Path(
        "runs/gym_Hopper-v5/tdmpc2/3"
    )


def test_resolve_applies_the_preset_then_the_runs_overrides() -> None:
    env = make_run_env(RunConfig(task=PENDULUM))
    paper = resolve(RunConfig(task=PENDULUM, preset="paper", steps=400), env)
    wm = paper.world_model
    assert (wm.lr, wm.discount, wm.horizon, wm.batch_size, wm.latent_dim) == (
        1e-3, 0.99, 3, 256, 512
    )  # fmt: skip
    assert paper.seed_steps == 100 and paper.episode_length == 1000  # a quarter of the steps
    mine = resolve(RunConfig(task=PENDULUM, preset="paper", world_model={"lr": 5e-4}), env)
    assert mine.world_model.lr == 5e-4 and mine.seed_steps == 5000
    saved = mine.to_dict()
    assert set(saved) == {"train", "world_model", "seed_steps", "episode_length"}
    assert saved["train"] == mine.config.to_dict() and json.loads(json.dumps(saved)) == saved
    assert mine.identity()["preset"] == "paper" and "steps" not in mine.identity()


def test_build_agent_per_method() -> None:
    cfg = RunConfig(task=PENDULUM, preset="tiny", device="cpu")
    agent = build_agent(cfg, make_run_env(cfg))
    assert agent.guide is None and agent.tdmpc2.cfg == agent.run.world_model
    assert set(agent.state_dict()) == {"agent", "guide"}
    with pytest.raises(ValueError, match="needs an H1 task"):
        build_agent(RunConfig(task=PENDULUM, method="metaworld"), make_run_env(cfg))
    with pytest.raises(ValueError, match="'dreamerv3' has no agent in this package"):
        build_agent(RunConfig(task=PENDULUM, method="dreamerv3"), make_run_env(cfg))


def test_run_directories_are_read_in_one_place(tmp_path: Path) -> None:
    train = RunConfig(task="h1-walk", steps=10, tensorboard=True).to_dict()
    (tmp_path / "config.json").write_text(json.dumps({"train": train, "seed_steps": 5}))
    config = read_run_config(tmp_path)
    assert run_method(config) == "tdmpc2"
    loaded = saved_run_config(tmp_path, config)
    assert loaded.run_dir == str(tmp_path) and not loaded.tensorboard and loaded.steps == 10
    assert run_method({"method": "dreamerv3", "arguments": {}}) == "dreamerv3"
    assert run_method({"arguments": {}}) is None
