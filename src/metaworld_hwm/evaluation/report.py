"""``metaworld-hwm report``: the paper's tables and figures from run directories.

* Table 1: final return, mean ± std over seeds, the IQM with a 95% bootstrap interval, and
  convergence steps per method and task.
* Table 2: successes out of the protocol's trials (``metaworld-hwm eval``).
* Table 3: the ablations (metaworld variants) per task.
* Figures: learning curves per task, ablation bars, the expert-weight timeline of an episode.

Final return: the mean return of the run's last evaluation. **Convergence steps**: the first
evaluation step at which a run's evaluation return reaches 90% of the best it ever reached
(averaged over seeds); it measures speed to the run's own plateau, so read it beside the return.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from rliable import library, metrics

from metaworld_hwm.evaluation.curves import read_columns
from metaworld_hwm.evaluation.weights_plot import plot_weight_timeline
from metaworld_hwm.utils.atomic import atomic_write_text
from metaworld_hwm.utils.run_state import save_png

CONVERGENCE_FRACTION = 0.9


@dataclass
class RunRecord:
    """What the report reads of one run directory."""

    path: Path
    task: str
    method: str
    seed: int
    steps: list[float] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    protocol: dict | None = None

    @property
    def final_return(self) -> float:
        return self.returns[-1] if self.returns else float("nan")

    @property
    def convergence_step(self) -> float:
        if not self.returns:
            return float("nan")
        best = max(self.returns)
        bar = best - (1 - CONVERGENCE_FRACTION) * abs(best)
        return next(s for s, r in zip(self.steps, self.returns, strict=True) if r >= bar)


def find_runs(paths: list[Path]) -> list[RunRecord]:
    """Every run directory (one with config.json) under the given paths.

    Raises:
        FileNotFoundError: there is none.
        ValueError: a config.json that is not a run's.
    """
    runs = []
    for root in paths:
        for config_path in sorted(root.rglob("config.json")):
            config = json.loads(config_path.read_text())
            # TD-MPC2/MetaWorld runs keep their settings under "train"; DreamerV3 (sheeprl)
            # runs under "arguments", with the method beside them.
            train = config.get("train") or {**config.get("arguments", {}),
                                              "method": config.get("method", "?")}  # fmt: skip
            if "task" not in train:
                raise ValueError(f"{config_path} is not a run's config (no task under 'train' "
                                 "or 'arguments'); give the directories that `metaworld-hwm "
                                 "train` or `sweep` wrote")  # fmt: skip
            method = train.get("method", "?")
            if train.get("ablation"):
                method = f"{method}-{train['ablation']}"
            run = RunRecord(config_path.parent, train["task"], method, int(train.get("seed", 0)))
            if (run.path / "eval.csv").exists():
                run.steps, run.returns = read_columns(run.path / "eval.csv", "step",
                                                      "episode_reward")  # fmt: skip
            protocol = run.path / "eval_protocol.json"
            if protocol.exists():
                run.protocol = json.loads(protocol.read_text())
            runs.append(run)
    if not runs:
        where = ", ".join(str(p) for p in paths)
        raise FileNotFoundError(f"no run directories (config.json) under {where}; give "
                                "the directories that `metaworld-hwm train` or `sweep` wrote")
    return runs


def iqm(values: np.ndarray) -> float:
    """Interquartile mean: the mean of the middle 50% (rliable's 25% trimmed mean; all values
    when fewer than 4)."""
    return float(metrics.aggregate_iqm(np.asarray(values, dtype=float)))


class _SeededStratifiedBootstrap(library.StratifiedBootstrap):
    """rliable's stratified bootstrap (runs resampled within each task), drawing from its own
    generator: rliable 1.2.0's `update_indices` draws from numpy's global generator and ignores
    `random_state`, so two reports of the same runs would differ."""

    def update_indices(self) -> tuple[np.ndarray, ...]:
        indices = self.generator.choice(self._num_items, self._args_shape, replace=True)
        return (indices, *self._strata_indices)


def bootstrap_ci(values: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the IQM over seeds, by rliable's stratified bootstrap."""
    scores = np.asarray(values, dtype=float).reshape(-1, 1)  # (runs, tasks): one task
    boot = _SeededStratifiedBootstrap(scores, seed=np.random.default_rng(seed))
    low, high = boot.conf_int(
        lambda x: np.array([metrics.aggregate_iqm(x)]), reps=reps, method="percentile", size=0.95
    )
    return float(low[0]), float(high[0])


def _groups(runs: list[RunRecord]) -> dict[tuple[str, str], list[RunRecord]]:
    groups: dict[tuple[str, str], list[RunRecord]] = defaultdict(list)
    for run in runs:
        groups[(run.task, run.method)].append(run)
    return dict(sorted(groups.items()))


