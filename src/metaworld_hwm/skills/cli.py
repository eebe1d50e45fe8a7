"""``metaworld-hwm experts list|show|add|remove``: manage an expert library from the shell.

Wire into the main parser with ``add_experts_parser(subparsers)``; each sub-command sets
``func`` (returning an exit code) on the parsed namespace.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from metaworld_hwm.skills.builtin import BUILTIN, build_builtin, default_library_path
from metaworld_hwm.skills.catalog import SKILL_DESCRIPTIONS
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.door_expert import build_door_expert
from metaworld_hwm.skills.expert import Expert
from metaworld_hwm.skills.library import MANIFEST, ExpertLibrary, LibraryError
from metaworld_hwm.utils.user_errors import positive_int


def _reporting(cmd: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print a library problem as one line on stderr (exit code 2) instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return cmd(args)
        except (LibraryError, KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(f"metaworld-hwm experts: error: {message}", file=sys.stderr)
            return 2

    return run


def _open(path: Path, create: bool = False) -> ExpertLibrary:
    if create and not (path / MANIFEST).exists():
        return ExpertLibrary(path)
    return ExpertLibrary.load(path)


def _cmd_list(args: argparse.Namespace) -> int:
    library = _open(Path(args.library))
    by_skill: dict[str, list[str]] = {skill: [] for skill in SKILL_DESCRIPTIONS}
    for expert in library.experts.values():
        by_skill[expert.spec.skill].append(expert.name)
    print(f"library {library.root} ({len(library)} experts)")
    print(f"{'skill':8s} {'experts':18s} description")
    for skill, description in SKILL_DESCRIPTIONS.items():
        names = ", ".join(by_skill[skill]) or "-"
        print(f"{skill:8s} {names:18s} {description}")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    library = _open(Path(args.library))
    entry = library.entry(args.name)
    print(json.dumps({k: v for k, v in entry.items() if k != "psi"}, indent=1))
    if args.video:
        return _render(library, args)
    return 0


def _render(library: ExpertLibrary, args: argparse.Namespace) -> int:
    from metaworld_hwm.envs import make_env
    from metaworld_hwm.envs.rendering import write_mp4

    expert = library[args.name]
    if not expert.spec.task:
        raise LibraryError(f"expert {args.name!r} names no task to render it in")
    env = make_env(expert.spec.task, seed=args.seed, render_mode="rgb_array")
    library.check_env(env, [args.name])
    obs, _ = env.reset(seed=args.seed)
    expert.reset(1)
    frames, ret = [env.render()], 0.0
    for _ in range(args.steps):
        obs, reward, terminated, truncated, _ = env.step(expert.act(obs))
        frames.append(env.render())
        ret += reward
        if terminated or truncated:
            break
    env.close()
    path = write_mp4(frames, args.video, fps=round(1 / env.dt))
    print(f"{args.name} in {expert.spec.task}: {len(frames) - 1} steps, return {ret:.1f} -> {path}")
    return 0


def _expert_at(reference: str) -> Expert:
    """The expert ``LIBRARY_DIR:NAME`` names."""
    directory, _, name = reference.rpartition(":")
    library = ExpertLibrary.load(directory)
    if name not in library.names:
        raise LibraryError(f"no expert {name!r} in {directory}; it holds {library.names}")
    return library[name]


def _cmd_add(args: argparse.Namespace) -> int:
    library = _open(Path(args.library), create=True)
    source = args.source
    if args.opener_set and source != "door":
        raise LibraryError("--opener-set applies to 'experts add door' only")
    if (args.sweep_legs or args.hold_legs) and source != "door":
        raise LibraryError("--sweep-legs and --hold-legs apply to 'experts add door' only")
    if source in BUILTIN:
        expert = build_builtin(source)
    elif source == "door":
        legs = _expert_at(args.legs or f"{default_library_path()}:walk")
        pull_legs = _expert_at(args.pull_legs or f"{args.library}:pull")
        sweep_legs = _expert_at(args.sweep_legs) if args.sweep_legs else None
        hold_legs = _expert_at(args.hold_legs) if args.hold_legs else None
        config = DoorOpenerConfig.from_overrides(args.opener_set)
        expert = build_door_expert(legs, pull_legs, config=config, sweep_legs=sweep_legs,
                                   hold_legs=hold_legs)  # fmt: skip
    elif ":" in source:
        expert = _expert_at(source)
    else:
        raise LibraryError(
            f"cannot add {source!r}: give a built-in expert ({', '.join(BUILTIN)}), 'door' or "
            "LIBRARY_DIR:NAME to copy an expert from another library"
        )
    library.add(expert, overwrite=args.overwrite)
    print(
        f"added {expert.name!r} ({expert.spec.kind}, skill {expert.spec.skill}) to {library.root}"
    )
    return 0


def _cmd_distill(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from metaworld_hwm.skills.teacher import TeacherError
    from metaworld_hwm.skills.walk_distill import WalkDistillation, WalkDistillConfig

    if args.skill != "walk":
        raise LibraryError(f"no distillation recipe for skill {args.skill!r}; available: walk")
    library = _open(Path(args.library), create=True)
    if args.name in library.experts and not args.overwrite:
        raise LibraryError(
            f"expert {args.name!r} is already in {library.root}; pass --overwrite to replace it"
        )
    cfg = WalkDistillConfig(rounds=args.rounds, envs=args.envs, steps=args.steps,
                            epochs=args.epochs, push_speed=args.push_speed,
                            seed=args.seed)  # fmt: skip
    work_dir = Path(args.work_dir)
    try:
        command = shlex.join(["metaworld-hwm", *sys.argv[1:]])
        run = WalkDistillation(cfg, args.teacher, work_dir, log=tqdm.write, command=command)
    except TeacherError as exc:
        raise LibraryError(str(exc)) from exc
    if args.resume:
        run.resume()
    elif (work_dir / "checkpoint.pt").exists():
        raise LibraryError(
            f"{work_dir} holds a distillation checkpoint; pass --resume to continue it or "
            "choose another --work-dir"
        )
    per_round = cfg.steps * cfg.envs
    # tqdm's rate counts from `initial`, so it is this session's rate after a resume
    with tqdm(total=cfg.rounds * per_round, initial=run.round * per_round, unit="step",
              desc=f"distil {args.name}", disable=None, mininterval=10) as bar:  # fmt: skip
        expert = run.run(progress=bar.update, name=args.name)
    library.add(expert, overwrite=args.overwrite)
    last = run.curve[-1]
    print(f"added {args.name!r} to {library.root}: {run.round} rounds, {last['samples']} samples,"
          f" {run.seconds:.0f} s; alone on h1-walk: return {last['eval_return']:.1f}, "
          f"{last['eval_speed']:.2f} m/s; curve in {work_dir}/curve.png")  # fmt: skip
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from metaworld_hwm.skills.ppo_cli import train_expert

    library = _open(Path(args.library), create=True)
    if args.name in library.experts and not args.overwrite:
        raise LibraryError(
            f"expert {args.name!r} is already in {library.root}; pass --overwrite to replace it"
        )
    if args.base not in library.experts:
        raise LibraryError(
            f"--from {args.base!r}: no such expert in {library.root} "
            f"(it has {', '.join(library.names) or 'none'})"
        )
    command = shlex.join(["metaworld-hwm", *sys.argv[1:]])
    expert, summary = train_expert(args, library[args.base], command)
    if expert is None:
        print(f"{args.name!r} not added: {summary}")
        return 0
    library.add(expert, overwrite=args.overwrite)
    print(f"added {args.name!r} to {library.root}: {summary}")
    return 0


def _cmd_remove(args: argparse.Namespace) -> int:
    library = _open(Path(args.library))
    library.remove(args.name)
    print(f"removed {args.name!r} from {library.root}")
    return 0


def add_experts_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add ``experts`` with its sub-commands to a main parser's subparsers."""
    experts = subparsers.add_parser("experts", help="list, show, add or remove library experts")
    sub = experts.add_subparsers(dest="experts_command", required=True)
    library_help = (
        f"library directory (default: ${{METAWORLD_HWM_EXPERTS}} or {default_library_path()})"
    )

    def with_library(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--library", default=str(default_library_path()), help=library_help)
        return p

    with_library(sub.add_parser("list", help="the eight skills and their experts")).set_defaults(
        func=_reporting(_cmd_list)
    )
    show = with_library(sub.add_parser("show", help="an expert's manifest entry (and a video)"))
    show.add_argument("name")
    show.add_argument("--video", help="render the expert acting in its task to this mp4")
    show.add_argument("--steps", type=positive_int, default=300, help="steps to render")
    show.add_argument("--seed", type=int, default=0)
    show.set_defaults(func=_reporting(_cmd_show))
    add = with_library(sub.add_parser("add", help="add a built-in expert or copy one"))
    add.add_argument("source", help=f"built-in ({', '.join(BUILTIN)}), 'door' (the h1grip door "
                     "opener, built from its walkers) or LIBRARY_DIR:NAME")
    add.add_argument("--legs", help="door: LIBRARY_DIR:NAME of the approach walker "
                     "(default: the default library's walk)")
    add.add_argument("--pull-legs", help="door: LIBRARY_DIR:NAME of the walker that holds the "
                     "door's load (default: --library's pull)")
    add.add_argument("--sweep-legs", help="door: LIBRARY_DIR:NAME of the walker for the pull "
                     "past the lock, e.g. one trained by --objective door-sweep (default: the "
                     "pull legs)")
    add.add_argument("--hold-legs", help="door: LIBRARY_DIR:NAME of the walker for the rest of "
                     "that pull once the door is open, e.g. one trained by --objective "
                     "door-sweep --start-door 0.9 (default: the sweep legs)")
    add.add_argument("--opener-set", nargs="+", default=[], metavar="FIELD=JSON",
                     help="door: the opener's settings (DoorOpenerConfig), e.g. "
                     "sweep_extra_force=85: those its sweep legs were trained under")
    add.add_argument("--overwrite", action="store_true", help="replace an expert of that name")
    add.set_defaults(func=_reporting(_cmd_add))
    distill = with_library(sub.add_parser(
        "distill", help="distil an expert from a teacher policy by DAgger (skill: walk)"
    ))  # fmt: skip
    distill.add_argument("skill", choices=["walk"], help="the skill to distil")
    distill.add_argument("--teacher", required=True,
                         help="the teacher's TorchScript file (e.g. Unitree's H1 motion.pt)")
    distill.add_argument("--name", default="walk", help="expert name in the library")
    distill.add_argument("--work-dir", default="runs/distill-walk",
                         help="checkpoint, curve.csv/png and distill.log")
    distill.add_argument("--rounds", type=int, default=20, help="DAgger rounds")
    distill.add_argument("--envs", type=int, default=8, help="envs rolled per round")
    distill.add_argument("--steps", type=int, default=1000, help="control steps per env, round")
    distill.add_argument("--epochs", type=int, default=15, help="fitting passes per round")
    distill.add_argument("--push-speed", type=float, default=1.2,
                         help="largest random push (pelvis velocity change, m/s) in the data")
    distill.add_argument("--seed", type=int, default=0)
    distill.add_argument("--resume", action="store_true", help="continue --work-dir's run")
    distill.add_argument("--overwrite", action="store_true", help="replace an expert")
    distill.set_defaults(func=_reporting(_cmd_distill))
    from metaworld_hwm.skills.ppo_cli import add_train_arguments

    train = with_library(sub.add_parser(
        "train", help="train an expert by PPO from another (e.g. run from walk)"
    ))  # fmt: skip
    add_train_arguments(train)
    train.set_defaults(func=_reporting(_cmd_train))
    remove = with_library(sub.add_parser("remove", help="delete an expert from the library"))
    remove.add_argument("name")
    remove.set_defaults(func=_reporting(_cmd_remove))
    return experts
