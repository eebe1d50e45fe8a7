"""Door: pull a hinged door open by its hatch handle and walk through (HumanoidBench ``Door``).

Scene (HumanoidBench ``tasks/door.xml``): a 0.14 x 0.96 x 1.98 m door (density 600) at x = 0.8,
hinged about z at its -y edge (stiffness 50, range 0..1.4 rad), opening toward the robot, so it
must be pulled. A hatch handle at (0, 0.4, 1.2) on the door turns about x (range 0..2,
stiffness 2, gravity-compensated). A corridor 1.16 m wide leads to it, closed by a wall at
x = -1.4. HumanoidBench keeps separate visual and collision copies of each geom; here each geom
does both, with the same shapes, masses and contact defaults.
"""

from __future__ import annotations

import mujoco
import numpy as np

from metaworld_hwm.envs.physics import H1Physics
from metaworld_hwm.envs.rewards import tolerance
from metaworld_hwm.envs.robot import GRIPPER_RANGE
from metaworld_hwm.envs.tasks.base import Task, stand_terms

_BOX = mujoco.mjtGeom.mjGEOM_BOX
_CYLINDER = mujoco.mjtGeom.mjGEOM_CYLINDER
_WOOD = (0.45, 0.3, 0.18, 1.0)
_METAL = (0.7, 0.7, 0.72, 1.0)
_WALL = (0.8, 0.8, 0.83, 0.3)

_HALF = float(np.sqrt(0.5))
_ALONG_X = (_HALF, 0.0, _HALF, 0.0)  # turns a cylinder's z axis onto x
_ALONG_Y = (_HALF, -_HALF, 0.0, 0.0)  # turns a cylinder's z axis onto y
#: Hatch cylinders (pos, (radius, half-length), orientation) from HumanoidBench's door.xml:
#: the hinge axle on both faces, a handle bar on each face, and a lock tab on each face.
_HATCH_CYLINDERS = (
    ((-0.12, 0.0, 0.0), (0.05, 0.05), _ALONG_X),
    ((0.12, 0.0, 0.0), (0.05, 0.05), _ALONG_X),
    ((-0.141, -0.1, 0.0), (0.02, 0.1), _ALONG_Y),
    ((0.141, -0.1, 0.0), (0.02, 0.1), _ALONG_Y),
    ((0.15, 0.07, 0.0), (0.01, 0.07), _ALONG_Y),
    ((-0.15, 0.07, 0.0), (0.01, 0.07), _ALONG_Y),
)
#: Static frame and corridor boxes (pos, half-size), relative to (0.8, 0, 0).
_WALL_BOXES = (
    ((0.0, 0.66, 1.0), (0.12, 0.14, 1.0)),
    ((0.0, -0.66, 1.0), (0.12, 0.14, 1.0)),
    ((0.0, 0.0, 2.19), (0.12, 0.82, 0.19)),
    ((-1.31, -0.7, 1.19), (1.19, 0.12, 1.19)),
    ((-1.31, 0.7, 1.19), (1.19, 0.12, 1.19)),
    ((-2.35, 0.0, 1.19), (0.15, 0.58, 1.19)),
)
DOOR_X = 0.8
#: The front handle bar's axis (ends in the hatch's frame) and how near a gripper's grip site
#: must be to it to hold it (m): the bar's radius plus a little slack in the pocket.
_FRONT_BAR = (np.array([-0.141, -0.2, 0.0]), np.array([-0.141, 0.0, 0.0]))
GRASP_REACH = 0.035
#: The door hinge's stop (rad): its range is 0 (shut) to this.
DOOR_STOP_RAD = 1.4
#: Door hinge angle (rad) that counts as opened in the evaluation protocol: 52 degrees, wide
#: enough to pass (the door's range is ``DOOR_STOP_RAD``).
DOOR_OPEN_RAD = 0.9
#: IMU x (m) past which the robot is through the doorway: the passage reward is whole there.
PASSAGE_X = 1.2
#: The lock (``tests/envs/test_door_lock.py``): the hatch's tab clears the frame with the hatch
#: turned to this angle (rad) or more, and the door is past the frame's reach beyond
#: ``LOCK_CLEAR_DOOR`` whatever the hatch does.
LOCK_CLEAR_HATCH = 0.9
LOCK_CLEAR_DOOR = 0.275


