"""``metaworld-hwm train``: online training of one method on one task.

Its options are the fields of :class:`TrainCommand` and of its
:class:`~metaworld_hwm.agent.RunConfig`, made by tyro, each field's docstring its help text.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, field
from typing import Annotated

import tyro

from metaworld_hwm.agent import RunConfig, check_run_dir
from metaworld_hwm.utils.typed_cli import parse_options
from metaworld_hwm.utils.user_errors import user_errors

PROG = "metaworld-hwm train"
#: Methods trained by other programs, by name: ``"module:function"`` taking the RunConfig
#: (imported on use, so that training does not depend on the baselines).
RUN_TRAINERS: dict[str, str] = {"dreamerv3": "metaworld_hwm.baselines.dreamerv3:train_run"}


@dataclass(frozen=True)
class TrainCommand:
    """Train an agent online on a task (DreamerV3: sheeprl, into the same run-dir files)."""

    run: Annotated[RunConfig, tyro.conf.OmitArgPrefixes] = field(default_factory=RunConfig)
    resume: Annotated[bool, tyro.conf.FlagCreatePairsOff] = False
    """Continue the run dir's checkpoint."""


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``train`` on the main parser's sub-commands; its options go to tyro whole."""
    p = sub.add_parser(
        "train", help="train an agent online on a task", add_help=False,
        prefix_chars="\0",  # no option of its own: argparse passes every argument through
    )  # fmt: skip
    p.add_argument("options", nargs="*", help=f"see {PROG} --help")
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Parse the options and train (``-h``: print them and exit)."""
    command = parse_options(TrainCommand, args.options, prog=PROG)
    cfg = command.run
    if cfg.method in RUN_TRAINERS:
        return _train_elsewhere(cfg)
    from metaworld_hwm.training.trainer import OnlineTrainer

    with user_errors():
        trainer = OnlineTrainer.from_config(cfg)
        check_run_dir(trainer.run, resume=command.resume)
    print(f"run dir: {trainer.run_dir}")
    result = trainer.train(resume=command.resume)
    print(f"final eval return {result.mean_return:.1f} over {len(result.returns)} episodes")
    return 0


def _train_elsewhere(cfg: RunConfig) -> int:
    """A method of another program (DreamerV3) behind the same command and run-dir files."""
    from metaworld_hwm.envs import make_env

    with user_errors():
        make_env(cfg.task)  # an unknown task is the user's mistake, before sheeprl starts
    print(f"run dir: {cfg.resolved_run_dir}")
    module, function = RUN_TRAINERS[cfg.method].split(":")
    getattr(importlib.import_module(module), function)(cfg)
    return 0
