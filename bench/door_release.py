"""How long the door stays open once the door expert lets go, and how far the robot gets.

Walking through needs the door open while the robot crosses it. This measures the simplest
plan: per seed, the door expert (``--library``'s ``door``) opens the door; once it has held it
at ``--at`` rad or more for ``--hold`` steps, the gripper opens and the walker (``--walker``)
walks the pelvis through ``--waypoints`` (x y pairs, m; the default goes round the leaf's free
edge, then straight through the doorway). The legs are the walker's at once; the torso and
arms ease from where the opener left them (the torso wound up to ~-2.3 rad) to the walker's
straight pose over ``--slew`` steps (0: at once, which throws the robot back). Prints per seed
the step of the release, the steps until the door is back below 0.3 rad (on the lock tab, the
doorway blocked), the pelvis every 10 steps until then, a fall, the torso's furthest x (the
task's passage counts from 1.2 m) and the task's return.

``--start X Y ANGLE`` measures the last part alone: no opener, the robot starts at the
episode's standing pose moved to pelvis (X, Y), with the door already open to ANGLE rad, and
the walker walks the waypoints from the first step. ``--start-speed W`` starts the door
swinging open at W rad/s instead of at rest (a door let go of mid-swing).

    python bench/door_release.py [--seeds 100000 100001 100002] [--at 1.0] [--hold 30]
                                 [--waypoints -0.55 0.25 1.6 0.2] [--slew 200]
                                 [--start 0.2 0.15 1.0] [--start-speed 0.8]
                                 [--walker NAME --walker-library LIB]
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

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import JOINT_NAMES, robot_state_indices
from metaworld_hwm.envs.tasks.door import PASSAGE_X
from metaworld_hwm.skills.door_expert import DoorExpert
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import NUM_LEG_JOINTS
from metaworld_hwm.skills.walk import WalkExpert
from metaworld_hwm.utils.machine import machine_label

#: Door angle (rad) at which the leaf is back on the lock tab: the doorway is shut.
SHUT_DOOR = 0.3
#: Walk command (m/s) per metre between the pelvis and its waypoint; a waypoint nearer than
#: ``WAYPOINT_REACHED`` m counts as reached.
POSITION_GAIN = 1.5
WAYPOINT_REACHED = 0.15
#: The torso's and arms' actuators (after the legs').
UPPER_BODY = slice(NUM_LEG_JOINTS, len(JOINT_NAMES))


def _open_door(env: HumanoidEnv, start: tuple[float, float, float],
               speed: float = 0.0) -> tuple[np.ndarray, float]:  # fmt: skip
    """Move the robot's pelvis to ``start``'s (x, y) and the door to its angle (rad), swinging
    open at ``speed`` rad/s; the observation there and how deep the robot then is inside the
    door (m, 0: clear of it; a start inside it throws the robot out, so its figures are not the
    walker's)."""
    model, data = env.model, env.data
    hinge = model.joint("door_hinge")
    data.qpos[:2] = start[:2]
    data.qpos[hinge.qposadr[0]] = start[2]
    data.qvel[hinge.dofadr[0]] = speed
    mujoco.mj_forward(model, data)
    door = model.body("door").id
    depths = [-data.contact[i].dist for i in range(data.ncon)
              if door in model.geom_bodyid[[data.contact[i].geom1, data.contact[i].geom2]]]
    return np.concatenate([data.qpos, data.qvel]), max([0.0, *depths])


def release_episode(door: DoorExpert, walker: WalkExpert, seed: int, at: float, hold: int,
                    waypoints: np.ndarray, slew: int = 0,
                    start: tuple[float, float, float] | None = None,
                    start_speed: float = 0.0) -> str:  # fmt: skip
    """One 1000-step ``h1grip-door`` episode of the plan above (from ``start`` if given); its
    line of figures."""
    opener = door.opener
    env = HumanoidEnv("h1grip", "door", max_episode_steps=1000)
    obs, _ = env.reset(seed=seed)
    model = env.model
    robot_qpos, robot_dof = robot_state_indices(model)
    upper_range = model.actuator_ctrlrange[UPPER_BODY]
    opener.reset()
    nq, gripper = model.nq, model.actuator("left_gripper").id
    held, released, shut, waypoint, total, furthest = 0, None, None, 0, 0.0, -np.inf
    if start is not None:
        (obs, inside), released = _open_door(env, start, start_speed), 0
        walker.reset(1)
    path: list[str] = []
    fell, passed = False, None
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
            if t == released:
                upper_at_release = qpos[robot_qpos[7:]][UPPER_BODY].copy()
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
            eased = 1.0 - min(1.0, (t - released) / slew) if slew else 0.0
            if eased:  # the upper body's targets from its pose at the release toward 0 rad
                low, high = upper_range[:, 0], upper_range[:, 1]
                action[UPPER_BODY] = 2 * (eased * upper_at_release - low) / (high - low) - 1
            action[gripper] = -1.0  # open
        obs, reward, terminated, _, _ = env.step(np.clip(action, -1.0, 1.0))
        total += float(reward)
        furthest = max(furthest, float(env.physics.imu_position()[0]))
        if passed is None and furthest >= PASSAGE_X:
            passed = t
        if terminated:
            fell = True
            break
    env.close()
    if released is None:
        return f"seed {seed}: the door was never held at {at} rad for {hold} steps ({total:.1f})"
    shut_text = f"shut {shut} steps later" if shut is not None else "not shut by the end"
    if start is None:
        began = f"released at step {released}"
    else:
        swing = f" swinging open at {start_speed} rad/s" if start_speed else ""
        where = f"the robot starting {inside:.3f} m inside it" if inside else (
            "the robot clear of it")
        began = f"door at {start[2]} rad{swing}, {where}"
    passed_text = f"through at step {passed}" if passed is not None else "not through"
    return (f"seed {seed}: {began}, {shut_text}, {passed_text}; pelvis every 10 steps "
            f"until then {' '.join(path)}; fell {fell}, torso's furthest x {furthest:.2f} m "
            f"(passage from {PASSAGE_X}), return {total:.1f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[100000, 100001, 100002])
    parser.add_argument("--library", default="experts/door", help="library with a door expert")
    parser.add_argument("--walker", default="walk", help="the walker after the release")
    parser.add_argument("--walker-library", help="library holding --walker (default: --library)")
    parser.add_argument("--at", type=float, default=1.0, help="door angle held before release")
    parser.add_argument("--hold", type=int, default=30, help="steps held at --at first")
    parser.add_argument("--waypoints", type=float, nargs="+", default=[-0.55, 0.25, 1.6, 0.2],
                        help="pelvis waypoints after the release: x y pairs (m)")
    parser.add_argument("--slew", type=int, default=0,
                        help="steps over which the torso and arms ease to the walker's pose")
    parser.add_argument("--start", type=float, nargs=3, metavar=("X", "Y", "ANGLE"),
                        help="no opener: the pelvis at (X, Y) m, the door open to ANGLE rad")
    parser.add_argument("--start-speed", type=float, default=0.0,
                        help="with --start: the door's opening speed at the start (rad/s)")
    args = parser.parse_args()
    if len(args.waypoints) % 2:
        raise SystemExit("bench/door_release.py: --waypoints takes x y pairs; got an odd count")
    if args.start_speed and args.start is None:
        raise SystemExit("bench/door_release.py: --start-speed needs --start X Y ANGLE")
    if args.slew < 0:
        raise SystemExit(f"bench/door_release.py: --slew must be >= 0 steps, got {args.slew}")
    library = ExpertLibrary.load(args.library)
    door = next((e for e in library.experts.values() if isinstance(e, DoorExpert)), None)
    if door is None:
        raise SystemExit(f"bench/door_release.py: no door expert in {args.library}")
    walkers = ExpertLibrary.load(args.walker_library) if args.walker_library else library
    walker = copy.copy(walkers[args.walker])
    if not isinstance(walker, WalkExpert):
        raise SystemExit(f"bench/door_release.py: --walker {args.walker!r} is not a walker")
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {machine_label()}")
    waypoints = np.reshape(args.waypoints, (-1, 2))
    for seed in args.seeds:
        print(release_episode(door, walker, seed, args.at, args.hold, waypoints, args.slew,
                              args.start, args.start_speed), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
