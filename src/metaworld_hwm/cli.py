"""The ``metaworld-hwm`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from metaworld_hwm.evaluation.cli import add_evaluation_parsers
from metaworld_hwm.semantic.cli import add_plan_parser
from metaworld_hwm.skills.cli import add_experts_parser
from metaworld_hwm.training.checkpoint import CheckpointError
from metaworld_hwm.training.cli import add_train_parser
from metaworld_hwm.utils.user_errors import UserError, output_dir, positive_int


def _cmd_envs(args: argparse.Namespace) -> int:
    from metaworld_hwm.envs import ENV_NAMES, make_env

    print(f"{'env':14s} {'obs':>4s} {'act':>4s}  success bar")
    for name in ENV_NAMES:
        env = make_env(name)
        print(
            f"{name:14s} {env.observation_space.shape[0]:4d} {env.action_space.shape[0]:4d}"
            f"  {env.task.success_bar:g}"
        )
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from metaworld_hwm.demo import run_demo

    run_demo(output_dir(args.out), steps=args.steps, seed=args.seed, trials=args.trials,
             video=not args.no_video)  # fmt: skip
    return 0


def _cmd_pose_hold(args: argparse.Namespace) -> int:
    from metaworld_hwm.pose_hold import run_pose_hold

    run_pose_hold(output_dir(args.out), steps=args.steps, seed=args.seed, video=not args.no_video)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="metaworld-hwm",
        description="MetaWorld hierarchical world model for humanoid control.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    envs = sub.add_parser("envs", help="list the tasks with their observation/action sizes")
    envs.set_defaults(func=_cmd_envs)

    demo = sub.add_parser(
        "demo", help='the main job: "walk to the door and open it", planned, trained, evaluated'
    )
    demo.add_argument("--out", default="demo_output", help="output directory")
    demo.add_argument("--steps", type=positive_int, default=1500, help="online training steps")
    demo.add_argument("--trials", type=positive_int, default=1, help="evaluation trials")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--no-video", action="store_true", help="skip rendering")
    demo.set_defaults(func=_cmd_demo)

    hold = sub.add_parser("pose-hold", help="one hold-pose episode of every task, with video")
    hold.add_argument("--out", default="pose_hold_output", help="output directory")
    hold.add_argument("--steps", type=positive_int, default=150, help="max steps per episode")
    hold.add_argument("--seed", type=int, default=0, help="random seed")
    hold.add_argument("--no-video", action="store_true", help="skip rendering")
    hold.set_defaults(func=_cmd_pose_hold)

    add_train_parser(sub)
    add_plan_parser(sub)
    add_experts_parser(sub)
    add_evaluation_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``metaworld-hwm``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (UserError, CheckpointError) as exc:
        print(f"metaworld-hwm {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