class Door(Task):
    """``0.1 stand*small_control + 0.45 open + 0.05 hatch + 0.05 proximity + 0.35 passage``."""

    name = "door"
    success_bar = 600.0
    termination_height = 0.58

    def __init__(self) -> None:
        self._door_qpos = self._hatch_qpos = self._hatch_body = -1
        self._grippers: list[tuple[int, int]] = []  # (grip site, finger qpos) per gripper

    def add_to_scene(self, spec: mujoco.MjSpec) -> None:
        door = spec.worldbody.add_body(name="door", pos=(DOOR_X, 0, 0))
        door.add_joint(
            name="door_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, pos=(-0.05, -0.5, 1.0),
            axis=(0, 0, 1), range=(0.0, DOOR_STOP_RAD), stiffness=50.0,
        )  # fmt: skip
        door.add_geom(
            name="door_body", type=_BOX, pos=(0, 0, 1), size=(0.07, 0.48, 0.99), density=600.0,
            rgba=_WOOD,
        )  # fmt: skip
        hatch = door.add_body(name="door_hatch", pos=(0, 0.4, 1.2), gravcomp=1.0)
        hatch.add_joint(
            name="door_hatch_hinge", type=mujoco.mjtJoint.mjJNT_HINGE, axis=(1, 0, 0),
            range=(0.0, 2.0), stiffness=2.0,
        )  # fmt: skip
        for pos, size, quat in _HATCH_CYLINDERS:
            hatch.add_geom(type=_CYLINDER, pos=pos, size=(*size, 0), quat=quat, rgba=_METAL)
        frame = spec.worldbody.add_body(name="door_wall_connects", pos=(DOOR_X, 0, 0))
        for pos, size in _WALL_BOXES:
            frame.add_geom(type=_BOX, pos=pos, size=size, rgba=_WALL)

    def bind(self, physics: H1Physics) -> None:
        model = physics.model
        self._door_qpos = int(model.jnt_qposadr[model.joint("door_hinge").id])
        self._hatch_qpos = int(model.jnt_qposadr[model.joint("door_hatch_hinge").id])
        self._hatch_body = model.body("door_hatch").id
        self._grippers = [
            (
                model.site(f"{side}_grip").id,
                int(model.jnt_qposadr[model.joint(f"{side}_finger_upper").id]),
            )
            for side in ("left", "right")
            if mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, f"{side}_grip") >= 0
        ]

    def hatch_grasped(self, physics: H1Physics) -> bool:
        """A gripper holds the hatch's front bar: closed past half its travel with the bar in
        its pocket (the grip site within ``GRASP_REACH`` of the bar's axis). Never true on a
        robot without grippers."""
        if not self._grippers:
            return False
        data = physics.data
        rotation = data.xmat[self._hatch_body].reshape(3, 3)
        ends = [data.xpos[self._hatch_body] + rotation @ end for end in _FRONT_BAR]
        axis = ends[1] - ends[0]
        for site, finger in self._grippers:
            if data.qpos[finger] < 0.5 * GRIPPER_RANGE[1]:
                continue
            along = np.clip((data.site_xpos[site] - ends[0]) @ axis / (axis @ axis), 0.0, 1.0)
            if np.linalg.norm(data.site_xpos[site] - ends[0] - along * axis) <= GRASP_REACH:
                return True
        return False

    def door_angle(self, physics: H1Physics) -> float:
        """Door hinge angle (rad); 0 closed, 1.4 fully open."""
        return float(physics.data.qpos[self._door_qpos])

    def goal_reached(self, physics: H1Physics, info: dict[str, float]) -> bool:
        """The door is open to :data:`DOOR_OPEN_RAD`."""
        return self.door_angle(physics) >= DOOR_OPEN_RAD

    def passed_through(self, physics: H1Physics) -> bool:
        """The robot's IMU is past :data:`PASSAGE_X`, through the doorway."""
        return float(physics.imu_position()[0]) >= PASSAGE_X

    def reward(self, physics: H1Physics) -> tuple[float, dict[str, float]]:
        terms = stand_terms(physics, upright_margin=0.9)
        angle = self.door_angle(physics)
        hatch_angle = float(physics.data.qpos[self._hatch_qpos])
        hatch = physics.body_position(self._hatch_body)
        closest = min(
            float(np.linalg.norm(hatch - physics.left_hand_position())),
            float(np.linalg.norm(hatch - physics.right_hand_position())),
        )
        terms |= {
            "door_openness_reward": min(1.0, angle * abs(angle)),
            "door_hatch_openness_reward": tolerance(
                hatch_angle, bounds=(0.75, 2.0), margin=0.75,
                sigmoid="linear",
            ),
            "hand_hatch_proximity_reward": tolerance(
                closest, bounds=(0.0, 0.25), margin=1.0, sigmoid="linear"
            ),
            "passage_reward": tolerance(
                float(physics.imu_position()[0]), bounds=(PASSAGE_X, float("inf")), margin=1.0,
                sigmoid="linear", value_at_margin=0.0,
            ),
            # stage signals for tier 1's sub-goals (not in the reward)
            "hatch_grasped": float(self.hatch_grasped(physics)),
            "door_unlocked": float(hatch_angle >= LOCK_CLEAR_HATCH or angle >= LOCK_CLEAR_DOOR),
        }  # fmt: skip
        reward = (
            0.1 * terms["stand_reward"] * terms["small_control"]
            + 0.45 * terms["door_openness_reward"]
            + 0.05 * terms["door_hatch_openness_reward"]
            + 0.05 * terms["hand_hatch_proximity_reward"]
            + 0.35 * terms["passage_reward"]
        )
        return reward, terms
