"""Plain-data plan types of Tier 1 and the planner interface.

A `Plan` is an ordered list of `SubGoal`s; each carries a probability distribution over the
experts (the paper's w, Eq. 2), a `Condition` the agent can check on task signals, and the
`SkillParams` the text states (speed, direction, turn, distance, duration, target) for experts
that take a command. Every type converts to and from JSON-ready dicts, so a plan can be
logged, cached and replayed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np

DEFAULT_TAU = 0.3
"""Softmax temperature of the paper's w_i = softmax(extract_i(R) / tau)."""

STEPS_SIGNAL = "subgoal_steps"
"""Signal that `PlanTracker` adds itself: control steps spent in the current sub-goal."""
SECONDS_SIGNAL = "subgoal_seconds"
"""Signal that `PlanTracker` adds itself: seconds spent in the current sub-goal."""


@runtime_checkable
class ExpertLike(Protocol):
    """What a planner needs to know about an expert: a name and a one-sentence description."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...


@dataclass(frozen=True)
class ExpertCard:
    """Minimal description of an expert, independent of the skills library.

    ``skill``: the catalog skill the expert performs, when its name is not one (a door opener
    named ``door`` does the ``reach`` skill); a sub-goal that cues the skill goes to it when no
    expert is named after the skill. ``stages``: ``(key, text)`` of the stages the expert runs
    one after another (a door opener: grasp, turn, pull); a sub-goal it leads becomes one
    sub-goal per stage (`metaworld_hwm.semantic.stages.expand_stages`).
    """

    name: str
    description: str
    skill: str = ""
    stages: tuple[tuple[str, str], ...] = ()


def catalog_cards() -> tuple[ExpertCard, ...]:
    """The paper's eight skills (``skills.catalog.SKILL_DESCRIPTIONS``) as expert cards."""
    from metaworld_hwm.skills.catalog import SKILL_DESCRIPTIONS

    return tuple(ExpertCard(name, text) for name, text in SKILL_DESCRIPTIONS.items())


def cue_target(cue: str | None, experts: Sequence[ExpertLike]) -> str | None:
    """The expert a skill cue goes to: the one named after the skill, else the first whose
    card gives it that ``skill``; None when no expert does it."""
    names = [e.name for e in experts]
    if cue is None or cue in names:
        return cue
    skills = [getattr(e, "skill", "") for e in experts]
    return names[skills.index(cue)] if cue in skills else None


def expert_names(experts: Sequence[ExpertLike]) -> tuple[str, ...]:
    """Names of ``experts``; raises when the library is empty or names repeat."""
    names = tuple(e.name for e in experts)
    if not names:
        raise ValueError("the expert library is empty: pass at least one expert to plan over")
    if len(set(names)) != len(names):
        raise ValueError(f"expert names must be unique, got {names}")
    return names


def softmax(scores: Sequence[float] | np.ndarray, tau: float = DEFAULT_TAU) -> np.ndarray:
    """softmax(scores / tau) in float64; ``tau`` must be positive."""
    if not tau > 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    z = np.asarray(scores, dtype=np.float64) / tau
    z = np.exp(z - z.max())
    return z / z.sum()


@dataclass(frozen=True)
class Condition:
    """Completion condition of a sub-goal: ``signals[signal] op threshold``.

    ``relative`` compares the change of the signal since the sub-goal started (e.g. distance
    walked from an odometer). ``timeout_s`` is the time after which the tracker replans.
    ``hold``: a signal that must stay >= 0.5 while the sub-goal runs (turning a handle needs it
    grasped); when it is lost the tracker goes back to the sub-goal that achieves it.
    ``flag``: the signal is 0 or 1, so it shows no progress before it is met and only the
    timeout replans (not a stall).
    """

    signal: str
    op: str
    threshold: float
    timeout_s: float = 30.0
    relative: bool = False
    description: str = ""
    hold: str = ""
    flag: bool = False

    def __post_init__(self) -> None:
        if self.op not in (">=", "<="):
            raise ValueError(f"Condition.op must be '>=' or '<=', got {self.op!r}")
        if not (math.isfinite(self.threshold) and self.timeout_s > 0):
            raise ValueError(
                f"Condition needs a finite threshold and timeout_s > 0, got "
                f"threshold={self.threshold}, timeout_s={self.timeout_s}"
            )

    def is_met(self, value: float) -> bool:
        """Whether ``value`` (already made relative by the caller) satisfies the condition."""
        return value >= self.threshold if self.op == ">=" else value <= self.threshold

    def progress(self, value: float) -> float:
        """Signed progress: larger is closer to done (``value`` for >=, ``-value`` for <=)."""
        return value if self.op == ">=" else -value


PACES = ("slow", "fast")
DIRECTIONS = ("forward", "backward", "left", "right")
TURNS = ("left", "right", "around")


