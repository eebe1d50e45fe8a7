"""The door opener as a library expert: stored and loaded whole, acting as the opener does,
fused by the guide on h1grip-door, and planned for by tier 1."""

from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path

import numpy as np
import pytest

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.hierarchy.adapters import make_action_adapter, make_adapter
from metaworld_hwm.hierarchy.build import build_guide, resolve_library
from metaworld_hwm.skills import DoorExpert, ExpertLibrary, FusionConfig
from metaworld_hwm.skills.cli import add_experts_parser
from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.door_expert import build_door_expert

DOOR_LIBRARY = Path(__file__).resolve().parents[2] / "experts" / "door"


@pytest.fixture(scope="module")
def walkers() -> tuple:
    default = ExpertLibrary.load(resolve_library(None))
    return default["walk"], ExpertLibrary.load(DOOR_LIBRARY)["pull"]


def test_door_expert_round_trips_and_acts_as_the_opener(walkers, tmp_path: Path) -> None:
    legs, pull_legs = walkers
    library = ExpertLibrary(tmp_path)
    library.add(build_door_expert(legs, pull_legs))
    loaded = ExpertLibrary.load(tmp_path)["door"]
    assert isinstance(loaded, DoorExpert) and loaded.spec.robot == "h1grip"
    opener = DoorOpener(legs, pull_legs)
    env = HumanoidEnv("h1grip", "door")
    obs, _ = env.reset(seed=3)
    loaded.reset(1)
    opener.reset()
    for _ in range(60):  # approach into pregrasp: legs and the arm's IK both act
        action = loaded.act(obs[None])[0]
        np.testing.assert_allclose(action, opener.act(obs), atol=1e-6)
        obs, *_ = env.step(action)
    assert loaded.stage == opener.stage == "pregrasp"


def test_door_expert_acts_for_one_robot_and_needs_walkers(walkers) -> None:
    legs, pull_legs = walkers
    expert = build_door_expert(legs, pull_legs)
    with pytest.raises(ValueError, match="one robot"):
        expert.reset(2)
    with pytest.raises(ValueError, match="command walker"):
        build_door_expert(ExpertLibrary.load(resolve_library(None))["stand"], pull_legs)


def test_h1_experts_act_on_h1grip_and_h1grip_experts_only_there(walkers) -> None:
    grip_env = HumanoidEnv("h1grip", "door")
    obs, _ = grip_env.reset(seed=0)
    walk = walkers[0]
    state = make_adapter(grip_env, walk.spec)(obs[None])[0]
    m = grip_env.model
    np.testing.assert_array_equal(state[:21], obs[:21])  # base, legs, torso, left arm
    left_elbow = m.joint("left_elbow").qposadr[0]
    right_shoulder = m.joint("right_shoulder_pitch").qposadr[0]
    assert state[21] == obs[left_elbow] and state[22] == obs[right_shoulder]  # fingers skipped
    assert state[26 + 6] == obs[m.nq + m.joint("left_hip_yaw").dofadr[0]]
    widened = make_action_adapter(grip_env, walk.spec)(np.zeros((1, 19)))[0]
    assert widened.shape == (21,)
    assert widened[m.actuator("left_gripper").id] == widened[m.actuator("right_gripper").id] == -1
    door = build_door_expert(*walkers)
    with pytest.raises(ValueError, match="cannot act"):
        make_adapter(HumanoidEnv("h1", "door"), door.spec)


def test_guide_on_h1grip_door_plans_the_door_experts_approach_then_its_stages() -> None:
    env = HumanoidEnv("h1grip", "door")
    guide = build_guide(env, str(DOOR_LIBRARY), "walk to the door and open it",
                        FusionConfig(sharpness=4.0))  # fmt: skip
    obs, _ = env.reset(seed=0)
    guide.start_episode(obs)
    plan = guide.tracker.plan
    best = [plan.experts[int(np.argmax(goal.weights))] for goal in plan.subgoals]
    assert best == ["door", "door", "door", "door"]  # the walk to the door is its approach
    assert [g.params.stage for g in plan.subgoals] == [None, "grasp", "turn", "pull"]
    door = next(e for e in guide.experts if e.name == "door")
    assert door.opener.stage_limit is None  # walking to the door: the opener is not held
    _, info = env.step(np.zeros(21))[3:5]
    guide.observe(obs, {**info, "hand_hatch_proximity_reward": 1.0})
    assert guide.tracker.current.params.stage == "grasp" and door.opener.stage_limit == "grasp"
    a_ref = guide.reference(obs[None], guide.context()[None])
    assert a_ref.shape == (1, 21) and np.isfinite(a_ref).all()
    # on h1-door (no hands) the guide leaves the door expert out
    h1_guide = build_guide(HumanoidEnv("h1", "door"), str(DOOR_LIBRARY), "open the door",
                           FusionConfig())  # fmt: skip
    assert "door" not in [e.name for e in h1_guide.experts]


def test_the_door_experts_command_is_its_stage(walkers) -> None:
    expert = build_door_expert(*walkers)
    assert [key for key, _ in expert.stages] == ["grasp", "turn", "pull"]
    expert.set_command(stage="turn")
    assert expert.opener.stage_limit == "turn"
    with pytest.raises(ValueError, match="stage limit 'fly'"):
        expert.set_command(stage="fly")
    with pytest.raises(ValueError, match="no command field"):
        expert.set_command(vx=1.0)
    expert.reset(1)
    assert expert.opener.stage_limit is None


