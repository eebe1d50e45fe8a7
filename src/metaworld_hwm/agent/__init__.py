"""The composition layer: the only place where the tiers meet.

A run is one typed :class:`RunConfig` (method x ablation x preset, plus budgets and paths;
the axes are defined in :mod:`~metaworld_hwm.agent.variants`). From it and an env,
:func:`build_agent` makes the :class:`Agent`: TD-MPC2 of the preset's size and, for
``metaworld``, the guide of tiers 1 and 2 with the ablation's fusion and lambda.
:func:`resolve` gives what ``config.json`` records, and :mod:`~metaworld_hwm.agent.run_dir`
reads run directories back. Training (:mod:`metaworld_hwm.training`) and evaluation
(:mod:`metaworld_hwm.evaluation`) take the agent built here::

    cfg = RunConfig(task="h1-walk", method="metaworld", preset="tiny")
    agent = build_agent(cfg, make_run_env(cfg))
"""

from metaworld_hwm.agent.build import (
    DEFAULT_INSTRUCTIONS,
    EVAL_SEED_OFFSET,
    Agent,
    ResolvedRun,
    build_agent,
    make_run_env,
    resolve,
    upgrade_checkpoint,
)
from metaworld_hwm.agent.config import RunConfig
from metaworld_hwm.agent.run_dir import (
    CHECKPOINT,
    CONFIG,
    check_run_dir,
    read_run_config,
    run_method,
    saved_run_config,
    trained_run_config,
)
from metaworld_hwm.agent.variants import ABLATIONS, METHODS, PRESETS, Ablation, Preset

__all__ = [
    "ABLATIONS",
    "CHECKPOINT",
    "CONFIG",
    "DEFAULT_INSTRUCTIONS",
    "EVAL_SEED_OFFSET",
    "METHODS",
    "PRESETS",
    "Ablation",
    "Agent",
    "Preset",
    "ResolvedRun",
    "RunConfig",
    "build_agent",
    "check_run_dir",
    "make_run_env",
    "read_run_config",
    "resolve",
    "run_method",
    "saved_run_config",
    "trained_run_config",
    "upgrade_checkpoint",
]
