"""``metaworld-hwm experts train NAME --from walk --task h1-run``: PPO from a library expert.

Three objectives: ``speed`` (default) runs or walks forward at a commanded speed with a speed
curriculum (:mod:`~metaworld_hwm.skills.locomotion_ppo`); ``hand-load`` tracks slow commands
while a force pulls the left hand, with a force curriculum (:mod:`~metaworld_hwm.skills.
pull_ppo`: the legs of a door pull); ``door-sweep`` trains those legs on ``h1grip-door``
itself, under the door opener's arm (:mod:`~metaworld_hwm.skills.door_ppo`). The options map onto
:class:`~metaworld_hwm.skills.ppo.PPOConfig` and the objective's curriculum; the run lives in
``--work-dir`` (checkpoint, ``train.log``, ``curve.csv``/``curve.png``) and ``--resume``
continues it, with more ``--iterations`` if wanted.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD, DOOR_STOP_RAD
from metaworld_hwm.envs.tasks.locomotion import SURVIVAL_STEPS
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.door_ppo import (
    SNAPSHOT_SEEDS,
    DoorSweepObjective,
    sweep_evaluation,
    swept_walker,
)
from metaworld_hwm.skills.library import LibraryError
from metaworld_hwm.skills.locomotion import Cadence
from metaworld_hwm.skills.locomotion_ppo import (
    ForwardSpeedObjective,
    SpeedCurriculum,
    evaluation,
    trained_expert,
)
from metaworld_hwm.skills.ppo import CHECKPOINT, Objective, PPOConfig, PPOTrainer
from metaworld_hwm.skills.ppo_results import evaluated_network
from metaworld_hwm.skills.pull_ppo import LoadCurriculum, LoadedWalkObjective, trained_pull_expert
from metaworld_hwm.skills.pull_ppo import evaluation as load_evaluation
from metaworld_hwm.skills.sweep_arm import ArmSweepWalker, widened_policy
from metaworld_hwm.skills.walk import WalkExpert
from metaworld_hwm.utils.user_errors import positive_int

#: Tasks PPO can train an expert on, and the skill the expert then serves.
TRAINABLE = {"h1-run": "run", "h1-walk": "walk"}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The ``experts train`` options (defaults: the run expert's recipe)."""
    _objective_arguments(p)
    _ppo_arguments(p)
    _curriculum_arguments(p)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue --work-dir's run")
    p.add_argument("--overwrite", action="store_true", help="replace an expert of that name")


