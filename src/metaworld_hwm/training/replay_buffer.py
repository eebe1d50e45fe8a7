"""A ring-buffer replay memory that samples sub-trajectories of ``horizon + 1`` observations.

Rows are observations in the order they were seen. The row of ``o_t`` also holds what followed
it: the action ``a_t``, the reward ``r_t``, and whether the transition ended the episode by a
fall (``terminated``) or by the time limit (``truncated``). The last observation of an episode
has no action. A sub-trajectory may start at any row with an action whose ``horizon`` successors
belong to the same episode, so sequences never cross an episode boundary, and a terminated
transition cuts bootstrapping in the TD target while a truncated one does not.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch

from metaworld_hwm.utils.atomic import atomic_write_bytes


class ReplayBuffer:
    """Fixed-capacity memory of transitions; the oldest rows are overwritten first.

    ``context_dim > 0`` also stores a context vector per row (the semantic expert weights that
    were active when the action was chosen), returned as ``context`` (H, B, context_dim).
    """

    def __init__(self, capacity: int, obs_dim: int, action_dim: int, context_dim: int = 0) -> None:
        if capacity < 2:
            raise ValueError(f"replay capacity must be >= 2, got {capacity}")
        self.capacity = capacity
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.action = np.zeros((capacity, action_dim), dtype=np.float32)
        self.context = np.zeros((capacity, context_dim), dtype=np.float32)
        self.reward = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=bool)
        self.truncated = np.zeros(capacity, dtype=bool)
        self.has_action = np.zeros(capacity, dtype=bool)
        self.episode = np.full(capacity, -1, dtype=np.int64)
        self.step_in_episode = np.zeros(capacity, dtype=np.int64)
        self._next = 0  # row the next observation goes to
        self._size = 0
        self._episodes = 0
        self._last: int | None = None  # row of the latest observation
        self._transitions = 0

    def __len__(self) -> int:
        return self._size

    @property
    def num_transitions(self) -> int:
        """Transitions added so far (an upper bound on those still stored)."""
        return self._transitions

    def _append(self, obs: np.ndarray, episode: int, step: int) -> None:
        row = self._next
        self.obs[row] = obs
        self.has_action[row] = False
        self.episode[row] = episode
        self.step_in_episode[row] = step
        self._last = row
        self._next = (row + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def start_episode(self, obs: np.ndarray) -> None:
        """Record the first observation of a new episode."""
        self._episodes += 1
        self._append(np.asarray(obs, dtype=np.float32), self._episodes, 0)

    def add(
        self,
        action: np.ndarray,
        reward: float,
        terminated: bool,
        truncated: bool,
        next_obs: np.ndarray,
        context: np.ndarray | None = None,
    ) -> None:
        """Record the transition from the latest observation to ``next_obs``."""
        if self._last is None:
            raise RuntimeError("call start_episode(obs) before add(...)")
        row = self._last
        self.action[row] = action
        if context is not None:
            self.context[row] = context
        self.reward[row] = reward
        self.terminated[row] = terminated
        self.truncated[row] = truncated
        self.has_action[row] = True
        self._transitions += 1
        self._append(
            np.asarray(next_obs, dtype=np.float32),
            int(self.episode[row]),
            int(self.step_in_episode[row]) + 1,
        )

    def _valid_starts(self, starts: np.ndarray, horizon: int) -> np.ndarray:
        ends = (starts + horizon) % self.capacity
        ok = (
            self.has_action[starts]
            & (self.episode[ends] == self.episode[starts])
            & (self.step_in_episode[ends] == self.step_in_episode[starts] + horizon)
        )
        # Unwritten rows have episode -1, and a row overwritten by a later episode has another
        # episode id, so these checks also reject sequences that run past the newest row.
        return ok

    def sample(
        self, batch_size: int, horizon: int, rng: np.random.Generator
    ) -> dict[str, torch.Tensor]:
        """A batch of sub-trajectories: obs (H+1, B, obs_dim), action (H, B, A), reward and
        terminated (H, B, 1), as float32 tensors (time first); plus context (H, B, C) when
        the buffer stores one."""
        starts = np.empty(0, dtype=np.int64)
        for _ in range(100):
            candidates = rng.integers(0, self._size, size=2 * batch_size)
            starts = np.concatenate([starts, candidates[self._valid_starts(candidates, horizon)]])
            if len(starts) >= batch_size:
                break
        else:
            raise ValueError(
                f"the replay buffer holds no sub-trajectory of {horizon + 1} observations "
                f"({self.num_transitions} transitions stored); collect more steps before sampling"
            )
        starts = starts[:batch_size]
        offsets = np.arange(horizon + 1)[:, None]
        rows = (starts[None, :] + offsets) % self.capacity  # (H+1, B)
        act_rows = rows[:-1]
        batch = {
            "obs": torch.from_numpy(self.obs[rows]),
            "action": torch.from_numpy(self.action[act_rows]),
            "reward": torch.from_numpy(self.reward[act_rows][..., None]),
            "terminated": torch.from_numpy(self.terminated[act_rows][..., None].astype(np.float32)),
        }
        if self.context.shape[1]:
            batch["context"] = torch.from_numpy(self.context[act_rows])
        return batch

    _FIELDS = (
        "obs", "action", "context", "reward", "terminated", "truncated", "has_action", "episode",
        "step_in_episode",
    )  # fmt: skip

    def save(self, path: str | Path) -> Path:
        """Write the buffer to ``path`` (npz) atomically."""
        fields = {name: getattr(self, name)[: self._size] for name in self._FIELDS}
        meta = np.array([self.capacity, self._next, self._size, self._episodes,
                         -1 if self._last is None else self._last, self._transitions])  # fmt: skip
        payload = io.BytesIO()
        np.savez(payload, meta=meta, **fields)
        return atomic_write_bytes(path, payload.getvalue())

    def load(self, path: str | Path) -> None:
        """Restore a buffer written by :meth:`save` (same capacity and dimensions)."""
        with np.load(path) as saved:
            capacity, nxt, size, episodes, last, transitions = (int(v) for v in saved["meta"])
            if capacity != self.capacity or saved["obs"].shape[1:] != self.obs.shape[1:]:
                raise ValueError(
                    f"replay buffer file {path} has capacity {capacity} and obs shape "
                    f"{saved['obs'].shape[1:]}, this buffer {self.capacity} and "
                    f"{self.obs.shape[1:]}; resume with the run's own configuration"
                )
            for name in self._FIELDS:
                getattr(self, name)[:size] = saved[name]
        self._next, self._size, self._episodes = nxt, size, episodes
        self._transitions = transitions
        self._last = None if last < 0 else last
