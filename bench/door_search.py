"""Cross-entropy search over the door opener's settings (``DoorOpenerConfig``).

    python bench/door_search.py [--generations 8] [--population 12] [--seeds-per 4] \
        [--elite 4] [--spread 0.1] [--success-bonus 0] [--start best.json] [--steps 1000] \
        [--pull-legs pull --pull-library experts/door] [--out results/door/search]

Each generation scores the Gaussian's mean and ``--population`` settings drawn from it (the
fields in ``SPACE``, clipped to their bounds; the first std is ``--spread`` of each range) on
``--seeds-per`` fresh episode seeds (the same seeds for the whole generation) by mean
``min(door max, 1) - 0.5 * fell + bonus * opened`` (``--success-bonus``), and refits the
Gaussian to the ``--elite`` best (the mean among them). The shipped defaults are scored in
every generation as a control. Writes ``search.csv`` (every candidate) and ``best.json`` (the
mean of the last elite) to ``--out``, and prints the command. One process, one thread: the
door's stages are sequential.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DoorEpisode, DoorOpener, run_door_episode
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.library import ExpertLibrary

#: (field, index in a tuple field or None, low, high): what the search moves.
SPACE: tuple[tuple[str, int | None, float, float], ...] = (
    ("sweep_stance", 0, -0.5, 0.1),
    ("sweep_stance", 1, -0.3, 0.35),
    ("sweep_stance", 2, -0.6, 1.0),
    ("sweep_stance_open", 0, -0.8, -0.1),
    ("sweep_stance_open", 1, -0.45, 0.3),
    ("sweep_stance_open", 2, -0.6, 1.4),
    ("pull_force", None, 40.0, 100.0),
    ("sweep_extra_force", None, 0.0, 80.0),
    ("pull_position_gain", None, 1.0, 8.0),
    ("hatch_offset", 0, 0.3, 0.7),
    ("hatch_offset", 1, 0.0, 0.4),
    ("heading_follow", None, 0.0, 1.5),
)


def vector_of(config: DoorOpenerConfig) -> np.ndarray:
    """The searched fields of ``config`` as a vector (SPACE's order)."""
    values = asdict(config)
    return np.array([values[f] if i is None else values[f][i] for f, i, _, _ in SPACE])


def config_of(vector: np.ndarray) -> DoorOpenerConfig:
    """The default config with SPACE's fields set from ``vector`` (clipped to the bounds)."""
    settings = {k: list(v) if isinstance(v, tuple) else v
                for k, v in asdict(DoorOpenerConfig()).items()}  # fmt: skip
    for (field, index, low, high), value in zip(SPACE, vector, strict=True):
        value = float(np.clip(value, low, high))
        if index is None:
            settings[field] = value
        else:
            settings[field][index] = value
    return DoorOpenerConfig.from_settings(settings)


def score(
    opener: DoorOpener, seeds: list[int], steps: int, bonus: float
) -> tuple[float, list[DoorEpisode]]:
    """Mean of ``min(door max, 1) - 0.5 * fell + bonus * opened`` over ``seeds``, and the
    episodes."""
    episodes = [run_door_episode(opener, seed, steps) for seed in seeds]
    values = [min(e.door, 1.0) - 0.5 * e.fell + bonus * e.opened for e in episodes]
    return float(np.mean(values)), episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generations", type=int, default=8)
    parser.add_argument("--population", type=int, default=12)
    parser.add_argument("--seeds-per", type=int, default=4)
    parser.add_argument("--elite", type=int, default=4)
    parser.add_argument("--spread", type=float, default=0.1)
    parser.add_argument("--success-bonus", type=float, default=0.0)
    parser.add_argument("--start", type=Path, default=None,
                        help="a best.json to start from (default: the shipped settings)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--legs", default="walk")
    parser.add_argument("--pull-legs", default="pull")
    parser.add_argument("--pull-library", default="experts/door")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/door/search"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"$ python {' '.join(shlex.quote(a) for a in sys.argv)}", flush=True)
    legs = ExpertLibrary.load(default_library_path())[args.legs]
    pull = ExpertLibrary.load(args.pull_library)[args.pull_legs]
    low = np.array([s[2] for s in SPACE])
    high = np.array([s[3] for s in SPACE])
    start_config = DoorOpenerConfig()
    if args.start is not None:
        start_config = DoorOpenerConfig.from_settings(json.loads(args.start.read_text()))
    mean = vector_of(start_config)
    std = (high - low) * args.spread
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    start = time.perf_counter()
    for generation in range(args.generations):
        seeds = [int(s) for s in rng.integers(1000, 100_000, args.seeds_per)]
        candidates = [mean] + [np.clip(mean + std * rng.standard_normal(len(SPACE)), low, high)
                               for _ in range(args.population)]  # fmt: skip
        control, _ = score(DoorOpener(legs, pull), seeds, args.steps, args.success_bonus)
        scored = []
        for k, vector in enumerate(candidates):
            opener = DoorOpener(legs, pull, config_of(vector))
            value, episodes = score(opener, seeds, args.steps, args.success_bonus)
            scored.append((value, k))
            opened = sum(e.opened for e in episodes)
            rows.append({"generation": generation, "candidate": k, "score": round(value, 4),
                         "control": round(control, 4), "opened": opened,
                         "falls": sum(e.fell for e in episodes),
                         **{f"{f}[{i}]" if i is not None else f: round(float(v), 4)
                            for (f, i, _, _), v in zip(SPACE, vector, strict=True)}})  # fmt: skip
        scored.sort(reverse=True)
        elite = np.array([candidates[k] for _, k in scored[: args.elite]])
        mean, std = elite.mean(axis=0), np.maximum(elite.std(axis=0), (high - low) / 40)
        print(f"generation {generation}: best {scored[0][0]:.3f}, elite mean "
              f"{np.mean([v for v, _ in scored[: args.elite]]):.3f}, defaults {control:.3f} "
              f"(seeds {seeds}), {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
        with (args.out / "search.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        best = {k: list(v) if isinstance(v, tuple) else v
                for k, v in asdict(config_of(mean)).items()}  # fmt: skip
        (args.out / "best.json").write_text(json.dumps(best, indent=1) + "\n")


if __name__ == "__main__":
    main()
