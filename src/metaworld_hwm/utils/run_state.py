"""What resumable runs share: loading their checkpoint with checks, saving figures."""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import torch

from metaworld_hwm.utils.atomic import atomic_write_bytes


def load_for_resume(
    path: Path, config: dict[str, Any], free: tuple[str, ...], changeable: str
) -> dict[str, Any]:
    """The checkpoint at ``path`` (a ``torch.save`` dict with a ``"config"`` entry).

    Raises ValueError naming the fix when it is missing, corrupt, or was made with settings
    other than ``config`` in any field outside ``free`` (the fields a resume may change;
    ``changeable`` names their options for the message, e.g. ``"--iterations"``).
    """
    if not path.is_file():
        raise ValueError(f"no {path.name} in {path.parent} to resume; drop --resume")
    try:
        state = torch.load(path, weights_only=False)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:
        raise ValueError(f"{path} is corrupt ({exc}); delete it and start again") from exc
    saved = {k: v for k, v in state["config"].items() if k not in free}
    current = {k: v for k, v in config.items() if k not in free}
    if saved != current:
        changed = sorted(k for k in current if saved.get(k) != current[k])
        raise ValueError(
            f"{path} was made with other settings ({', '.join(changed)}); resume with the same "
            f"settings (only {changeable} may change) or use another --work-dir"
        )
    return state


def save_png(fig: Any, path: str | Path) -> Path:
    """Write a matplotlib figure to ``path`` as PNG atomically and close it."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return atomic_write_bytes(path, buffer.getvalue())
