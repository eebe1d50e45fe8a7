"""An ``h1grip`` robot's arm as a manipulator: grasp IK, gravity offsets, force torques.

The door opener (:mod:`metaworld_hwm.skills.door`) drives the left arm through this: the IK
puts the gripper on the hatch bar, and the servo offsets hold the arm up and push the door.
Either arm can be driven (``side``).
"""

from __future__ import annotations

import mujoco
import numpy as np

from metaworld_hwm.envs.robot import ARMS


class GripperArm:
    """Kinematics of one ``h1grip`` arm: grasp IK, gravity offsets, force torques.

    The IK puts the gripper's grip site (``left_grip`` or ``right_grip``) on a point with the
    fingers' closing axis (palm z) perpendicular to the bar: 4 equations for the 4 arm joints,
    so it is exact wherever the point is in reach (a full 6-D pose is not, with no wrist).
    Damped Gauss-Newton from the current pose; with ``joint_names`` starting with ``torso`` it
    is the least-norm step over 5 joints.

    Args:
        model: a scene with the ``h1grip`` robot.
        iterations: Gauss-Newton iterations per solve.
        joint_names: the joints the IK moves (default: the ``side`` arm's four).
        side: ``"left"`` or ``"right"``: whose palm and grip site.
    """

    def __init__(
        self, model: mujoco.MjModel, iterations: int = 15,
        joint_names: tuple[str, ...] | None = None, side: str = "left",
    ) -> None:  # fmt: skip
        if side not in ARMS:
            raise ValueError(f"arm side {side!r} is not 'left' or 'right'")
        joint_names = ARMS[side] if joint_names is None else joint_names
        self.model, self.side = model, side
        self.data = mujoco.MjData(model)
        self.iterations = iterations
        self.joint_names = joint_names
        joints = [model.joint(n) for n in joint_names]
        self.qpos_adr = np.array([j.qposadr[0] for j in joints])
        self.dof_adr = np.array([j.dofadr[0] for j in joints])
        self.actuators = np.array([model.actuator(n).id for n in joint_names])
        self.kp = model.actuator_gainprm[self.actuators, 0]
        self.low, self.high = np.array([j.range for j in joints]).T
        self.palm = model.body(f"{side}_palm").id
        self.grip = model.site(f"{side}_grip").id

    def set_pose(self, qpos: np.ndarray) -> None:
        """Load the scene's full qpos and run the kinematics."""
        self.data.qpos[:] = qpos
        mujoco.mj_kinematics(self.model, self.data)

    def solve(self, qpos: np.ndarray, target: np.ndarray, bar: np.ndarray,
              bias: np.ndarray | None = None, bias_gain: float = 0.0) -> np.ndarray:  # fmt: skip
        """Arm joints (``joint_names``) putting the grip site at ``target`` (3,) with the palm's
        z axis perpendicular to the unit bar direction ``bar`` (3,), from pose ``qpos``.

        With the torso there is one joint more than equations; ``bias`` (one value per joint)
        draws that free motion toward a pose by ``bias_gain`` of the gap per iteration, which
        picks the IK's branch where the least-change step would fork."""
        m, d = self.model, self.data
        d.qpos[:] = qpos
        jac_p, jac_r = np.zeros((3, m.nv)), np.zeros((3, m.nv))
        for _ in range(self.iterations):
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            palm_z = d.xmat[self.palm].reshape(3, 3)[:, 2]
            mujoco.mj_jac(m, d, jac_p, jac_r, d.site_xpos[self.grip], self.palm)
            error = np.r_[target - d.site_xpos[self.grip], -0.3 * (palm_z @ bar)]
            turn_row = 0.3 * np.cross(palm_z, bar) @ jac_r[:, self.dof_adr]
            jac = np.vstack([jac_p[:, self.dof_adr], turn_row[None]])
            damped = jac @ jac.T + 0.02**2 * np.eye(4)
            step = jac.T @ np.linalg.solve(damped, error)
            if bias is not None and bias_gain > 0.0:
                free = np.eye(len(self.qpos_adr)) - jac.T @ np.linalg.solve(damped, jac)
                step = step + free @ (bias_gain * (bias - d.qpos[self.qpos_adr]))
            q = d.qpos[self.qpos_adr] + np.clip(step, -0.2, 0.2)
            d.qpos[self.qpos_adr] = np.clip(q, self.low, self.high)
        mujoco.mj_kinematics(m, d)
        return d.qpos[self.qpos_adr].copy()

    def palm_axis(self) -> np.ndarray:
        """The palm's x axis (3,) (the fingers' direction) at the last solved pose."""
        return self.data.xmat[self.palm].reshape(3, 3)[:, 0].copy()

    def servo_offsets(self, qpos: np.ndarray, arm: np.ndarray, force: np.ndarray) -> np.ndarray:
        """Servo target offsets (4,) that hold the arm at joints ``arm`` against gravity and
        push the grip site with ``force`` (3,) N: (gravity torque + J^T force) / kp."""
        m, d = self.model, self.data
        d.qpos[:] = qpos
        d.qpos[self.qpos_adr] = arm
        d.qvel[:] = 0.0
        mujoco.mj_fwdPosition(m, d)
        mujoco.mj_fwdVelocity(m, d)
        jac = np.zeros((3, m.nv))
        mujoco.mj_jacSite(m, d, jac, None, self.grip)
        torque = d.qfrc_bias[self.dof_adr] + jac[:, self.dof_adr].T @ force
        return torque / self.kp
