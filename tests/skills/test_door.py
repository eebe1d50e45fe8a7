"""The door skills: grasp IK of the gripper arm, and the opener's stages on h1grip-door."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import LEFT_ARM
from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD
from metaworld_hwm.hierarchy.build import resolve_library
from metaworld_hwm.skills.door import (
    BAR_GRASP,
    HATCH_IN_DOOR,
    DoorEpisode,
    DoorOpener,
    run_door_episode,
)
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.gripper_arm import GripperArm
from metaworld_hwm.skills.library import ExpertLibrary


def test_grasp_ik_is_exact_from_the_stance() -> None:
    env = HumanoidEnv("h1grip", "door")
    arm = GripperArm(env.model, iterations=60)
    qpos = env.model.key_qpos[0].copy()
    qpos[:2] = (0.1, 0.0)
    for hatch in (0.0, 1.0):
        c, s = np.cos(hatch), np.sin(hatch)
        turn = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
        target = np.array([0.8, 0.4, 1.2]) + turn @ BAR_GRASP
        bar = turn @ np.array([0.0, -1.0, 0.0])
        joints = arm.solve(qpos, target, bar)
        grip = arm.data.site_xpos[arm.grip]
        palm_z = arm.data.xmat[arm.palm].reshape(3, 3)[:, 2]
        assert np.linalg.norm(grip - target) < 1e-3, (hatch, joints)
        assert abs(palm_z @ bar) < 1e-2


def test_grasp_ik_drives_either_arm() -> None:
    env = HumanoidEnv("h1grip", "door")
    qpos = env.model.key_qpos[0].copy()
    qpos[:2] = (0.1, 0.3)  # straight in front of the grasp point: in either hand's reach
    target, bar = np.array([0.8, 0.4, 1.2]) + BAR_GRASP, np.array([0.0, -1.0, 0.0])
    for side in ("left", "right"):
        arm = GripperArm(env.model, iterations=60, side=side)
        assert arm.joint_names[0] == f"{side}_shoulder_pitch"
        arm.solve(qpos, target, bar)
        grip = arm.data.site_xpos[env.model.site(f"{side}_grip").id]
        assert np.linalg.norm(grip - target) < 1e-3, side
    with pytest.raises(ValueError, match="not 'left' or 'right'"):
        GripperArm(env.model, side="middle")


def test_opener_grasps_and_turns_the_hatch() -> None:
    env = HumanoidEnv("h1grip", "door", max_episode_steps=420)
    obs, _ = env.reset(seed=0)
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    stages, peak_hatch, signals = [], 0.0, {}
    for _ in range(420):
        if not stages or stages[-1] != opener.stage:
            stages.append(opener.stage)
        obs, _, terminated, _, info = env.step(opener.act(obs))
        assert not terminated
        peak_hatch = max(peak_hatch, opener.hatch_angle(obs))
        for name in ("hatch_grasped", "door_unlocked"):  # the task's signals for tier 1
            signals.setdefault((opener.stage, name), []).append(info[name])
    assert stages[:4] == ["approach", "pregrasp", "grasp", "turn"]
    assert peak_hatch >= 0.9  # unlocked (tests/envs/test_door_lock.py)
    assert max(signals["pregrasp", "hatch_grasped"]) == 0.0
    assert signals["grasp", "hatch_grasped"][-1] == 1.0 and min(signals["turn", "hatch_grasped"])
    assert max(signals["grasp", "door_unlocked"]) == 0.0 and max(signals["turn", "door_unlocked"])


def test_a_door_episode_records_stages_peaks_and_each_step() -> None:
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    doors: list[float] = []
    episode = run_door_episode(opener, seed=0, steps=60, watch=lambda env, door: doors.append(door))
    assert [stage for stage, _ in episode.stages] == ["approach", "pregrasp"]
    assert episode.stages[0] == ("approach", 0) and episode.final_stage == "pregrasp"
    assert len(doors) == 60 and episode.door == max(doors) < 0.05
    assert episode.door_angles == doors and len(episode.pelvis_poses) == 60
    assert episode.pelvis_poses[0][2] == pytest.approx(0.0, abs=0.1)  # facing the door
    assert not episode.fell and not episode.opened and episode.task_return > 0
    assert episode.open_steps == 0 and episode.opened_at is None
    assert DoorEpisode(door=DOOR_OPEN_RAD).opened
    assert not DoorEpisode(door=DOOR_OPEN_RAD, fell=True).opened


def test_a_driver_acts_in_the_openers_place() -> None:
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    heard: list[float] = []

    class Holding:  # the opener held at its approach, as a guide's stage limit would
        def start(self, obs: np.ndarray) -> None:
            opener.stage_limit = "approach"

        def act(self, obs: np.ndarray) -> np.ndarray:
            return opener.act(obs)

        def observe(self, obs: np.ndarray, info: dict) -> None:
            heard.append(info["hand_hatch_proximity_reward"])

        def stage(self) -> str:
            return f"held / {opener.stage}"

    episode = run_door_episode(opener, seed=0, steps=60, driver=Holding())
    assert episode.stages == [("held / approach", 0)] and episode.final_stage == "approach"
    assert len(heard) == 60


def test_a_stage_limit_holds_the_opener() -> None:
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    obs = np.zeros(opener.model.nq + opener.model.nv)
    opener.stage, opener.stage_steps = "grasp", opener.config.grasp_steps + 5
    opener.stage_limit = "grasp"
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.stage == "grasp"  # held: the turn waits for its sub-goal
    opener._advance(obs, grip_gap=1.0, stance_error=0.0)
    assert opener.stage == "grasp"
    opener.stage_limit = "turn"
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.stage == "turn"
    opener._advance(obs, grip_gap=1.0, stance_error=0.0)
    assert opener.stage == "pregrasp"  # a lost bar always goes back
    with pytest.raises(ValueError, match="not one of"):
        opener.stage_limit = "open"


def test_past_the_lock_the_turned_lever_is_let_go_and_grasped_again_at_rest() -> None:
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    obs = np.zeros(opener.model.nq + opener.model.nv)
    door, hatch = opener._door_qpos, opener._hatch_qpos
    opener.stage = "pull"
    obs[door], obs[hatch] = 0.2, 1.2
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert (opener.stage, opener.hatch_target()) == ("pull", opener.config.hatch_turn)
    obs[door] = opener.config.unlocked_door + 0.01
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.stage == "release" and opener.grip == 0.0
    for _ in range(opener.config.release_steps + 1):
        opener._advance(obs, grip_gap=0.2, stance_error=0.0)
    assert opener.stage == "pregrasp"
    obs[door], obs[hatch] = 0.28, 0.05  # the door rests on the tab; the lever springs back
    for _ in range(opener.config.pregrasp_steps + 1):
        opener._advance(obs, grip_gap=0.1, stance_error=0.0)
    assert opener.stage == "pregrasp"  # the bar is not between the fingers yet
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.stage == "grasp"
    for _ in range(opener.config.grasp_steps + 1):
        opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.stage == "pull" and opener.hatch_target() == 0.05  # no second turn
    obs[door] = 0.0  # closed again: locked, so the next grasp turns the hatch first
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert not opener.unlocked


def test_without_the_release_the_pull_goes_on_and_turns_the_lever_back_to_rest() -> None:
    walker = ExpertLibrary.load(resolve_library(None))["walk"]
    opener = DoorOpener(walker, config=DoorOpenerConfig(release_at_unlock=False))
    obs = np.zeros(opener.model.nq + opener.model.nv)
    door, hatch = opener._door_qpos, opener._hatch_qpos
    opener.stage, opener.hatch_rest, opener.grip = "pull", 0.02, 0.045
    obs[door], obs[hatch] = 0.2, 1.2
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.hatch_target() == opener.config.hatch_turn  # locked: the lever held turned
    obs[door] = opener.config.unlocked_door + 0.01
    for _ in range(opener.config.release_steps + 5):
        opener._advance(obs, grip_gap=0.0, stance_error=0.0)
        assert opener.stage == "pull" and opener.grip == 0.045  # held on, never released
    assert opener.unlocked and opener.hatch_target() == 0.02  # the lever back at its rest
    obs[door] = 0.1  # swung back into the lock's reach: the lever is turned again
    opener._advance(obs, grip_gap=0.0, stance_error=0.0)
    assert opener.stage == "pull" and opener.hatch_target() == opener.config.hatch_turn


def _hatch_bar(door: float) -> tuple[np.ndarray, np.ndarray]:
    """Grasp point and bar direction of the lever at rest with the door at ``door`` rad."""
    c, s = np.cos(door), np.sin(door)
    turn = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    hinge_in_door = np.array([-0.05, -0.5, 0.0])
    point = np.array([0.75, -0.5, 0.0]) + turn @ (HATCH_IN_DOOR + BAR_GRASP - hinge_in_door)
    return point, turn @ np.array([0.0, -1.0, 0.0])


def test_the_torso_extends_the_grasp_along_the_doors_arc() -> None:
    env = HumanoidEnv("h1grip", "door")
    qpos = env.model.key_qpos[0].copy()
    x, y, heading = DoorOpenerConfig().sweep_stance
    qpos[:2], qpos[3:7] = (x, y), (np.cos(heading / 2), 0, 0, np.sin(heading / 2))
    misses = []
    for joints in (LEFT_ARM, ("torso", *LEFT_ARM)):
        arm, q = GripperArm(env.model, iterations=60, joint_names=joints), qpos.copy()
        for door in (0.3, 0.5, 0.7):  # follow the sweep, each solve from the last
            q[env.model.joint("door_hinge").qposadr[0]] = door
            point, bar = _hatch_bar(door)
            q[arm.qpos_adr] = arm.solve(q, point, bar)
        misses.append(np.linalg.norm(point - arm.data.site_xpos[arm.grip]))
    assert misses[0] > 0.05 and misses[1] < 0.01, misses


def test_the_ik_bias_moves_the_free_joint_and_keeps_the_grasp() -> None:
    """The torso gives the grasp IK one free joint; from an exact grasp, a bias pose draws
    that free motion toward it (here the wound-up branch the sweep opens from) while the grip
    stays on the bar."""
    env = HumanoidEnv("h1grip", "door")
    qpos = env.model.key_qpos[0].copy()
    x, y, heading = DoorOpenerConfig().sweep_stance
    qpos[:2], qpos[3:7] = (x, y), (np.cos(heading / 2), 0, 0, np.sin(heading / 2))
    qpos[env.model.joint("door_hinge").qposadr[0]] = 0.4
    point, bar = _hatch_bar(0.4)
    arm = GripperArm(env.model, iterations=60, joint_names=("torso", *LEFT_ARM))
    qpos[arm.qpos_adr] = arm.solve(qpos, point, bar)
    wound_up = np.array([-1.7, 1.0, 0.9, 2.2, 2.0])
    gaps = []
    for gain in (0.0, 0.05):
        arm = GripperArm(env.model, joint_names=("torso", *LEFT_ARM))  # one control step's IK
        gaps.append(np.linalg.norm(arm.solve(qpos, point, bar, wound_up, gain) - wound_up))
        assert np.linalg.norm(point - arm.data.site_xpos[arm.grip]) < 1e-3, gain
    assert gaps[1] < gaps[0] - 0.3, gaps
    with pytest.raises(ValueError, match="ik_bias_pose needs 5 joint angles"):
        DoorOpenerConfig(ik_bias_pose=(0.0, 0.0, 0.0, 0.0))


def test_the_sweep_stance_recedes_with_the_door() -> None:
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    cfg = opener.config
    opener.stage, opener.unlocked = "grasp", True
    goal, heading = opener._sweep_stance(0.6)
    np.testing.assert_allclose([*goal, heading], cfg.sweep_stance)
    opener.stage = "pull"
    np.testing.assert_allclose([*opener._sweep_stance(0.2)[0]], cfg.sweep_stance[:2])
    goal, heading = opener._sweep_stance(DOOR_OPEN_RAD)
    np.testing.assert_allclose([*goal, heading], cfg.sweep_stance_open)


def test_the_hold_legs_take_over_the_gait_once_the_door_is_open() -> None:
    library = ExpertLibrary.load(resolve_library(None))
    walk = library["walk"]
    sweep, hold = copy.copy(walk), copy.copy(walk)
    opener = DoorOpener(walk, sweep_legs=sweep, hold_legs=hold)
    assert {id(w) for w in opener._walkers()} == {id(walk), id(sweep), id(hold)}
    env = HumanoidEnv("h1grip", "door")
    obs, _ = env.reset(seed=0)
    opener.unlocked = True

    def pull(door: float) -> None:  # a step of the pull (the bar is far off: a lost grasp after)
        opener.stage = "pull"
        obs[opener._door_qpos] = door
        opener.act(obs)

    pull(0.5)  # sweeping: the sweep walker steps
    assert sweep.clock[0] > 0.0 and hold.clock[0] == 0.0 and not opener.holding
    pull(DOOR_OPEN_RAD)  # open: the hold walker goes on from the sweep walker's clock
    assert opener.holding and hold.clock[0] == pytest.approx(2 * sweep.clock[0])
    pull(0.6)  # swung back: still the hold walker's, until the pull ends
    assert opener.holding and hold.clock[0] == pytest.approx(3 * sweep.clock[0])
    opener.stage = "pregrasp"
    opener.act(obs)
    assert not opener.holding
    state = opener.episode_state()
    del state["hold_legs"], state["holding"]  # saved before the hold role: the sweep's
    opener.load_episode_state(state)
    np.testing.assert_array_equal(hold.clock, sweep.clock)
    assert not opener.holding
