"""Does a right hand behind the open leaf hold the door? The robot placed at a handoff stance.

``bench/door_handoff_reach.py`` finds pelvis poses from which the left hand holds the bar and
the right hand gets behind the leaf near its free edge. This places the robot at one such
pose (``--pose X Y HEADING``, the door at ``--door`` rad and at rest): the left arm and torso
where the left hand's IK holds the bar (``--restarts`` solves from ``--seeds`` random
starts), the right arm in the sampled pose that reaches furthest in behind the leaf. Then,
for ``--steps`` steps of ``h1grip-door``, the walker (``--walker``) steers the pelvis toward
``--goal`` (``--gain`` m/s per m, facing HEADING); the arms keep their placed joints (servo
targets with gravity offsets), the left gripper open; the right hand, with the torso's yaw,
pushes along the door's opening direction by the opener's holding pull toward ``--door``
(:meth:`~metaworld_hwm.skills.door.DoorOpener.holding_pull`: its spring's torque, 300 N per
rad short, 100 N per rad/s of closing). ``--no-right`` leaves the right arm to the walker
instead: the control. Prints the door's angle every 50 steps, the steps with the door at
0.9 rad or more, a fall, and the return. Kinematics chose the pose; this is the first step
of the physics (``results/door/README.md``, session 25).

    python bench/door_handoff_hold.py [--pose -0.2 -0.1 0.3] [--door 0.9] [--goal -0.35 -0.25]
                                      [--walker pull --walker-library experts/door] [--no-right]
"""

from __future__ import annotations

import argparse
import copy
import os
import shlex
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")

import mujoco
import numpy as np

from door_handoff_reach import handoff_checks, right_hand_poses
from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import ARMS, robot_state_indices
from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DOOR_HINGE_IN_DOOR, DoorOpener
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.gripper_arm import GripperArm
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.walk import WalkExpert
from metaworld_hwm.utils.machine import machine_label


def placed_pose(opener: DoorOpener, pose: tuple[float, float, float], door: float,
                restarts: int, seeds: int, samples: int) -> tuple[np.ndarray, float]:  # fmt: skip
    """The scene's qpos with the left hand on the bar and the right arm reaching furthest in
    behind the leaf from pelvis ``pose``, over ``seeds`` left-hand IK searches; and that
    depth (m in from the free edge). SystemExit if no such pose is found."""
    best: tuple[float, np.ndarray] | None = None
    rng = np.random.default_rng(0)
    for seed in range(seeds):
        left, right, right_arm = handoff_checks(opener, restarts, seed)
        hold = left.hold_pose(*pose, door)
        if hold is None:
            continue
        for depth, joints in right_hand_poses(right_arm, right, hold, samples, rng):
            if best is None or depth > best[0]:
                qpos = hold.copy()
                qpos[right_arm.qpos_adr] = joints
                best = (depth, qpos)
    if best is None:
        raise SystemExit(f"bench/door_handoff_hold.py: from pelvis {pose} at {door} rad no pose "
                         "holds the bar with the left hand and reaches behind the leaf with the "
                         "right; try bench/door_handoff_reach.py's poses")  # fmt: skip
    return best[1], best[0]


def holding_push(opener: DoorOpener, hand: np.ndarray, hinge: np.ndarray, angle: float,
                 speed: float) -> np.ndarray:  # fmt: skip
    """The force (N, world) the right hand pushes with: along the door's opening direction at
    the hand, the opener's holding pull toward its ``hold_door`` (the door at ``angle`` rad,
    opening at ``speed`` rad/s)."""
    radius = hand[:2] - hinge[:2]
    reach = float(np.linalg.norm(radius))
    opening = np.array([-radius[1], radius[0], 0.0]) / reach
    return opener.holding_pull(angle, speed, reach) * opening


