"""The ``metaworld-hwm`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from metaworld_hwm.evaluation.cli import add_evaluation_parsers
from metaworld_hwm.semantic.cli import add_plan_parser
from metaworld_hwm.skills.cli import add_experts_parser
from metaworld_hwm.training.cli import add_train_parser


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

    run_demo(Path(args.out), steps=args.steps, seed=args.seed, video=not args.no_video)
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

    demo = sub.add_parser("demo", help="run the main demo on embedded defaults")
    demo.add_argument("--out", default="demo_output", help="output directory")
    demo.add_argument("--steps", type=int, default=150, help="max steps per episode")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--no-video", action="store_true", help="skip rendering")
    demo.set_defaults(func=_cmd_demo)

    add_train_parser(sub)
    add_plan_parser(sub)
    add_experts_parser(sub)
    add_evaluation_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``metaworld-hwm``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
