"""Build HumanoidBench's position-controlled Unitree H1 from MuJoCo Menagerie, in code.

Menagerie's ``unitree_h1`` drives its joints with torque motors and uses primitive collision
shapes. HumanoidBench's ``h1_pos.xml`` differs in a handful of places, and :func:`build_robot`
applies exactly those differences with :class:`mujoco.MjSpec` (the installed files are only read):

* every actuator becomes a position servo ``force = kp (ctrl - q) - kv qdot`` with the kp, kv and
  force range of :data:`SERVO_GAINS`, and ``ctrlrange`` equal to the joint range;
* ``hip_pitch`` range is widened to [-3.14, 2.53];
* collision geometry is the link meshes (convex hulls) plus the hip-yaw cylinders, as in
  HumanoidBench, and Menagerie's torso/shoulder contact exclusions are dropped;
* each foot collides through HumanoidBench's sole, a 30 x 3 cm slab (:data:`SOLE_BOX`), not
  Menagerie's 24 x 8 cm foot mesh, whose visual mesh it keeps: closed-loop walking depends
  on it (a walking policy that returns ~906 on HumanoidBench's foot falls within 150 steps
  on Menagerie's);
* the ankle links carry HumanoidBench's inertial (0.552448 kg each; robot 51.65 kg);
* sites ``com``, ``head``, ``left_foot``/``right_foot``, ``left_hand``/``right_hand`` (``imu``
  exists already), the touch sensors and the ``pelvis_subtreelinvel`` sensor.

The ``h1grip`` variant adds a two-finger parallel gripper per arm (see :func:`_add_gripper`):
HumanoidBench's ``h1hand`` uses Shadow hands, which are not available offline.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from metaworld_hwm.envs.assets import menagerie_h1_xml

JOINT_NAMES: tuple[str, ...] = (
    "left_hip_yaw", "left_hip_roll", "left_hip_pitch", "left_knee", "left_ankle",
    "right_hip_yaw", "right_hip_roll", "right_hip_pitch", "right_knee", "right_ankle",
    "torso",
    "left_shoulder_pitch", "left_shoulder_roll", "left_shoulder_yaw", "left_elbow",
    "right_shoulder_pitch", "right_shoulder_roll", "right_shoulder_yaw", "right_elbow",
)  # fmt: skip
#: The left arm's joints, shoulder to elbow (the H1's arm has no wrist).
LEFT_ARM: tuple[str, ...] = JOINT_NAMES[11:15]
#: The right arm's joints, shoulder to elbow.
RIGHT_ARM: tuple[str, ...] = JOINT_NAMES[15:19]
#: Each arm's joints by side.
ARMS: dict[str, tuple[str, ...]] = {"left": LEFT_ARM, "right": RIGHT_ARM}


@dataclass(frozen=True)
class ServoGains:
    """Position-servo parameters of one actuator (HumanoidBench ``h1_pos.xml``)."""

    kp: float
    kv: float
    max_force_nm: float


_HIP = ServoGains(kp=200.0, kv=5.0, max_force_nm=200.0)
_SHOULDER = ServoGains(kp=100.0, kv=2.0, max_force_nm=40.0)
_ARM = ServoGains(kp=100.0, kv=2.0, max_force_nm=18.0)

SERVO_GAINS: dict[str, ServoGains] = {}
for _side in ("left", "right"):
    SERVO_GAINS |= {
        f"{_side}_hip_yaw": _HIP,
        f"{_side}_hip_roll": _HIP,
        f"{_side}_hip_pitch": _HIP,
        f"{_side}_knee": ServoGains(kp=300.0, kv=6.0, max_force_nm=300.0),
        f"{_side}_ankle": ServoGains(kp=40.0, kv=2.0, max_force_nm=40.0),
        f"{_side}_shoulder_pitch": _SHOULDER,
        f"{_side}_shoulder_roll": _SHOULDER,
        f"{_side}_shoulder_yaw": _ARM,
        f"{_side}_elbow": _ARM,
    }
SERVO_GAINS["torso"] = ServoGains(kp=300.0, kv=6.0, max_force_nm=200.0)

#: Standing keyframe of the robot joints (pelvis at 0.98 m, knees bent).
HOME_JOINT_POSITIONS: dict[str, float] = {
    "left_hip_pitch": -0.4, "left_knee": 0.8, "left_ankle": -0.4,
    "right_hip_pitch": -0.4, "right_knee": 0.8, "right_ankle": -0.4,
}  # fmt: skip
HOME_PELVIS_POSITION = (0.0, 0.0, 0.98)

HIP_PITCH_RANGE = (-3.14, 2.53)
#: MuJoCo physics step (s), HumanoidBench's.
PHYSICS_TIMESTEP = 0.002
#: Physics steps per control step.
FRAME_SKIP = 10
#: One control step (s): the period of every env step, 0.02 s (50 Hz). The one definition.
CONTROL_DT = PHYSICS_TIMESTEP * FRAME_SKIP
FREE_JOINT = "free_base"

_ANKLE_INERTIAL = {
    "ipos": (0.048568, 0.0, -0.045609),
    "iquat": (0.489385, 0.510394, 0.510394, 0.489385),
    "mass": 0.552448,
    "inertia": (0.00362, 0.00355701, 0.000149987),
}

#: Links whose collision geometry is their mesh in HumanoidBench (hip yaw keeps its cylinder,
#: the ankle links get :data:`SOLE_BOX`).
_MESH_COLLISION_LINKS = (
    "pelvis",
    "torso_link",
    *(
        f"{side}_{link}_link"
        for side in ("left", "right")
        for link in ("hip_roll", "hip_pitch", "knee", "shoulder_pitch",
                     "shoulder_roll", "shoulder_yaw", "elbow")
    ),
)  # fmt: skip


@dataclass(frozen=True)
class SoleBox:
    """A foot's collision box in its ankle link's frame (m)."""

    centre: tuple[float, float, float]
    half_size: tuple[float, float, float]


#: HumanoidBench's foot. Its collision hull spans x -0.10..0.20 and y -0.015..0.015 with the
#: flat sole at z = -0.070 in the ankle frame; this box reproduces that sole, and with it the
#: walking of policies trained on HumanoidBench (the hull's taper never touches the floor).
SOLE_BOX = SoleBox(centre=(0.05, 0.0, -0.0625), half_size=(0.15, 0.015, 0.0075))

ROBOTS: tuple[str, ...] = ("h1", "h1grip")

#: Gripper finger travel (m): 0 is open (6.8 cm between the lips), the pads meet a 4 cm bar
#: at ~0.034 and the lips each other at the upper bound.
GRIPPER_RANGE = (0.0, 0.045)
#: Gripper servo stiffness (N/m) and force limit (N): a stiff servo that saturates at the limit
#: when commanded closed on a bar (at kp = 200 it squeezed with 5 N).
GRIPPER_KP = 10000.0
GRIPPER_MAX_FORCE = 40.0
#: Where a held bar sits, in the palm's frame (m): between the palm and the finger lips.
GRIP_POCKET = (0.045, 0.0, 0.0)
_SQRT_HALF = float(np.sqrt(0.5))


def build_robot(robot: str = "h1") -> mujoco.MjSpec:
    """Return an :class:`mujoco.MjSpec` of HumanoidBench's position-controlled H1.

    Args:
        robot: ``"h1"`` (19 actuators, HumanoidBench ``h1``) or ``"h1grip"`` (H1 plus a
            two-finger gripper per arm, 21 actuators).

    Raises:
        ValueError: unknown robot name.
    """
    if robot not in ROBOTS:
        raise ValueError(f"unknown robot {robot!r}; accepted robots: {', '.join(ROBOTS)}")
    spec = mujoco.MjSpec.from_file(str(menagerie_h1_xml()))
    _set_physics_options(spec)
    _use_mesh_collisions(spec)
    spec.body("pelvis").joints[0].name = FREE_JOINT
    spec.joint("left_hip_pitch").range = HIP_PITCH_RANGE
    spec.joint("right_hip_pitch").range = HIP_PITCH_RANGE
    for side in ("left", "right"):
        ankle = spec.body(f"{side}_ankle_link")
        for attr, value in _ANKLE_INERTIAL.items():
            setattr(ankle, attr, value)
    _add_sites_and_sensors(spec)
    for light in list(spec.lights):
        spec.delete(light)
    _convert_to_position_servos(spec)
    if robot == "h1grip":
        for side in ("left", "right"):
            _add_gripper(spec, side)
    return spec


def _set_physics_options(spec: mujoco.MjSpec) -> None:
    opt = spec.option
    opt.timestep = PHYSICS_TIMESTEP
    opt.iterations = 100
    opt.ls_iterations = 50
    opt.solver = mujoco.mjtSolver.mjSOL_NEWTON
    opt.integrator = mujoco.mjtIntegrator.mjINT_EULER


def _use_mesh_collisions(spec: mujoco.MjSpec) -> None:
    hip_yaw_links = {"left_hip_yaw_link", "right_hip_yaw_link"}
    for body in spec.bodies:
        if body.name in hip_yaw_links:
            continue
        for geom in list(body.geoms):
            if geom.contype or geom.conaffinity:
                spec.delete(geom)
    for name in _MESH_COLLISION_LINKS:
        spec.body(name).add_geom(
            type=mujoco.mjtGeom.mjGEOM_MESH,
            meshname=name,  # Menagerie names each link's mesh after the link
            group=3,
            mass=0.0,
            density=0.0,
            contype=1,
            conaffinity=1,
        )
    for side in ("left", "right"):
        spec.body(f"{side}_ankle_link").add_geom(
            name=f"{side}_sole",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            pos=SOLE_BOX.centre,
            size=SOLE_BOX.half_size,
            group=3,
            mass=0.0,
            density=0.0,
            contype=1,
            conaffinity=1,
        )
    for exclude in list(spec.excludes):
        spec.delete(exclude)


def _add_sites_and_sensors(spec: mujoco.MjSpec) -> None:
    spec.body("pelvis").add_site(name="com", pos=(0, 0, 0), size=(0.01, 0, 0), group=4)
    spec.body("torso_link").add_site(name="head", pos=(0, 0, 0.7), size=(0.01, 0, 0), group=4)
    for side in ("left", "right"):
        spec.body(f"{side}_ankle_link").add_site(
            name=f"{side}_foot", pos=(0, 0, -0.05), size=(0.001, 0, 0), group=4
        )
        spec.body(f"{side}_elbow_link").add_site(
            name=f"{side}_hand", pos=(0.31, 0, -0.01), size=(0.01, 0, 0), group=4
        )
        spec.add_sensor(
            name=f"{side}_foot_sensor",
            type=mujoco.mjtSensor.mjSENS_TOUCH,
            objtype=mujoco.mjtObj.mjOBJ_SITE,
            objname=f"{side}_foot",
        )
    spec.add_sensor(
        name="pelvis_subtreelinvel",
        type=mujoco.mjtSensor.mjSENS_SUBTREELINVEL,
        objtype=mujoco.mjtObj.mjOBJ_BODY,
        objname="pelvis",
    )
    spec.body("pelvis").add_camera(
        name="track",
        pos=(2.2, -2.6, 0.9),
        xyaxes=(0.76, 0.65, 0, -0.12, 0.14, 0.98),
        mode=mujoco.mjtCamLight.mjCAMLIGHT_TRACKCOM,
    )


def _convert_to_position_servos(spec: mujoco.MjSpec) -> None:
    for actuator in spec.actuators:
        gains = SERVO_GAINS[actuator.target]
        actuator.set_to_position(kp=gains.kp, kv=gains.kv)
        actuator.ctrlrange = spec.joint(actuator.target).range
        actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        actuator.forcerange = (-gains.max_force_nm, gains.max_force_nm)
        actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


def _add_gripper(spec: mujoco.MjSpec, side: str) -> None:
    """A palm and two hooked fingers that close vertically (along the forearm's z axis).

    The palm sits at the hand site; the fingers point forward along the forearm and close on
    a bar held across it (the door hatch handle). Each finger is a pad with a rounded lip at
    its tip that curls toward the other finger: closed on a bar in the pocket between palm
    and lips (:data:`GRIP_POCKET`), the lips lie behind the bar, so a pull along the forearm
    is carried by contact normals, not by friction (MuJoCo's soft contacts creep under a
    sustained tangential load: a flat pinch of 40 N slid off the hatch under a ~20 N pull).
    One servo per hand drives the upper finger; an equality constraint mirrors it on the
    lower one.
    """
    elbow = spec.body(f"{side}_elbow_link")
    palm = elbow.add_body(name=f"{side}_palm", pos=(0.31, 0, -0.01))
    palm.add_geom(
        type=mujoco.mjtGeom.mjGEOM_BOX, size=(0.015, 0.03, 0.045), mass=0.15,
        rgba=(0.2, 0.2, 0.2, 1),
    )  # fmt: skip
    palm.add_site(name=f"{side}_grip", pos=GRIP_POCKET, size=(0.01, 0, 0), group=4)
    finger_joints = []
    for name, sign in (("upper", 1.0), ("lower", -1.0)):
        finger = palm.add_body(name=f"{side}_finger_{name}", pos=(0.055, 0, sign * 0.06))
        joint = finger.add_joint(
            name=f"{side}_finger_{name}",
            type=mujoco.mjtJoint.mjJNT_SLIDE,
            axis=(0, 0, -sign),
            range=GRIPPER_RANGE,
            damping=1.0,
            armature=0.01,
        )
        finger.add_geom(
            type=mujoco.mjtGeom.mjGEOM_BOX, size=(0.04, 0.025, 0.006), mass=0.05,
            friction=(1.5, 0.005, 0.0001), rgba=(0.3, 0.3, 0.35, 1),
        )  # fmt: skip
        finger.add_geom(
            type=mujoco.mjtGeom.mjGEOM_CAPSULE, pos=(0.034, 0, -sign * 0.018),
            size=(0.008, 0.025, 0), quat=(_SQRT_HALF, _SQRT_HALF, 0, 0), mass=0.01,
            friction=(1.5, 0.005, 0.0001), rgba=(0.3, 0.3, 0.35, 1),
        )  # fmt: skip
        spec.add_exclude(bodyname1=f"{side}_elbow_link", bodyname2=finger.name)
        finger_joints.append(joint.name)
    spec.add_equality(
        type=mujoco.mjtEq.mjEQ_JOINT,
        name1=finger_joints[1],
        name2=finger_joints[0],
        objtype=mujoco.mjtObj.mjOBJ_JOINT,
    )
    actuator = spec.add_actuator(name=f"{side}_gripper", target=finger_joints[0])
    actuator.trntype = mujoco.mjtTrn.mjTRN_JOINT
    actuator.set_to_position(kp=GRIPPER_KP, kv=GRIPPER_KP / 50.0)
    actuator.ctrlrange = GRIPPER_RANGE
    actuator.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
    actuator.forcerange = (-GRIPPER_MAX_FORCE, GRIPPER_MAX_FORCE)
    actuator.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE


def home_qpos(model: mujoco.MjModel) -> np.ndarray:
    """The standing keyframe for ``model``: pelvis at 0.98 m, HOME_JOINT_POSITIONS, rest zero.

    Built from joint names so it is right for any robot variant or task scene; other free
    bodies keep their model default (``qpos0``).
    """
    qpos = model.qpos0.copy()
    root = model.jnt_qposadr[model.joint(FREE_JOINT).id]
    qpos[root : root + 3] = HOME_PELVIS_POSITION
    qpos[root + 3 : root + 7] = (1.0, 0.0, 0.0, 0.0)
    for name in JOINT_NAMES:
        qpos[model.jnt_qposadr[model.joint(name).id]] = HOME_JOINT_POSITIONS.get(name, 0.0)
    return qpos


def robot_state_indices(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """Addresses of the H1's own state in a scene's ``qpos`` (26: the free joint, then
    :data:`JOINT_NAMES`) and ``qvel`` (25), whatever else the scene holds (a door, grippers):
    ``qpos[i]`` and ``qvel[j]`` are what h1's experts read."""
    joints = [model.joint(name).id for name in JOINT_NAMES]
    return np.r_[0:7, model.jnt_qposadr[joints]], np.r_[0:6, model.jnt_dofadr[joints]]
