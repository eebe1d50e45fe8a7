"""Launching sheeprl's DreamerV3 on our envs: the Hydra overrides, the subprocess, its outputs.

sheeprl is a command-line program configured by Hydra: our presets are experiment configs in
``configs/exp`` (found through ``SHEEPRL_SEARCH_PATH``) and everything specific to a run is a
command-line override. It runs in a subprocess: Hydra owns its process (``sys.argv``, working
directory, logging), and a crash there cannot take the caller with it.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.util
import os
import re
import subprocess
import sys
import warnings
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from metaworld_hwm.baselines.sheeprl_env import EPISODE_COLUMNS

#: The sheeprl release these configs are written for (its config tree changes between releases).
SHEEPRL_VERSION = "0.8.4"
INSTALL_HINT = "pip install 'metaworld-hwm[dreamerv3]'"
CONFIG_DIR = Path(__file__).resolve().parent / "configs"
#: Our preset name -> sheeprl experiment config in ``configs/exp``.
PRESETS: dict[str, str] = {
    "tiny": "metaworld_hwm_dreamer_v3_tiny",
    "paper": "metaworld_hwm_dreamer_v3_paper",
}
#: Sub-envs per preset (as in the yaml files; the step accounting needs it before the run).
NUM_ENVS: dict[str, int] = {"tiny": 1, "paper": 4}
#: Random-action policy steps before training (DreamerV3's 1024), capped at a quarter of a run.
LEARNING_STARTS = 1024
EPISODES_DIR = "episodes"
SHEEPRL_DIR = "sheeprl"
SHEEPRL_LOG = "sheeprl.log"
_EPISODE_LINE = re.compile(r"policy_step=(\d+), reward_env_(\d+)=(\S+)")
_LOG_DIR_LINE = re.compile(r"^Log dir: (.+)$")
_CKPT_NAME = re.compile(r"^ckpt_(\d+)_(\d+)\.ckpt$")


class SheeprlNotInstalledError(ImportError):
    """sheeprl, the DreamerV3 implementation, is not importable."""


def require_sheeprl() -> str:
    """The installed sheeprl version; a clear error naming the install command if it is absent.

    A version other than :data:`SHEEPRL_VERSION` gets a warning: the presets may not apply.
    """
    if importlib.util.find_spec("sheeprl") is None:
        raise SheeprlNotInstalledError(
            "the DreamerV3 baseline runs on sheeprl, which is not installed; install it with "
            f"{INSTALL_HINT} (sheeprl=={SHEEPRL_VERSION}; torch stays at the version this "
            "package pins)"
        )
    version = importlib.metadata.version("sheeprl")
    if version != SHEEPRL_VERSION:
        warnings.warn(
            f"sheeprl {version} is installed; the DreamerV3 presets are written for "
            f"sheeprl=={SHEEPRL_VERSION} ({INSTALL_HINT}) and may not apply",
            stacklevel=2,
        )
    return version


@dataclass(frozen=True)
class DreamerV3Args:
    """Everything that defines one DreamerV3 run (saved in ``config.json``)."""

    task: str
    """Env name of :func:`metaworld_hwm.envs.make_env` (``h1-stand``, ``gym:Hopper-v5``)."""
    steps: int
    """Env steps (policy steps: one env step is one control step, no action repeat)."""
    seed: int
    run_dir: str
    preset: str = "tiny"
    """``tiny`` (CPU tests and demos) or ``paper`` (DreamerV3's proprio-control settings)."""
    device: str = "cpu"
    """``cpu`` or ``cuda``."""
    eval_every: int = 50_000
    """Env steps between checkpoints; every checkpoint is evaluated after training."""
    eval_episodes: int = 10
    learning_starts: int | None = None
    """Random-action steps first; None: min(1024, steps // 4)."""
    max_episode_steps: int | None = None
    """A shorter episode than the env's own (quick runs)."""
    threads: int = 1
    """CPU threads of torch in the sheeprl process (``OMP_NUM_THREADS``)."""
    overrides: tuple[str, ...] = field(default_factory=tuple)
    """Extra Hydra overrides for sheeprl, applied last (e.g. ``fabric.precision=bf16-mixed``)."""

    def __post_init__(self) -> None:
        checks = {
            "preset": (self.preset in PRESETS, f"one of {', '.join(PRESETS)}"),
            "device": (self.device in ("cpu", "cuda"), "cpu or cuda"),
            "steps": (self.steps >= NUM_ENVS.get(self.preset, 1), "at least the number of envs"),
            "eval_every": (self.eval_every > 0, "> 0"),
            "eval_episodes": (self.eval_episodes >= 0, ">= 0"),
            "learning_starts": (self.learning_starts is None or self.learning_starts >= 0,
                                ">= 0 or None"),
            "threads": (self.threads >= 1, ">= 1"),
        }  # fmt: skip
        for name, (ok, accepted) in checks.items():
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} is invalid; must be {accepted}")

    @property
    def num_envs(self) -> int:
        return NUM_ENVS[self.preset]

    @property
    def resolved_learning_starts(self) -> int:
        if self.learning_starts is not None:
            return self.learning_starts
        return min(LEARNING_STARTS, self.steps // 4)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["overrides"] = list(self.overrides)
        return data


def _quoted(value: object) -> str:
    """A Hydra override value that keeps ``:``, ``/`` and spaces as they are."""
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def build_overrides(args: DreamerV3Args) -> list[str]:
    """The sheeprl command-line overrides of a run (pure: nothing is run or written)."""
    run_dir = Path(args.run_dir).resolve()
    sheeprl_dir = run_dir / SHEEPRL_DIR
    accelerator = "cuda" if args.device == "cuda" else "cpu"
    max_steps = "null" if args.max_episode_steps is None else str(int(args.max_episode_steps))
    return [
        f"exp={PRESETS[args.preset]}",
        f"env.id={_quoted(args.task)}",
        f"seed={args.seed}",
        f"algo.total_steps={args.steps}",
        f"algo.learning_starts={args.resolved_learning_starts}",
        f"checkpoint.every={args.eval_every}",
        f"fabric.accelerator={accelerator}",
        f"num_threads={args.threads}",
        "env.capture_video=False",
        f"env.wrapper.episode_log={_quoted(run_dir / EPISODES_DIR)}",
        f"env.wrapper.max_episode_steps={max_steps}",
        # Everything sheeprl writes stays in the run directory.
        f"log_root={_quoted(run_dir)}",
        f"root_dir={SHEEPRL_DIR}",
        "run_name=dreamer_v3",
        f"hydra.run.dir={_quoted(sheeprl_dir / 'hydra')}",
        *args.overrides,
    ]


def compose_sheeprl_config(args: DreamerV3Args) -> dict[str, Any]:
    """sheeprl's resolved config for ``args``, composed in this process (nothing is run).

    Raises:
        SheeprlNotInstalledError: sheeprl is not installed.
    """
    require_sheeprl()
    from hydra import compose, initialize_config_module
    from omegaconf import OmegaConf

    previous = os.environ.get("SHEEPRL_SEARCH_PATH")
    os.environ["SHEEPRL_SEARCH_PATH"] = sheeprl_environment(args.threads)["SHEEPRL_SEARCH_PATH"]
    try:
        with initialize_config_module(config_module="sheeprl.configs", version_base="1.3"):
            cfg = compose(config_name="config", overrides=build_overrides(args))
    finally:
        if previous is None:
            del os.environ["SHEEPRL_SEARCH_PATH"]
        else:
            os.environ["SHEEPRL_SEARCH_PATH"] = previous
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    assert isinstance(resolved, dict)
    return {str(key): value for key, value in resolved.items()}


def sheeprl_command(overrides: Sequence[str]) -> list[str]:
    """The command that runs sheeprl's training with ``overrides``, in this interpreter."""
    return [sys.executable, "-m", "sheeprl", *overrides]


def sheeprl_environment(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of the sheeprl process: our configs on its search path, thread counts.

    ``OMP_NUM_THREADS`` must be set before torch is imported; sheeprl sets it only later.
    """
    env = dict(os.environ if base is None else base)
    search = [f"file://{CONFIG_DIR}"]
    if env.get("SHEEPRL_SEARCH_PATH"):
        search.append(env["SHEEPRL_SEARCH_PATH"])
    env["SHEEPRL_SEARCH_PATH"] = ";".join(search)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class SheeprlOutput:
    """What a sheeprl run printed that we need."""

    log_dir: Path | None = None
    last_step: int = 0
    episodes: list[tuple[int, int, float]] = field(default_factory=list)
    """(policy step, env index, return) of every episode sheeprl printed."""
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))

    def feed(self, line: str) -> None:
        self.tail.append(line)
        if (match := _EPISODE_LINE.search(line)) is not None:
            step, env, ret = int(match[1]), int(match[2]), float(match[3])
            self.episodes.append((step, env, ret))
            self.last_step = max(self.last_step, step)
        elif (match := _LOG_DIR_LINE.match(line.strip())) is not None:
            self.log_dir = Path(match[1])


def run_sheeprl(
    command: Sequence[str],
    env: dict[str, str],
    cwd: Path,
    log_path: Path,
    on_step: Callable[[int], None] | None = None,
) -> SheeprlOutput:
    """Run sheeprl, its output to ``log_path``; ``on_step(policy_step)`` after each episode.

    Raises:
        RuntimeError: sheeprl exited with an error (the message has the end of its output).
    """
    output = SheeprlOutput()
    with (
        log_path.open("w", encoding="utf-8") as log,
        subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1,
        ) as process,
    ):  # fmt: skip
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            log.flush()  # so that the log can be followed while sheeprl runs
            before = output.last_step
            output.feed(line.rstrip("\n"))
            if on_step is not None and output.last_step != before:
                on_step(output.last_step)
        code = process.wait()
    if code != 0:
        tail = "\n".join(output.tail)
        raise RuntimeError(
            f"sheeprl DreamerV3 exited with code {code}; full output in {log_path}; "
            f"its last lines:\n{tail}"
        )
    if output.log_dir is None:
        raise RuntimeError(f"sheeprl printed no 'Log dir:' line; see {log_path}")
    return output


def checkpoints(log_dir: Path) -> list[tuple[int, Path]]:
    """(policy step, path) of the checkpoints of a sheeprl run (rank 0), the oldest first."""
    found = []
    for path in (log_dir / "checkpoint").glob("ckpt_*.ckpt"):
        match = _CKPT_NAME.match(path.name)
        if match is not None and match[2] == "0":
            found.append((int(match[1]), path))
    return sorted(found)


def read_episodes(episodes_dir: Path, num_envs: int) -> list[tuple[int, float, int]]:
    """(policy step, return, length) of every recorded training episode, in step order.

    An env's own step count times ``num_envs`` is sheeprl's policy step: its vector env steps
    every sub-env once per iteration.
    """
    rows = []
    for path in episodes_dir.glob("env_*.csv"):
        index = int(path.stem.removeprefix("env_"))
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != EPISODE_COLUMNS:
                raise ValueError(
                    f"{path}: expected columns {EPISODE_COLUMNS}, got {reader.fieldnames}"
                )
            for row in reader:
                step = int(row["env_step"]) * num_envs
                rows.append((step, index, float(row["episode_reward"]), int(row["episode_length"])))
    rows.sort()
    return [(step, ret, length) for step, _, ret, length in rows]
