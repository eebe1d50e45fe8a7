"""The OpenAI-compatible backend against a server that speaks llama-cpp-python's dialect.

llama-cpp-python's server (0.3.36, measured) types ``response_format.type`` as ``"text" |
"json_object"`` with the schema under ``"schema"``, and answers a ``json_schema`` request with
HTTP 500 and a pydantic ``literal_error`` naming ``json_object``. The client must then send
the plan schema in that form (once more, and from then on), not retry blindly and fall back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from loopback import JSONHandler, LoopbackServer, serving

from metaworld_hwm.semantic.answer import answer_format
from metaworld_hwm.semantic.llm import LLMPlanner
from metaworld_hwm.semantic.openai_backend import OpenAIChat, OpenAIConfig

# The error body llama-cpp-python 0.3.36's server sent for a json_schema response_format.
LITERAL_ERROR = json.dumps(
    {
        "error": {
            "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
            "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
            "'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}",
            "type": "internal_server_error",
        }
    }
)
NULLS = dict.fromkeys(
    ("pace", "speed_mps", "direction", "turn", "turn_deg", "distance_m", "duration_s", "target")
)


def _answer(names: list[str]) -> str:
    scores = {n: 9 if n == "walk" else 0 for n in names}
    goal = {"text": "walk to the door", "scores": scores, "params": {**NULLS, "target": "door"}}
    return json.dumps({"subgoals": [goal]})


class _Handler(JSONHandler):
    server: _LlamaCppLikeServer

    def respond(self, body: Any) -> tuple[int, str]:
        self.server.requests.append(body)
        fmt = body.get("response_format") or {}
        if fmt.get("type") not in (None, "text", "json_object"):
            status, payload = 500, LITERAL_ERROR
        else:
            assert fmt.get("type") == "json_object" and "subgoals" in fmt["schema"]["properties"]
            message = {"role": "assistant", "content": self.server.answer}
            payload = json.dumps({"choices": [{"index": 0, "message": message}]})
            status = 200
        return status, payload


class _LlamaCppLikeServer(LoopbackServer):
    def __init__(self, answer: str) -> None:
        super().__init__(_Handler)
        self.answer = answer
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def server(experts) -> Iterator[_LlamaCppLikeServer]:
    with serving(_LlamaCppLikeServer(_answer([e.name for e in experts]))) as srv:
        yield srv


def test_json_schema_refusal_switches_to_json_object(server, experts, make_stub):
    chat = OpenAIChat(OpenAIConfig(base_url=server.base_url, model="gemma"))
    fallback = make_stub([[("fallback", "stand")]])
    planner = LLMPlanner(chat, fallback=fallback, timeout_s=5.0)
    plan = planner.plan("walk to the door", experts)
    assert plan.backend == "openai" and plan.top_experts() == ["walk"]
    assert plan.subgoals[0].params.target == "door" and not fallback.calls
    first, second = server.requests
    assert first["response_format"]["type"] == "json_schema"
    schema = answer_format("walk to the door", experts).schema
    assert second["response_format"] == {"type": "json_object", "schema": schema}
    assert second["max_tokens"] == first["max_tokens"] < 1024
    # the chat keeps the form that worked: the next plan is one request
    planner.plan("walk to the window", experts)
    assert len(server.requests) == 3 and chat.schema_style == "json_object"
    assert server.requests[2]["response_format"]["type"] == "json_object"