def _objective_arguments(p: argparse.ArgumentParser) -> None:
    """What to train: name, base expert, objective and its loads."""
    p.add_argument("name", help="name of the new expert in the library")
    p.add_argument(
        "--from",
        dest="base",
        default="walk",
        help="library expert to start from (a command walker)",
    )
    p.add_argument(
        "--task",
        default="h1-run",
        choices=sorted(TRAINABLE),
        help="speed objective: whose forward-speed reward to maximise",
    )
    p.add_argument(
        "--objective",
        default="speed",
        choices=["speed", "hand-load", "door-sweep"],
        help="speed: forward at a commanded speed; hand-load: slow commands with a "
        "force pulling the left hand (the legs of a door pull); door-sweep: those legs on "
        "h1grip-door under the door opener's sweep (--from a pull walker)",
    )
    p.add_argument(
        "--legs-library",
        default=None,
        help="door-sweep: library holding the opener's approach walker 'walk' (default: the "
        "default library)",
    )
    p.add_argument(
        "--pull-legs",
        default=None,
        help="door-sweep: walker in --library for the pull before the lock (default: --from)",
    )
    p.add_argument(
        "--opener-set",
        nargs="+",
        default=[],
        metavar="FIELD=JSON",
        help="door-sweep: the door opener's settings (DoorOpenerConfig), e.g. "
        "pregrasp_steps=120; the legs fit that pipeline only, so build the door expert with "
        "the same (experts add door --opener-set ...)",
    )
    p.add_argument(
        "--snapshot-variant",
        action="append",
        default=[],
        metavar="'FIELD=JSON ...'",
        help="door-sweep: more opener settings (over --opener-set) whose episodes' sweep starts "
        "the episodes also begin from, e.g. 'pregrasp_steps=80' (repeatable): legs trained on "
        "one pipeline fail on any other, so train on those it should take",
    )
    p.add_argument(
        "--snapshot-seeds",
        type=int,
        default=None,
        metavar="N",
        help="door-sweep: the opener episodes of seeds 0..N-1 give the episodes' sweep starts "
        f"(default {len(SNAPSHOT_SEEDS)}); more starts, less fitting to a few of them",
    )
    p.add_argument(
        "--start-door",
        type=float,
        default=None,
        metavar="RAD",
        help="door-sweep: the episodes begin at the sweep's first step with the door at RAD "
        "or more, e.g. 0.9 to train the hold of the opened door alone (default: where the "
        "sweep begins); from 0.9 on, the evaluations give the policy the hold only, --from "
        "sweeping (experts add door --hold-legs)",
    )
    p.add_argument(
        "--sweep-arm",
        action="store_true",
        help="door-sweep: the policy also gives residuals (rad) on the opener's arm targets and "
        "reads the arm's and the door's state (implied --from a walker trained so)",
    )
    p.add_argument(
        "--open-reward",
        type=float,
        default=0.0,
        help="door-sweep: reward per step with the door open (>= 0.9 rad), so the policy "
        "learns to hold it there (with --opener-set hold_door=...); 0 (default): opening only",
    )
    p.add_argument(
        "--stance-reward",
        type=float,
        default=0.0,
        help="door-sweep: reward per step with the door open, times how well the pelvis holds "
        "its stance (the hold term, 0..1): the held door is lost to the body walking forward; "
        "0 (default): off",
    )
    p.add_argument(
        "--heading-sigma",
        type=float,
        default=0.0,
        help="speed: scale the training reward by exp(-(yaw/SIGMA)^2/2) so the robot holds "
        "its heading 0 (h1-run's reward counts forward speed only); 0 (default): off",
    )
    p.add_argument(
        "--effort-power",
        type=float,
        default=1.0,
        help="speed: the training reward's small_control (the actuators' effort term) raised "
        "to this power; above 1 a lower-torque gait pays more against speed (1: the task's "
        "own reward)",
    )
    p.add_argument(
        "--move-target",
        type=float,
        help="speed: the training reward's move target (m/s) for the episodes commanded the "
        "top speed, which the policy's inputs and gait clock still follow (default: the top "
        "speed); e.g. 5.0 pays a runner held at its speed for h1-run's own reward",
    )
    p.add_argument(
        "--episode-steps",
        type=int,
        help="control steps per training episode (default: door-sweep 300, speed 1000; a "
        "speed run at 1500 also sees the 30-s hold's last 500 steps)",
    )
    p.add_argument("--start-force", type=float, default=20.0, help="hand-load: first top force (N)")
    p.add_argument("--max-force", type=float, default=70.0, help="hand-load: ceiling (N)")
    p.add_argument(
        "--force-step",
        type=float,
        default=5.0,
        help="hand-load: rise of the top force once it is held",
    )
    p.add_argument(
        "--max-heading",
        type=float,
        default=0.0,
        help="hand-load: largest commanded heading (rad, either way), tracked under the load "
        "(0: heading 0, untracked)",
    )
    p.add_argument(
        "--vx-range",
        type=float,
        nargs=2,
        default=(-0.4, 0.1),
        metavar=("LOW", "HIGH"),
        help="hand-load: forward command range (m/s); a door pull whose body drifts back "
        "needs HIGH above 0.1 to step forward again",
    )


