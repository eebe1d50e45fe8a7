"""Tier 1, the semantic interface: instruction (+ camera frame) -> `Plan` of expert weights.

Backends: `EmbeddedPlanner` (offline default: clause splitting + calibrated MiniLM
similarity), `LLMPlanner` over an OpenAI-compatible endpoint (``openai_backend``) or a local
GGUF (``llama_backend``, optional extra); `make_planner` builds any of them by name.
`PlanTracker` runs a plan in closed loop. Heavy dependencies load lazily.
"""

from metaworld_hwm.semantic.embedded import EmbeddedPlanner
from metaworld_hwm.semantic.factory import BACKENDS, make_planner
from metaworld_hwm.semantic.llm import LLMPlanner
from metaworld_hwm.semantic.parsing import extract_weights, parse_response
from metaworld_hwm.semantic.tracker import PlanTracker
from metaworld_hwm.semantic.types import (
    DEFAULT_TAU,
    Condition,
    ExpertCard,
    ExpertLike,
    Plan,
    Planner,
    SkillParams,
    SubGoal,
    catalog_cards,
    softmax,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_TAU",
    "Condition",
    "EmbeddedPlanner",
    "ExpertCard",
    "ExpertLike",
    "LLMPlanner",
    "Plan",
    "PlanTracker",
    "Planner",
    "SkillParams",
    "SubGoal",
    "catalog_cards",
    "extract_weights",
    "make_planner",
    "parse_response",
    "softmax",
]
