"""Can the door opener's arm follow the lever along the sweep? Kinematics only.

The sweep (after the release and the regrasp) pulls the door from the lock tab (~0.28 rad) to
0.9 rad with the pelvis moving along ``DoorOpenerConfig``'s sweep stances. This script poses
the robot exactly there (pelvis at the stance, heading as commanded, door at each angle) and
follows the grasp IK (:class:`~metaworld_hwm.skills.gripper_arm.GripperArm`, torso and left arm)
from one door angle to the next, each solve starting from the previous solution, as the
opener does. A branch ends where the grip site can no longer reach the bar (error > 1 cm).

Two kinds of start:

- the arm pose the opener really has when its sweep begins, read from a simulated episode
  per ``--seeds`` (the regrasp lands on whatever branch the first pull left the arm in);
- ``--draws`` random starts solved at the lock, of which the natural ones (torso within
  +-1 rad) are summarised: how many reach ``--to`` and their smallest joint-limit margin.

    python bench/door_reach.py [--seeds 1 5] [--draws 150] [--to 0.95] [--set FIELD=JSON ...]
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import wrap_angle, yaw_of
from metaworld_hwm.utils.machine import machine_label

sys.path.insert(0, str(Path(__file__).resolve().parent))
from door import opener_config

REACHED = 0.01  # m: the grip site on the bar
START_DOOR = 0.28  # rad: the door on its lock tab, where the regrasp's sweep begins
STEP = 0.01  # rad of door per IK solve
NO_OFFSET = np.zeros(3)


def sweep_pose(opener: DoorOpener, door: float, offset: np.ndarray = NO_OFFSET
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The scene's qpos with the pelvis at the sweep stance for ``door`` (plus ``offset``:
    x, y, yaw) and the door there, and the grasp point and bar direction (lever at rest)."""
    model = opener.model
    (x, y), heading = opener._sweep_stance(door)
    x, y, heading = x + offset[0], y + offset[1], heading + offset[2]
    qpos = model.qpos0.copy()
    qpos[:3] = (x, y, 0.98)
    qpos[3:7] = (np.cos(heading / 2), 0.0, 0.0, np.sin(heading / 2))
    qpos[opener._door_qpos] = door
    opener.arm.set_pose(qpos)
    point, bar, _ = opener.grasp_target(0.0)
    return qpos, point, bar


def follow(opener: DoorOpener, start: np.ndarray, to: float, offset: np.ndarray = NO_OFFSET
           ) -> tuple[float, float, np.ndarray]:  # fmt: skip
    """Track the grasp from ``START_DOOR`` to ``to`` from arm pose ``start`` (torso + arm),
    the pelvis ``offset`` from the stance: the last door angle reached, the smallest
    joint-limit margin on the way, the last pose."""
    arm = opener.arm
    pose, reached, margin = np.asarray(start, dtype=float), START_DOOR, np.inf
    for door in np.arange(START_DOOR, to + STEP / 2, STEP):
        qpos, point, bar = sweep_pose(opener, float(door), offset)
        qpos[arm.qpos_adr] = pose
        solution = arm.solve(qpos, point, bar)
        if np.linalg.norm(arm.data.site_xpos[arm.grip] - point) > REACHED:
            break
        pose, reached = solution, float(door)
        margin = min(margin, float(np.min(np.minimum(pose - arm.low, arm.high - pose))))
    return reached, margin, pose


def sweep_start(opener: DoorOpener, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The torso and arm joints when the opener's sweep begins (its pull after the regrasp)
    in episode ``seed``, and the pelvis's offset from its stance then (x, y, yaw); None if
    the episode never gets there."""
    env = HumanoidEnv("h1grip", "door", max_episode_steps=1000)
    obs, _ = env.reset(seed=seed)
    opener.reset()
    regrasped = False
    for _ in range(1000):
        regrasped = regrasped or opener.stage == "release"
        if regrasped and opener.stage == "pull":
            (x, y), heading = opener._sweep_stance(opener.door_angle(obs))
            yaw = float(yaw_of(obs[None, 3:7])[0])
            offset = np.array([obs[0] - x, obs[1] - y, wrap_angle(yaw - heading)])
            return obs[opener.arm.qpos_adr].copy(), offset
        obs, _, terminated, truncated, _ = env.step(opener.act(obs))
        if terminated or truncated:
            break
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 5],
                        help="episodes whose real sweep-start pose is followed")  # fmt: skip
    parser.add_argument("--draws", type=int, default=150, help="random starts at the lock")
    parser.add_argument("--to", type=float, default=0.95, help="door angle to reach (rad)")
    parser.add_argument("--pull-legs", default="pull", help="walker for the pull (episodes)")
    parser.add_argument("--pull-library", default="experts/door")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=JSON",
                        help="override DoorOpenerConfig fields (values in JSON)")  # fmt: skip
    args = parser.parse_args()
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {machine_label()}")
    library = ExpertLibrary.load(default_library_path())
    pull = ExpertLibrary.load(args.pull_library)[args.pull_legs]
    opener = DoorOpener(library["walk"], pull, opener_config(args.set))
    opener.stage, opener.unlocked = "pull", True  # the sweep's stance path
    names = ", ".join(opener.arm.joint_names)
    print(f"# joints: {names}; a branch ends where the grip misses the bar by > {REACHED} m")
    for seed in args.seeds:
        begun = sweep_start(opener, seed)
        opener.stage, opener.unlocked = "pull", True
        if begun is None:
            print(f"seed {seed}: the episode never began the sweep")
            continue
        start, offset = begun
        for name, off in (("the stance", NO_OFFSET), ("the episode's pelvis", offset)):
            reached, margin, end = follow(opener, start, args.to, off)
            outcome = (f"reaches {reached:.2f} rad, smallest limit margin {margin:.2f} rad, "
                       f"last pose {np.round(end, 2)}" if np.isfinite(margin)
                       else "misses the bar from the start")  # fmt: skip
            print(f"seed {seed}, arm {np.round(start, 2)} from {name} (offset x, y, yaw "
                  f"{np.round(off, 2)}): {outcome}")  # fmt: skip
    rng = np.random.default_rng(0)
    arm = opener.arm
    qpos, point, bar = sweep_pose(opener, START_DOOR)
    natural = []
    for _ in range(args.draws):
        qpos[arm.qpos_adr] = rng.uniform(arm.low, arm.high)
        start = arm.solve(qpos, point, bar)
        if np.linalg.norm(arm.data.site_xpos[arm.grip] - point) < REACHED / 2 \
                and abs(start[0]) < 1.0:  # fmt: skip
            natural.append((start, *follow(opener, start, args.to)))
            qpos, point, bar = sweep_pose(opener, START_DOOR)
    full = [n for n in natural if n[1] >= args.to - STEP / 2]
    print(f"natural starts (torso within +-1 rad) from {args.draws} draws: {len(natural)}; "
          f"reach {args.to:.2f} rad: {len(full)}")  # fmt: skip
    for start, _, margin, end in sorted(full, key=lambda n: -n[2])[:3]:
        print(f"  {np.round(start, 2)} -> {np.round(end, 2)}, smallest limit margin "
              f"{margin:.2f} rad")  # fmt: skip


if __name__ == "__main__":
    main()
