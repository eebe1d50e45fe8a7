"""Many envs over a few worker processes: one process per core, each stepping its share.

Gymnasium's ``AsyncVectorEnv`` runs one process per env; on a 2-core machine with 32 envs that
is 32 processes taking turns on 2 cores and a pipe round trip per env and step. Here each
worker owns a contiguous block of envs and steps it in a loop, so a step of the whole batch is
one message per worker each way.

Envs reset themselves when an episode ends (terminated or truncated): the observation returned
for that row is the first one of the next episode, as rsl_rl and Isaac Lab expect. Each step
also returns per-env ``signals``, a float vector computed in the worker by a picklable
function of the env and the step's ``info`` (e.g. the centre-of-mass velocity a reward
needs), so the main process never needs the physics. Envs that implement
``get_state() / set_state()`` (as :class:`~metaworld_hwm.envs.humanoid_env.HumanoidEnv`
does) can be snapshotted mid-episode, which is what makes a resumed training run identical
to an uninterrupted one.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import gymnasium as gym
import numpy as np
import torch

EnvFactory = Callable[[], gym.Env]
SignalFn = Callable[[gym.Env, dict[str, Any]], np.ndarray]


@dataclass(frozen=True)
class VectorStep:
    """One step of every env: arrays with the envs along the first axis.

    obs: (N, obs_dim), the next episode's first observation where ``done``.
    reward: (N,); terminated, truncated: (N,) bool; signals: (N, n_signals) after the step
    (before any reset it triggered).
    """

    obs: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    signals: np.ndarray

    @property
    def done(self) -> np.ndarray:
        """Rows whose episode ended at this step."""
        return self.terminated | self.truncated


def no_signals(env: gym.Env, info: dict[str, Any]) -> np.ndarray:
    """The default signal function: nothing."""
    return np.zeros(0)


def _worker(
    conn: Connection, factory: EnvFactory, count: int, signal_fn: SignalFn, threads: int
) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    # the env var is read when torch loads, and unpickling ``factory`` may have loaded it
    # already: envs that run a network (the door sweep's walker) then spun a second thread
    # per worker: the door sweep collected 153 instead of 369 steps/s on 2 cores
    torch.set_num_threads(threads)
    # Ctrl-C reaches the whole process group; the parent decides when workers stop
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        envs = [factory() for _ in range(count)]
        conn.send(("ok", (envs[0].observation_space, envs[0].action_space)))
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return
    while True:
        command, payload = conn.recv()
        try:
            if command == "close":
                for env in envs:
                    env.close()
                conn.send(("ok", None))
                return
            conn.send(("ok", _handle(envs, command, payload, signal_fn)))
        except Exception:
            conn.send(("error", traceback.format_exc()))


def _stateful(env: gym.Env) -> gym.Env:
    """The outermost layer of ``env``'s wrappers that defines ``get_state`` (a wrapper with
    state of its own saves it with the env's), else the unwrapped env."""
    layer = env
    while isinstance(layer, gym.Wrapper):
        if "get_state" in type(layer).__dict__:
            return layer
        layer = layer.env
    return env.unwrapped


def _handle(envs: list[gym.Env], command: str, payload: Any, signal_fn: SignalFn) -> Any:
    if command == "step":
        n = len(envs)
        obs, reward = [], np.zeros(n)
        terminated, truncated = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
        signals = []
        for i, (env, action) in enumerate(zip(envs, payload, strict=True)):
            o, reward[i], terminated[i], truncated[i], info = env.step(action)
            signals.append(np.asarray(signal_fn(env, info), dtype=np.float64))
            if terminated[i] or truncated[i]:
                o, _ = env.reset()
            obs.append(o)
        return np.stack(obs), reward, terminated, truncated, np.stack(signals)
    if command == "reset":
        return [env.reset(seed=seed)[0] for env, seed in zip(envs, payload, strict=True)]
    if command == "push":
        for env, dv in zip(envs, payload, strict=True):
            env.unwrapped.data.qvel[: len(dv)] += dv
        return None
    if command == "call":
        return [getattr(env, method)(row) for env, (method, row) in zip(envs, payload, strict=True)]
    if command == "get_state":
        return [getattr(_stateful(env), "get_state", lambda: None)() for env in envs]
    if command == "set_state":
        for env, state in zip(envs, payload, strict=True):
            _stateful(env).set_state(state)
        return None
    raise ValueError(f"unknown worker command {command!r}")


