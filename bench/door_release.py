"""How long the door stays open once the door expert lets go, and how far the robot gets.

Walking through needs the door open while the robot crosses it. This measures the simplest
plan: per seed, the door expert (``--library``'s ``door``) opens the door; once it has held it
at ``--at`` rad or more for ``--hold`` steps, the gripper opens and the walker (``--walker``,
the whole body but the gripper) walks the pelvis through ``--waypoints`` (x y pairs, m; the
default goes round the leaf's free edge, then straight through the doorway). Prints per seed
the step of the release, the steps until the door is back below 0.3 rad (on the lock tab, the
doorway blocked), the pelvis every 10 steps until then, a fall, the torso's furthest x (the
task's passage counts from 1.2 m) and the task's return.

    python bench/door_release.py [--seeds 100000 100001 100002] [--at 1.0] [--hold 30]
                                 [--waypoints -0.55 0.25 1.6 0.2]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import shlex
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.tasks.door import PASSAGE_X
from metaworld_hwm.skills.door_expert import DoorExpert
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.walk import WalkExpert

#: Door angle (rad) at which the leaf is back on the lock tab: the doorway is shut.
SHUT_DOOR = 0.3
#: Walk command (m/s) per metre between the pelvis and its waypoint; a waypoint nearer than
#: ``WAYPOINT_REACHED`` m counts as reached.
POSITION_GAIN = 1.5
WAYPOINT_REACHED = 0.15


def release_episode(door: DoorExpert, walker: WalkExpert, seed: int, at: float, hold: int,
                    waypoints: np.ndarray) -> str:  # fmt: skip
    """One 1000-step ``h1grip-door`` episode of the plan above; its line of figures."""
    opener = door.opener
    env = HumanoidEnv("h1grip", "door", max_episode_steps=1000)
    obs, _ = env.reset(seed=seed)
    opener.reset()
    nq, gripper = env.model.nq, env.model.actuator("left_gripper").id
    robot_qpos, robot_dof = opener._robot_qpos, opener._robot_dof
    held, released, shut, waypoint, total, furthest = 0, None, None, 0, 0.0, -np.inf
    path: list[str] = []
    fell = False
    for t in range(1000):
        qpos, qvel = obs[:nq], obs[nq:]
        angle = opener.door_angle(obs)
        if released is None:
            held = held + 1 if angle >= at else 0
            if held >= hold:
                released = t
                walker.reset(1)
        if released is None:
            action = opener.act(obs)
        else:
            if shut is None and angle < SHUT_DOOR:
                shut = t - released
            if shut is None and (t - released) % 10 == 0:
                path.append(f"({qpos[0]:.2f}, {qpos[1]:.2f})")
            near = np.linalg.norm(waypoints[waypoint] - qpos[:2]) < WAYPOINT_REACHED
            if near and waypoint < len(waypoints) - 1:
                waypoint += 1
            walker.steer_to(qpos, waypoints[waypoint], POSITION_GAIN, heading=0.0)  # face +x
            robot_obs = np.concatenate([qpos[robot_qpos], qvel[robot_dof]])
            action = np.zeros(env.model.nu)
            action[:19] = walker.act(robot_obs[None])[0]
            action[gripper] = -1.0  # open
        obs, reward, terminated, _, _ = env.step(np.clip(action, -1.0, 1.0))
        total += float(reward)
        furthest = max(furthest, float(env.physics.imu_position()[0]))
        if terminated:
            fell = True
            break
    env.close()
    if released is None:
        return f"seed {seed}: the door was never held at {at} rad for {hold} steps ({total:.1f})"
    shut_text = f"shut {shut} steps later" if shut is not None else "not shut by the end"
    return (f"seed {seed}: released at step {released}, {shut_text}; pelvis every 10 steps "
            f"until then {' '.join(path)}; fell {fell}, torso's furthest x {furthest:.2f} m "
            f"(passage from {PASSAGE_X}), return {total:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100000, 100001, 100002])
    parser.add_argument("--library", default="experts/door", help="library with a door expert")
    parser.add_argument("--walker", default="walk", help="--library's walker after the release")
    parser.add_argument("--at", type=float, default=1.0, help="door angle held before release")
    parser.add_argument("--hold", type=int, default=30, help="steps held at --at first")
    parser.add_argument("--waypoints", type=float, nargs="+", default=[-0.55, 0.25, 1.6, 0.2],
                        help="pelvis waypoints after the release: x y pairs (m)")
    args = parser.parse_args()
    if len(args.waypoints) % 2:
        raise SystemExit("bench/door_release.py: --waypoints takes x y pairs; got an odd count")
    library = ExpertLibrary.load(args.library)
    door = next((e for e in library.experts.values() if isinstance(e, DoorExpert)), None)
    if door is None:
        raise SystemExit(f"bench/door_release.py: no door expert in {args.library}")
    walker = copy.copy(library[args.walker])
    if not isinstance(walker, WalkExpert):
        raise SystemExit(f"bench/door_release.py: --walker {args.walker!r} is not a walker")
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores")
    waypoints = np.reshape(args.waypoints, (-1, 2))
    for seed in args.seeds:
        print(release_episode(door, walker, seed, args.at, args.hold, waypoints), flush=True)


if __name__ == "__main__":
    main()
