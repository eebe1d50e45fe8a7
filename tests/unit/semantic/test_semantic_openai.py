"""The OpenAI-compatible backend against a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from loopback import JSONHandler, LoopbackServer, serving

from metaworld_hwm.semantic.cache import ResponseCache
from metaworld_hwm.semantic.llm import LLMPlanner
from metaworld_hwm.semantic.openai_backend import OpenAIChat, OpenAIConfig

GOOD = json.dumps(
    {
        "subgoals": [
            {"text": "walk to the door", "scores": {"walk": 9, "reach": 1}},
            {"text": "open it", "scores": {"reach": 10, "walk": 1}},
        ]
    }
)


class _ChatHandler(JSONHandler):
    """Speaks POST /v1/chat/completions; answers from the server's script."""

    server: _ChatServer

    def respond(self, body: Any) -> tuple[int, str]:
        self.server.requests.append(
            {"path": self.path, "headers": dict(self.headers), "body": body}
        )
        kind, *args = self.server.script.pop(0) if self.server.script else ("ok", GOOD)
        if kind == "sleep":
            time.sleep(args[0])
            kind, args = "ok", [args[1]]
        if kind == "ok":
            envelope = {
                "object": "chat.completion",
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": args[0]}}],
            }
            return 200, json.dumps(envelope)
        if kind == "status":
            return args[0], args[1]
        return 200, args[0]  # raw body


class _ChatServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(_ChatHandler)
        self.script: list[tuple] = []
        self.requests: list[dict[str, Any]] = []


@pytest.fixture
def server() -> Iterator[_ChatServer]:
    with serving(_ChatServer()) as srv:
        yield srv


@pytest.fixture
def make_planner(server, make_stub):
    """LLMPlanner on the test server with a stub fallback: (planner, fallback)."""

    def make(**kwargs: Any):
        config = OpenAIConfig(base_url=server.base_url, model="test-vlm", api_key="sk-test")
        fallback = make_stub([[("fallback", "stand")]])
        kwargs.setdefault("timeout_s", 2.0)
        return LLMPlanner(OpenAIChat(config), fallback=fallback, **kwargs), fallback

    return make


def _user_content(request: dict[str, Any]) -> Any:
    return request["body"]["messages"][-1]["content"]


def test_good_answer_becomes_a_plan(server, make_planner, experts):
    planner, fallback = make_planner()
    plan = planner.plan("walk to the door and open it", experts)
    assert plan.backend == "openai" and plan.model == "test-vlm"
    assert plan.top_experts() == ["walk", "reach"]
    assert [g.condition.signal for g in plan.subgoals][1] == "door_openness_reward"
    np.testing.assert_allclose(plan.weight_matrix().sum(axis=1), 1.0)
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    assert request["body"]["model"] == "test-vlm"
    prompt = _user_content(request)
    assert isinstance(prompt, str)
    assert all(f"- {e.name}: {e.description}" in prompt for e in experts)
    assert not fallback.calls


def test_frame_is_sent_as_a_png_data_url(server, make_planner, experts):
    planner, _ = make_planner()
    frame = np.zeros((6, 8, 3), dtype=np.uint8)
    frame[2:4, 3:5] = (255, 0, 0)
    planner.plan("walk to the door and open it", experts, frame=frame)
    text_part, image_part = _user_content(server.requests[0])
    assert text_part["type"] == "text" and "camera view" in text_part["text"]
    url = image_part["image_url"]["url"]
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"


def test_malformed_answer_is_retried_with_a_stricter_prompt(server, make_planner, experts):
    server.script = [("ok", "Sure, I'd walk then reach!"), ("ok", '{"subgoals": [{"text": "a",')]
    server.script.append(("ok", GOOD))
    planner, fallback = make_planner()
    plan = planner.plan("walk to the door and open it", experts)
    assert plan.backend == "openai" and len(server.requests) == 3
    assert "could not be used" not in _user_content(server.requests[0])
    assert "could not be used" in _user_content(server.requests[1])
    assert any("unusable answer" in n for n in plan.notes)
    assert not fallback.calls


def test_slow_server_times_out_then_retry_succeeds(server, make_planner, experts):
    server.script = [("sleep", 1.5, GOOD), ("ok", GOOD)]
    planner, _ = make_planner(timeout_s=0.3)
    start = time.perf_counter()
    plan = planner.plan("walk to the door and open it", experts)
    assert time.perf_counter() - start < 1.4
    assert plan.backend == "openai"
    assert any("no answer" in n and "0.3 s" in n for n in plan.notes)


