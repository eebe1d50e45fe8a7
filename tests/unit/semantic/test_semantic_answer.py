"""The plan's JSON schema and token budget shared by the LLM backends (``answer``)."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from metaworld_hwm.semantic.answer import (
    MAX_SUBGOALS,
    SCHEMA_NAME,
    answer_format,
    plan_schema,
    plan_token_budget,
)
from metaworld_hwm.semantic.parsing import parse_response
from metaworld_hwm.semantic.types import STATED_PARAMS, SkillParams

_spec = importlib.util.spec_from_file_location(
    "openai_server", Path(__file__).with_name("openai_server.py")
)
assert _spec is not None and _spec.loader is not None
server = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(server)
NAMES = ["walk", "run", "reach"]


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema nested in ``schema``."""
    if isinstance(schema, list):
        return [o for item in schema for o in _objects(item)]
    if not isinstance(schema, dict):
        return []
    found = [schema] if schema.get("type") == "object" else []
    return found + [o for value in schema.values() for o in _objects(value)]


def _subgoal(**params: Any) -> dict[str, Any]:
    nulls = dict.fromkeys(STATED_PARAMS)
    return {"text": "walk to the door", "scores": {"walk": 9, "run": 2, "reach": 0},
            "params": {**nulls, **params}}  # fmt: skip


def test_schema_follows_strict_mode_rules():
    schema = plan_schema(NAMES, 3)
    objects = _objects(schema)
    assert len(objects) == 4  # plan, sub-goal, scores, params
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    items = schema["properties"]["subgoals"]
    assert (items["minItems"], items["maxItems"]) == (1, 3)
    params = items["items"]["properties"]["params"]["properties"]
    assert list(params) == list(STATED_PARAMS)
    assert set(STATED_PARAMS) == {f.name for f in fields(SkillParams)} - {"stage"}
    assert params["pace"]["anyOf"] == [{"type": "string", "enum": ["slow", "fast"]},
                                       {"type": "null"}]  # fmt: skip


def test_valid_and_invalid_answers():
    schema = plan_schema(NAMES, 2)
    good = {"subgoals": [_subgoal(pace="slow", target="door", distance_m=2.5)]}
    assert server.validate(good, schema) == []
    bad = {"subgoals": [_subgoal(pace="medium"), _subgoal(), _subgoal()]}
    bad["subgoals"][1]["scores"]["walk"] = 11
    del bad["subgoals"][1]["scores"]["reach"]
    problems = " | ".join(server.validate(bad, schema))
    for expected in (
        "3 items",
        "pace: matches no anyOf option",
        "outside [0, 10]",
        "missing 'reach'",
    ):
        assert expected in problems
    # what the schema allows, the parser reads in full
    parsed = parse_response(json.dumps(good), NAMES)
    assert parsed.complete and parsed.subgoals[0].params["distance_m"] == 2.5


def test_budget_grows_with_experts_and_subgoals_and_fits_the_longest_answer():
    assert plan_token_budget(NAMES, 1) < plan_token_budget(NAMES, 2)
    assert plan_token_budget(NAMES, 2) < plan_token_budget([*NAMES, "sit", "crawl"], 2)
    longest = {"subgoals": [_subgoal(pace="fast", direction="backward", turn="around",
                                     speed_mps=1.25, turn_deg=180, distance_m=12.5,
                                     duration_s=30, target="x" * 40)] * 2}  # fmt: skip
    assert len(json.dumps(longest, indent=1)) / 4 < plan_token_budget(NAMES, 2)


def test_answer_format_bounds_subgoals_by_the_clauses(experts):
    one = answer_format("walk forward", experts)
    three = answer_format("stand up, walk to the door and then open it", experts)
    assert one.name == SCHEMA_NAME
    assert one.schema["properties"]["subgoals"]["maxItems"] == 2
    assert three.schema["properties"]["subgoals"]["maxItems"] == 4
    assert one.max_tokens < three.max_tokens < 1024
    many = answer_format(", then ".join(["walk"] * 20), experts)
    assert many.schema["properties"]["subgoals"]["maxItems"] == MAX_SUBGOALS
    fmt = one.response_format()
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"] is one.schema


@pytest.mark.parametrize(("names", "k"), [([], 1), (NAMES, 0), (NAMES, MAX_SUBGOALS + 1)])
def test_bad_schema_requests_raise(names, k):
    with pytest.raises(ValueError, match="plan schema needs"):
        plan_schema(names, k)