def test_a_copied_door_expert_keeps_its_own_stages(walkers) -> None:
    expert = build_door_expert(*walkers)
    twin = copy.copy(expert)
    env = HumanoidEnv("h1grip", "door")
    obs, _ = env.reset(seed=0)
    expert.reset(1)
    twin.reset(1)
    for _ in range(60):
        obs, *_ = env.step(expert.act(obs[None])[0])
    assert expert.stage == "pregrasp" and twin.stage == "approach"
    assert twin.opener.legs.policy is expert.opener.legs.policy  # weights shared
    assert twin.opener.legs.clock is not expert.opener.legs.clock


def test_the_door_expert_stores_its_sweep_legs_when_they_differ(walkers, tmp_path: Path) -> None:
    legs, pull_legs = walkers
    sweep = ExpertLibrary.load(DOOR_LIBRARY.parent / "door_sweep")["door-pull"]
    library = ExpertLibrary(tmp_path)
    library.add(build_door_expert(legs, pull_legs, sweep_legs=sweep))
    loaded = ExpertLibrary.load(tmp_path)["door"].opener
    assert loaded.sweep_legs is not loaded.pull_legs
    for name, array in sweep.arrays().items():
        np.testing.assert_array_equal(loaded.sweep_legs.arrays()[name], array)
    without = build_door_expert(legs, pull_legs)
    assert not any(key.startswith("sweep_legs.") for key in without.arrays())
    assert "sweep_legs" not in without.spec.config
    with pytest.raises(ValueError, match="sweep_legs must be a command walker"):
        build_door_expert(legs, pull_legs, sweep_legs=ExpertLibrary.load(DOOR_LIBRARY)["stand"])


def test_the_door_expert_stores_its_hold_legs_when_they_differ(walkers, tmp_path: Path) -> None:
    legs, pull_legs = walkers
    sweep_library = ExpertLibrary.load(DOOR_LIBRARY.parent / "door_sweep")
    sweep, hold = sweep_library["door-pull"], sweep_library["door-hold"]
    library = ExpertLibrary(tmp_path)
    library.add(build_door_expert(legs, pull_legs, sweep_legs=sweep, hold_legs=hold))
    loaded = ExpertLibrary.load(tmp_path)["door"].opener
    assert loaded.hold_legs.name == "door-hold" and loaded.sweep_legs.name == "door-pull"
    for name, array in hold.arrays().items():
        np.testing.assert_array_equal(loaded.hold_legs.arrays()[name], array)
    without = build_door_expert(legs, pull_legs, sweep_legs=sweep)
    assert without.opener.hold_legs is without.opener.sweep_legs
    assert not any(key.startswith("hold_legs.") for key in without.arrays())
    assert "hold_legs" not in without.spec.config


def test_experts_add_door_takes_the_sweep_legs(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_experts_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args([
        "experts", "add", "door", "--library", str(tmp_path),
        "--pull-legs", f"{DOOR_LIBRARY}:pull",
        "--sweep-legs", f"{DOOR_LIBRARY.parent / 'door_sweep'}:door-pull",
        "--hold-legs", f"{DOOR_LIBRARY.parent / 'door_sweep'}:door-hold",
    ])  # fmt: skip
    assert args.func(args) == 0
    door = ExpertLibrary.load(tmp_path)["door"]
    assert door.spec.config["sweep_legs"]["name"] == "door-pull"
    assert door.spec.config["hold_legs"]["name"] == "door-hold"
    assert door.opener.config == DoorOpenerConfig()
    args = parser.parse_args(["experts", "add", "door", "--library", str(tmp_path),
                              "--pull-legs", f"{DOOR_LIBRARY}:pull", "--overwrite",
                              "--opener-set", "pregrasp_steps=120",
                              "sweep_stance_open=[-0.4,-0.3,0.0]"])  # fmt: skip
    assert args.func(args) == 0
    opener = ExpertLibrary.load(tmp_path)["door"].opener  # the settings travel in the manifest
    assert opener.config.pregrasp_steps == 120
    assert opener.config.sweep_stance_open == (-0.4, -0.3, 0.0)


def test_opener_settings_from_a_command_line_are_checked() -> None:
    config = DoorOpenerConfig.from_overrides(["use_torso=false", "hatch_offset=[0.4,0.3]"])
    assert not config.use_torso and config.hatch_offset == (0.4, 0.3)
    for bad, message in (("pregrasp_steps", "not FIELD=JSON"), ("turn_rate=fast", "not FIELD"),
                         ("no_such=1", "no DoorOpenerConfig field"),
                         ("hold_door=-1", "hold_door=-1: must be an angle in"),
                         ("pregrasp_steps=0", "pregrasp_steps=0: must be a whole number >= 1"),
                         ("grasp_steps=1.5", "must be a whole number"),
                         ('turn_rate="x"', "turn_rate='x': must be a number > 0"),
                         ("hold_gain=-3", "hold_gain=-3: must be a number >= 0")):  # fmt: skip
        with pytest.raises(ValueError, match=re.escape(message)):
            DoorOpenerConfig.from_overrides([bad])
    unset = DoorOpenerConfig.from_overrides(["hold_door=null", "regrasp_steps=null"])
    assert unset.hold_door is None and unset.regrasp_steps is None
