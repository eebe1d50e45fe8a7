"""Why H1 has no quasi-static gait: the best single-support posture, solved with MuJoCo IK.

A quasi-static walk (keyposes in equilibrium, each held by servo targets ``u0 = q + tau/kp``
and an LQR gain, as :mod:`balance` does for standing) needs single-support keyposes: one sole
flat on the floor with the centre of mass (COM) above it. :func:`best_single_support` searches
for one by least squares over the whole pose (pelvis position and orientation, all joints
within their ranges): stance sole flat at its standing place, swing foot at least ``lift``
above the floor, COM as close as it gets horizontally to the stance sole's centre.

H1's ankle has only a pitch joint, so with the sole flat the leg below the hip-roll joint has
no roll: the stance hip stays above the foot, 0.2 m from the body's midline, and only rolling
the pelvis about the hip-roll axis (range +-0.43 rad) moves the upper body over the foot.
Measured (``lift`` 5 cm; 1 s and 3 s on one core):

* torso and arms held at zero: the COM stays 0.079 m short of the sole's centre line, 0.039 m
  beyond its medial edge (half width 0.04 m), with hip yaw and roll of both legs at their
  limits, the trunk tilted 50 degrees (forward and sideways) and the swing foot 0.4 m up;
* torso and arms free: still 0.045 m short, 0.005 m beyond the edge, and only by also throwing
  both arms across the body (shoulders and elbows near their limits).

So no practical single-support equilibrium exists and a walking expert for H1 must be dynamic
(lateral sway with the COM falling between footfalls, or a learned policy). This module keeps
the IK so the finding can be re-measured, and pinned in tests, when the robot model changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from scipy.optimize import least_squares

from metaworld_hwm.envs import HumanoidEnv
from metaworld_hwm.skills.balance import KEYFRAME_POSE, equilibrium

#: Sole of the ``{side}_foot`` site's ankle link, in the site frame (m): the collision mesh's
#: lowest face spans x in [-0.056, 0.175] and y in [-0.04, 0.04], 0.02 m below the site.
SOLE_CENTRE = np.array([0.06, 0.0, -0.02])
SOLE_HALF_WIDTH = 0.04
_TORSO_AND_ARMS = np.arange(10, 19)  # actuator (and qpos[7:]) indices


@dataclass(frozen=True)
class SupportMargin:
    """The single-support posture closest to static balance, and how far it falls short."""

    qpos: np.ndarray
    """The posture (26,) the search ended in (left foot stance, right foot lifted)."""
    com_offset: np.ndarray
    """Horizontal COM position minus the stance sole's centre (2,), m, world frame."""
    lateral_gap: float
    """How far (m) the COM lies beyond the sole's medial edge; <= 0 means above the sole."""
    swing_height: float
    """Height (m) of the lifted foot's site above its standing height."""


def _rotation(rotvec: np.ndarray) -> np.ndarray:
    quat = np.array([1.0, 0.0, 0.0, 0.0])
    angle = float(np.linalg.norm(rotvec))
    if angle > 1e-12:
        mujoco.mju_axisAngle2Quat(quat, rotvec / angle, angle)
    return quat


def best_single_support(lift: float = 0.05, upper_body_free: bool = False) -> SupportMargin:
    """Search the left-foot single-support posture with the COM nearest the stance sole.

    lift: the right foot's site must be at least this high (m) above its standing height.
    upper_body_free: let the torso and arm joints move too (else they stay at zero).
    """
    model = HumanoidEnv(robot="h1", task="walk").model
    data = mujoco.MjData(model)
    start = equilibrium(model, KEYFRAME_POSE).qpos
    data.qpos[:] = start
    mujoco.mj_kinematics(model, data)
    stance_pos = data.site("left_foot").xpos.copy()
    swing_home = data.site("right_foot").xpos.copy()
    joints = np.arange(19)
    if not upper_body_free:
        joints = np.setdiff1d(joints, _TORSO_AND_ARMS)

    def pose(x: np.ndarray) -> np.ndarray:
        qpos = start.copy()
        qpos[7 + _TORSO_AND_ARMS] = 0.0
        qpos[:3], qpos[3:7], qpos[7 + joints] = x[:3], _rotation(x[3:6]), x[6:]
        return qpos

    def residuals(x: np.ndarray) -> np.ndarray:
        data.qpos[:] = pose(x)
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        stance, swing = data.site("left_foot"), data.site("right_foot")
        rot = stance.xmat.reshape(3, 3)
        sole = stance.xpos + rot @ SOLE_CENTRE
        return np.concatenate((
            100.0 * (stance.xpos - stance_pos), 100.0 * rot[:2, 2], 100.0 * rot[1:2, 0],
            10.0 * (data.subtree_com[1, :2] - sole[:2]),
            [10.0 * min(0.0, swing.xpos[2] - swing_home[2] - lift)],
            3.0 * (swing.xpos[:2] - swing_home[:2]),
        ))  # fmt: skip

    limits = model.jnt_range[1 + joints]
    lower = np.concatenate(([-1.0, -1.0, 0.3], [-np.pi] * 3, limits[:, 0]))
    upper = np.concatenate(([1.0, 1.0, 1.5], [np.pi] * 3, limits[:, 1]))
    x0 = np.clip(np.concatenate((start[:3], np.zeros(3), start[7 + joints])), lower, upper)
    x = least_squares(residuals, x0, bounds=(lower, upper)).x
    residuals(x)
    stance = data.site("left_foot")
    sole = stance.xpos + stance.xmat.reshape(3, 3) @ SOLE_CENTRE
    offset = data.subtree_com[1, :2] - sole[:2]
    return SupportMargin(
        qpos=pose(x),
        com_offset=offset,
        lateral_gap=float(-offset[1] - SOLE_HALF_WIDTH),
        swing_height=float(data.site("right_foot").xpos[2] - swing_home[2]),
    )
