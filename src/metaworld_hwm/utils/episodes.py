"""Evaluation episodes' returns and lengths, as every trainer here reports them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class EvalEpisodes:
    """Returns and lengths of evaluation episodes."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean_return(self) -> float:
        """Mean return (NaN for no episodes)."""
        return float(np.mean(self.returns)) if self.returns else float("nan")
