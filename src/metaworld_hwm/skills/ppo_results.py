"""What a PPO run leaves besides its checkpoint: evaluation summaries, the network of every
evaluation, and the learning curve's plot (:class:`~metaworld_hwm.skills.ppo.PPOTrainer`
writes them; the CLI and the benches read them)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from metaworld_hwm.utils.atomic import atomic_write_bytes
from metaworld_hwm.utils.run_state import save_png

#: The folder of a run's evaluated networks, one file per evaluation (:func:`evaluated_network`).
EVALUATED = "evaluated"


def _evaluated_path(work_dir: str | Path, iteration: int) -> Path:
    return Path(work_dir) / EVALUATED / f"iteration-{iteration:05d}.pt"


def save_evaluated_network(
    work_dir: str | Path, network: dict[str, torch.Tensor], row: dict[str, float]
) -> Path:
    """Write the ``network`` state evaluated in curve row ``row`` (with its ``iteration``) into
    ``work_dir/evaluated/``, atomically."""
    buffer = io.BytesIO()
    torch.save({"network": network, "row": row}, buffer)
    path = _evaluated_path(work_dir, int(row["iteration"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_bytes(path, buffer.getvalue())


def evaluated_network(
    work_dir: str | Path, iteration: int
) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """The network state (:attr:`~metaworld_hwm.skills.ppo.PPOTrainer.network`'s) evaluated
    at ``iteration`` of the run in ``work_dir``, and its curve row.

    Raises:
        ValueError: no evaluation at that iteration (the message lists the ones there are).
    """
    path = _evaluated_path(work_dir, iteration)
    folder = path.parent
    if not path.is_file():
        there = sorted(int(p.stem.split("-")[1]) for p in folder.glob("iteration-*.pt"))
        listed = ", ".join(map(str, there)) if there else "none"
        raise ValueError(f"no network evaluated at iteration {iteration} in {folder} "
                         f"(evaluated: {listed})")  # fmt: skip
    saved = torch.load(path, weights_only=False, map_location="cpu")
    return saved["network"], saved["row"]


def summarise_evaluation(episodes: list[dict[str, float]]) -> dict[str, float]:
    """Curve columns of an evaluation's episodes (each with ``eval_return`` and ``eval_fell``):
    every per-episode figure averaged (``eval_return`` is the mean return, a fallen episode's
    return as it is, as ``bench/experts.py`` reports it), ``eval_min`` (lowest return),
    ``eval_falls``, ``eval_episodes`` and ``eval_score``, the rank of the kept network: the
    mean return with a fallen episode counted as 0.

    Why 0: a fall already cuts the return, but only by the steps it loses: one mid-episode
    fall in five costs ~60 of a ~600 mean, a late one less, which a faster gait easily makes
    up, so a network that falls on some seeds would outrank one that never falls. The goal
    counts a fallen episode as failed whatever its return (no falls over 10 seeds); scored 0,
    one fall in five costs a fifth of the score (~120), more than the gap between the
    networks of one run at one speed."""
    if not episodes:
        raise ValueError("an evaluation needs at least one episode")
    returns = np.array([float(e["eval_return"]) for e in episodes])
    fell = np.array([bool(e["eval_fell"]) for e in episodes])
    row = {key: float(np.mean([float(e[key]) for e in episodes]))
           for key in episodes[0] if key != "eval_fell"}  # fmt: skip
    return row | {
        "eval_min": float(returns.min()), "eval_falls": int(fell.sum()),
        "eval_episodes": len(episodes), "eval_score": float(np.where(fell, 0.0, returns).mean()),
    }  # fmt: skip


#: Curve columns drawn on a second axis when present: (column, label, unit). A curve has the
#: speed objective's or the door sweep's, not both.
SECOND_AXIS = (
    ("target_speed", "target speed", "m/s"),
    ("eval_speed", "eval speed", "m/s"),
    ("eval_door", "largest door angle, policy alone (mean)", "rad"),
)


def plot_ppo_curve(curve: list[dict[str, float]], out_png: Path) -> Path:
    """Training return per iteration (and evaluation columns when present), as a PNG; speeds
    or door angles on a second axis (:data:`SECOND_AXIS`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array([row["env_steps"] for row in curve]) / 1e6
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=120)
    ax.plot(steps, [row["task_return"] for row in curve], ".", ms=2, alpha=0.5,
            label="task return, training episodes")  # fmt: skip
    evals = [(s, row["eval_return"]) for s, row in zip(steps, curve, strict=True)
             if "eval_return" in row]  # fmt: skip
    if evals:
        ax.plot(*zip(*evals, strict=True), "o-", ms=3, label="task return, policy alone (mean)")
        lowest = [(s, row["eval_min"]) for s, row in zip(steps, curve, strict=True)
                  if "eval_min" in row]  # fmt: skip
        if lowest:
            ax.plot(*zip(*lowest, strict=True), "v", ms=3, label="lowest of its episodes")
        scores = [(s, row["eval_score"]) for s, row in zip(steps, curve, strict=True)
                  if "eval_score" in row]  # fmt: skip
        if scores:
            ax.plot(*zip(*scores, strict=True), "x:", ms=4,
                    label="its rank for the kept network (a fall counts 0)")  # fmt: skip
    ax.set_xlabel("env steps (millions)")
    ax.set_ylabel("return")
    ax.grid(alpha=0.3)
    extra = [series for series in SECOND_AXIS if any(series[0] in row for row in curve)]
    if extra:
        second_ax = ax.twinx()
        for (key, label, _), style in zip(extra, ("--", ":"), strict=False):
            pts = [(s, row[key]) for s, row in zip(steps, curve, strict=True) if key in row]
            second_ax.plot(*zip(*pts, strict=True), style, label=label)
        second_ax.set_ylabel(extra[0][2])
        handles = ax.get_legend_handles_labels()[0] + second_ax.get_legend_handles_labels()[0]
        ax.legend(handles=handles, loc="best", fontsize=7)
    else:
        ax.legend(loc="lower right", fontsize=7)
    fig.tight_layout()
    return save_png(fig, out_png)
