"""The door's hatch locks it: the lock tab jams on the frame unless the hatch is turned."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs.humanoid_env import HumanoidEnv


def _first_jam(hatch: float) -> float | None:
    """Smallest door angle (rad) at which the door or hatch penetrates the frame, robot away."""
    env = HumanoidEnv("h1grip", "door")
    model, data = env.model, mujoco.MjData(env.model)
    door_q = model.jnt_qposadr[model.joint("door_hinge").id]
    hatch_q = model.jnt_qposadr[model.joint("door_hatch_hinge").id]
    door_bodies = {model.body("door").id, model.body("door_hatch").id}
    frame = model.body("door_wall_connects").id
    for angle in np.linspace(0.005, 1.4, 280):
        data.qpos[:] = model.key_qpos[0]
        data.qpos[0] = -1.0  # robot out of the way
        data.qpos[door_q], data.qpos[hatch_q] = angle, hatch
        mujoco.mj_forward(model, data)
        for c in data.contact[: data.ncon]:
            bodies = {model.geom_bodyid[c.geom1], model.geom_bodyid[c.geom2]}
            if c.dist < 0 and frame in bodies and bodies & door_bodies:
                return float(angle)
    return None


@pytest.mark.parametrize("hatch", [0.0, 0.5])
def test_a_closed_hatch_jams_the_door_within_a_few_degrees(hatch: float) -> None:
    jam = _first_jam(hatch)
    assert jam is not None and jam < 0.05


@pytest.mark.parametrize("hatch", [0.9, 1.3])
def test_a_turned_hatch_lets_the_door_swing_fully_open(hatch: float) -> None:
    assert _first_jam(hatch) is None


def test_tasks_own_their_protocol_success() -> None:
    door = HumanoidEnv("h1grip", "door")
    door.reset(seed=0)
    data, model = door.model, door.unwrapped.data
    hinge = data.jnt_qposadr[data.joint("door_hinge").id]
    assert door.task.goal_reached(door.physics, {}) is False
    model.qpos[hinge] = 0.95
    assert door.task.goal_reached(door.physics, {}) is True and door.task.trial_steps is None
    reach = HumanoidEnv("h1", "reach").task
    assert reach.goal_reached(None, {"hand_dist": 0.01}) and not reach.goal_reached(
        None, {"hand_dist": 0.2}
    )
    walk = HumanoidEnv("h1", "walk").task
    assert walk.goal_reached(None, {}) is None and walk.trial_steps == 1500  # 30 s survival


@pytest.mark.parametrize(
    ("door", "hatch", "unlocked"), [(0.0, 0.0, 0.0), (0.0, 0.95, 1.0), (0.3, 0.0, 1.0)]
)
def test_the_task_reports_the_lock_and_the_grasp_as_signals(door, hatch, unlocked) -> None:
    for robot in ("h1", "h1grip"):  # h1 has no gripper: never a grasp
        env = HumanoidEnv(robot, "door")
        env.reset(seed=0)
        physics, model = env.physics, env.model
        physics.data.qpos[model.jnt_qposadr[model.joint("door_hinge").id]] = door
        physics.data.qpos[model.jnt_qposadr[model.joint("door_hatch_hinge").id]] = hatch
        mujoco.mj_forward(model, physics.data)
        _, terms = env.task.reward(physics)
        assert terms["door_unlocked"] == unlocked and terms["hatch_grasped"] == 0.0
