"""Where could the robot stand to hand the held door over to its right hand behind the leaf?

Walking through needs the body on the doorway's side of the open leaf, and letting go of the
bar shuts the doorway in ~1 s (``results/door/passage/``). The handoff tried in session 25
(``results/door/README.md``): while the left hand holds the front bar, the right hand goes
behind the leaf near its free edge and holds the door open from there as the body goes
round. From the shipped hold's pose the right hand gets only 0.01-0.08 m in behind the edge
and slides off. This script asks which pelvis poses on the room's side would give it more,
with kinematics only.

Per door angle, over a grid of pelvis poses in the corridor, the left hand is put on the bar
by :class:`door_hold_reach.HoldCheck` (torso and left arm, the robot clear of the door).
Then ``--samples`` random right-arm poses are drawn, and those are kept that put the right
grip site behind the leaf (past its back face by ``BEHIND`` m, within its height) with the
right arm, hand and fingers included, clear of the door (the left arm, checked with the
left hand on the bar, is left out: its fingers touch the bar). Printed per angle: the
poses where the left hand holds, the poses where the right hand also gets behind the leaf,
and the furthest in from the free edge it gets, best first.

    python bench/door_handoff_reach.py [--doors 0.9 1.0] [--samples 4000] [--restarts 8]
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

from door_hold_reach import ALLOWED_DEPTH, HEADINGS, XS, YS, HoldCheck, is_arm_link, leaf_side
from metaworld_hwm.envs.robot import ARMS
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.gripper_arm import GripperArm
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.utils.machine import machine_label

#: The leaf's free edge and back face in the door body's frame (m): the leaf is 0.14 m thick
#: and spans y -0.48..0.48, its hinge beyond the -y end.
FREE_EDGE_Y = 0.48
BACK_FACE_X = 0.07
#: How far past the back face the grip site must be (m): the hand's half-thickness.
BEHIND = 0.02
#: Heights (m) of the grip site that count: the leaf is 0.01-1.99 m; a hand reaches 0.6-1.6.
HEIGHTS = (0.6, 1.6)


def right_hand_poses(arm: GripperArm, check: HoldCheck, hold: np.ndarray, samples: int,
                     rng: np.random.Generator) -> list[tuple[float, np.ndarray]]:  # fmt: skip
    """Sampled poses of ``arm`` (the right arm's four joints) that put its grip site behind
    the leaf with the right arm clear of the door by ``check`` (the right side's), the rest of
    the robot at ``hold``: each as (how far in from the free edge, m; the joints)."""
    model, data = check.model, check.data
    door = model.body("door").id
    poses = []
    for _ in range(samples):
        qpos = hold.copy()
        qpos[arm.qpos_adr] = rng.uniform(arm.low, arm.high)
        data.qpos[:] = qpos
        mujoco.mj_kinematics(model, data)
        rotation = data.xmat[door].reshape(3, 3)
        x, y, z = rotation.T @ (data.site_xpos[arm.grip] - data.xpos[door])
        behind = x >= BACK_FACE_X + BEHIND and y <= FREE_EDGE_Y
        if behind and HEIGHTS[0] <= z <= HEIGHTS[1] and check.depth(qpos) <= ALLOWED_DEPTH:
            poses.append((FREE_EDGE_Y - float(y), qpos[arm.qpos_adr].copy()))
    return poses


def handoff_checks(opener: DoorOpener, restarts: int,
                   seed: int) -> tuple[HoldCheck, HoldCheck, GripperArm]:  # fmt: skip
    """The left hand's hold check, the right side's contact check (the right hand included)
    and the right arm's kinematics."""
    left = HoldCheck(opener, "left", restarts, seed)
    right = HoldCheck(opener, "right", 1, seed)
    right.ignored -= {b for b in right.ignored if is_arm_link(opener.model.body(b).name, "right")}
    return left, right, GripperArm(opener.model, joint_names=ARMS["right"], side="right")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--doors", type=float, nargs="+", default=[0.9, 1.0])
    parser.add_argument("--samples", type=int, default=4000, help="right-arm poses per pose")
    parser.add_argument("--restarts", type=int, default=8, help="left-hand IK solves per pose")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.samples < 1 or args.restarts < 1:
        raise SystemExit("bench/door_handoff_reach.py: --samples and --restarts must be >= 1, "
                         f"got {args.samples} and {args.restarts}")  # fmt: skip
    opener = DoorOpener(ExpertLibrary.load(default_library_path())["walk"])
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {machine_label()}; pelvis x {XS[0]}..{XS[-1]} m, y {YS[0]}..{YS[-1]} m, "
          f"heading {HEADINGS} rad")  # fmt: skip
    started = time.perf_counter()
    left, right, right_arm = handoff_checks(opener, args.restarts, args.seed)
    rng = np.random.default_rng(args.seed)
    for door in args.doors:
        holding, found = 0, []
        for x in XS:
            for y in YS:
                if leaf_side(x, y, door) != "room":
                    continue
                for heading in HEADINGS:
                    hold = left.hold_pose(x, y, heading, door)
                    if hold is None:
                        continue
                    holding += 1
                    poses = right_hand_poses(right_arm, right, hold, args.samples, rng)
                    if poses:
                        found.append((max(d for d, _ in poses), len(poses), x, y, heading))
        found.sort(reverse=True)
        best = ", ".join(f"({x}, {y}, {h}): {d:.2f} m ({n})" for d, n, x, y, h in found[:8])
        print(f"door {door} rad: the left hand holds the bar from {holding} room-side poses; "
              f"the right hand also gets behind the leaf from {len(found)}; furthest in from "
              f"the free edge (pelvis x, y, heading: depth (samples)) {best or '-'}",
              flush=True)  # fmt: skip
    print(f"# {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
