"""Where can the robot stand and still hold the door's front bar? Kinematics only.

Walking through the doorway needs the body on the doorway's side of the open leaf (there the
closing leaf rests on the robot: ``results/door/passage/at_the_free_edge.txt``) while a hand
holds the door open. The front bar is on the leaf's other face, 0.18 m in from its free edge,
and the leaf is 0.14 m thick. This script asks, for each door angle and each hand, which
pelvis poses let the grip site reach the bar (within 1 cm, palm square to the bar, as the
opener grasps it) with no other part of the robot inside the door, its hatch or the frame
(5 mm allowed). Each pose gets ``--restarts`` IK solves (:class:`~metaworld_hwm.skills.
gripper_arm.GripperArm`, torso and arm): from the standing keyframe, then from random arm
poses. The other arm is left out of the contact check (it could be tucked away); both legs
are in it (before 2026-12-08 the other side's leg was left out too).

The poses cover the corridor in front of the door (its walls are at y = +-0.58 m); each is
counted on the leaf's side it stands on: the room's side (the front face, where the opener
stands now) or the doorway's side (behind the leaf's plane, or past its free edge on that
side).

    python bench/door_hold_reach.py [--doors 0.6 0.8 0.9 1.0] [--restarts 8]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import mujoco
import numpy as np

from metaworld_hwm.envs.robot import ARMS, home_qpos
from metaworld_hwm.envs.tasks.door import DOOR_X
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DOOR_HINGE_IN_DOOR, DoorOpener
from metaworld_hwm.skills.gripper_arm import GripperArm
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.utils.machine import machine_label

REACHED = 0.01  # m: the grip site on the bar
ALLOWED_DEPTH = 0.005  # m: deepest contact of the rest of the robot with the door or frame
HINGE_XY = np.array([DOOR_X, 0.0]) + DOOR_HINGE_IN_DOOR[:2]  # the door's hinge (m)
SCENE_BODIES = ("door", "door_hatch", "door_wall_connects")
#: What names an arm's bodies (``left_shoulder_pitch_link`` ... ``left_finger_lower``).
ARM_PARTS = ("shoulder", "elbow", "palm", "finger")
XS = np.round(np.arange(-0.7, 0.41, 0.1), 2)
YS = (-0.4, -0.25, -0.1, 0.05, 0.2, 0.35)
HEADINGS = (-0.6, -0.3, 0.0, 0.3, 0.6)


def is_arm_link(body: str, side: str) -> bool:
    """Whether ``body`` is one of the ``side`` arm's links, hand and fingers (not a leg's)."""
    return body.startswith(f"{side}_") and any(part in body for part in ARM_PARTS)


class HoldCheck:
    """IK and contact check of one hand on the front bar (module docstring)."""

    def __init__(self, opener: DoorOpener, side: str, restarts: int, seed: int) -> None:
        self.opener, self.model = opener, opener.model
        self.arm = GripperArm(self.model, iterations=60, joint_names=("torso", *ARMS[side]),
                              side=side)  # fmt: skip
        self.data = mujoco.MjData(self.model)
        self.restarts, self.rng = restarts, np.random.default_rng(seed)
        model = self.model
        self.door_qpos = int(model.jnt_qposadr[model.joint("door_hinge").id])
        self.scene = {model.body(name).id for name in SCENE_BODIES}
        other = "right" if side == "left" else "left"
        held = {f"{side}_palm", f"{side}_finger_upper", f"{side}_finger_lower"}
        self.ignored = {b for b in range(model.nbody)
                        if model.body(b).name in held or is_arm_link(model.body(b).name, other)
                        or b in self.scene or b == 0}  # fmt: skip
        self.low, self.high = self.arm.low.copy(), self.arm.high.copy()
        self.low[0], self.high[0] = -1.2, 1.2  # random starts: the torso within +-1.2 rad

    def pose(self, x: float, y: float, heading: float, door: float) -> np.ndarray:
        qpos = home_qpos(self.model)
        qpos[:2] = (x, y)
        qpos[3:7] = (np.cos(heading / 2), 0.0, 0.0, np.sin(heading / 2))
        qpos[self.door_qpos] = door
        return qpos

    def depth(self, qpos: np.ndarray) -> float:
        """Deepest contact (m) of the robot's checked parts with the door, hatch or frame."""
        model, data = self.model, self.data
        data.qpos[:] = qpos
        mujoco.mj_forward(model, data)
        deepest = 0.0
        for contact in data.contact[: data.ncon]:
            a, b = model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2]
            for robot, other in ((a, b), (b, a)):
                if other in self.scene and robot not in self.ignored:
                    deepest = max(deepest, -float(contact.dist))
        return deepest

    def clear(self, x: float, y: float, heading: float, door: float) -> bool:
        """Whether the robot standing at this pelvis pose (keyframe arms) is clear of the door."""
        return self.depth(self.pose(x, y, heading, door)) <= ALLOWED_DEPTH

    def holds(self, x: float, y: float, heading: float, door: float) -> bool:
        """Whether some IK solve from this pelvis pose reaches the bar, clear of the door."""
        return self.hold_pose(x, y, heading, door) is not None

    def hold_pose(self, x: float, y: float, heading: float, door: float) -> np.ndarray | None:
        """The first IK solve from this pelvis pose that reaches the bar clear of the door (the
        scene's qpos), or None."""
        qpos = self.pose(x, y, heading, door)
        self.opener.arm.set_pose(qpos)
        point, bar, _ = self.opener.grasp_target(0.0)
        for k in range(self.restarts):
            start = qpos.copy()
            if k:
                start[self.arm.qpos_adr] = self.rng.uniform(self.low, self.high)
            joints = self.arm.solve(start, point, bar)
            if np.linalg.norm(self.arm.data.site_xpos[self.arm.grip] - point) > REACHED:
                continue
            start[self.arm.qpos_adr] = joints
            if self.depth(start) <= ALLOWED_DEPTH:
                return start
        return None


