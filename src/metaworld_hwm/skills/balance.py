"""Standing equilibria of H1 and LQR gains about them, from MuJoCo's own derivatives.

An equilibrium is a pose plus the servo targets that hold it: the legs are set by
:class:`StandPose` (pelvis pitch, hip pitch, knee; the ankle keeps the sole level), the pelvis
height is solved so the contacts carry the weight exactly, and a small heel-down tilt of the
soles is solved so the contact forces carry no net pitch moment. The tilt matters: with level
soles MuJoCo's soft contacts put the centre of pressure at the sole's middle, ~10 cm ahead of
the centre of mass, and the "equilibrium" would need a torque on the floating base that no
servo can give. The holding torques tau come from ``mj_inverse``; a position servo gives them
with target ``u0 = q + tau / kp``.

The LQR design model is MuJoCo's forward finite-difference linearisation (``mjd_transitionFD``)
of one 2 ms substep, composed over the env's 10 substeps with the control held (the 50 Hz
model). Root x, y and yaw are dropped (nothing in the dynamics restores them, and they break
the Riccati solve) and get zero gain. Differences use eps = 1e-4: smaller steps pick up the
discontinuous choice of contact points on the mesh soles and give a wrong model.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
import scipy.linalg
from scipy.optimize import brentq

from metaworld_hwm.envs.robot import JOINT_NAMES, SERVO_GAINS

#: Root coordinates (in the nv tangent space) with no restoring dynamics: x, y, yaw.
UNCONTROLLED_DOFS = (0, 1, 5)
FRAME_SKIP = 10


@dataclass(frozen=True)
class StandPose:
    """A symmetric standing posture (rad); the ankles keep the soles level."""

    pelvis_pitch: float
    hip_pitch: float
    knee: float


#: HumanoidBench's start pose: knees bent at 0.8 rad.
KEYFRAME_POSE = StandPose(0.0, -0.4, 0.8)
#: Nearly straight legs, upper body leaned forward so the weight sits mid-sole; knee, hip and
#: ankle holding torques stay under 10 N·m (HumanoidBench's small_control margin).
LOW_TORQUE_POSE = StandPose(0.15, -0.15, 0.075)


@dataclass(frozen=True)
class LQRWeights:
    """Cost weights of the balance LQR (state cost on positions only, R = control * I)."""

    com: float = 3000.0
    """On the horizontal offset of the centre of mass from the midpoint of the feet (m)."""
    legs_torso: float = 3.0
    arms: float = 0.3
    control: float = 1.0
    """On servo-target deviations (rad)."""
    fd_eps: float = 1e-4


@dataclass(frozen=True)
class Equilibrium:
    """A standing state and the servo targets that hold it."""

    qpos: np.ndarray
    ctrl: np.ndarray


def actuated_qpos_index(model: mujoco.MjModel) -> np.ndarray:
    """qpos address of each actuator's joint, in actuator order."""
    return model.jnt_qposadr[model.actuator_trnid[:, 0]]


def _servo_kp(model: mujoco.MjModel) -> np.ndarray:
    names = [model.joint(j).name for j in model.actuator_trnid[:, 0]]
    if tuple(names) != JOINT_NAMES:
        raise ValueError(f"balance needs the 19-actuator H1 in JOINT_NAMES order, got {names}")
    return np.array([SERVO_GAINS[n].kp for n in names])


class _Solver:
    def __init__(self, model: mujoco.MjModel, pose: StandPose) -> None:
        self.model, self.pose = model, pose
        self.data = mujoco.MjData(model)
        idx = {n: int(a) for n, a in zip(JOINT_NAMES, actuated_qpos_index(model), strict=True)}
        self.idx = idx

    def qpos(self, height: float, tilt: float) -> np.ndarray:
        p, q = self.pose, self.model.key_qpos[0].copy()
        q[:3] = (0.0, 0.0, height)
        q[3:7] = (np.cos(p.pelvis_pitch / 2), 0.0, np.sin(p.pelvis_pitch / 2), 0.0)
        for side in ("left", "right"):
            q[self.idx[f"{side}_hip_pitch"]] = p.hip_pitch
            q[self.idx[f"{side}_knee"]] = p.knee
            q[self.idx[f"{side}_ankle"]] = -(p.pelvis_pitch + p.hip_pitch + p.knee) + tilt
        return q

    def residual(self, height: float, tilt: float) -> np.ndarray:
        d = self.data
        d.qpos[:] = self.qpos(height, tilt)
        d.qvel[:] = 0.0
        d.qacc[:] = 0.0
        mujoco.mj_inverse(self.model, d)
        return d.qfrc_inverse.copy()

    def touch_height(self, tilt: float) -> float:
        lo, hi = 0.3, 1.5
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            self.data.qpos[:] = self.qpos(mid, tilt)
            mujoco.mj_forward(self.model, self.data)
            dists = [self.data.contact[i].dist for i in range(self.data.ncon)]
            lo, hi = (mid, hi) if dists and min(dists) < 0 else (lo, mid)
        return hi

    def height(self, tilt: float) -> float:
        top = self.touch_height(tilt)
        return brentq(lambda z: self.residual(z, tilt)[2], top - 0.01, top + 1e-7, xtol=1e-10)

    def tilt(self) -> float:
        def pitch_moment(tilt: float) -> float:
            return float(self.residual(self.height(tilt), tilt)[4])

        for bound in (0.003, 0.01, 0.03):
            if pitch_moment(-bound) * pitch_moment(bound) < 0:
                return brentq(pitch_moment, -bound, bound, xtol=1e-12)
        raise ValueError(
            f"no sole tilt balances {self.pose}: its centre of mass lies outside the feet; "
            "choose a pose with the weight over the soles (see LOW_TORQUE_POSE)"
        )


