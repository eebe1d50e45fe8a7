"""The walk expert: locomotion maths, the teacher loader, DAgger mechanics, resume, the library."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from metaworld_hwm.envs import make_env
from metaworld_hwm.skills import ExpertLibrary
from metaworld_hwm.skills.locomotion import (
    LEG_DEFAULT_POSE,
    WalkCommand,
    leg_action,
    projected_gravity,
    yaw_of,
)
from metaworld_hwm.skills.teacher import H1WalkTeacher, LSTMTeacher, TeacherError
from metaworld_hwm.skills.walk import WalkExpert, walk_features
from metaworld_hwm.skills.walk_distill import WalkDistillation, WalkDistillConfig


class _RecurrentActor(nn.Module):
    """The shape of an rsl_rl recurrent actor export: LSTM 'memory', MLP 'actor', buffers."""

    def __init__(self) -> None:
        super().__init__()
        self.memory = nn.LSTM(41, 64)
        self.actor = nn.Sequential(nn.Linear(64, 32), nn.ELU(), nn.Linear(32, 10))
        self.register_buffer("hidden_state", torch.zeros(1, 1, 64))
        self.register_buffer("cell_state", torch.zeros(1, 1, 64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, (h, c) = self.memory(x.unsqueeze(0), (self.hidden_state, self.cell_state))
        self.hidden_state.copy_(h)
        self.cell_state.copy_(c)
        return self.actor(out.squeeze(0))


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    actor = _RecurrentActor()
    with torch.no_grad():  # small outputs, so the robot keeps near its default pose
        actor.actor[2].weight.mul_(0.05)
    path = tmp_path_factory.mktemp("teacher") / "actor.pt"
    torch.jit.script(actor).save(str(path))
    return path


def test_batched_teacher_matches_the_torchscript_module_row_by_row(teacher_file: Path) -> None:
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((5, 3, 41)).astype(np.float32)  # 5 steps, 3 envs
    batched = LSTMTeacher(teacher_file)
    batched.reset(3)
    outputs = np.stack([batched(step) for step in inputs])
    for row in range(3):
        module = torch.jit.load(str(teacher_file))
        for t in range(5):
            expected = module(torch.from_numpy(inputs[t, row : row + 1])).detach().numpy()
            np.testing.assert_allclose(outputs[t, row], expected[0], atol=1e-5)
    batched.reset(3, rows=np.array([1]))  # a new episode in row 1 only
    fresh = LSTMTeacher(teacher_file)
    fresh.reset(1)
    np.testing.assert_allclose(batched(inputs[0])[1], fresh(inputs[0, 1:2])[0], atol=1e-6)


def test_teacher_errors_name_the_problem(tmp_path: Path, teacher_file: Path) -> None:
    with pytest.raises(TeacherError, match="does not exist"):
        LSTMTeacher(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a module")
    with pytest.raises(TeacherError, match="not a TorchScript"):
        LSTMTeacher(tmp_path / "junk.pt")
    teacher = LSTMTeacher(teacher_file)
    teacher.reset(2)
    with pytest.raises(ValueError, match="reset"):
        teacher(np.zeros((3, 41)))


def test_locomotion_maths() -> None:
    upright = np.array([[1.0, 0.0, 0.0, 0.0]])
    np.testing.assert_allclose(projected_gravity(upright), [[0, 0, -1]], atol=1e-12)
    yaw = 0.7
    turned = np.array([[np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]])
    assert yaw_of(turned)[0] == pytest.approx(yaw)
    np.testing.assert_allclose(projected_gravity(turned), [[0, 0, -1]], atol=1e-12)
    ctrlrange = make_env("h1-walk").model.actuator_ctrlrange
    action = leg_action(np.zeros((1, 10)), ctrlrange)
    low, high = ctrlrange.T
    targets = low + (action[0] + 1) / 2 * (high - low)
    np.testing.assert_allclose(targets[:10], np.tile(LEG_DEFAULT_POSE, 2), atol=1e-12)
    np.testing.assert_allclose(targets[10:], 0.0, atol=1e-12)


def test_walk_command_holds_a_heading_and_refuses_untrained_values() -> None:
    command = WalkCommand(vx=1.0, heading=0.0)
    rates = command.velocities(np.array([0.2, -0.2, 0.0]))[:, 2]
    assert rates[0] < 0 < rates[1] and rates[2] == 0.0  # turns back toward heading 0
    free = WalkCommand(vx=0.5, yaw_rate=0.3, heading=None)
    np.testing.assert_allclose(free.velocities(np.array([1.0])), [[0.5, 0.0, 0.3]])
    with pytest.raises(ValueError, match=r"vx=2\.0 lies outside the trained range"):
        WalkCommand(vx=2.0).check_ranges()


def test_features_do_not_depend_on_position_or_heading_on_the_floor() -> None:
    env = make_env("h1-walk")
    obs, _ = env.reset(seed=0)
    qpos, qvel = obs[None, :26].copy(), obs[None, 26:51].copy()
    qvel[0, :2] = (0.6, 0.1)
    base = walk_features(qpos, qvel, np.zeros((1, 3)), np.zeros(1))
    yaw = 1.1
    rotation = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    moved_qpos, moved_qvel = qpos.copy(), qvel.copy()
    moved_qpos[0, :2] += (3.0, -2.0)
    w, x, y, z = qpos[0, 3:7]
    cz, sz = np.cos(yaw / 2), np.sin(yaw / 2)  # rotate the body about world z by yaw
    moved_qpos[0, 3:7] = (cz * w - sz * z, cz * x - sz * y, cz * y + sz * x, cz * z + sz * w)
    moved_qvel[0, :2] = rotation @ qvel[0, :2]
    moved = walk_features(moved_qpos, moved_qvel, np.zeros((1, 3)), np.zeros(1))
    np.testing.assert_allclose(moved, base, atol=1e-9)


def _tiny(rounds: int) -> WalkDistillConfig:
    return WalkDistillConfig(rounds=rounds, envs=2, steps=40, epochs=2, batch_size=32)


def test_dagger_aggregates_labels_and_resume_reproduces_an_uninterrupted_run(
    teacher_file: Path, tmp_path: Path
) -> None:
    straight = WalkDistillation(_tiny(2), teacher_file, tmp_path / "straight", log=lambda _: None)
    straight.run()
    assert [row["samples"] for row in straight.curve] == [80, 160]
    assert (tmp_path / "straight" / "curve.png").is_file()
    first = WalkDistillation(_tiny(1), teacher_file, tmp_path / "split", log=lambda _: None)
    first.run()  # "killed" after round 1
    resumed = WalkDistillation(_tiny(2), teacher_file, tmp_path / "split", log=lambda _: None)
    resumed.resume()
    resumed.run()
    for key, value in straight.policy.state_dict().items():
        torch.testing.assert_close(resumed.policy.state_dict()[key], value, atol=0, rtol=0)
    other = WalkDistillation(
        WalkDistillConfig(rounds=2, envs=3, steps=40), teacher_file, tmp_path / "split"
    )
    with pytest.raises(ValueError, match="other settings"):
        other.resume()


def test_walk_expert_round_trips_through_a_library(teacher_file: Path, tmp_path: Path) -> None:
    run = WalkDistillation(_tiny(1), teacher_file, tmp_path / "run", log=lambda _: None)
    expert = run.run()
    assert expert.spec.config["provenance"]["samples"] == 80
    library = ExpertLibrary(tmp_path / "lib")
    library.add(expert)
    loaded = ExpertLibrary.load(tmp_path / "lib")["walk"]
    assert isinstance(loaded, WalkExpert)
    obs, _ = make_env("h1-walk").reset(seed=0)
    for walker in (expert, loaded):
        walker.reset(1)
    for _ in range(3):
        np.testing.assert_allclose(loaded.act(obs), expert.act(obs), atol=1e-6)


def test_walk_expert_state_and_command_errors(teacher_file: Path, tmp_path: Path) -> None:
    expert = WalkDistillation(_tiny(1), teacher_file, tmp_path, log=lambda _: None).expert("w")
    obs, _ = make_env("h1-walk").reset(seed=0)
    expert.reset(2)
    assert expert.act(np.stack([obs, obs])).shape == (2, 19)
    np.testing.assert_allclose(expert.clock, [0.02, 0.02])
    with pytest.raises(ValueError, match=r"call reset\(1\)"):
        expert.act(obs)
    with pytest.raises(ValueError, match="no command field"):
        expert.set_command(speed=1.0)
    expert.set_command(vx=0.5, heading=None)
    assert expert.command == WalkCommand(vx=0.5, heading=None)


def test_steer_to_commands_the_goal_in_the_heading_frame(teacher_file: Path,
                                                       tmp_path: Path) -> None:  # fmt: skip
    expert = WalkDistillation(_tiny(1), teacher_file, tmp_path, log=lambda _: None).expert("w")
    (low_x, high_x), (low_y, _) = expert.command_ranges["vx"], expert.command_ranges["vy"]
    facing_y = np.r_[1.0, 2.0, 1.0, np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)]  # yaw pi/2
    expert.steer_to(facing_y, np.array([1.1, 2.0]), gain=1.0, heading=0.3)
    # 0.1 m to the robot's right: a sideways command, none forward
    assert expert.command.vx == pytest.approx(0.0, abs=1e-12)
    assert expert.command.vy == pytest.approx(max(-0.1, low_y))
    assert expert.command.heading == 0.3
    expert.steer_to(facing_y, np.array([1.0, 12.0]), gain=1.0, heading=0.3, max_forward=0.6)
    assert expert.command.vx == min(high_x, 0.6)  # far ahead: clipped
    expert.steer_to(facing_y, np.array([1.0, -8.0]), gain=1.0, heading=0.3)
    assert expert.command.vx == low_x and expert.command.vy == pytest.approx(0.0, abs=1e-9)


def test_h1_walk_teacher_reads_our_state(teacher_file: Path) -> None:
    teacher = H1WalkTeacher(teacher_file)
    teacher.reset(1)
    obs, _ = make_env("h1-walk", reset_noise=0.0).reset(seed=0)
    inputs = teacher.observation(obs[None, :26], obs[None, 26:51], np.array([[1.0, 0, 0]]),
                                 np.zeros(1))  # fmt: skip
    assert inputs.shape == (1, 41)
    np.testing.assert_allclose(inputs[0, 3:6], [0, 0, -1], atol=1e-9)  # upright
    np.testing.assert_allclose(inputs[0, 6:9], [2.0, 0, 0])  # scaled command
    np.testing.assert_allclose(inputs[0, 39:41], [0, 1])  # clock at t = 0
