"""The JSON a planning answer must be: one schema for every LLM backend, and its token budget.

`answer_format` builds, from the expert cards and the instruction, the JSON schema of the plan
the prompt asks for (``{"subgoals": [{"text", "scores", "params"}]}``: an integer 0-10 score for
every expert, every `SkillParams` field as a value or null) and a ``max_tokens`` bound that an
answer of that schema fits in. The OpenAI-compatible backend sends the schema as
``response_format`` (``json_schema``, ``strict``: llama.cpp's server, vLLM and hosted APIs
constrain decoding to it); the llama backend compiles it into a llama.cpp grammar. The schema
follows the strict-mode rules (every property required, no additional properties, null for
"not stated") and bounds strings and the number of sub-goals, so a constrained model cannot
ramble past the budget.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from metaworld_hwm.semantic.text import split_clauses
from metaworld_hwm.semantic.types import DIRECTIONS, PACES, STATED_PARAMS, TURNS, ExpertLike

SCHEMA_NAME = "metaworld_hwm_plan"
MAX_SUBGOALS = 8
"""No plan has more sub-goals; the bound per instruction is its clause count + 1, up to this."""
EXTRA_SUBGOALS = 1
"""Sub-goals allowed beyond the clauses the rule-based splitter finds (it may under-split)."""
TEXT_CHARS = 80
TARGET_CHARS = 40
CHARS_PER_TOKEN = 3.0
"""Compact JSON of short words and digits runs 3-4 characters a token in common tokenizers;
the low end keeps the budget an upper bound."""
TOKEN_SLACK = 32
"""Tokens for whitespace the grammar allows and the end-of-turn token."""
_ENUMS = {"pace": PACES, "direction": DIRECTIONS, "turn": TURNS}
_WORST_NUMBER = 12345.678  # a long number as a model writes one (speed, angle, metres...)


@dataclass(frozen=True)
class AnswerFormat:
    """A JSON schema an answer must match and the ``max_tokens`` such an answer needs."""

    name: str
    schema: dict[str, Any]
    max_tokens: int

    def response_format(self) -> dict[str, Any]:
        """The OpenAI chat-completions ``response_format`` (strict JSON schema)."""
        return {
            "type": "json_schema",
            "json_schema": {"name": self.name, "schema": self.schema, "strict": True},
        }

    def key(self) -> str:
        """Canonical text of the format (for cache keys)."""
        return json.dumps({"schema": self.schema, "max_tokens": self.max_tokens}, sort_keys=True)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def params_schema() -> dict[str, Any]:
    """Schema of a sub-goal's ``params``: every stated `SkillParams` field, a value or null."""
    properties: dict[str, Any] = {}
    for name in STATED_PARAMS:
        if name in _ENUMS:
            value: dict[str, Any] = {"type": "string", "enum": list(_ENUMS[name])}
        elif name == "target":
            value = {"type": "string", "maxLength": TARGET_CHARS}
        else:
            value = {"type": "number"}
        properties[name] = _nullable(value)
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def plan_schema(names: Sequence[str], max_subgoals: int = MAX_SUBGOALS) -> dict[str, Any]:
    """Schema of a plan over the experts ``names`` with 1 to ``max_subgoals`` sub-goals."""
    if not names or not 1 <= max_subgoals <= MAX_SUBGOALS:
        raise ValueError(
            f"a plan schema needs at least one expert and 1-{MAX_SUBGOALS} sub-goals, got "
            f"{len(names)} experts and {max_subgoals}"
        )
    score = {"type": "integer", "minimum": 0, "maximum": 10}
    subgoal = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "maxLength": TEXT_CHARS},
            "scores": {
                "type": "object",
                "properties": {n: score for n in names},
                "required": list(names),
                "additionalProperties": False,
            },
            "params": params_schema(),
        },
        "required": ["text", "scores", "params"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            "subgoals": {
                "type": "array",
                "items": subgoal,
                "minItems": 1,
                "maxItems": max_subgoals,
            }
        },
        "required": ["subgoals"],
        "additionalProperties": False,
    }


def plan_token_budget(names: Sequence[str], max_subgoals: int) -> int:
    """Tokens enough for the longest answer `plan_schema` allows (strings at their limits)."""
    longest = {f: max(values, key=len) for f, values in _ENUMS.items()}
    params = {
        name: longest.get(name, "x" * TARGET_CHARS if name == "target" else _WORST_NUMBER)
        for name in STATED_PARAMS
    }
    subgoal = {"text": "x" * TEXT_CHARS, "scores": dict.fromkeys(names, 10), "params": params}
    chars = len(json.dumps({"subgoals": [subgoal] * max_subgoals}))
    return math.ceil(chars / CHARS_PER_TOKEN) + TOKEN_SLACK


def answer_format(instruction: str, experts: Sequence[ExpertLike]) -> AnswerFormat:
    """The schema and token budget of a plan of ``instruction`` over ``experts``."""
    names = [e.name for e in experts]
    max_subgoals = min(MAX_SUBGOALS, len(split_clauses(instruction)) + EXTRA_SUBGOALS)
    return AnswerFormat(
        name=SCHEMA_NAME,
        schema=plan_schema(names, max_subgoals),
        max_tokens=plan_token_budget(names, max_subgoals),
    )