def table_returns(runs: list[RunRecord], methods: list[str] | None = None) -> str:
    """Table 1 (or 3 when ``methods`` are the ablations) as Markdown."""
    lines = ["| task | method | seeds | return (mean ± std) | IQM [95% CI] | convergence steps |",
             "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for (task, method), group in _groups(runs).items():
        if methods is not None and method not in methods:
            continue
        evaluated = [r for r in group if r.returns]  # a run still in progress has none yet
        if not evaluated:
            continue
        finals = np.array([r.final_return for r in evaluated])
        low, high = bootstrap_ci(finals)
        conv = np.mean([r.convergence_step for r in evaluated])
        lines.append(
            f"| {task} | {method} | {len(evaluated)} | {finals.mean():.1f} ± {finals.std():.1f} "
            f"| {iqm(finals):.1f} [{low:.1f}, {high:.1f}] | {conv:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def table_success(runs: list[RunRecord]) -> str:
    """Table 2: successes over the protocol's trials, per method and task."""
    lines = ["| task | method | successes | trials | return (mean ± std) | forward speed (m/s) "
             "| walked through |", "|---|---|---:|---:|---:|---:|---:|"]  # fmt: skip
    for (task, method), group in _groups(runs).items():
        done = [r.protocol for r in group if r.protocol]
        if not done:
            continue
        successes = sum(p["successes"] for p in done)
        trials = sum(p["trials"] for p in done)
        returns = np.concatenate([[t["episode_return"] for t in p["per_trial"]] for p in done])
        speeds = [t["forward_speed"] for p in done for t in p["per_trial"]
                  if t.get("forward_speed") is not None]  # fmt: skip
        speed = f"{np.mean(speeds):+.2f}" if speeds else "-"
        passes = [t["passed"] for p in done for t in p["per_trial"] if t.get("passed") is not None]
        passed = f"{sum(passes)}/{len(passes)}" if passes else "-"
        spread = f"{returns.mean():.1f} ± {returns.std():.1f}"
        lines.append(f"| {task} | {method} | {successes} | {trials} | {spread} | {speed} "
                     f"| {passed} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    return save_png(fig, path)


def plot_curves(runs: list[RunRecord], out: Path) -> list[Path]:
    """One learning-curve figure per task: mean eval return per method, min-max band."""
    paths = []
    for task in sorted({r.task for r in runs}):
        fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
        for (t, method), group in _groups(runs).items():
            group = [r for r in group if r.returns]
            if t != task or not group:
                continue
            n = min(len(r.returns) for r in group)
            steps = np.array(group[0].steps[:n])
            values = np.array([r.returns[:n] for r in group])
            ax.plot(steps, values.mean(0), "o-", label=f"{method} ({len(group)} seeds)")
            ax.fill_between(steps, values.min(0), values.max(0), alpha=0.2)
        ax.set(xlabel="env steps", ylabel="eval return", title=task)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        paths.append(_save(fig, out / f"curves_{task.replace(':', '_')}.png"))
    return paths


def plot_ablation_bars(runs: list[RunRecord], out: Path) -> Path | None:
    """Final return of metaworld and its ablations, per task (mean and per-seed points)."""
    groups = {k: v for k, v in _groups(runs).items() if k[1].startswith("metaworld")}
    if not groups:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.4), dpi=120)
    labels = [f"{task}\n{method}" for task, method in groups]
    finals = [[r.final_return for r in group] for group in groups.values()]
    ax.bar(range(len(finals)), [np.mean(f) for f in finals], color="tab:blue", alpha=0.6)
    for i, f in enumerate(finals):
        ax.plot([i] * len(f), f, "k.", alpha=0.7)
    ax.set_xticks(range(len(labels)), labels, fontsize=7)
    ax.set_ylabel("final eval return")
    ax.set_title("ablations")
    return _save(fig, out / "ablations.png")


def write_report(runs: list[RunRecord], out: Path, command: str = "") -> Path:
    """Write ``report.md`` and its figures of ``runs`` (:func:`find_runs`) into ``out``;
    returns the Markdown path."""
    out.mkdir(parents=True, exist_ok=True)
    figures = plot_curves(runs, out)
    ablation = plot_ablation_bars(runs, out)
    timeline = None
    for run in runs:
        trials = (run.protocol or {}).get("per_trial", [])
        if trials and trials[0].get("weights") and run.protocol.get("experts"):
            timeline = plot_weight_timeline(
                trials[0]["weights"], run.protocol["experts"], out / "weight_timeline.png",
                title=f"{run.task}, {run.method}, seed {run.seed}: fused expert weights",
                subgoals=[tuple(mark) for mark in trials[0].get("subgoals", [])],
            )  # fmt: skip
            break
    ablations = sorted({r.method for r in runs if r.method.startswith("metaworld")})
    parts = [
        "# MetaWorld-HWM report\n",
        f"Command: `{command}`\n" if command else "",
        f"{len(runs)} runs. Final return = last evaluation's mean return; convergence steps = "
        f"first evaluation reaching {CONVERGENCE_FRACTION:.0%} of the run's best; IQM with a "
        "95% percentile interval over seeds (rliable's stratified bootstrap).\n",
        "## Table 1: return and convergence\n", table_returns(runs),
        "## Table 2: success (protocol of `metaworld-hwm eval`)\n", table_success(runs),
        "## Table 3: ablations\n", table_returns(runs, ablations),
        "## Figures\n",
        *(f"![{p.stem}]({p.name})\n" for p in [*figures, ablation, timeline] if p is not None),
    ]  # fmt: skip
    return atomic_write_text(out / "report.md", "\n".join(parts))
