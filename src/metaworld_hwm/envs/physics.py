"""Named physics accessors for an H1 scene, the dm_control way.

Every quantity the rewards read is one method with its unit or frame in the docstring. They
read MuJoCo's state as the last of the env's substeps left it (no extra ``mj_forward``), as
HumanoidBench does: positions and sensors lag ``qpos`` by one 2 ms substep.
"""

from __future__ import annotations

import mujoco
import numpy as np

from metaworld_hwm.envs.robot import FREE_JOINT


class H1Physics:
    """A MuJoCo model and data of an H1 scene with the ids the tasks need resolved once."""

    def __init__(self, model: mujoco.MjModel, data: mujoco.MjData) -> None:
        self.model = model
        self.data = data
        self._head = model.site("head").id
        self._imu = model.site("imu").id
        self._left_hand = model.site("left_hand").id
        self._right_hand = model.site("right_hand").id
        self._torso = model.body("torso_link").id
        self._pelvis = model.body("pelvis").id
        com_sensor = model.sensor("pelvis_subtreelinvel")
        self._com_vel = slice(com_sensor.adr[0], com_sensor.adr[0] + 3)
        self._root_qpos = int(model.jnt_qposadr[model.joint(FREE_JOINT).id])

    def pelvis_height(self) -> float:
        """Pelvis origin height ``qpos[2]`` (m, world z); current, not lagged."""
        return float(self.data.qpos[self._root_qpos + 2])

    def head_height(self) -> float:
        """Height of the ``head`` site (m, world z)."""
        return float(self.data.site_xpos[self._head, 2])

    def torso_upright(self) -> float:
        """World-z component of the torso's z axis (1 upright, 0 lying, -1 upside down)."""
        return float(self.data.xmat[self._torso, 8])

    def pelvis_upright(self) -> float:
        """World-z component of the pelvis's z axis."""
        return float(self.data.xmat[self._pelvis, 8])

    def center_of_mass_velocity(self) -> np.ndarray:
        """Whole-robot centre-of-mass linear velocity (m/s, world frame), shape (3,)."""
        return self.data.sensordata[self._com_vel]

    def actuator_forces(self) -> np.ndarray:
        """Actuator forces (N·m or N), shape (nu,)."""
        return self.data.actuator_force

    def imu_position(self) -> np.ndarray:
        """Position of the ``imu`` site on the torso (m, world frame)."""
        return self.data.site_xpos[self._imu]

    def left_hand_position(self) -> np.ndarray:
        """Position of the ``left_hand`` site (m, world frame)."""
        return self.data.site_xpos[self._left_hand]

    def right_hand_position(self) -> np.ndarray:
        """Position of the ``right_hand`` site (m, world frame)."""
        return self.data.site_xpos[self._right_hand]

    def body_position(self, body_id: int) -> np.ndarray:
        """World position of body ``body_id`` (m)."""
        return self.data.xpos[body_id]