def leaf_side(x: float, y: float, door: float) -> str:
    """``room`` or ``doorway``: the pelvis's side of the open leaf's plane (its front face
    points at -x when shut)."""
    normal = np.array([-np.cos(door), -np.sin(door)])
    return "room" if (np.array([x, y]) - HINGE_XY) @ normal > 0.0 else "doorway"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--doors", type=float, nargs="+", default=[0.6, 0.8, 0.9, 1.0])
    parser.add_argument("--restarts", type=int, default=8, help="IK solves per pose")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.restarts < 1:
        raise SystemExit(f"bench/door_hold_reach.py: --restarts must be >= 1, got {args.restarts}")
    opener = DoorOpener(ExpertLibrary.load(default_library_path())["walk"])
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {machine_label()}; pelvis "
          f"x {XS[0]}..{XS[-1]} m, y {YS[0]}..{YS[-1]} m, heading {HEADINGS} rad")  # fmt: skip
    started = time.perf_counter()
    for side in ("left", "right"):
        check = HoldCheck(opener, side, args.restarts, args.seed)
        for door in args.doors:
            counts = {"room": [0, 0, 0], "doorway": [0, 0, 0]}
            held: list[str] = []
            for x in XS:
                for y in YS:
                    where = leaf_side(x, y, door)
                    poses = [h for h in HEADINGS if check.holds(x, y, h, door)]
                    counts[where][0] += len(poses)
                    counts[where][1] += sum(check.clear(x, y, h, door) for h in HEADINGS)
                    counts[where][2] += len(HEADINGS)
                    if poses and where == "doorway":
                        held.append(f"({x}, {y})")
            room, doorway = counts["room"], counts["doorway"]
            print(f"{side} hand, door {door} rad: poses that hold the bar (of those standing "
                  f"clear, of all) on the room's side {room[0]} ({room[1]}, {room[2]}), on "
                  f"the doorway's side {doorway[0]} ({doorway[1]}, {doorway[2]})"
                  + (f" at {' '.join(held)}" if held else ""), flush=True)  # fmt: skip
    print(f"# {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