def _ppo_arguments(p: argparse.ArgumentParser) -> None:
    """The PPO run: where, how long, batch, rates and action noise."""
    p.add_argument(
        "--work-dir", default=None, help="checkpoint, train.log and curve (default runs/train-NAME)"
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=3000,
        help="PPO iterations (envs x steps-per-env env steps each)",
    )
    p.add_argument("--envs", type=int, default=32)
    p.add_argument(
        "--workers", type=positive_int, default=None,
        help="env worker processes (default: one per core)",
    )
    p.add_argument("--steps-per-env", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-6, help="the actor's learning rate")
    p.add_argument(
        "--schedule",
        default="fixed",
        choices=["fixed", "adaptive"],
        help="actor rate: fixed, or rsl_rl's KL-adaptive one (which cannot go below "
        "1e-5, too large for a small action std)",
    )
    p.add_argument("--critic-lr", type=float, default=3e-4, help="the critic's fixed rate")
    p.add_argument(
        "--init-std",
        type=float,
        default=0.05,
        help="initial action std in leg-output units (x 0.25 rad)",
    )
    p.add_argument(
        "--critic-warmup", type=int, default=30, help="first iterations that train only the critic"
    )


def _curriculum_arguments(p: argparse.ArgumentParser) -> None:
    """The speed curriculum, cadence, pushes, checkpoints and evaluations."""
    p.add_argument("--start-speed", type=float, default=2.0, help="first top speed (m/s)")
    p.add_argument("--max-speed", type=float, default=5.0, help="curriculum ceiling (m/s)")
    p.add_argument(
        "--min-speed",
        type=float,
        default=0.5,
        help="lowest speed drawn for the envs not asked for the top speed; above 0.5 it is "
        "also the bottom of the expert's command range (a runner that no longer walks slowly)",
    )
    p.add_argument(
        "--curriculum-step",
        type=float,
        default=0.1,
        help="rise of the top speed once it is held (0: fixed speeds)",
    )
    p.add_argument(
        "--hold-ratio",
        type=float,
        default=0.85,
        help="share of the top speed robots must hold before it rises",
    )
    p.add_argument(
        "--level-iterations", type=int, default=10, help="iterations at a speed before it may rise"
    )
    p.add_argument(
        "--cadence-max-rate",
        type=float,
        default=2.5,
        help="fastest gait clock rate (x real time; 1: the walker's fixed stride)",
    )
    p.add_argument(
        "--cadence-speed",
        type=float,
        default=1.17,
        help="commanded m/s per unit of gait clock rate",
    )
    p.add_argument(
        "--max-feature-speed",
        type=float,
        default=1.6,
        help="commanded speeds above this enter the policy as this value",
    )
    p.add_argument(
        "--push-speed",
        type=float,
        default=0.0,
        help="largest random push, pelvis velocity change in m/s (0: none)",
    )
    p.add_argument("--checkpoint-minutes", type=float, default=5.0)
    p.add_argument(
        "--eval-every",
        type=int,
        default=25,
        help="iterations between evaluations of the policy alone",
    )
    p.add_argument(
        "--eval-episodes",
        type=int,
        default=5,
        help="episodes (seeds) per evaluation; the kept network is the best mean return "
        "with a fallen episode counted as 0",
    )
    p.add_argument(
        "--keep",
        default="best",
        help="the network to export: of the best evaluation (best), the last one (last), or "
        "the one evaluated at an iteration (a number; all are kept in --work-dir/evaluated)",
    )


