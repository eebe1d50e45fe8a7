"""The door skills on h1grip-door, stage by stage, and how much hand load the legs can take.

Per seed, one 1000-step episode of :class:`~metaworld_hwm.skills.door.DoorOpener`: the step
each stage began, the largest hatch and door angles, whether the door opened (>= 0.9 rad, the
protocol's bar), falls and the task's return, the robot's bodies the door met, and the grasp
IK's pose (torso yaw, left shoulder pitch, roll, yaw, elbow) when the sweep began: the first
pull picks one of several (``results/door/README.md``). ``--loads`` measures instead the
walkers alone with a steady force pulling the left hand forward (the door's spring needs ~50 N
at 0.9 rad).

    python bench/door.py [--seeds 0 1 2] [--pull-legs NAME [--pull-library DIR] | --pull-run DIR]
                         [--sweep-legs NAME [--sweep-library DIR]
                          [--sweep-run DIR [--sweep-iteration N]]]
                         [--hold-legs NAME | --hold-run DIR [--hold-iteration N]]
                         [--set FIELD=JSON ...] [--against FIELD=JSON ...]
                         [--loads] [--instruction TEXT [--library DIR]] [--plot PNG]

``--set`` overrides a :class:`~metaworld_hwm.skills.door_config.DoorOpenerConfig` field, e.g.
``--set use_torso=false --set pull_position_gain=1.5``. ``--against FIELD=JSON ...`` runs a
second opener on the same seeds in the same process, ``--set`` plus these overrides, and
prints the paired difference of the returns (against minus ``--set``) with a 95 % bootstrap
interval over the seeds: door outcomes turn on the contacts' last bits, so two settings are
compared side by side on one machine, seed by seed.

``--instruction TEXT`` drives the door through tiers 1 and 2 instead: the guide over
``--library`` (default ``experts/door``) plans TEXT, and its fused reference action is executed
as is (what the agent executes when its planner follows the guidance); each line then shows the
sub-goals with the door expert's stages.

``--pull-run`` takes the actor of a ``experts train --objective hand-load`` run's checkpoint
(``--work-dir``), so a run in progress can be tried on the door before it is exported.
``--sweep-legs`` (from ``--sweep-library``, default ``--pull-library``) walks the pull past the
lock, e.g. legs trained by ``experts train --objective door-sweep`` (``experts/door_sweep``);
``--plot PNG`` draws each seed's door angle over the episode (with the protocol's 0.9-rad bar),
and the pelvis's x and yaw under it.

``--sweep-run`` puts the actor of such a run's checkpoint in their place (``--sweep-iteration N``:
the network evaluated at iteration N, from the run's ``evaluated/``). ``--hold-legs NAME`` (from
``--sweep-library``) holds the door once the sweep has opened it, e.g. legs trained on that
alone (``experts train --objective door-sweep --start-door 0.9``); ``--hold-run`` and
``--hold-iteration`` take such a run's actor in the place of ``--hold-legs`` (or of
``--sweep-legs``, the walker the run started from, without it).
"""

from __future__ import annotations

import argparse
import copy
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import scipy.stats
import torch

from metaworld_hwm.agent.config import METAWORLD_FUSION_SHARPNESS
from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD, LOCK_CLEAR_DOOR
from metaworld_hwm.hierarchy.build import build_guide
from metaworld_hwm.skills import DoorExpert, FusionConfig
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DoorEpisode, DoorOpener, run_door_episode
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.door_ppo import swept_walker
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import NUM_LEG_JOINTS
from metaworld_hwm.skills.ppo_results import evaluated_network
from metaworld_hwm.skills.pull_ppo import LoadCurriculum, loaded_episode, trained_pull_expert
from metaworld_hwm.skills.sweep_arm import ArmSweepWalker, widened_policy
from metaworld_hwm.skills.walk import WalkExpert
from metaworld_hwm.utils.machine import machine_label
from metaworld_hwm.utils.run_state import save_png


def checkpoint_policy(run_dir: str, base: WalkExpert,
                      iteration: int | None = None) -> tuple[torch.nn.Module, int]:  # fmt: skip
    """The actor of a PPO run's checkpoint (``--work-dir``) in ``base``'s network (widened
    when the run also gave arm residuals, ``--sweep-arm``), and the run's iteration; with
    ``iteration``, the network evaluated then instead."""
    if iteration is not None:
        try:
            weights, _ = evaluated_network(run_dir, iteration)
        except ValueError as exc:
            raise SystemExit(f"bench/door.py: {exc}") from exc
    else:
        state = torch.load(f"{run_dir}/checkpoint.pt", weights_only=False, map_location="cpu")
        actor = state["algorithm"]["actor_state_dict"]
        weights = {k.removeprefix("mlp."): v for k, v in actor.items() if k.startswith("mlp.")}
        iteration = int(state["iteration"])
    policy = copy.deepcopy(base.policy)
    arm_joints = len(weights[f"net.{len(policy.net) - 1}.bias"]) - NUM_LEG_JOINTS
    if arm_joints and not isinstance(base, ArmSweepWalker):
        policy = widened_policy(base.policy, arm_joints)
    policy.load_state_dict(weights)
    return policy.eval(), iteration


