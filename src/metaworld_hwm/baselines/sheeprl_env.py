"""Our envs as sheeprl sees them: the ``wrapper._target_`` of the Hydra env config.

sheeprl instantiates ``env.wrapper`` with the yaml's keyword arguments, passing ``seed`` and
``rank`` itself when the yaml names them, then wraps the result (action normalisation, the
``{"state": obs}`` dict, episode statistics). :func:`make_sheeprl_env` returns the env of
:func:`metaworld_hwm.envs.make_env` unchanged except for an optional :class:`EpisodeRecorder`,
which writes every finished training episode to a CSV file: sheeprl prints episode returns to
stdout only, and never their lengths.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym

from metaworld_hwm.envs import make_env

#: Columns of the per-env episode files an :class:`EpisodeRecorder` writes.
EPISODE_COLUMNS = ("env_step", "episode_reward", "episode_length")


class EpisodeRecorder(gym.Wrapper):
    """Append ``env_step,episode_reward,episode_length`` to ``path`` when an episode ends.

    ``env_step`` counts this env's steps since it was made, at the end of the episode. In a
    vector env stepped in lockstep (sheeprl's), ``env_step * num_envs`` is sheeprl's policy step.
    An episode cut short by a ``reset`` is not written. The file is opened per row, so that
    every process of an asynchronous vector env can write its own.
    """

    def __init__(self, env: gym.Env, path: str | Path) -> None:
        super().__init__(env)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            with self.path.open("w", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow(EPISODE_COLUMNS)
        self.env_step = 0
        self._return = 0.0
        self._length = 0

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        self._return, self._length = 0.0, 0
        return self.env.reset(**kwargs)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.env_step += 1
        self._length += 1
        self._return += float(reward)
        if terminated or truncated:
            with self.path.open("a", newline="", encoding="utf-8") as handle:
                csv.writer(handle).writerow([self.env_step, repr(self._return), self._length])
            self._return, self._length = 0.0, 0
        return obs, reward, terminated, truncated, info


def make_sheeprl_env(
    task: str,
    seed: int | None = None,
    rank: int = 0,
    episode_log: str | None = None,
    max_episode_steps: int | None = None,
) -> gym.Env:
    """Our env ``task`` for sheeprl (the target of ``env.wrapper`` in ``configs/env``).

    Args:
        task: an env name of :func:`metaworld_hwm.envs.make_env` (``h1-stand``,
            ``gym:InvertedPendulum-v5``, ...).
        seed: seeds the env's generators (sheeprl passes ``seed + index`` per vector env).
        rank: the index of this env among sheeprl's vector envs (sheeprl passes it).
        episode_log: a directory: finished episodes go to ``env_{rank}.csv`` in it; ``None``
            records nothing (evaluation).
        max_episode_steps: a shorter episode than the env's own, for quick runs.
    """
    kwargs: dict[str, Any] = {}
    if max_episode_steps is not None:
        kwargs["max_episode_steps"] = int(max_episode_steps)
    env = make_env(task, seed=seed, **kwargs)
    if episode_log is not None:
        env = EpisodeRecorder(env, Path(episode_log) / f"env_{rank}.csv")
    return env
