"""DreamerV3 baseline: sheeprl's DreamerV3 trained and evaluated on our envs.

A DreamerV3 run directory reads like one of our trainer's (so that the report tooling reads
both): ``train.csv`` (``step,episode_reward,episode_length``, one row per training episode),
``eval.csv`` (``step,episode_reward,episode_reward_std,episode_length``, one row per evaluated
checkpoint), ``config.json`` (our arguments and sheeprl's resolved config) and ``final.json``
(``{"step", "eval_returns", "eval_mean_return", "checkpoint"}``). sheeprl's own outputs stay
under ``sheeprl/`` (config, TensorBoard events, ``checkpoint/ckpt_<step>_0.ckpt``), its console
output in ``sheeprl.log``.

Example::

    from metaworld_hwm.baselines.dreamerv3 import train_dreamerv3, evaluate_dreamerv3
    run = train_dreamerv3("gym:InvertedPendulum-v5", steps=2000, seed=1, run_dir=Path("runs/dv3"))
    returns = evaluate_dreamerv3(run, episodes=10, seed=1)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from metaworld_hwm.agent import PRESETS as RUN_PRESETS
from metaworld_hwm.agent import RunConfig
from metaworld_hwm.baselines.dreamerv3_eval import (
    EVAL_SEED_OFFSET,
    METHOD,
    EvalEpisodes,
    evaluate_checkpoint,
)
from metaworld_hwm.baselines.sheeprl_env import make_sheeprl_env
from metaworld_hwm.baselines.sheeprl_run import (
    EPISODES_DIR,
    PRESETS,
    SHEEPRL_DIR,
    SHEEPRL_LOG,
    DreamerV3Args,
    SheeprlNotInstalledError,
    build_overrides,
    checkpoints,
    compose_sheeprl_config,
    read_episodes,
    require_sheeprl,
    run_sheeprl,
    sheeprl_command,
    sheeprl_environment,
)
from metaworld_hwm.utils.atomic import atomic_write_text
from metaworld_hwm.utils.progress import ProgressReporter

__all__ = [
    "EVAL_SEED_OFFSET",
    "PRESETS",
    "DreamerV3Args",
    "EvalEpisodes",
    "SheeprlNotInstalledError",
    "compose_sheeprl_config",
    "evaluate_dreamerv3",
    "find_checkpoint",
    "train_dreamerv3",
    "train_run",
]


def _resolve_device(device: str | None) -> str:
    """``device``, or ``cuda`` when torch sees one and ``cpu`` otherwise."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' but torch sees no CUDA device; use device='cpu'")
    return device