@dataclass(frozen=True)
class SkillParams:
    """Skill parameters a sub-goal's text states; None where it states nothing.

    pace: "slow" or "fast" (from words: slowly, quickly, sprint). speed_mps: an explicit speed
    (m/s, "0.5 m/s", "3 km/h"). direction: forward, backward, left or right (sideways).
    turn: left, right or around; turn_deg: its angle when stated. distance_m and duration_s:
    how far or how long ("3 metres", "for 5 seconds"). target: the object acted on or moved
    to, without articles ("door", "red button"). stage: the key of the expert's stage a stage
    sub-goal runs (`ExpertCard.stages`; set by the expansion, not read from text).
    """

    pace: str | None = None
    speed_mps: float | None = None
    direction: str | None = None
    turn: str | None = None
    turn_deg: float | None = None
    distance_m: float | None = None
    duration_s: float | None = None
    target: str | None = None
    stage: str | None = None

    def __post_init__(self) -> None:
        for name, allowed in (("pace", PACES), ("direction", DIRECTIONS), ("turn", TURNS)):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise ValueError(f"SkillParams.{name} must be one of {allowed}, got {value!r}")
        for name in ("speed_mps", "turn_deg", "distance_m", "duration_s"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"SkillParams.{name} must be a finite number > 0, got {value}")
        for name in ("target", "stage"):
            value = getattr(self, name)
            if value is not None and not value.strip():
                raise ValueError(f"SkillParams.{name} must be a non-empty string or None")

    def stated(self) -> dict[str, Any]:
        """The fields the text states (not None), by name."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def moves(self) -> bool:
        """Whether any motion field (all but ``target`` and ``stage``) is stated."""
        return any(k not in ("target", "stage") for k in self.stated())


STATED_PARAMS: tuple[str, ...] = tuple(f.name for f in fields(SkillParams) if f.name != "stage")
"""The `SkillParams` fields a text states (a language model is asked for these; the stage is
set by the stage expansion)."""


@dataclass(frozen=True)
class SubGoal:
    """One step of a plan: its text, weights over the experts, a completion condition and
    the skill parameters its text states. A stage sub-goal keeps the plan clause it was
    expanded from in ``source`` (replanning asks for that clause again)."""

    text: str
    weights: tuple[float, ...]
    condition: Condition
    scores: tuple[float, ...] = ()
    params: SkillParams = field(default_factory=SkillParams)
    source: str = ""

    def __post_init__(self) -> None:
        w = np.asarray(self.weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"sub-goal weights must be finite and >= 0, got {self.weights}")
        if abs(w.sum() - 1.0) > 1e-6:
            raise ValueError(f"sub-goal weights must sum to 1, got sum {w.sum():.6g}")

    def top(self, names: Sequence[str]) -> str:
        """Name of the expert with the largest weight."""
        return names[int(np.argmax(self.weights))]


@dataclass(frozen=True)
class Plan:
    """An instruction's ordered sub-goals over a fixed list of expert names.

    ``backend``/``model`` say what produced the weights (after any fallback); ``notes`` holds
    every problem met on the way (parse repairs, retries, fallbacks), for the logs.
    ``low_confidence`` marks a plan the planner could not match to the experts well (the
    notes say which sub-goal and why).
    """

    instruction: str
    experts: tuple[str, ...]
    subgoals: tuple[SubGoal, ...]
    backend: str
    model: str = ""
    tau: float = DEFAULT_TAU
    notes: tuple[str, ...] = field(default=())
    low_confidence: bool = False

    def __post_init__(self) -> None:
        if not self.subgoals:
            raise ValueError(f"a plan needs at least one sub-goal: {self.instruction!r}")
        for g in self.subgoals:
            if len(g.weights) != len(self.experts):
                raise ValueError(
                    f"sub-goal {g.text!r} has {len(g.weights)} weights for "
                    f"{len(self.experts)} experts {self.experts}"
                )

    def weight_matrix(self) -> np.ndarray:
        """Weights as an array of shape (sub-goals, experts)."""
        return np.array([g.weights for g in self.subgoals], dtype=np.float64)

    def top_experts(self) -> list[str]:
        """The largest-weight expert of each sub-goal."""
        return [g.top(self.experts) for g in self.subgoals]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of lists, numbers and strings."""
        return json.loads(json.dumps(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Plan:
        """Inverse of `to_dict`; raises a ValueError naming the missing key."""
        try:
            subgoals = tuple(
                SubGoal(
                    text=str(g["text"]),
                    weights=tuple(float(x) for x in g["weights"]),
                    condition=Condition(**g["condition"]),
                    scores=tuple(float(x) for x in g.get("scores", ())),
                    params=SkillParams(**(g.get("params") or {})),
                    source=str(g.get("source", "")),
                )
                for g in data["subgoals"]
            )
            return cls(
                instruction=str(data["instruction"]),
                experts=tuple(str(n) for n in data["experts"]),
                subgoals=subgoals,
                backend=str(data["backend"]),
                model=str(data.get("model", "")),
                tau=float(data.get("tau", DEFAULT_TAU)),
                notes=tuple(str(n) for n in data.get("notes", ())),
                low_confidence=bool(data.get("low_confidence", False)),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a serialised Plan ({err!r}); expected Plan.to_dict()") from err

    def to_json(self, indent: int | None = 2) -> str:
        """The plan as a JSON string."""
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        """Inverse of `to_json`."""
        return cls.from_dict(json.loads(text))


@runtime_checkable
class Planner(Protocol):
    """Tier 1: instruction (+ optional observation and camera frame) -> `Plan`."""

    def plan(
        self,
        instruction: str,
        experts: Sequence[ExpertLike],
        observation: np.ndarray | None = None,
        frame: np.ndarray | None = None,
    ) -> Plan:
        """Decompose ``instruction`` into sub-goals weighted over ``experts``."""
        ...
