"""The window over which a PPO curriculum judges whether its level is held.

A curriculum (the speed objective's top speed, the hand-load objective's top force) rises
once the robots hold the level over a window: a per-step score high enough and few falls.
Falls are counted per *episode ended in the window*, and the window closes only when at least
``min_episodes`` episodes have ended. Counting falls per env instead let a curriculum rise
on no evidence: with 1500-step episodes and 128 steps per iteration, a 10-iteration window
sees no episode end unless one falls, so a window without falls rose the top speed from 3.0
to 3.4 m/s before any fall could be seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class CurriculumWindow:
    """Tallies of one judging window (module docstring).

    Args:
        iterations: PPO iterations the window lasts at least.
        min_episodes: episodes that must have ended before the window closes (one per env
            is a fair sample of a level).
    """

    iterations: int
    min_episodes: int
    score_sum: float = 0.0
    score_steps: int = 0
    falls: int = 0
    episodes: int = 0
    iterations_seen: int = 0

    def add_steps(self, scores_sum: float, steps: int) -> None:
        """Add a batch of per-step scores (their sum over ``steps`` env steps)."""
        self.score_sum += scores_sum
        self.score_steps += steps

    def end_iteration(self, stats: dict[str, float]) -> None:
        """Add an iteration's ended episodes and falls (PPO's ``episodes`` and ``falls``)."""
        self.iterations_seen += 1
        self.episodes += int(stats["episodes"])
        self.falls += int(stats["falls"])

    @property
    def score(self) -> float:
        """The mean per-step score so far."""
        return self.score_sum / max(1, self.score_steps)

    @property
    def fall_share(self) -> float:
        """Falls per ended episode so far (0 before any ended)."""
        return self.falls / max(1, self.episodes)

    @property
    def closed(self) -> bool:
        """Whether the window has lasted long enough, and seen enough episodes, to judge."""
        return self.iterations_seen >= self.iterations and self.episodes >= self.min_episodes

    def held(self, min_score: float, max_fall_share: float) -> bool:
        """Whether a closed window held its level: score and fall share within bounds."""
        return self.closed and self.score >= min_score and self.fall_share <= max_fall_share

    def restart(self) -> None:
        """Open a new window."""
        self.score_sum, self.score_steps, self.falls, self.episodes = 0.0, 0, 0, 0
        self.iterations_seen = 0

    def state_dict(self) -> dict[str, Any]:
        """The tallies, for a checkpoint."""
        return {"score_sum": self.score_sum, "score_steps": self.score_steps,
                "falls": self.falls, "episodes": self.episodes,
                "iterations_seen": self.iterations_seen}  # fmt: skip

    def load_state_dict(self, state: dict[str, Any] | tuple) -> None:
        """Resume from :meth:`state_dict`, or from a checkpoint made before windows counted
        episodes (a tuple ``(score_sum, score_steps, falls, iterations)``: its window
        continues with no episode counted yet)."""
        if isinstance(state, tuple | list):
            self.restart()
            self.score_sum, self.score_steps, self.falls, self.iterations_seen = state
            return
        for name, value in state.items():
            setattr(self, name, value)