def train_dreamerv3(
    task: str,
    steps: int,
    seed: int,
    run_dir: str | Path,
    preset: str = "tiny",
    device: str | None = None,
    *,
    eval_every: int = 50_000,
    eval_episodes: int = 10,
    learning_starts: int | None = None,
    max_episode_steps: int | None = None,
    threads: int | None = None,
    overrides: Sequence[str] = (),
) -> Path:
    """Train sheeprl's DreamerV3 on ``make_env(task)`` and write our run-dir files.

    Args:
        task: env name (``h1-stand``, ``h1-walk``, ``gym:InvertedPendulum-v5``, ...).
        steps: env steps (one env step is one 50 Hz control step; no action repeat).
        seed: seeds sheeprl (its envs get ``seed + i``) and, plus 10 000, the evaluation env.
        run_dir: a new directory, or one without an earlier DreamerV3 run.
        preset: ``tiny`` (64 units, batch 8 x 32, replay ratio 0.1, one env: CPU tests) or
            ``paper`` (DreamerV3's S model, batch 16 x 64, replay ratio 0.5, four envs: GPU).
        device: ``cpu`` or ``cuda``; None: ``cuda`` when available.
        eval_every: env steps between checkpoints; each checkpoint (and the last) is evaluated
            after training with ``eval_episodes`` episodes into ``eval.csv``.
        learning_starts: random-action steps before training; None: min(1024, steps // 4).
        max_episode_steps: a shorter episode than the env's own (quick runs).
        threads: torch CPU threads of the training process; None: ``$OMP_NUM_THREADS`` or 1.
        overrides: extra Hydra overrides for sheeprl, applied last.

    Returns:
        ``run_dir``.

    Raises:
        SheeprlNotInstalledError: sheeprl is not installed.
        FileExistsError: ``run_dir`` already holds a DreamerV3 run.
        RuntimeError: sheeprl failed (the message has the end of its output).
    """
    version = require_sheeprl()
    device = _resolve_device(device)
    threads = threads if threads is not None else int(os.environ.get("OMP_NUM_THREADS") or 1)
    run_dir = Path(run_dir)
    args = DreamerV3Args(
        task=task, steps=steps, seed=seed, run_dir=str(run_dir.resolve()), preset=preset,
        device=device, eval_every=eval_every, eval_episodes=eval_episodes,
        learning_starts=learning_starts, max_episode_steps=max_episode_steps, threads=threads,
        overrides=tuple(overrides),
    )  # fmt: skip
    command, config = _start_run(args, run_dir, version)

    label = f"[dreamerv3 {task}] "
    print(f"{label}training with sheeprl {version} ({preset}, {device}); output in "
          f"{run_dir / SHEEPRL_LOG}", flush=True)  # fmt: skip
    progress = ProgressReporter(steps, label=label)
    progress.update(0, force=True)  # the next line comes after sheeprl's start-up (~10 s)
    started = time.perf_counter()
    output = run_sheeprl(
        command, sheeprl_environment(threads), cwd=run_dir, log_path=run_dir / SHEEPRL_LOG,
        on_step=progress.update,
    )  # fmt: skip
    train_seconds = time.perf_counter() - started
    assert output.log_dir is not None

    episodes = read_episodes(run_dir / EPISODES_DIR, args.num_envs)
    _check_against_stdout(episodes, output.episodes, run_dir / SHEEPRL_LOG)
    _write_csv(run_dir / "train.csv", ("step", "episode_reward", "episode_length"), episodes)

    saved = checkpoints(output.log_dir)
    if not saved:
        raise RuntimeError(f"sheeprl wrote no checkpoint in {output.log_dir / 'checkpoint'}")
    final_step = saved[-1][0]
    last = _evaluate_checkpoints(saved, run_dir, eval_episodes, seed, device, label, progress)

    _write_results(run_dir, config, output.log_dir, saved, last, train_seconds)
    progress.update(final_step, force=True)
    progress.close()
    return run_dir


