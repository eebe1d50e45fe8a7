"""Learning curves from run directories (``train.csv`` and ``eval.csv``) as PNG and CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from metaworld_hwm.utils.atomic import atomic_write_text
from metaworld_hwm.utils.run_state import save_png


def read_columns(path: Path, x: str, y: str) -> tuple[list[float], list[float]]:
    """Two numeric columns of a CSV written by the trainer's loggers (blank cells skipped)."""
    xs, ys = [], []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get(x) not in (None, "") and row.get(y) not in (None, ""):
                xs.append(float(row[x]))
                ys.append(float(row[y]))
    return xs, ys


def plot_learning_curve(run_dir: Path, out_png: Path, title: str = "") -> Path:
    """Training episode returns and evaluation returns against env steps, as a PNG."""
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    train = run_dir / "train.csv"
    if train.exists():
        steps, returns = read_columns(train, "step", "episode_reward")
        ax.plot(steps, returns, ".", alpha=0.35, color="tab:gray", label="training episodes")
    evaluation = run_dir / "eval.csv"
    if evaluation.exists():
        steps, returns = read_columns(evaluation, "step", "episode_reward")
        ax.plot(steps, returns, "o-", color="tab:blue", label="evaluation (mean)")
    ax.set_xlabel("env steps")
    ax.set_ylabel("episode return")
    ax.set_title(title or run_dir.name)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return save_png(fig, out_png)


def eval_curve_csv(run_dir: Path, out_csv: Path) -> Path:
    """The evaluation curve (step, mean return) of a run as a two-column CSV."""
    steps, returns = read_columns(run_dir / "eval.csv", "step", "episode_reward")
    rows = (f"{int(s)},{r:.4f}" for s, r in zip(steps, returns, strict=True))
    lines = ["step,eval_return", *rows]
    return atomic_write_text(out_csv, "\n".join(lines) + "\n")
