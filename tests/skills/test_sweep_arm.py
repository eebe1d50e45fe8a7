"""The door sweep's walker with arm residuals: widened from a walker it is that walker; its
residuals move the opener's arm targets; PPO trains it and the door expert stores it."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from metaworld_hwm.cli import main
from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.door_expert import DoorExpert, build_door_expert
from metaworld_hwm.skills.door_ppo import DoorSweepEnv
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.sweep_arm import (
    RESIDUAL_LIMIT,
    ArmSweepWalker,
    arm_context_dim,
    widened_policy,
)
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert

DOOR_LIBRARY = Path(__file__).resolve().parents[2] / "experts" / "door"
ARM_JOINTS = 5  # the torso and the left arm's 4 joints (the opener's default use_torso)


@pytest.fixture(scope="module")
def walkers() -> tuple[WalkExpert, WalkExpert]:
    walk = ExpertLibrary.load(default_library_path())["walk"]
    return walk, ExpertLibrary.load(DOOR_LIBRARY)["pull"]


@pytest.fixture(scope="module")
def legs_only_env(walkers: tuple[WalkExpert, WalkExpert], sweep_seed: int) -> DoorSweepEnv:
    return DoorSweepEnv(*walkers, snapshot_seeds=(sweep_seed,), episode_steps=40,
                        velocity_noise=0.0)  # fmt: skip


def test_widened_network_acts_as_the_walker(walkers: tuple[WalkExpert, WalkExpert]) -> None:
    pull = walkers[1]
    wide = widened_policy(pull.policy, ARM_JOINTS)
    features = torch.randn(8, NUM_FEATURES)
    context = torch.randn(8, arm_context_dim(ARM_JOINTS))
    with torch.no_grad():
        narrow, out = pull.policy(features), wide(torch.cat([features, context], dim=1))
    torch.testing.assert_close(out[:, :10], narrow)
    assert torch.count_nonzero(out[:, 10:]) == 0  # no residual until PPO moves it
    with torch.no_grad():
        wide.net[-1].bias[10:] = 5.0  # the residual is clipped when the walker acts
    walker = ArmSweepWalker.from_walker(pull, ARM_JOINTS, policy=wide)
    walker.reset(1)
    env = HumanoidEnv("h1", "walk")
    obs, _ = env.reset(seed=0)
    walker.act(obs[None])
    np.testing.assert_array_equal(walker.arm_residual, np.full((1, ARM_JOINTS), RESIDUAL_LIMIT))
    walker.context = np.zeros((1, 3))
    with pytest.raises(ValueError, match="arm context of shape"):
        walker.act(obs[None])


def test_opener_adds_the_residual_to_its_arm_targets_in_the_sweep(
    walkers: tuple[WalkExpert, WalkExpert], legs_only_env: DoorSweepEnv
) -> None:
    walk, pull = walkers
    snapshot = legs_only_env.snapshots[0]
    wide = widened_policy(pull.policy, ARM_JOINTS)
    with torch.no_grad():
        wide.net[-1].bias[10:] = torch.tensor([0.0, 0.1, 0.0, 0.0, -0.1])
    actions = []
    for sweeper in (ArmSweepWalker.from_walker(pull, ARM_JOINTS),
                    ArmSweepWalker.from_walker(pull, ARM_JOINTS, policy=wide)):  # fmt: skip
        opener = DoorOpener(walk, copy.copy(pull), sweep_legs=sweeper)
        state = dict(snapshot["opener"], sweep_legs=snapshot["opener"]["pull_legs"])
        opener.load_episode_state(state)
        actions.append(opener.act(snapshot["obs"], clip=False))
        assert sweeper.context[0, -2] == pytest.approx(opener.door_angle(snapshot["obs"]))
    arm = opener.arm.actuators
    low, high = opener._ctrlrange[arm].T
    # added to the targets as computed, then clipped: as the sweep's training env does
    expected = actions[0][arm] + 2.0 * np.array([0.0, 0.1, 0.0, 0.0, -0.1]) / (high - low)
    np.testing.assert_allclose(actions[1][arm], expected, atol=1e-6)
    others = np.setdiff1d(np.arange(10, len(actions[0])), arm)  # legs move with the features
    np.testing.assert_array_equal(actions[1][others], actions[0][others])


def test_arm_sweep_env_with_a_zero_residual_is_the_legs_only_env(
    walkers: tuple[WalkExpert, WalkExpert], legs_only_env: DoorSweepEnv, sweep_seed: int
) -> None:
    walk, pull = walkers
    legs_only = legs_only_env
    arm = DoorSweepEnv(walk, pull, snapshot_seeds=(sweep_seed,), episode_steps=40,
                       velocity_noise=0.0, arm=True)  # fmt: skip
    assert arm.observation_space.shape == (NUM_FEATURES + arm_context_dim(ARM_JOINTS),)
    assert arm.action_space.shape == (10 + ARM_JOINTS,)
    f_legs, _ = legs_only.reset(seed=0)
    f_arm, _ = arm.reset(seed=0)
    np.testing.assert_array_equal(f_arm[:NUM_FEATURES], f_legs)
    for _ in range(15):
        with torch.no_grad():
            out = pull.policy(torch.as_tensor(f_legs[None], dtype=torch.float32)).numpy()[0]
        f_legs, r_legs, *_ = legs_only.step(out)
        f_arm, r_arm, *_ = arm.step(np.r_[out, np.zeros(ARM_JOINTS)])
        assert r_arm == pytest.approx(r_legs)
    assert arm.door_angle() == pytest.approx(legs_only.door_angle())
    arm.step(np.r_[out, np.full(ARM_JOINTS, 0.2)])  # a residual moves the arm's servos
    legs_only.step(out)
    assert not np.allclose(arm.env.data.ctrl, legs_only.env.data.ctrl)


def test_train_sweep_arm_writes_a_door_walker_the_door_expert_stores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "door"
    shutil.copytree(DOOR_LIBRARY, library)
    assert main(["experts", "train", "door-arm", "--library", str(library), "--from", "pull",
                 "--objective", "door-sweep", "--sweep-arm", "--episode-steps", "20",
                 "--envs", "2", "--workers", "1", "--steps-per-env", "8", "--critic-warmup", "1",
                 "--iterations", "1", "--eval-every", "1", "--eval-episodes", "1",
                 "--work-dir", str(tmp_path / "work")]) == 0  # fmt: skip
    loaded = ExpertLibrary.load(library)
    sweeper = loaded["door-arm"]
    assert isinstance(sweeper, ArmSweepWalker) and sweeper.arm_joints == ARM_JOINTS
    door = build_door_expert(loaded["walk"], loaded["pull"], sweep_legs=sweeper)
    again = DoorExpert.from_arrays(door.spec, door.arrays())
    assert isinstance(again.opener.sweep_legs, ArmSweepWalker)
    for a, b in zip(again.opener.sweep_legs.policy.parameters(), sweeper.policy.parameters(),
                    strict=True):  # fmt: skip
        torch.testing.assert_close(a, b)
    assert main(["experts", "train", "x", "--library", str(library), "--from", "door-arm",
                 "--task", "h1-walk", "--work-dir", str(tmp_path / "w2")]) == 2  # fmt: skip
    assert "trains on --objective door-sweep only" in capsys.readouterr().err
    assert main(["experts", "train", "x", "--library", str(library), "--from", "pull",
                 "--sweep-arm", "--work-dir", str(tmp_path / "w3")]) == 2  # fmt: skip
    assert "--sweep-arm applies to --objective door-sweep" in capsys.readouterr().err
