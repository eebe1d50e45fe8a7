"""The expert-weight timeline of an episode: fused weights w~ per step as stacked areas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from metaworld_hwm.envs.humanoid_env import CONTROL_DT
from metaworld_hwm.utils.run_state import save_png


def plot_weight_timeline(
    weights: Sequence[Sequence[float]], names: Sequence[str], out_png: Path, title: str = "",
    subgoals: Sequence[tuple[int, str]] = (),
) -> Path:
    """Stacked-area plot of per-step expert weights (T, K) against time in seconds, with a
    dashed line and the text where each sub-goal began (``subgoals``: (step, text))."""  # fmt: skip
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[1] != len(names):
        raise ValueError(f"weights must be (steps, {len(names)}), got {w.shape}")
    t = np.arange(len(w)) * CONTROL_DT
    fig, ax = plt.subplots(figsize=(6, 2.8), dpi=120)
    ax.stackplot(t, w.T, labels=list(names), alpha=0.85)
    for k, (step, text) in enumerate(subgoals):  # two heights: near marks overlap less
        ax.axvline(step * CONTROL_DT, color="black", lw=0.8, ls="--")
        label = text if len(text) <= 22 else text[:21] + "..."
        ax.text(step * CONTROL_DT, 0.02 + 0.5 * (k % 2), f" {label}", rotation=90, fontsize=6,
                va="bottom", clip_on=True)  # fmt: skip
    ax.set_xlim(0, max(t[-1], CONTROL_DT) if len(t) else 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("fused weight")
    ax.set_title(title or "expert weights over an episode")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return save_png(fig, out_png)
