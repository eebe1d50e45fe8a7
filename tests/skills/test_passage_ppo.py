"""The doorway passage's PPO env: its starts, the walker's own inputs, its reward, exact resume."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from metaworld_hwm.cli import main
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import yaw_of
from metaworld_hwm.skills.passage_ppo import DoorPassageEnv, PassageStart, passage_reward
from metaworld_hwm.skills.walk import WalkExpert

DOOR_LIBRARY = Path(__file__).resolve().parents[2] / "experts" / "door"


@pytest.fixture(scope="module")
def walker() -> WalkExpert:
    return ExpertLibrary.load(DOOR_LIBRARY)["walk"]


def _outputs(walker: WalkExpert, features: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return walker.policy(torch.as_tensor(features[None], dtype=torch.float32)).numpy()[0]


def test_an_episode_starts_by_the_gap_with_the_door_open(walker: WalkExpert) -> None:
    start = PassageStart()
    env = DoorPassageEnv(walker, episode_steps=5, start=start)
    for seed in range(3):
        features, _ = env.reset(seed=seed)
        qpos, door = env.env.data.qpos, env.door_angle()
        assert start.door[0] <= door <= start.door[1]
        hinge = env.env.data.xanchor[env.env.model.joint("door_hinge").id][:2]
        offset = qpos[:2] - hinge  # along the leaf and out from its doorway face
        along = offset @ [-np.sin(door), np.cos(door)]
        clearance = offset @ [np.cos(door), np.sin(door)]
        assert start.along[0] <= along <= start.along[1]
        assert start.clearance[0] <= clearance <= start.clearance[1]
        assert abs(yaw_of(qpos[None, 3:7])[0]) < start.yaw[1] + 0.05  # the reset's noise
        # the policy reads the walker's own input, steered toward the goal beyond the door
        assert env.walker.command.vx > 0.5 and env.walker.command.heading == 0.0
        robot = np.concatenate([qpos[env._robot_qpos], env.env.data.qvel[env._robot_dof]])
        np.testing.assert_array_equal(features, env.walker.features(robot[None])[0])


def test_the_reward_is_h1_walks_with_the_passage_as_its_move_term(walker: WalkExpert) -> None:
    env = DoorPassageEnv(walker, episode_steps=40)
    features, _ = env.reset(seed=0)
    for _ in range(40):
        features, reward, terminated, truncated, info = env.step(_outputs(walker, features))
        expected = (info["small_control"] * info["stand_reward"]
                    * (1 + 5 * np.clip(info["imu_x"] - 0.2, 0.0, 1.0)) / 6)  # fmt: skip
        assert reward == pytest.approx(expected) == passage_reward(info)
        assert env.env.data.ctrl[env._left_gripper] == env.env.model.actuator_ctrlrange[
            env._left_gripper, 0]  # the gripper open  # fmt: skip
        if terminated:
            break
    assert truncated and not terminated  # the walker walks 40 steps without a fall
    assert info["imu_x"] > 0.35  # and on toward the doorway


def test_passage_env_resumes_exactly(walker: WalkExpert) -> None:
    env = DoorPassageEnv(walker, episode_steps=60)
    features, _ = env.reset(seed=4)
    for _ in range(10):
        features, *_ = env.step(_outputs(walker, features))
    state, resumed_from = env.get_state(), features.copy()

    def run(f: np.ndarray) -> list[float]:
        rewards = []
        for _ in range(20):
            f, r, *_ = env.step(_outputs(walker, f) + 0.1)
            rewards.append(r)
        return rewards + list(f)

    first = run(resumed_from)
    env.set_state(state)
    assert run(resumed_from) == first


@pytest.mark.parametrize(("fields", "error"), [
    ({"along": (0.8, 0.6)}, "passage start along must be (low, high)"),
    ({"door": (0.9, 1.6)}, "hinge's 0..1.4 rad"),
])  # fmt: skip
def test_passage_starts_are_checked(fields: dict, error: str) -> None:
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        PassageStart(**fields)


def test_train_door_passage_writes_a_walker(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    library = tmp_path / "door"
    shutil.copytree(DOOR_LIBRARY, library)
    assert main(["experts", "train", "door-passage", "--library", str(library), "--from", "walk",
                 "--objective", "door-passage", "--episode-steps", "20", "--envs", "2",
                 "--workers", "1", "--steps-per-env", "8", "--critic-warmup", "1",
                 "--iterations", "1", "--eval-every", "1", "--eval-episodes", "1",
                 "--work-dir", str(tmp_path / "work")]) == 0  # fmt: skip
    assert "through the doorway: return" in capsys.readouterr().out
    expert = ExpertLibrary.load(library)["door-passage"]
    assert isinstance(expert, WalkExpert)
    assert "leaf" in expert.spec.description
    assert {"through", "imu_x_max", "eval_through"} <= set(
        (tmp_path / "work" / "curve.csv").read_text().splitlines()[0].split(","))
    assert main(["experts", "train", "x", "--library", str(library), "--from", "walk",
                 "--objective", "door-passage", "--open-reward", "0.1",
                 "--work-dir", str(tmp_path / "other")]) == 2  # fmt: skip
    assert "--open-reward applies to --objective door-sweep" in capsys.readouterr().err