def _start_run(
    args: DreamerV3Args, run_dir: Path, version: str
) -> tuple[list[str], dict[str, Any]]:
    """Check the task and the run directory and write ``config.json``: sheeprl's command line
    and the config."""
    # A bad task name fails here, not after sheeprl's start-up.
    make_sheeprl_env(args.task, max_episode_steps=args.max_episode_steps).close()
    _check_new_run_dir(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    command = sheeprl_command(build_overrides(args))
    config: dict[str, Any] = {
        "method": METHOD, "implementation": {"name": "sheeprl", "version": version},
        "arguments": args.to_dict(), "sheeprl_command": command,
    }  # fmt: skip
    _write_json(run_dir / "config.json", config)
    return command, config


def train_run(cfg: RunConfig) -> Path:
    """Train DreamerV3 as ``metaworld-hwm train --method dreamerv3`` asks: the DreamerV3 preset
    of ``cfg.preset``'s scale, the run's budgets, seed and directory (see
    :func:`train_dreamerv3`; ``seed_steps`` are its ``learning_starts``)."""
    return train_dreamerv3(
        cfg.task, cfg.steps, cfg.seed, cfg.resolved_run_dir,
        preset=RUN_PRESETS[cfg.preset].dreamerv3, device=cfg.device,
        eval_every=cfg.eval_every, eval_episodes=cfg.eval_episodes,
        learning_starts=cfg.seed_steps, max_episode_steps=cfg.max_episode_steps,
    )  # fmt: skip


def find_checkpoint(run_dir: str | Path) -> Path:
    """The last checkpoint of the DreamerV3 run in ``run_dir``."""
    run_dir = Path(run_dir)
    final = run_dir / "final.json"
    if final.exists():
        recorded = Path(json.loads(final.read_text(encoding="utf-8"))["checkpoint"])
        if recorded.is_file():
            return recorded
        # the run directory was moved since training: look for its checkpoints where it is
    found = [c for log_dir in (run_dir / SHEEPRL_DIR).glob("*/version_*")
             for c in checkpoints(log_dir)]  # fmt: skip
    if not found:
        raise FileNotFoundError(f"no DreamerV3 checkpoint in {run_dir / SHEEPRL_DIR}")
    return max(found)[1]


def evaluate_dreamerv3(
    run_dir: str | Path,
    episodes: int = 10,
    seed: int | None = None,
    *,
    checkpoint: str | Path | None = None,
    device: str | None = None,
    greedy: bool = True,
) -> list[float]:
    """Returns of ``episodes`` evaluation episodes of a DreamerV3 run's policy.

    Same protocol as the other methods: env ``make_env(task, seed=seed + 10_000)``, reset
    before each episode, the policy without exploration noise (``greedy``).

    Args:
        run_dir: a directory written by :func:`train_dreamerv3`.
        episodes: number of episodes.
        seed: None: the run's training seed.
        checkpoint: None: the run's last checkpoint.
        device: ``cpu`` or ``cuda``; None: ``cuda`` when available.
    """
    run_dir = Path(run_dir)
    if seed is None:
        config_path = run_dir / "config.json"
        if not config_path.exists():
            raise FileNotFoundError(f"{config_path} not found; pass seed= explicitly")
        seed = int(json.loads(config_path.read_text(encoding="utf-8"))["arguments"]["seed"])
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    path = Path(checkpoint) if checkpoint is not None else find_checkpoint(run_dir)
    return evaluate_checkpoint(path, episodes, seed, device=device, greedy=greedy).returns


def _check_against_stdout(
    recorded: list[tuple[int, float, int]], printed: list[tuple[int, int, float]], log: Path
) -> None:
    """Our episode files must agree with the returns sheeprl printed (same steps, same sums)."""
    mine = sorted((step, ret) for step, ret, _ in recorded)
    theirs = sorted((step, ret) for step, _, ret in printed)
    agree = len(mine) == len(theirs) and all(
        a == c and math.isclose(b, d, rel_tol=1e-4, abs_tol=1e-3)
        for (a, b), (c, d) in zip(mine, theirs, strict=True)
    )
    if not agree:
        raise RuntimeError(
            f"the recorded training episodes ({len(mine)}) disagree with the ones sheeprl printed "
            f"({len(theirs)}, in {log}); the step accounting assumes a lockstep vector env "
            "without action repeat"
        )


def _write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _check_new_run_dir(run_dir: Path) -> None:
    """FileExistsError when ``run_dir`` already holds a DreamerV3 run (no resume)."""
    for earlier in (EPISODES_DIR, SHEEPRL_DIR, "final.json"):
        if (run_dir / earlier).exists():
            raise FileExistsError(
                f"{run_dir} already holds a DreamerV3 run ({run_dir / earlier} exists); choose "
                "a new run directory or delete this one (resuming is not supported)"
            )


def _evaluate_checkpoints(
    saved: Sequence[tuple[int, Path]], run_dir: Path, episodes: int, seed: int, device: str,
    label: str, progress: ProgressReporter,
) -> EvalEpisodes:  # fmt: skip
    """Evaluate every checkpoint with ``episodes`` episodes into ``eval.csv``; the last's."""
    last = EvalEpisodes([], [])
    rows = []
    for step, path in saved if episodes else ():
        last = evaluate_checkpoint(path, episodes, seed, device=device)
        spread = float(np.std(last.returns))
        rows.append((step, last.mean_return, spread, float(np.mean(last.lengths))))
        progress.last_eval = last.mean_return
        print(f"{label}eval at step {step}: return {last.mean_return:.1f} (+- {spread:.1f}) "
              f"over {episodes} episodes", flush=True)  # fmt: skip
    if rows:
        columns = ("step", "episode_reward", "episode_reward_std", "episode_length")
        _write_csv(run_dir / "eval.csv", columns, rows)
    return last


def _write_results(
    run_dir: Path, config: dict[str, Any], log_dir: Path, saved: Sequence[tuple[int, Path]],
    last: EvalEpisodes, train_seconds: float,
) -> None:  # fmt: skip
    """Complete ``config.json`` with sheeprl's own config and checkpoints; write
    ``final.json`` (last checkpoint's step and evaluation)."""
    sheeprl_config = yaml.safe_load((log_dir / "config.yaml").read_text(encoding="utf-8"))
    config |= {
        "sheeprl_log_dir": str(log_dir),
        "sheeprl_config": sheeprl_config,
        "checkpoints": [str(path) for _, path in saved],
        "train_seconds": round(train_seconds, 3),
    }
    _write_json(run_dir / "config.json", config)
    final_step, final_checkpoint = saved[-1]
    _write_json(run_dir / "final.json", {
        "step": final_step,
        "eval_returns": last.returns,
        "eval_mean_return": last.mean_return if last.returns else None,
        "eval_lengths": last.lengths,
        "checkpoint": str(final_checkpoint),
        "train_seconds": round(train_seconds, 3),
    })  # fmt: skip


def _write_json(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2) + "\n")
