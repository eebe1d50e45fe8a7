"""The stand expert: gain-scheduled LQR balance of H1 through its position servos.

Waypoints run from the start pose (:data:`KEYFRAME_POSE`) to a low-torque pose
(:data:`LOW_TORQUE_POSE`); each has an equilibrium and its LQR gain (:mod:`balance`). The
schedule variable is read from the state, so the controller is a pure function of the
observation: s is how far the mean knee angle has straightened along the path, and the
reference is taken a little ahead of it (``lead``), so the robot walks itself down the path
in ~2 s and stays at its end; a push that bends the knees moves the reference back with them.
Reference pose, servo targets and gain are interpolated linearly between waypoints.
"""

from __future__ import annotations

import numpy as np

from metaworld_hwm.envs import HumanoidEnv
from metaworld_hwm.skills.balance import (
    KEYFRAME_POSE,
    LOW_TORQUE_POSE,
    LQRWeights,
    StandPose,
    actuated_qpos_index,
    equilibrium,
    lqr_gain,
    quat_difference,
)
from metaworld_hwm.skills.expert import AnalyticExpert, ExpertSpec, register_controller

NQ, NV = 26, 25
_KNEES = (3, 8)  # actuator indices of the left and right knee


@register_controller
class StandController(AnalyticExpert):
    """Balance LQR for H1 (obs layout ``qpos_qvel``); arrays from :func:`build_stand_arrays`."""

    controller_name = "stand_lqr"

    def __init__(self, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> None:
        super().__init__(spec)
        n = len(arrays["knee"])
        shapes = {
            "knee": (n,), "qpos": (n, NQ), "ctrl": (n, 19), "gain": (n, 19, 2 * NV),
            "ctrl_low": (19,), "ctrl_high": (19,), "lead": (1,),
        }  # fmt: skip
        for key, shape in shapes.items():
            got = np.shape(arrays.get(key))
            if key not in arrays or got != shape:
                raise ValueError(
                    f"stand controller {spec.name!r}: array {key!r} must have shape {shape}, "
                    f"got {'missing' if key not in arrays else got}; rebuild the expert with "
                    "`metaworld-hwm experts add stand`"
                )
        if n < 2 or not np.all(np.diff(arrays["knee"]) < 0):
            raise ValueError(f"stand controller {spec.name!r}: knee waypoints must decrease")
        self._arrays = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}

    @classmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> StandController:
        return cls(spec, arrays)

    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self._arrays)

    def reference(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scheduled reference qpos (B, 26), servo targets (B, 19) and gains (B, 19, 50)."""
        ar = self._arrays
        knee_path = ar["knee"]
        qadr = 7 + np.asarray(_KNEES)
        knee = obs[:, qadr].mean(axis=1)
        progress = (knee_path[0] - knee) / (knee_path[0] - knee_path[-1])
        s = np.clip(progress + ar["lead"][0], 0.0, 1.0) * (len(knee_path) - 1)
        i = np.minimum(s.astype(int), len(knee_path) - 2)
        frac = (s - i)[:, None]
        qpos = ar["qpos"][i] * (1 - frac) + ar["qpos"][i + 1] * frac
        qpos[:, 3:7] /= np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)
        ctrl = ar["ctrl"][i] * (1 - frac) + ar["ctrl"][i + 1] * frac
        gain = ar["gain"][i] * (1 - frac[:, :, None]) + ar["gain"][i + 1] * frac[:, :, None]
        return qpos, ctrl, gain

    def servo_targets(
        self,
        obs: np.ndarray,
        joint_ref: np.ndarray | None = None,
        joint_offset: np.ndarray | None = None,
    ) -> np.ndarray:
        """Servo targets (B, 19) for observations (B, >= 51).

        joint_ref: optional (B, 19) joint references replacing the scheduled ones where not
            NaN (the reach expert moves an arm this way).
        joint_offset: (B, 19) holding-torque offsets tau / kp of those joints at joint_ref;
            default: the scheduled pose's.
        """
        qpos_ref, ctrl_ref, gain = self.reference(obs)
        if joint_ref is not None:
            mask = ~np.isnan(joint_ref)
            offset = ctrl_ref - qpos_ref[:, 7:] if joint_offset is None else joint_offset
            ctrl_ref = np.where(mask, np.nan_to_num(joint_ref) + offset, ctrl_ref)
            qpos_ref[:, 7:] = np.where(mask, joint_ref, qpos_ref[:, 7:])
        qpos, qvel = obs[:, :NQ], obs[:, NQ : NQ + NV]
        dq = np.concatenate(
            (qpos[:, :3] - qpos_ref[:, :3], quat_difference(qpos_ref[:, 3:7], qpos[:, 3:7]),
             qpos[:, 7:] - qpos_ref[:, 7:]), axis=1,
        )  # fmt: skip
        state = np.concatenate((dq, qvel), axis=1)
        return ctrl_ref - np.einsum("bij,bj->bi", gain, state)

    def to_action(self, ctrl: np.ndarray) -> np.ndarray:
        """Normalised actions in [-1, 1] of servo targets."""
        low, high = self._arrays["ctrl_low"], self._arrays["ctrl_high"]
        return np.clip(2.0 * (ctrl - low) / (high - low) - 1.0, -1.0, 1.0)

    def _act(self, obs: np.ndarray) -> np.ndarray:
        return self.to_action(self.servo_targets(obs))


def build_stand_arrays(
    start: StandPose = KEYFRAME_POSE,
    end: StandPose = LOW_TORQUE_POSE,
    waypoints: int = 6,
    lead: float = 0.05,
    weights: LQRWeights | None = None,
) -> dict[str, np.ndarray]:
    """Design the schedule: equilibria and LQR gains at ``waypoints`` poses from start to end.

    Takes about half a second. ``lead`` is how far (fraction of the path) the reference runs
    ahead of the state.
    """
    if waypoints < 2:
        raise ValueError(f"waypoints must be >= 2, got {waypoints}")
    weights = weights or LQRWeights()
    model = HumanoidEnv(robot="h1", task="stand").model
    if model.nq != NQ or model.nv != NV:
        raise ValueError(f"the stand controller expects H1 with nq={NQ}, nv={NV}")
    if not np.array_equal(actuated_qpos_index(model), np.arange(7, NQ)):
        raise ValueError("the stand controller expects joints in qpos[7:26] in actuator order")
    rows: dict[str, list[np.ndarray]] = {"knee": [], "qpos": [], "ctrl": [], "gain": []}
    for s in np.linspace(0.0, 1.0, waypoints):
        pose = StandPose(*((1 - s) * np.array(astuple(start)) + s * np.array(astuple(end))))
        eq = equilibrium(model, pose)
        rows["knee"].append(np.array(pose.knee))
        rows["qpos"].append(eq.qpos)
        rows["ctrl"].append(eq.ctrl)
        rows["gain"].append(lqr_gain(model, eq, weights))
    arrays = {k: np.stack(v) for k, v in rows.items()}
    arrays["ctrl_low"], arrays["ctrl_high"] = model.actuator_ctrlrange.T.copy()
    arrays["lead"] = np.array([lead])
    return arrays


def astuple(pose: StandPose) -> tuple[float, float, float]:
    """(pelvis_pitch, hip_pitch, knee) of a pose."""
    return (pose.pelvis_pitch, pose.hip_pitch, pose.knee)