def train_expert(
    args: argparse.Namespace, base: Any, command: str
) -> tuple[WalkExpert | None, str]:
    """Run (or resume) the PPO run ``args`` describes from expert ``base``; returns the new
    expert (None when a signal stopped the run early) and a one-line summary. User errors
    raise :class:`LibraryError` or ValueError."""
    from tqdm import tqdm

    if not isinstance(base, WalkExpert):
        raise LibraryError(
            f"--from {base.name!r} is a {type(base).__name__}; PPO fine-tunes command walkers "
            "(e.g. --from walk)"
        )
    if args.keep not in ("best", "last") and not (args.keep.isdigit() and int(args.keep) > 0):
        raise LibraryError(f"--keep {args.keep!r} is not best, last or an iteration number")
    task = args.task.removeprefix("h1-")
    cfg = PPOConfig(
        iterations=args.iterations, envs=args.envs, workers=args.workers,
        steps_per_env=args.steps_per_env, learning_rate=args.lr, init_std=args.init_std,
        schedule=args.schedule, critic_learning_rate=args.critic_lr,
        critic_warmup=args.critic_warmup, checkpoint_seconds=60 * args.checkpoint_minutes,
        hidden=tuple(base.spec.config.get("hidden", (256, 256))), seed=args.seed,
    )  # fmt: skip
    work_dir = Path(args.work_dir or f"runs/train-{args.name}")
    if not args.resume and (work_dir / CHECKPOINT).exists():
        raise LibraryError(
            f"{work_dir} holds a training checkpoint; pass --resume to continue it or choose "
            "another --work-dir"
        )
    objective, evaluate = _objective(args, task, cfg.hidden, base)
    initial = base.policy
    arm_joints = getattr(objective, "arm_joints", 0)
    if arm_joints and not isinstance(base, ArmSweepWalker):
        initial = widened_policy(base.policy, arm_joints)
    trainer = PPOTrainer(
        cfg, objective, work_dir, initial_policy=copy.deepcopy(initial).train(),
        evaluate=evaluate, eval_every=args.eval_every, eval_episodes=args.eval_episodes,
        log=tqdm.write, objective_settings=objective_settings(args),
    )  # fmt: skip
    if args.resume:
        trainer.resume()
    per_iteration = cfg.envs * cfg.steps_per_env
    # tqdm's rate counts from `initial`, so it is this session's rate after a resume
    with tqdm(total=cfg.iterations * per_iteration, initial=trainer.env_steps, unit="step",
              desc=f"train {args.name}", disable=None, mininterval=10) as bar:  # fmt: skip
        trainer.run(progress=bar.update)
    if trainer.stopped:
        return None, (f"stopped at iteration {trainer.iteration} of {cfg.iterations}; "
                      "run the same command with --resume to continue")  # fmt: skip
    provenance = {
        "base": base.name, "method": "PPO (rsl-rl-lib)", "command": command,
        "iterations": trainer.iteration, "env_steps": trainer.env_steps,
        "seconds": round(trainer.seconds, 1),
        "settings": {k: list(v) if isinstance(v, tuple) else v
                     for k, v in vars(args).items() if k not in ("func", "resume")},
    }  # fmt: skip
    network = trainer.network
    kept_row = _load_kept_network(args.keep, trainer, work_dir, provenance)
    last = kept_row or next((row for row in reversed(trainer.curve) if "eval_return" in row), {})
    done = f"{trainer.iteration} iterations, {trainer.env_steps} env steps, {trainer.seconds:.0f} s"
    if isinstance(objective, DoorSweepObjective):
        expert = swept_walker(base, network.eval(), args.name, provenance, arm_joints)
        door = f"; on the door: return {last['eval_return']:.1f}, door max " \
               f"{last['eval_door']:.2f} rad{_spread(last)}" if last else ""  # fmt: skip
        return expert, f"{done}{door}; curve in {work_dir}/curve.png"
    if isinstance(objective, LoadedWalkObjective):
        expert = trained_pull_expert(args.name, network.eval(), objective.ctrlrange,
                                     objective.curriculum, provenance, cfg.hidden)  # fmt: skip
        top = kept_row["top_force"] if kept_row else objective.top_force
        result = f"; alone at 60 N: return {last['eval_return']:.1f}{_spread(last)}" if last else ""
        return expert, f"{done}; top force {top:.0f} N{result}; curve in {work_dir}/curve.png"
    assert isinstance(objective, ForwardSpeedObjective)
    curriculum = objective.curriculum
    top = kept_row["target_speed"] if kept_row else objective.target_speed
    expert = trained_expert(args.name, TRAINABLE[args.task], task, network.eval(),
                            objective.ctrlrange, (curriculum.min_speed, top), provenance,
                            cfg.hidden, curriculum.cadence)  # fmt: skip
    summary = (
        f"{done}; top speed {top:.2f} m/s"
        + (f"; alone on {args.task}: return {last['eval_return']:.1f}{_spread(last)}, "
           f"{last['eval_speed']:.2f} m/s" if last else "")
        + f"; curve in {work_dir}/curve.png"
    )  # fmt: skip
    return expert, summary


