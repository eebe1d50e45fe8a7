"""Self-describing checkpoints, written atomically.

A checkpoint holds the agent (weights, optimisers, RNG), the trainer's progress and RNG
states, the resolved configuration and the package version. It is written to a temporary file
and renamed, so a run killed mid-write keeps its previous checkpoint.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from metaworld_hwm import __version__
from metaworld_hwm.utils.atomic import atomic_write_bytes

FORMAT = "metaworld-hwm-checkpoint/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: missing, corrupt, or from another run."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` plus format and version tags to ``path`` atomically."""
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": __version__, **payload}, buffer)
    return atomic_write_bytes(path, buffer.getvalue())


def load_checkpoint(
    path: str | Path,
    expected_config: dict[str, Any] | None = None,
    upgrade: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`.

    Args:
        expected_config: if given, the checkpoint's ``config`` must equal it.
        upgrade: brings a payload of an older layout to the current one before the check.

    Raises:
        CheckpointError: the file is missing, truncated or corrupt, is not a checkpoint of
            this package, or was written with a different configuration.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train first or pass the right run dir")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=False)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({exc}); delete it to start over, or "
            "restore a backup"
        ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} checkpoint")
    if upgrade is not None:
        payload = upgrade(payload)
    if expected_config is not None and payload.get("config") != expected_config:
        saved = payload.get("config") or {}
        diff = sorted(
            k for k in set(saved) | set(expected_config) if saved.get(k) != expected_config.get(k)
        )
        values = ", ".join(f"{k}: saved {saved.get(k)!r}, now {expected_config.get(k)!r}"
                           for k in diff if not isinstance(saved.get(k), dict))  # fmt: skip
        raise CheckpointError(
            f"checkpoint {path} was written with a different configuration (fields {diff}"
            f"{'; ' + values if values else ''}); resume with the run's own settings or "
            "choose a new --run-dir"
        )
    return payload
