"""The default, offline planner: rule-based decomposition + calibrated embedding similarity.

Each clause of the instruction (``text.split_clauses``) is scored against every expert with
the calibrated features of ``calibration``; w = softmax(score / tau). Consecutive clauses
whose best expert is the same merge into one sub-goal ("pick up the box and carry it to the
table" is one carry), with their scores averaged (which keeps the same best expert).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from metaworld_hwm.semantic.calibration import Calibration, clause_features, fit_calibration
from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.encoder import TextEncoder, load_minilm
from metaworld_hwm.semantic.text import split_clauses
from metaworld_hwm.semantic.types import (
    DEFAULT_TAU,
    ExpertLike,
    Plan,
    SubGoal,
    expert_names,
    softmax,
)

log = logging.getLogger(__name__)


class EmbeddedPlanner:
    """Offline planner on the packaged all-MiniLM-L6-v2 (no server, no network).

    Args:
        encoder: sentence encoder; the packaged MiniLM (loaded on first use) when None.
        calibration: score calibration; fitted on ``lexicon.CALIBRATION_SET`` on first use
            when None (a fraction of a second once the encoder is loaded).
        tau: softmax temperature of the weights.
    """

    backend = "embedded"

    def __init__(
        self,
        encoder: TextEncoder | None = None,
        calibration: Calibration | None = None,
        tau: float = DEFAULT_TAU,
    ) -> None:
        if not tau > 0:
            raise ValueError(f"tau must be > 0, got {tau}")
        self._encoder = encoder
        self._calibration = calibration
        self.tau = tau

    @property
    def encoder(self) -> TextEncoder:
        """The sentence encoder (loaded on first access)."""
        if self._encoder is None:
            self._encoder = load_minilm()
        return self._encoder

    @property
    def calibration(self) -> Calibration:
        """The score calibration (fitted on first access)."""
        if self._calibration is None:
            self._calibration = fit_calibration(self.encoder, tau=self.tau)
        return self._calibration

    def score(self, clauses: Sequence[str], experts: Sequence[ExpertLike]) -> np.ndarray:
        """Calibrated scores extract_i, shape (clauses, experts)."""
        return self.calibration.scores(clause_features(self.encoder, clauses, experts))

    def plan(
        self,
        instruction: str,
        experts: Sequence[ExpertLike],
        observation: np.ndarray | None = None,
        frame: np.ndarray | None = None,
    ) -> Plan:
        """Split ``instruction`` into clauses and weight each over ``experts``.

        ``observation`` and ``frame`` are accepted for the `Planner` interface; this planner
        reads text only (a given frame is noted in ``Plan.notes``).
        """
        names = expert_names(experts)
        if not instruction.strip():
            raise ValueError("empty instruction: say what the robot should do")
        clauses = split_clauses(instruction)
        scores = self.score(clauses, experts)
        groups: list[tuple[list[str], list[np.ndarray]]] = []
        for clause, row in zip(clauses, scores, strict=True):
            if groups and int(np.argmax(groups[-1][1][0])) == int(np.argmax(row)):
                groups[-1][0].append(clause)
                groups[-1][1].append(row)
            else:
                groups.append(([clause], [row]))
        subgoals = []
        for texts, rows in groups:
            mean = np.mean(rows, axis=0)
            weights = softmax(mean, self.tau)
            text = " and ".join(texts)
            top = names[int(np.argmax(weights))]
            subgoals.append(
                SubGoal(
                    text=text,
                    weights=tuple(float(w) for w in weights),
                    condition=infer_condition(text, top),
                    scores=tuple(float(s) for s in mean),
                )
            )
        notes = (
            ("camera frame ignored: the embedded planner reads text only",)
            if (frame is not None)
            else ()
        )
        return Plan(
            instruction=instruction,
            experts=names,
            subgoals=tuple(subgoals),
            backend=self.backend,
            model=self.encoder.name,
            tau=self.tau,
            notes=notes,
        )