def checkpoint_walker(run_dir: str, base: WalkExpert) -> WalkExpert:
    """The actor of a hand-load PPO run's checkpoint as a slow walker (``base``'s network)."""
    policy, iteration = checkpoint_policy(run_dir, base)
    hidden = tuple(base.spec.config.get("hidden", (256, 256)))
    provenance = {"checkpoint": run_dir, "iteration": iteration}
    return trained_pull_expert("pull-run", policy, base.ctrlrange, LoadCurriculum(),
                               provenance, hidden)  # fmt: skip


def run_walker(run_dir: str, base: WalkExpert | None, iteration: int | None,
               role: str) -> WalkExpert:  # fmt: skip
    """The actor of a door-sweep PPO run (``--sweep-run`` or ``--hold-run``) as a walker in
    ``base``'s place (the walker the run started from), its iteration printed."""
    if base is None:
        raise SystemExit(f"bench/door.py: --{role}-run needs --sweep-legs (or --hold-legs), "
                         "the walker the run started from (e.g. --sweep-legs door-hold "
                         "--sweep-library experts/door_sweep)")
    policy, done = checkpoint_policy(run_dir, base, iteration)
    arm_joints = policy.net[-1].out_features - NUM_LEG_JOINTS
    print(f"# {role} legs: {run_dir} at iteration {done}")
    return swept_walker(base, policy, f"{role}-run", {"checkpoint": run_dir}, arm_joints)


def opener_config(overrides: list[str]) -> DoorOpenerConfig:
    """:class:`DoorOpenerConfig` with ``FIELD=JSON`` overrides."""
    try:
        return DoorOpenerConfig.from_overrides(overrides)
    except ValueError as exc:
        raise SystemExit(f"bench/door.py: {exc}") from exc


def door_blockers(env: HumanoidEnv, door_bodies: set[int]) -> set[str]:
    """Robot bodies touching the door now, other than the left gripper's (the door's leaf
    swings toward the robot at floor level: a foot in its way stops it)."""
    model, data = env.model, env.data
    robot = model.body("pelvis").id
    touching = set()
    for contact in data.contact[: data.ncon]:
        body1, body2 = model.geom_bodyid[contact.geom1], model.geom_bodyid[contact.geom2]
        if (body1 in door_bodies) != (body2 in door_bodies):
            other = body2 if body1 in door_bodies else body1
            name = model.body(other).name
            if model.body_rootid[other] == robot and not name.startswith(("left_finger",
                                                                          "left_palm")):
                touching.add(name)
    return touching


def door_episode(opener: DoorOpener, seed: int, steps: int
                 ) -> tuple[DoorEpisode, dict[str, float], np.ndarray | None]:  # fmt: skip
    """One episode (:func:`run_door_episode`); the robot bodies other than the gripper that
    touched the door past its lock, with the door's angle when they first did; and the grasp
    IK's joints (torso yaw, left arm) when the sweep began (None: it did not)."""
    hits: dict[str, float] = {}
    door_bodies: set[int] = set()
    sweep_pose: list[np.ndarray] = []

    def watch(env: HumanoidEnv, door: float) -> None:
        if not door_bodies:
            door_bodies.update(env.model.body(name).id for name in ("door", "door_hatch"))
        if door > LOCK_CLEAR_DOOR:
            for name in door_blockers(env, door_bodies):
                hits.setdefault(name, round(door, 2))
        if not sweep_pose and opener.stage == "pull" and opener.unlocked:
            sweep_pose.append(env.data.qpos[opener.arm.qpos_adr].copy())

    episode = run_door_episode(opener, seed, steps, watch)
    return episode, hits, sweep_pose[0] if sweep_pose else None


