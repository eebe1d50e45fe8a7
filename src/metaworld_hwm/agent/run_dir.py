"""Run directories: the files that say what a run is, read in one place.

A run directory of ``metaworld-hwm train`` holds ``config.json`` (the resolved config:
``train`` is the :class:`~metaworld_hwm.agent.RunConfig`) and ``checkpoint.pt``; runs of other
programs (DreamerV3) hold a ``config.json`` with their ``method`` at the top.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from metaworld_hwm.agent.build import ResolvedRun, identity_of
from metaworld_hwm.agent.config import RunConfig

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"


def _parse(path: Path) -> Any:
    """The JSON in ``path`` (JSONDecodeError, UnicodeDecodeError when it is not JSON)."""
    return json.loads(path.read_text())


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """A run directory's ``config.json``; FileNotFoundError or ValueError (naming the fix)
    when it is missing or not a JSON object."""
    config_path = Path(run_dir) / CONFIG
    if not config_path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    try:
        config = _parse(config_path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{config_path} is corrupt ({exc}); restore it or train the run again into a new "
            "directory"
        ) from exc
    if not isinstance(config, dict):
        raise ValueError(f"{config_path} holds no JSON object; restore it or train again")
    return config


def run_method(config: dict[str, Any]) -> str | None:
    """The method of a run from its ``config.json``: ours under ``train``, other programs'
    at the top; None when it names none."""
    train = config.get("train")
    return train.get("method") if isinstance(train, dict) else config.get("method")


def saved_run_config(run_dir: Path, config: dict[str, Any]) -> RunConfig:
    """The RunConfig of one of our runs from its ``config`` (:func:`read_run_config`), with
    the run directory where it is now and TensorBoard off (for loading, not training)."""
    return RunConfig(**{**config["train"], "run_dir": str(run_dir), "tensorboard": False})


def trained_run_config(run_dir: Path, config: dict[str, Any]) -> RunConfig:
    """:func:`saved_run_config` with the guidance lambda the run was trained with: a run on
    the default lambda records it resolved only (``world_model``), and the default may have
    changed since (20 until 2026-12-06, 100 after). Build the run's agent, and the identity
    its checkpoint must have, from this."""
    cfg = saved_run_config(run_dir, config)
    if cfg.guidance_lambda is not None:
        return cfg
    return dataclasses.replace(cfg, guidance_lambda=config["world_model"]["guidance_lambda"])


def check_run_dir(run: ResolvedRun, resume: bool) -> None:
    """Refuse to overwrite a run: ValueError (naming the fix) when the run directory holds
    a checkpoint and ``resume`` is off, or, with no checkpoint, a ``config.json`` that is
    corrupt or another run's (an interrupted start of this same run may start over)."""
    run_dir = run.config.resolved_run_dir
    config = run_dir / CONFIG
    if (run_dir / CHECKPOINT).exists():
        if not resume:
            raise ValueError(
                f"{run_dir} holds a run's checkpoint; pass --resume to continue it or "
                "choose another --run-dir"
            )
        return
    if not config.exists():
        return
    try:
        identity = identity_of(_parse(config))
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{config} is corrupt ({exc}) and there is no checkpoint to resume; delete the "
            "directory to start over or choose another --run-dir"
        ) from exc
    if identity != json.loads(json.dumps(run.identity())):
        raise ValueError(
            f"{run_dir} holds another run's config.json (no checkpoint yet); choose "
            "another --run-dir or delete it to start over"
        )
