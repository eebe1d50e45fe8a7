"""The default, offline planner: rule-based decomposition, skill cues, calibrated embeddings.

Each clause of the instruction (``text.split_clauses``, in the order of events) is scored
against every expert with the calibrated features of ``calibration``; when its wording names
a catalog skill (``verbs.skill_cue``: "clutch" -> reach, "lug" -> carry), that expert's
score gets `CUE_BONUS`. w = softmax(score / tau). Each clause's `SkillParams` come from
``params.clause_params`` (a pronoun's target from the clause before, or else after it).
Consecutive clauses with the same best expert and compatible parameters merge into one
sub-goal ("pick up the box and carry it to the table" is one carry; "walk 2 m, then walk
1 m" and a turn are not), with their scores averaged. A sub-goal that no cue names and that
is unlike every exemplar phrase makes the plan ``low_confidence``, with a note saying which.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from metaworld_hwm.semantic.calibration import (
    FEATURES,
    Calibration,
    clause_features,
    fit_calibration,
)
from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.encoder import TextEncoder, load_minilm
from metaworld_hwm.semantic.params import clause_params, compatible, merge, with_referent
from metaworld_hwm.semantic.text import split_clauses
from metaworld_hwm.semantic.types import (
    DEFAULT_TAU,
    ExpertLike,
    Plan,
    SkillParams,
    SubGoal,
    cue_target,
    expert_names,
    softmax,
)
from metaworld_hwm.semantic.verbs import skill_cue

log = logging.getLogger(__name__)

CUE_BONUS = 3.0
"""Added to the score of the expert a clause's wording names (calibrated scores of the top
experts span about -2..2, so a cue decides unless the embeddings disagree strongly)."""
LOW_WEIGHT = 0.5
"""A cue-less sub-goal whose top weight is below this is low-confidence..."""
LOW_COSINE = 0.45
"""...as is one whose nearest exemplar phrase has a cosine below this."""


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
        """Scores extract_i, shape (clauses, experts): calibrated embeddings plus cues."""
        return self._score(clauses, experts)[0]

    def _score(
        self, clauses: Sequence[str], experts: Sequence[ExpertLike]
    ) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
        """Scores, each clause's nearest-exemplar cosine and its cue (when among the experts)."""
        features = clause_features(self.encoder, clauses, experts)
        scores = self.calibration.scores(features)
        names = [e.name for e in experts]
        cues = [cue_target(skill_cue(clause), experts) for clause in clauses]
        for row, cue in zip(scores, cues, strict=True):
            if cue is not None:
                row[names.index(cue)] += CUE_BONUS
        nearest = features[..., FEATURES.index("exemplar")].max(axis=1)
        return scores, nearest, cues

    def plan(
        self,
        instruction: str,
        experts: Sequence[ExpertLike],
        observation: np.ndarray | None = None,
        frame: np.ndarray | None = None,
    ) -> Plan:
        """Split ``instruction`` into clauses in event order and weight each over ``experts``.

        ``observation`` and ``frame`` are accepted for the `Planner` interface; this planner
        reads text only (a given frame is noted in ``Plan.notes``).
        """
        names = expert_names(experts)
        if not instruction.strip():
            raise ValueError("empty instruction: say what the robot should do")
        clauses = split_clauses(instruction)
        resolved_params = clause_params(clauses)
        params = [p for p, _ in resolved_params]
        resolved = [  # pronouns spelled out, for scoring ("go down them" -> "the stairs")
            with_referent(clause, referent)
            for clause, (_, referent) in zip(clauses, resolved_params, strict=True)
        ]
        scores, nearest, cues = self._score(resolved, experts)
        groups: list[tuple[list[int], SkillParams]] = []
        for i, row in enumerate(scores):
            if groups:
                last, last_params = groups[-1]
                same = int(np.argmax(scores[last[0]])) == int(np.argmax(row))
                if same and compatible(last_params, params[i]):
                    groups[-1] = ([*last, i], merge(last_params, params[i]))
                    continue
            groups.append(([i], params[i]))
        subgoals, notes = [], []
        for index, (members, group_params) in enumerate(groups, start=1):
            mean = scores[members].mean(axis=0)
            weights = softmax(mean, self.tau)
            text = " and ".join(clauses[i] for i in members)
            top = names[int(np.argmax(weights))]
            if all(cues[i] is None for i in members) and (
                weights.max() < LOW_WEIGHT or nearest[members].max() < LOW_COSINE
            ):
                notes.append(
                    f"low confidence: sub-goal {index} {text!r} names no known skill and is "
                    f"unlike every expert's phrases (nearest cosine {nearest[members].max():.2f};"
                    f" best guess {top!r} at weight {weights.max():.2f}); rephrase it with a "
                    f"verb of one of {', '.join(names)}"
                )
                log.warning("semantic: %s", notes[-1])
            subgoals.append(
                SubGoal(
                    text=text,
                    weights=tuple(float(w) for w in weights),
                    condition=infer_condition(text, top, group_params),
                    scores=tuple(float(s) for s in mean),
                    params=group_params,
                )
            )
        if frame is not None:
            notes.append("camera frame ignored: the embedded planner reads text only")
        return Plan(
            instruction=instruction,
            experts=names,
            subgoals=tuple(subgoals),
            backend=self.backend,
            model=self.encoder.name,
            tau=self.tau,
            notes=tuple(notes),
            low_confidence=any(n.startswith("low confidence") for n in notes),
        )