#: ``experts train`` options a resume may change: what the run is called and where its expert
#: goes, how long it runs and on how many cores, how often it saves and evaluates, and which
#: network it keeps.
RESUME_FREE = ("name", "library", "overwrite", "resume", "work_dir", "iterations", "workers",
               "checkpoint_minutes", "eval_every", "eval_episodes", "keep", "func")  # fmt: skip


def objective_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options of ``args`` that define what a run optimises (all but :data:`RESUME_FREE`),
    by option name, e.g. ``{"--from": "walk", "--objective": "speed", ...}``."""
    return {
        "--from" if key == "base" else "--" + key.replace("_", "-"):
            list(value) if isinstance(value, tuple) else value
        for key, value in sorted(vars(args).items()) if key not in RESUME_FREE
    }  # fmt: skip


def _load_kept_network(
    keep: str, trainer: PPOTrainer, work_dir: Path, provenance: dict[str, Any]
) -> dict[str, float] | None:
    """Put the network ``--keep`` names into ``trainer.network`` (which holds the last one) and
    say which in ``provenance``; its curve row (None: the last network, or no evaluation yet).
    Raises ValueError for an iteration without an evaluated network."""
    if keep.isdigit():
        state, row = evaluated_network(work_dir, int(keep))
        provenance["kept"] = f"evaluated network, iteration {keep}"
    elif keep == "best" and trainer.best_network:
        state, row = trainer.best_network, trainer.best_row
        provenance["kept"] = f"best evaluation, iteration {row['iteration']}"
    else:
        return None
    trainer.network.load_state_dict(state)
    return row


def _spread(row: dict[str, float]) -> str:
    """An evaluation's lowest return and falls (absent from rows of older checkpoints)."""
    if "eval_min" not in row:
        return ""
    return (f" (lowest {row['eval_min']:.1f}, {row['eval_falls']:.0f} falls in "
            f"{row['eval_episodes']:.0f} episodes)")  # fmt: skip