class GuideDriver:
    """The guide over ``library`` planning ``instruction`` (fusion sharpness of ``--method
    metaworld``) as a :class:`~metaworld_hwm.skills.door.EpisodeDriver`: its fused reference
    executed, stages recorded as ``sub-goal / door expert's stage``."""

    def __init__(self, library: str, instruction: str) -> None:
        self.guide = build_guide(HumanoidEnv("h1grip", "door"), library, instruction,
                                 FusionConfig(sharpness=METAWORLD_FUSION_SHARPNESS))  # fmt: skip
        self.door = next(e for e in self.guide.experts if isinstance(e, DoorExpert))

    def start(self, obs: np.ndarray) -> None:
        self.guide.start_episode(obs)

    def act(self, obs: np.ndarray) -> np.ndarray:
        return self.guide.reference(obs[None], self.guide.context()[None])[0]

    def observe(self, obs: np.ndarray, info: dict[str, object]) -> None:
        self.guide.observe(obs, info)

    def stage(self) -> str:
        return f"{self.guide.subgoal} / {self.door.stage}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--legs", default="walk", help="library walker for approach and grasp")
    parser.add_argument("--pull-legs", default=None, help="library walker for the pull")
    parser.add_argument("--pull-library", default=None,
                        help="library holding --pull-legs (default: the default library)")
    parser.add_argument("--pull-run", default=None, help="hand-load PPO run dir for the pull")
    parser.add_argument("--sweep-legs", default=None,
                        help="walker for the pull past the lock")  # fmt: skip
    parser.add_argument("--sweep-run", default=None,
                        help="door-sweep PPO run dir: its actor in --sweep-legs's place")
    parser.add_argument("--sweep-iteration", type=int, default=None,
                        help="--sweep-run: the network evaluated at this iteration, not the last")
    parser.add_argument("--sweep-library", default=None,
                        help="library holding --sweep-legs (default: --pull-library's)")
    parser.add_argument("--hold-legs", default=None,
                        help="walker (in --sweep-library) holding the door once it is open")
    parser.add_argument("--hold-run", default=None,
                        help="door-sweep --start-door PPO run dir: its actor holds the door")
    parser.add_argument("--hold-iteration", type=int, default=None,
                        help="--hold-run: the network evaluated at this iteration, not the last")
    parser.add_argument("--loads", action="store_true", help="measure hand loads instead")
    parser.add_argument("--set", nargs="*", default=[], metavar="FIELD=JSON",
                        help="override DoorOpenerConfig fields (values in JSON)")
    parser.add_argument("--against", nargs="+", default=None, metavar="FIELD=JSON",
                        help="also run --set plus these overrides on the same seeds, paired")
    parser.add_argument("--instruction", default=None,
                        help="drive the door by the guide planning this instead")
    parser.add_argument("--plot", default=None, metavar="PNG",
                        help="draw each seed's door angle, pelvis x and yaw per step into PNG")
    parser.add_argument("--library", default="experts/door",
                        help="--instruction: the guide's library (with a door expert)")
    args = parser.parse_args()
    library = ExpertLibrary.load(default_library_path())
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"# {machine_label()}")
    pull_library = ExpertLibrary.load(args.pull_library) if args.pull_library else library
    pull = pull_library[args.pull_legs] if args.pull_legs else None
    if args.pull_run:
        pull = checkpoint_walker(args.pull_run, library[args.legs])
        iteration = pull.spec.config["provenance"]["iteration"]
        print(f"# pull legs: {args.pull_run} at iteration {iteration}")
    if args.loads:
        for walker in [library[args.legs]] + ([pull] if pull else []):
            name = walker.name
            for force in (0.0, 20.0, 40.0, 60.0):
                rows = [loaded_episode(walker.policy, walker.ctrlrange, force, (-0.2, 0.0), s)
                        for s in args.seeds]  # fmt: skip
                print(f"{name:8s} {force:4.0f} N at the left hand, command -0.2 m/s: return "
                      f"{np.mean([r[0] for r in rows]):6.1f}, speed error "
                      f"{np.mean([r[1] for r in rows]):.2f} m/s, falls "
                      f"{sum(r[2] for r in rows)}/{len(rows)}")  # fmt: skip
        return
    if args.instruction and (args.set or args.sweep_legs or args.pull_legs or args.pull_run
                             or args.sweep_run or args.hold_legs or args.hold_run
                             or args.against):  # fmt: skip
        raise SystemExit("bench/door.py: --instruction runs --library's door expert as built; "
                         "--set, --against, --pull-legs, --pull-run, --sweep-legs/-run and "
                         "--hold-legs/-run shape the opener alone (rebuild the door expert "
                         "with `experts add door` instead)")
    sweep_library = ExpertLibrary.load(args.sweep_library) if args.sweep_library else pull_library
    sweep = sweep_library[args.sweep_legs] if args.sweep_legs else None
    hold = sweep_library[args.hold_legs] if args.hold_legs else None
    if args.hold_run:
        hold = run_walker(args.hold_run, hold or sweep, args.hold_iteration, "hold")
    if args.sweep_run:
        sweep = run_walker(args.sweep_run, sweep, args.sweep_iteration, "sweep")
    opener = None if args.instruction else DoorOpener(library[args.legs], pull,
                                                      opener_config(args.set), sweep, hold)
    against = None
    if args.against:
        against = DoorOpener(library[args.legs], pull, opener_config(args.set + args.against),
                             sweep, hold)  # fmt: skip
    results, against_results = [], []
    for seed in args.seeds:
        start = time.perf_counter()
        if opener is None:  # a fresh guide (and its door expert) per seed
            guide = GuideDriver(args.library, args.instruction)
            r, hits = run_door_episode(guide.door.opener, seed, args.steps, driver=guide), {}
            sweep_pose = None
        else:
            r, hits, sweep_pose = door_episode(opener, seed, args.steps)
        results.append(r)
        stages = (" | " if args.instruction else " ").join(f"{k}@{v}" for k, v in r.stages)
        met = "".join(f", door met {k} at {v:.2f} rad" for k, v in hits.items())
        if sweep_pose is not None:
            met += f", sweep began in pose {np.array2string(sweep_pose, precision=2)}"
        print(f"seed {seed}: {stages} | hatch max {r.hatch:.2f} rad, door max "
              f"{r.door:.2f} rad, open {r.open_steps} steps from {r.opened_at}, "
              f"opened {r.opened}, fell {r.fell}, return "
              f"{r.task_return:.1f}{met} ({time.perf_counter() - start:.0f} s)")  # fmt: skip
        if against is not None:
            a, _, _ = door_episode(against, seed, args.steps)
            against_results.append(a)
            print(f"seed {seed} against: door max {a.door:.2f} rad, open {a.open_steps} steps "
                  f"from {a.opened_at}, opened {a.opened}, fell {a.fell}, return "
                  f"{a.task_return:.1f} ({a.task_return - r.task_return:+.1f})")  # fmt: skip
    print(summary(results))
    if against is not None:
        print(f"against ({' '.join(args.against)}): {summary(against_results)}")
        print(paired_difference(results, against_results))
    if args.plot:
        print(f"door angles: {plot_door_angles(results, args.seeds, args.plot)}")


