"""How far each branch of the door grasp's IK can follow the sweep, with the body held still.

    python bench/door_ik_branches.py [--seed 0] [--doors 0.3 0.5 0.7 0.9 1.0]
                                     [--starts "0,0,0,0,0" "-0.5,0,0.5,0,1.5"]

The grasp IK (:class:`~metaworld_hwm.skills.door.GripperArm`, torso yaw + four left-arm joints
for four equations) has a one-dimensional family of solutions, split into branches. Runs the
door expert's opener on ``--seed`` up to the moment the sweep begins (the lever grasped again
at rest past the lock), then, with the body and the rest of the robot frozen there, solves the
IK for the lever at each door angle in ``--doors``: once continuing from the arm's own pose
(the branch the opener is on) and once continuing from each ``--starts`` pose. Prints the
joints (torso yaw, shoulder pitch, roll, yaw, elbow) and how far the grip site stays from the
lever (cm): a branch that reaches a joint limit leaves the lever behind. Kinematics only.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.library import ExpertLibrary


def sweep_start(opener: DoorOpener, seed: int) -> np.ndarray | None:
    """The scene's qpos when the opener's sweep begins on ``seed`` (None: it never does)."""
    env = HumanoidEnv("h1grip", "door", max_episode_steps=1000)
    obs, _ = env.reset(seed=seed)
    opener.reset()
    released = False
    for _ in range(1000):
        released = released or opener.stage == "release"
        if released and opener.stage == "pull":
            return env.data.qpos.copy()
        obs, _, terminated, _, _ = env.step(opener.act(obs))
        if terminated:
            return None
    return None


def follow(opener: DoorOpener, qpos: np.ndarray, arm: np.ndarray, doors: list[float]) -> None:
    """Print the IK's solution and miss (cm) at each door angle, continuing from ``arm``."""
    ik = opener.arm
    scene = qpos.copy()
    for door in doors:
        scene[opener._door_qpos] = door
        scene[ik.qpos_adr] = arm
        ik.set_pose(scene)
        point, bar, _ = opener._bar(opener.hatch_rest)
        for _ in range(20):  # 300 Gauss-Newton iterations: converged wherever reachable
            arm = ik.solve(scene, point, bar)
            scene[ik.qpos_adr] = arm
        miss = np.linalg.norm(ik.data.site_xpos[ik.grip] - point) * 100
        print(f"    door {door:.2f} rad: joints {np.array2string(arm, precision=2)}, "
              f"grip {miss:.1f} cm from the lever")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--doors", type=float, nargs="+", default=[0.3, 0.5, 0.7, 0.9, 1.0])
    parser.add_argument("--starts", nargs="+", default=["0,0,0,0,0", "-0.5,0,0.5,0,1.5"],
                        help="IK start poses: torso yaw, shoulder pitch, roll, yaw, elbow")
    parser.add_argument("--library", default="experts/door",
                        help="library holding the door expert (its walkers drive the opener)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("$ " + shlex.join([sys.executable.rsplit("/", 1)[-1], *sys.argv]))
    print(f"# {time.strftime('%Y-%m-%d')}, {os.uname().machine}, {os.cpu_count()} cores")
    opener = ExpertLibrary.load(args.library)["door"].opener
    qpos = sweep_start(opener, args.seed)
    if qpos is None:
        sys.exit(f"error: seed {args.seed} never began the sweep; try another --seed")
    ik = opener.arm
    print(f"seed {args.seed}: sweep begins with the pelvis at {np.round(qpos[:2], 2)}, "
          f"arm {np.array2string(qpos[ik.qpos_adr], precision=2)}; joint limits "
          f"{np.array2string(ik.low, precision=2)} .. {np.array2string(ik.high, precision=2)}")
    print("  from the arm's own pose (the opener's branch):")
    follow(opener, qpos, qpos[ik.qpos_adr].copy(), args.doors)
    for start in args.starts:
        print(f"  from {start}:")
        follow(opener, qpos, np.array([float(v) for v in start.split(",")]), args.doors)


if __name__ == "__main__":
    main()