def _objective(args: argparse.Namespace, task: str, hidden: tuple[int, ...],
               base: WalkExpert) -> tuple[
    Objective, Any
]:  # fmt: skip
    """The objective ``args`` ask for, starting from ``base``, and its evaluation callback."""
    if args.episode_steps is not None and args.episode_steps < 1:
        raise LibraryError(f"--episode-steps must be >= 1, got {args.episode_steps}")
    if args.heading_sigma and args.objective != "speed":
        raise LibraryError("--heading-sigma applies to speed runs (--objective speed); "
                           "hand-load rewards its own heading (--max-heading)")  # fmt: skip
    if args.effort_power != 1.0 and args.objective != "speed":
        raise LibraryError("--effort-power applies to speed runs (--objective speed)")
    if args.effort_power <= 0:
        raise LibraryError(f"--effort-power must be > 0, got {args.effort_power}")
    if args.move_target is not None and args.objective != "speed":
        raise LibraryError("--move-target applies to speed runs (--objective speed)")
    if args.move_target is not None and args.move_target <= 0:
        raise LibraryError(f"--move-target must be > 0 m/s, got {args.move_target}")
    if args.objective == "door-sweep":
        legs_library = Path(args.legs_library or default_library_path()).resolve()
        library = str(Path(args.library).resolve())
        libraries = (str(legs_library), "walk", library, args.pull_legs or args.base,
                     library, args.base)  # fmt: skip
        config = DoorOpenerConfig.from_overrides(args.opener_set)
        steps = 300 if args.episode_steps is None else args.episode_steps
        if args.open_reward < 0 or args.stance_reward < 0:
            raise LibraryError("--open-reward and --stance-reward must be >= 0, got "
                               f"{args.open_reward} and {args.stance_reward}")
        variants = tuple(DoorOpenerConfig.from_overrides([*args.opener_set, *v.split()])
                         for v in args.snapshot_variant)  # fmt: skip
        if args.snapshot_seeds is not None and args.snapshot_seeds < 1:
            raise LibraryError(f"--snapshot-seeds must be >= 1, got {args.snapshot_seeds}")
        seeds = SNAPSHOT_SEEDS if args.snapshot_seeds is None else tuple(range(args.snapshot_seeds))
        if args.start_door is not None and not 0.0 < args.start_door < DOOR_STOP_RAD:
            raise LibraryError(f"--start-door must lie between 0 and the door's "
                               f"{DOOR_STOP_RAD}-rad stop, got {args.start_door}")
        sweep = DoorSweepObjective(libraries, steps, config,
                                   arm=args.sweep_arm or isinstance(base, ArmSweepWalker),
                                   open_reward=args.open_reward, snapshot_variants=variants,
                                   stance_reward=args.stance_reward, snapshot_seeds=seeds,
                                   start_door=args.start_door)
        if sweep.arm_joints and isinstance(base, ArmSweepWalker) \
                and base.arm_joints != sweep.arm_joints:  # fmt: skip
            raise LibraryError(f"--from {base.name!r} moves {base.arm_joints} arm joints; the "
                               f"opener's settings move {sweep.arm_joints} (use_torso)")
        hold = args.start_door is not None and args.start_door >= DOOR_OPEN_RAD
        return sweep, sweep_evaluation(libraries, base, config, arm_joints=sweep.arm_joints,
                                       hold=hold)  # fmt: skip
    if args.sweep_arm:
        raise LibraryError("--sweep-arm applies to --objective door-sweep")
    if args.open_reward:
        raise LibraryError("--open-reward applies to --objective door-sweep")
    if args.snapshot_variant:
        raise LibraryError("--snapshot-variant applies to --objective door-sweep")
    if args.stance_reward:
        raise LibraryError("--stance-reward applies to --objective door-sweep")
    if args.snapshot_seeds is not None:
        raise LibraryError("--snapshot-seeds applies to --objective door-sweep")
    if args.start_door is not None:
        raise LibraryError("--start-door applies to --objective door-sweep")
    if isinstance(base, ArmSweepWalker):
        raise LibraryError(f"--from {base.name!r} is a door sweep walker (legs and arm); it "
                           "trains on --objective door-sweep only")
    if args.opener_set:
        raise LibraryError("--opener-set applies to --objective door-sweep (the door opener's "
                           "settings while the legs train)")  # fmt: skip
    if args.objective == "hand-load":
        if args.episode_steps is not None:
            raise LibraryError("--episode-steps applies to door-sweep and speed runs; "
                               "hand-load episodes end with the env's own 1000 steps")  # fmt: skip
        load = LoadedWalkObjective(LoadCurriculum(
            start_force=args.start_force, max_force=args.max_force, force_step=args.force_step,
            level_iterations=args.level_iterations, max_heading=args.max_heading,
            vx_range=tuple(args.vx_range),
        ))  # fmt: skip
        return load, load_evaluation(load.ctrlrange)
    curriculum = SpeedCurriculum(
        start_speed=args.start_speed, max_speed=args.max_speed,
        min_speed=min(args.min_speed, args.start_speed), curriculum_step=args.curriculum_step,
        level_iterations=args.level_iterations, hold_ratio=args.hold_ratio,
        cadence=Cadence(reference_speed=args.cadence_speed, max_rate=args.cadence_max_rate,
                        max_feature_speed=args.max_feature_speed),
        push_speed=args.push_speed,
    )  # fmt: skip
    steps = 1000 if args.episode_steps is None else args.episode_steps
    speed = ForwardSpeedObjective(task, curriculum, steps, args.heading_sigma,
                                  args.effort_power, args.move_target)  # fmt: skip
    return speed, evaluation(task, speed, hidden, hold_steps=SURVIVAL_STEPS)