def test_every_attempt_failing_falls_back_and_logs(server, make_planner, experts, caplog):
    server.script = [("ok", "no scores here")] * 2 + [("raw", "not json at all")]
    planner, fallback = make_planner()
    plan = planner.plan("walk to the door and open it", experts)
    assert plan.backend == "stub" and fallback.calls == ["walk to the door and open it"]
    assert len(server.requests) == 3
    assert "not a chat-completions response" in " ".join(plan.notes)
    assert "plan made by the stub fallback" in plan.notes[-1]
    assert "fallback" in caplog.text


def test_server_error_is_retried_but_auth_error_is_not(server, make_planner, experts):
    server.script = [("status", 503, "busy"), ("ok", GOOD)]
    planner, _ = make_planner()
    assert planner.plan("walk", experts).backend == "openai"
    server.requests.clear()
    server.script = [("status", 401, '{"error": "bad key"}'), ("ok", GOOD)]
    plan = planner.plan("walk", experts)
    assert plan.backend == "stub" and len(server.requests) == 1
    assert any("HTTP 401" in n and "API_KEY" in n for n in plan.notes)


def test_unreachable_endpoint_falls_back(experts, make_stub):
    srv = _ChatServer()  # bound but never served or listened on after close
    url = srv.base_url
    srv.server_close()
    config = OpenAIConfig(base_url=url, model="m")
    planner = LLMPlanner(OpenAIChat(config), make_stub([[("x", "walk")]]), timeout_s=1.0)
    plan = planner.plan("walk", experts)
    assert plan.backend == "stub" and "cannot reach" in plan.notes[0]


def test_responses_are_cached_on_disk(server, make_planner, experts, tmp_path):
    planner, _ = make_planner(cache=ResponseCache(tmp_path))
    first = planner.plan("walk to the door and open it", experts)
    again = planner.plan("walk to the door and open it", experts)
    assert first == again and len(server.requests) == 1
    assert len(list(tmp_path.glob("*/*.json"))) == 1


def test_config_from_env():
    env = {"OPENAI_BASE_URL": "http://h:1/v1/", "METAWORLD_HWM_OPENAI_MODEL": "m",
           "OPENAI_API_KEY": "secret"}  # fmt: skip
    config = OpenAIConfig.from_env(env)
    assert config.url == "http://h:1/v1/chat/completions" and config.api_key == "secret"
    assert "secret" not in repr(config)
    assert OpenAIConfig.from_env(env, model="other").model == "other"
    with pytest.raises(ValueError, match="METAWORLD_HWM_OPENAI_BASE_URL"):
        OpenAIConfig.from_env({})
    assert config.structured
    assert not OpenAIConfig.from_env({**env, "METAWORLD_HWM_OPENAI_STRUCTURED": "0"}).structured
    with pytest.raises(ValueError, match="METAWORLD_HWM_OPENAI_STRUCTURED must be 1 or 0"):
        OpenAIConfig.from_env({**env, "METAWORLD_HWM_OPENAI_STRUCTURED": "maybe"})


def test_rejected_response_format_names_the_switch(server, make_planner, experts):
    server.script = [("status", 400, '{"error": "response_format is not supported"}')]
    planner, _ = make_planner()
    plan = planner.plan("walk", experts)
    body = server.requests[0]["body"]
    assert body["response_format"]["type"] == "json_schema" and body["max_tokens"] < 768
    assert plan.backend == "stub" and len(server.requests) == 1
    assert any("METAWORLD_HWM_OPENAI_STRUCTURED=0" in n for n in plan.notes)


def test_model_params_are_accepted_and_missing_ones_read_from_the_text(
    server, make_planner, experts
):
    answer = {
        "subgoals": [
            {"text": "walk slowly backward", "scores": {"walk": 9},
             "params": {"pace": "Slow", "direction": "backward", "turn": None,
                        "target": "the door", "speed_mps": "0.5", "distance_m": -2,
                        "colour": "red"}},
            {"text": "turn left for 3 seconds", "scores": {"walk": 8}},
        ]
    }  # fmt: skip
    server.script = [("ok", json.dumps(answer))]
    planner, fallback = make_planner()
    plan = planner.plan("walk slowly backward, then turn left for 3 seconds", experts)
    first, second = plan.subgoals
    assert first.params.stated() == {
        "pace": "slow", "direction": "backward", "target": "door", "speed_mps": 0.5,
    }  # fmt: skip
    assert any("dropped param distance_m" in n for n in plan.notes)
    assert any("unknown params ['colour']" in n for n in plan.notes)
    assert second.params.turn == "left" and second.params.duration_s == 3.0
    prompt = _user_content(server.requests[0])
    assert '"params": {"pace": null' in prompt and "order they happen" in prompt
    assert not fallback.calls
