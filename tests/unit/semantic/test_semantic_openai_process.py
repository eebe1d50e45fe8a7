"""The OpenAI-compatible backend against a real server process on loopback (openai_server.py).

The server rejects requests without a strict ``json_schema`` ``response_format`` or with an
uncapped ``max_tokens``, and checks its scripted answers against the schema each request
carries, so these tests pin the structured path end to end over real HTTP.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from metaworld_hwm.semantic.answer import SCHEMA_NAME, answer_format
from metaworld_hwm.semantic.llm import LLMPlanner
from metaworld_hwm.semantic.openai_backend import OpenAIChat, OpenAIConfig

SERVER = Path(__file__).with_name("openai_server.py")
INSTRUCTION = "walk slowly to the door and open it"
NULLS = dict.fromkeys(
    ("pace", "speed_mps", "direction", "turn", "turn_deg", "distance_m", "duration_s", "target")
)


def _scores(top: str, names: list[str]) -> dict[str, int]:
    return {n: 9 if n == top else 1 for n in names}


def _plan(names: list[str]) -> dict[str, Any]:
    return {
        "subgoals": [
            {"text": "walk slowly to the door", "scores": _scores("walk", names),
             "params": {**NULLS, "pace": "slow", "target": "door"}},
            {"text": "open it", "scores": _scores("reach", names),
             "params": {**NULLS, "target": "door"}},
        ]
    }  # fmt: skip


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[[list[dict[str, Any]]], tuple[str, Path]]]:
    """Start openai_server.py on a script; gives (base URL, request log); killed at the end."""
    procs: list[subprocess.Popen] = []

    def start(script: list[dict[str, Any]]) -> tuple[str, Path]:
        script_path, log = tmp_path / "script.json", tmp_path / "requests.jsonl"
        script_path.write_text(json.dumps(script), encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, str(SERVER), str(script_path), str(log)],
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        line = proc.stdout.readline()  # the server prints its port once it listens
        assert line.startswith("PORT "), f"test server did not start: {line!r}"
        return f"http://127.0.0.1:{int(line.split()[1])}/v1", log

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=5)
        proc.stdout.close()


def _requests(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _planner(url: str, fallback: Any, **kwargs: Any) -> LLMPlanner:
    chat = OpenAIChat(OpenAIConfig(base_url=url, model="served-model"))
    return LLMPlanner(chat, fallback=fallback, timeout_s=5.0, **kwargs)


def test_structured_request_gets_a_schema_valid_plan(start_server, experts, make_stub):
    names = [e.name for e in experts]
    url, log = start_server([{"answer": _plan(names)}])
    fallback = make_stub([[("fallback", "stand")]])
    plan = _planner(url, fallback).plan(INSTRUCTION, experts)
    assert plan.backend == "openai" and plan.model == "served-model" and not fallback.calls
    assert plan.top_experts() == ["walk", "reach"]
    assert [g.params.stated() for g in plan.subgoals] == [
        {"pace": "slow", "target": "door"},
        {"target": "door"},
    ]
    assert not plan.notes
    (request,) = _requests(log)
    assert request["problems"] == []  # a valid request, and the answer matched its schema
    wanted = answer_format(INSTRUCTION, experts)
    spec = request["body"]["response_format"]["json_schema"]
    assert spec == {"name": SCHEMA_NAME, "schema": wanted.schema, "strict": True}
    assert request["body"]["max_tokens"] == wanted.max_tokens < 768
    scores = spec["schema"]["properties"]["subgoals"]["items"]["properties"]["scores"]
    assert scores["required"] == names


def test_truncated_json_and_500_are_retried_then_the_embedded_planner_plans(
    start_server, experts, embedded
):
    truncated = json.dumps(_plan([e.name for e in experts]))[:70]  # cut inside the scores
    script = [{"content": truncated}, {"status": 500, "body": "model crashed"}]
    url, log = start_server(script)
    plan = _planner(url, embedded, max_attempts=3).plan(INSTRUCTION, experts)
    assert plan.backend == "embedded" and plan.top_experts() == ["walk", "reach"]
    assert plan.subgoals[0].params.pace == "slow"
    notes = "\n".join(plan.notes)
    assert "attempt 1: unusable answer: response JSON is malformed or truncated" in notes
    assert "attempt 2: HTTP 500" in notes and "model crashed" in notes
    assert "attempt 3: HTTP 500" in notes
    assert "openai (served-model) gave no usable plan in 3 attempt(s)" in notes
    assert "plan made by the embedded fallback" in notes
    requests = _requests(log)
    assert len(requests) == 3 and all(r["problems"] == [] for r in requests)
    retry_prompt = requests[1]["body"]["messages"][-1]["content"]
    assert "could not be used (response JSON is malformed or truncated" in retry_prompt


def test_retry_after_truncated_json_succeeds(start_server, experts, make_stub):
    names = [e.name for e in experts]
    url, log = start_server([{"content": '{"subgoals": [{"text": "walk'}, {"answer": _plan(names)}])
    fallback = make_stub([[("fallback", "stand")]])
    plan = _planner(url, fallback).plan(INSTRUCTION, experts)
    assert plan.backend == "openai" and plan.top_experts() == ["walk", "reach"]
    assert not fallback.calls and len(_requests(log)) == 2
    assert any("attempt 1: unusable answer" in n for n in plan.notes)


def test_unstructured_config_is_refused_by_a_strict_server(start_server, experts, make_stub):
    url, log = start_server([{"answer": _plan([e.name for e in experts])}])
    chat = OpenAIChat(OpenAIConfig(base_url=url, model="m", structured=False))
    plan = LLMPlanner(chat, fallback=make_stub([[("x", "stand")]])).plan("walk", experts)
    assert plan.backend == "stub" and len(_requests(log)) == 1  # HTTP 400 is not retried
    assert any("HTTP 400" in n and "'json_schema'" in n for n in plan.notes)