def run(opener: DoorOpener, walker: WalkExpert, qpos: np.ndarray,
        args: argparse.Namespace) -> str:  # fmt: skip
    """One placed episode (module docstring), the right hand pushing by ``opener``'s holding
    pull; its lines of figures."""
    env = HumanoidEnv("h1grip", "door", max_episode_steps=args.steps)
    env.reset(seed=0)
    model, data = env.model, env.data
    data.qpos[:], data.qvel[:] = qpos, 0.0
    mujoco.mj_forward(model, data)
    robot_qpos, robot_dof = robot_state_indices(model)
    # the torso pushes with the right arm (its 200 N m servo; the arm's elbow has 18 N m)
    right = GripperArm(model, joint_names=("torso", *ARMS["right"]), side="right")
    left = GripperArm(model, joint_names=ARMS["left"] if not args.no_right
                      else ("torso", *ARMS["left"]), side="left")  # fmt: skip
    arms = [(left, qpos[left.qpos_adr].copy())]
    if not args.no_right:
        arms.append((right, qpos[right.qpos_adr].copy()))
    hinge_joint = model.joint("door_hinge")
    door_qpos, door_dof = int(hinge_joint.qposadr[0]), int(hinge_joint.dofadr[0])
    door_body = model.body("door").id
    hinge = data.xpos[door_body] + data.xmat[door_body].reshape(3, 3) @ DOOR_HINGE_IN_DOOR
    gripper, goal = model.actuator("left_gripper").id, np.asarray(args.goal)
    walker.reset(1)
    lines, total, opened, fell = [], 0.0, 0, False
    for t in range(args.steps):
        q, v = data.qpos.copy(), data.qvel.copy()
        walker.steer_to(q, goal, args.gain, heading=args.pose[2])
        action = np.zeros(model.nu)
        action[:19] = walker.act(np.concatenate([q[robot_qpos], v[robot_dof]])[None])[0]
        for arm, joints in arms:
            force = np.zeros(3)
            if arm is right:
                arm.set_pose(q)
                hand = arm.data.site_xpos[arm.grip]
                force = holding_push(opener, hand, hinge, q[door_qpos], v[door_dof])
            offsets = arm.servo_offsets(q, joints, force)
            low, high = model.actuator_ctrlrange[arm.actuators].T
            action[arm.actuators] = 2 * (joints + offsets - low) / (high - low) - 1
        action[gripper] = -1.0
        _, reward, terminated, _, _ = env.step(np.clip(action, -1.0, 1.0))
        total += float(reward)
        opened += bool(data.qpos[door_qpos] >= DOOR_OPEN_RAD)
        if t % 50 == 0:
            lines.append(f"{data.qpos[door_qpos]:.2f}")
        if terminated:
            fell = True
            break
    env.close()
    return (f"door every 50 steps: {' '.join(lines)}\n"
            f"door >= {DOOR_OPEN_RAD} rad for {opened} of {t + 1} steps, fell {fell}, "
            f"return {total:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pose", type=float, nargs=3, default=[-0.2, -0.1, 0.3],
                        metavar=("X", "Y", "HEADING"), help="the pelvis (m, m, rad)")
    parser.add_argument("--door", type=float, default=0.9, help="door angle (rad) to hold")
    parser.add_argument("--goal", type=float, nargs=2, default=[-0.35, -0.25],
                        help="the walker's pelvis goal (m)")
    parser.add_argument("--gain", type=float, default=4.0, help="walk command per m to goal")
    parser.add_argument("--walker", default="pull")
    parser.add_argument("--walker-library", default="experts/door")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--restarts", type=int, default=24, help="left-hand IK solves")
    parser.add_argument("--seeds", type=int, default=12, help="left-hand IK searches")
    parser.add_argument("--samples", type=int, default=6000, help="right-arm poses per search")
    parser.add_argument("--no-right", action="store_true", help="the right arm the walker's")
    args = parser.parse_args()
    if min(args.steps, args.restarts, args.seeds, args.samples) < 1:
        raise SystemExit("bench/door_handoff_hold.py: --steps, --restarts, --seeds and "
                         "--samples must be >= 1")  # fmt: skip
    walker = copy.copy(ExpertLibrary.load(args.walker_library)[args.walker])
    if not isinstance(walker, WalkExpert):
        raise SystemExit(f"bench/door_handoff_hold.py: --walker {args.walker!r} is not a walker")
    opener = DoorOpener(ExpertLibrary.load(default_library_path())["walk"],
                        config=DoorOpenerConfig(hold_door=args.door))  # fmt: skip
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {machine_label()}")
    qpos, depth = placed_pose(opener, tuple(args.pose), args.door, args.restarts, args.seeds,
                              args.samples)  # fmt: skip
    print(f"placed: pelvis {tuple(args.pose)}, door {args.door} rad, right hand {depth:.2f} m "
          f"in from the free edge{' (the right arm left to the walker)' if args.no_right else ''}")
    print(run(opener, walker, qpos, args), flush=True)


if __name__ == "__main__":
    main()