def summary(results: list[DoorEpisode]) -> str:
    """One line over the seeds: opened, falls, hatch turned, door max, steps open, return."""
    return (f"opened {sum(r.opened for r in results)}/{len(results)}, falls "
            f"{sum(r.fell for r in results)}, hatch >= 0.9 rad in "
            f"{sum(r.hatch >= 0.9 for r in results)}, mean door max "
            f"{np.mean([r.door for r in results]):.2f} rad, mean steps open "
            f"{np.mean([r.open_steps for r in results]):.0f}, mean return "
            f"{np.mean([r.task_return for r in results]):.1f}")  # fmt: skip


def paired_difference(base: list[DoorEpisode], other: list[DoorEpisode]) -> str:
    """The mean of ``other``'s return minus ``base``'s, seed by seed, with a 95 % percentile
    bootstrap interval over the seeds (scipy, 10000 resamples, fixed seed)."""
    diffs = np.array([o.task_return - b.task_return for b, o in zip(base, other, strict=True)])
    line = f"paired return difference (against - --set): mean {diffs.mean():+.1f}"
    if len(diffs) < 2:
        return line + " (one seed: no interval)"
    interval = scipy.stats.bootstrap((diffs,), np.mean, confidence_level=0.95,
                                     n_resamples=10000, method="percentile",
                                     random_state=0).confidence_interval  # fmt: skip
    opened = sum(o.opened for o in other) - sum(b.opened for b in base)
    return (line + f", 95 % bootstrap interval [{interval.low:+.1f}, {interval.high:+.1f}] "
            f"over {len(diffs)} seeds; opened {opened:+d}")


def plot_door_angles(results: list[DoorEpisode], seeds: list[int], path: str) -> Path:
    """Each seed's door angle per step, with the protocol's bar (``DOOR_OPEN_RAD``), and its
    pelvis x and yaw under it, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (door_ax, x_ax, yaw_ax) = plt.subplots(3, 1, figsize=(7.0, 7.0), dpi=120, sharex=True)
    for seed, episode in zip(seeds, results, strict=True):
        line = door_ax.plot(episode.door_angles, lw=0.9, label=f"seed {seed}")[0]
        pelvis = np.array(episode.pelvis_poses)
        x_ax.plot(pelvis[:, 0], lw=0.9, color=line.get_color())
        yaw_ax.plot(pelvis[:, 2], lw=0.9, color=line.get_color())
    door_ax.axhline(DOOR_OPEN_RAD, color="k", ls="--", lw=0.8, label="open (protocol)")
    door_ax.set_ylabel("door hinge angle (rad)")
    door_ax.legend(fontsize=6, ncol=2, loc="upper left")
    x_ax.set_ylabel("pelvis x (m)")
    yaw_ax.set_ylabel("pelvis yaw (rad)")
    yaw_ax.set_xlabel("control step (50 Hz)")
    for ax in (door_ax, x_ax, yaw_ax):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_png(fig, path)


if __name__ == "__main__":
    main()
