"""The reach expert: left-arm inverse kinematics toward the goal while the legs balance.

Each call solves damped least-squares IK for the four left-arm joints (shoulder pitch, roll,
yaw, elbow) from the current pose toward the goal in the observation, then hands the result to
the stand LQR (:class:`StandController`) as the arm's joint reference: the legs and torso keep
balancing around the moving arm. The arm reference moves at most ``ik_max_step`` rad per
control step toward the IK solution, so a far goal does not swing the arm hard enough to topple
the robot, and its servo targets carry the arm's gravity torque at the reference (u = q + tau /
kp, as the stand equilibria do): without it a raised arm stalls where the 0.05 rad lead of a
kp = 100 servo no longer lifts its weight. A goal out of reach leaves the arm stretched toward
it. Measured (`python bench/experts.py`): 85 % of 40 reachable goals within 5 cm after 250
steps (62 % without the gravity offsets); the misses are mostly the arm blocked by the torso.
"""

from __future__ import annotations

import mujoco
import numpy as np

from metaworld_hwm.envs import HumanoidEnv
from metaworld_hwm.envs.robot import LEFT_ARM
from metaworld_hwm.skills.expert import AnalyticExpert, ExpertSpec, register_controller
from metaworld_hwm.skills.stand import NQ, StandController

_ARM_ACTUATORS = np.arange(11, 15)
#: Extra IK starting poses of the left arm (rad): hanging, forward, raised sideways.
IK_STARTS = ((0.0, 0.0, 0.0, 0.0), (-1.2, 0.3, 0.0, 0.5), (-0.5, 1.2, 0.0, 0.3))


@register_controller
class ReachController(AnalyticExpert):
    """IK for the left arm plus stand balance (obs layout ``qpos_qvel_hand_goal``, 57)."""

    controller_name = "reach_ik"

    def __init__(self, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> None:
        super().__init__(spec)
        stand_arrays = {k: v for k, v in arrays.items() if not k.startswith("ik_")}
        self.stand = StandController(spec, stand_arrays)
        settings = {"ik_damping": 0.05, "ik_iterations": 10.0, "ik_max_step": 0.05}
        settings |= {
            k: float(np.asarray(v).reshape(-1)[0]) for k, v in arrays.items() if k in settings
        }
        self.damping = settings["ik_damping"]
        self.iterations = int(settings["ik_iterations"])
        self.max_step = settings["ik_max_step"]
        self._model: mujoco.MjModel | None = None
        self._data: mujoco.MjData | None = None

    @classmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> ReachController:
        return cls(spec, arrays)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            **self.stand.arrays(),
            "ik_damping": np.array([self.damping]),
            "ik_iterations": np.array([float(self.iterations)]),
            "ik_max_step": np.array([self.max_step]),
        }

    def _kinematics(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        if self._model is None:
            self._model = HumanoidEnv(robot="h1", task="reach").model
            self._data = mujoco.MjData(self._model)
        assert self._data is not None
        return self._model, self._data

    def arm_targets(self, qpos: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, float]:
        """IK solution (4,) of the left arm for one pose qpos (26,), and its hand error (m).

        Solved from the current arm pose and from :data:`IK_STARTS`; the best solution wins,
        the one from the current pose unless another is more than 1 cm closer (continuity).
        """
        data = self._kinematics()[1]
        data.qpos[:NQ] = qpos
        current = qpos[7 + _ARM_ACTUATORS].copy()
        best = self._solve(current, goal)
        for start in IK_STARTS:
            candidate = self._solve(np.asarray(start), goal)
            if candidate[1] < best[1] - 0.01:
                best = candidate
        return best

    def _solve(self, start: np.ndarray, goal: np.ndarray) -> tuple[np.ndarray, float]:
        model, data = self._kinematics()
        joints = [model.joint(n) for n in LEFT_ARM]
        qadr = np.array([j.qposadr[0] for j in joints])
        dofs = np.array([j.dofadr[0] for j in joints])
        low, high = np.array([j.range for j in joints]).T
        site = model.site("left_hand").id
        data.qpos[qadr] = start
        jac = np.zeros((3, model.nv))
        for _ in range(self.iterations):
            mujoco.mj_kinematics(model, data)
            mujoco.mj_comPos(model, data)
            err = goal - data.site_xpos[site]
            mujoco.mj_jacSite(model, data, jac, None, site)
            j_arm = jac[:, dofs]
            step = j_arm.T @ np.linalg.solve(j_arm @ j_arm.T + self.damping**2 * np.eye(3), err)
            data.qpos[qadr] = np.clip(data.qpos[qadr] + np.clip(step, -0.3, 0.3), low, high)
        mujoco.mj_kinematics(model, data)
        return data.qpos[qadr].copy(), float(np.linalg.norm(goal - data.site_xpos[site]))

    def gravity_offset(self, qpos: np.ndarray) -> np.ndarray:
        """Servo offsets (4,) that hold the left arm against gravity at pose qpos (26,): its
        gravity torques over the servo gains (the stand pose's offsets assume a hanging arm;
        a raised one sags below a target that ignores its weight)."""
        model, data = self._kinematics()
        data.qpos[:NQ] = qpos
        data.qvel[:] = 0.0
        mujoco.mj_fwdPosition(model, data)
        mujoco.mj_fwdVelocity(model, data)  # qfrc_bias: gravity alone at zero velocity
        dofs = model.jnt_dofadr[model.actuator_trnid[_ARM_ACTUATORS, 0]]
        return data.qfrc_bias[dofs] / model.actuator_gainprm[_ARM_ACTUATORS, 0]

    def _act(self, obs: np.ndarray) -> np.ndarray:
        joint_ref = np.full((len(obs), 19), np.nan)
        offset = np.zeros((len(obs), 19))
        for b, row in enumerate(obs):
            arm = row[7 + _ARM_ACTUATORS]
            target = self.arm_targets(row[:NQ], row[-3:])[0]
            ref = arm + np.clip(target - arm, -self.max_step, self.max_step)
            joint_ref[b, _ARM_ACTUATORS] = ref
            pose = row[:NQ].copy()
            pose[7 + _ARM_ACTUATORS] = ref
            offset[b, _ARM_ACTUATORS] = self.gravity_offset(pose)
        return self.stand.to_action(self.stand.servo_targets(obs, joint_ref, offset))