def equilibrium(model: mujoco.MjModel, pose: StandPose) -> Equilibrium:
    """Solve pelvis height and sole tilt for ``pose``; servo targets from ``mj_inverse``."""
    solver = _Solver(model, pose)
    tilt = solver.tilt()
    height = solver.height(tilt)
    qpos = solver.qpos(height, tilt)
    tau = solver.residual(height, tilt)[model.jnt_dofadr[model.actuator_trnid[:, 0]]]
    ctrl = qpos[actuated_qpos_index(model)] + tau / _servo_kp(model)
    return Equilibrium(qpos=qpos, ctrl=ctrl)


def _balance_cost(model: mujoco.MjModel, data: mujoco.MjData, w: LQRWeights) -> np.ndarray:
    nv = model.nv
    jac_com = np.zeros((3, nv))
    mujoco.mj_jacSubtreeCom(model, data, jac_com, model.body("pelvis").id)
    feet = []
    for side in ("left", "right"):
        jac = np.zeros((3, nv))
        mujoco.mj_jacSite(model, data, jac, None, model.site(f"{side}_foot").id)
        feet.append(jac[:2])
    offset = jac_com[:2] - 0.5 * (feet[0] + feet[1])
    q_cost = np.zeros((2 * nv, 2 * nv))
    q_cost[:nv, :nv] = w.com * offset.T @ offset
    dofs = model.jnt_dofadr[model.actuator_trnid[:, 0]]
    for name, dof in zip(JOINT_NAMES, dofs, strict=True):
        arm = "shoulder" in name or "elbow" in name
        q_cost[dof, dof] += w.arms if arm else w.legs_torso
    return q_cost


def lqr_gain(model: mujoco.MjModel, eq: Equilibrium, weights: LQRWeights) -> np.ndarray:
    """Feedback gain K (nu, 2 nv): ``ctrl = eq.ctrl - K [dq; qvel]`` at 50 Hz.

    dq is ``mj_differentiatePos(eq.qpos, qpos)``; the columns of root x, y and yaw are zero.
    """
    nv, nu = model.nv, model.nu
    data = mujoco.MjData(model)
    data.qpos[:] = eq.qpos
    data.ctrl[:] = eq.ctrl
    mujoco.mj_forward(model, data)
    a_sub = np.zeros((2 * nv, 2 * nv))
    b_sub = np.zeros((2 * nv, nu))
    mujoco.mjd_transitionFD(model, data, weights.fd_eps, False, a_sub, b_sub, None, None)
    a_step, b_step = np.eye(2 * nv), np.zeros((2 * nv, nu))
    for _ in range(FRAME_SKIP):
        b_step += a_step @ b_sub
        a_step = a_sub @ a_step
    keep = [i for i in range(2 * nv) if i not in UNCONTROLLED_DOFS]
    a_red, b_red = a_step[np.ix_(keep, keep)], b_step[keep]
    q_red = _balance_cost(model, data, weights)[np.ix_(keep, keep)]
    r_cost = weights.control * np.eye(nu)
    p = scipy.linalg.solve_discrete_are(a_red, b_red, q_red, r_cost)
    k_red = np.linalg.solve(r_cost + b_red.T @ p @ b_red, b_red.T @ p @ a_red)
    gain = np.zeros((nu, 2 * nv))
    gain[:, keep] = k_red
    return gain


def quat_difference(q_ref: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Rotation vectors (B, 3) of ``q_ref^-1 q`` in the frame of q_ref (quaternions wxyz).

    The batched numpy equivalent of the rotation part of ``mj_differentiatePos``.
    """
    w1, v1 = q_ref[..., :1], -q_ref[..., 1:]
    w2, v2 = q[..., :1], q[..., 1:]
    w = w1 * w2 - np.sum(v1 * v2, axis=-1, keepdims=True)
    v = w1 * v2 + w2 * v1 + np.cross(v1, v2)
    sign = np.where(w < 0, -1.0, 1.0)
    w, v = w * sign, v * sign
    sin_half = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, w)
    scale = np.where(sin_half > 1e-12, angle / np.maximum(sin_half, 1e-12), 2.0)
    return v * scale
