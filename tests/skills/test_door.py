"""The door skills: grasp IK of the gripper arm, and the opener's stages on h1grip-door."""

from __future__ import annotations

import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.hierarchy.build import resolve_library
from metaworld_hwm.skills.door import BAR_GRASP, DoorOpener, GripperArm
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


def test_opener_grasps_and_turns_the_hatch() -> None:
    env = HumanoidEnv("h1grip", "door", max_episode_steps=420)
    obs, _ = env.reset(seed=0)
    opener = DoorOpener(ExpertLibrary.load(resolve_library(None))["walk"])
    stages, peak_hatch = [], 0.0
    for _ in range(420):
        if not stages or stages[-1] != opener.stage:
            stages.append(opener.stage)
        obs, _, terminated, _, _ = env.step(opener.act(obs))
        assert not terminated
        peak_hatch = max(peak_hatch, opener.hatch_angle(obs))
    assert stages[:4] == ["approach", "pregrasp", "grasp", "turn"]
    assert peak_hatch >= 0.9  # unlocked (tests/envs/test_door_lock.py)