class VectorEnv:
    """``num_envs`` copies of ``factory()`` spread over ``workers`` processes.

    Args:
        factory: a picklable callable making one env (e.g. ``functools.partial(HumanoidEnv,
            "h1", "run")``).
        num_envs: envs in all; ``workers`` must divide it.
        workers: worker processes (default: one per core, at most ``num_envs``).
        signal_fn: picklable ``f(env, info) -> float vector`` evaluated in the worker after
            each step (default: none).
        threads: torch/OpenMP threads per worker (envs are single-threaded MuJoCo).
    """

    def __init__(
        self,
        factory: EnvFactory,
        num_envs: int,
        workers: int | None = None,
        signal_fn: SignalFn = no_signals,
        threads: int = 1,
    ) -> None:
        workers = workers or min(num_envs, os.cpu_count() or 1)
        if num_envs < 1 or workers < 1 or num_envs % workers:
            raise ValueError(
                f"num_envs ({num_envs}) must be a positive multiple of workers ({workers}); "
                "choose envs divisible by the number of workers"
            )
        self.num_envs = num_envs
        self.workers = workers
        self._per_worker = num_envs // workers
        context = mp.get_context("spawn")  # fork after torch threads start can deadlock
        self._conns: list[Connection] = []
        self._procs = []
        self._closed = False
        for _ in range(workers):
            parent, child = context.Pipe()
            proc = context.Process(
                target=_worker, args=(child, factory, self._per_worker, signal_fn, threads),
                daemon=True,
            )  # fmt: skip
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        spaces = self._gather()
        self.observation_space, self.action_space = spaces[0]

    def _gather(self) -> list[Any]:
        results = []
        for conn in self._conns:
            status, payload = conn.recv()
            if status == "error":
                self.close(force=True)
                raise RuntimeError(f"a VectorEnv worker failed:\n{payload}")
            results.append(payload)
        return results

    def _scatter(self, command: str, rows: Sequence[Any]) -> list[Any]:
        n = self._per_worker
        for w, conn in enumerate(self._conns):
            conn.send((command, rows[w * n : (w + 1) * n]))
        return self._gather()

    def _scatter_rows(self, command: str, rows: Sequence[Any]) -> list[Any]:
        return [item for block in self._scatter(command, rows) for item in (block or [])]

    def reset(self, seeds: Sequence[int]) -> np.ndarray:
        """Reset every env with its own seed; returns the observations (N, obs_dim)."""
        if len(seeds) != self.num_envs:
            raise ValueError(f"reset needs {self.num_envs} seeds, got {len(seeds)}")
        return np.stack(self._scatter_rows("reset", [int(s) for s in seeds]))

    def step(self, actions: np.ndarray) -> VectorStep:
        """Step every env with its row of ``actions`` (N, action_dim)."""
        actions = np.asarray(actions)
        if actions.shape[0] != self.num_envs:
            raise ValueError(f"step needs {self.num_envs} action rows, got {actions.shape[0]}")
        blocks = self._scatter("step", actions)
        return VectorStep(*(np.concatenate(part) for part in zip(*blocks, strict=True)))

    def push(self, velocity_change: np.ndarray) -> None:
        """Add ``velocity_change`` (N, k) to each env's first k generalised velocities (for a
        free-floating robot: the root's world-frame linear velocity)."""
        self._scatter("push", list(np.asarray(velocity_change, dtype=np.float64)))

    def call(self, method: str, rows: Sequence[Any]) -> list[Any]:
        """Call ``env.method(row)`` on every env with its row (one per env, in order); returns
        the results (e.g. :meth:`~metaworld_hwm.envs.loads.SiteLoad.set_force`)."""
        if len(rows) != self.num_envs:
            raise ValueError(f"call needs one row per env ({self.num_envs}), got {len(rows)}")
        return self._scatter_rows("call", [(method, row) for row in rows])

    def get_state(self) -> list[Any]:
        """Every env's full state, for a checkpoint (None for envs without ``get_state``)."""
        return self._scatter_rows("get_state", [None] * self.num_envs)

    def set_state(self, states: Sequence[Any]) -> None:
        """Restore :meth:`get_state`'s states (keep the observations from before the
        snapshot: see :meth:`HumanoidEnv.set_state`)."""
        self._scatter("set_state", list(states))

    def close(self, force: bool = False) -> None:
        """Stop the workers."""
        if getattr(self, "_closed", True):  # closed, or __init__ refused its arguments
            return
        self._closed = True
        for conn in self._conns:
            try:
                if not force:
                    conn.send(("close", None))
                    conn.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
            conn.close()
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()

    def __enter__(self) -> VectorEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close(force=True)
