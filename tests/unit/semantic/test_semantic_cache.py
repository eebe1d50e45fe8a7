"""Response cache: atomic entries, and plans replayed without the model."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from metaworld_hwm.semantic.answer import AnswerFormat
from metaworld_hwm.semantic.cache import ResponseCache
from metaworld_hwm.semantic.llm import ChatError, LLMPlanner

ANSWER = json.dumps({"subgoals": [{"text": "walk forward", "scores": {"walk": 9}}]})


class ScriptedChat:
    """A ChatModel answering from a list; records the prompts it got."""

    backend = "scripted"
    model = "m1"
    supports_images = True

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[Any] = []

    def complete(
        self, messages: list[dict[str, Any]], timeout_s: float, answer: AnswerFormat | None = None
    ) -> str:
        self.prompts.append(messages[-1]["content"])
        return self.answers.pop(0)


class NoModel(ScriptedChat):
    """Stands in for a backend whose model is absent: any call fails the test."""

    def complete(
        self, messages: list[dict[str, Any]], timeout_s: float, answer: AnswerFormat | None = None
    ) -> str:
        raise AssertionError("the model was called although the cache holds the answer")


def test_put_get_and_keys(tmp_path):
    cache = ResponseCache(tmp_path)
    key = ResponseCache.key("openai", "m", "prompt", "")
    assert cache.get(key) is None
    path = cache.put(key, "answer", "openai", "m")
    assert cache.get(key) == "answer" and path.parent.parent == tmp_path
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    assert len({key, ResponseCache.key("openai", "m", "prompt", "img"),
                ResponseCache.key("openai", "m2", "prompt", ""),
                ResponseCache.key("llama", "m", "prompt", "")}) == 4  # fmt: skip


def test_corrupt_entry_is_ignored_with_a_warning(tmp_path, caplog):
    cache = ResponseCache(tmp_path)
    key = ResponseCache.key("b", "m", "p")
    cache.path(key).parent.mkdir(parents=True)
    cache.path(key).write_text("{truncated")
    assert cache.get(key) is None and "corrupt cache entry" in caplog.text


def test_default_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("METAWORLD_HWM_CACHE_DIR", str(tmp_path / "c"))
    assert ResponseCache().root == tmp_path / "c"


def test_replay_without_the_model(tmp_path, experts, make_stub):
    frame = np.full((4, 4, 3), 0.5)
    first = LLMPlanner(ScriptedChat(["garbage", ANSWER]), make_stub([]), ResponseCache(tmp_path))
    plan = first.plan("walk forward", experts, frame=frame)
    replay = LLMPlanner(NoModel([]), make_stub([]), ResponseCache(tmp_path))
    assert replay.plan("walk forward", experts, frame=frame) == plan
    with pytest.raises(AssertionError, match="model was called"):
        replay.plan("walk forward", experts, frame=np.zeros((4, 4, 3)))  # another image


def test_failed_calls_are_not_cached(tmp_path, experts, make_stub):
    class Flaky(ScriptedChat):
        def complete(
            self,
            messages: list[dict[str, Any]],
            timeout_s: float,
            answer: AnswerFormat | None = None,
        ) -> str:
            if not self.prompts:
                self.prompts.append("x")
                raise ChatError("temporarily down")
            return ANSWER

    plan = LLMPlanner(Flaky([]), make_stub([]), ResponseCache(tmp_path)).plan("walk", experts)
    assert plan.backend == "scripted" and "temporarily down" in plan.notes[0]
    assert len(list(tmp_path.glob("*/*.json"))) == 1


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"text": "<sub-goal>", "scores": {"walk": 0, "run": 0}}, "copies the prompt's example"),
        ({"text": "go", "scores": {"walk": 3, "run": 3, "stand": 3, "reach": 3, "sit": 3,
                                   "crawl": 3, "stairs": 3, "carry": 3}}, "no skill chosen"),
    ],
)  # fmt: skip
def test_a_template_or_undecided_answer_is_not_a_plan(answer, reason, experts, make_stub):
    # a 270M model served by llama.cpp answered every instruction with the prompt's example
    text = json.dumps({"subgoals": [answer]})
    planner = LLMPlanner(ScriptedChat([text] * 3), make_stub([[("walk", "walk")]]))
    plan = planner.plan("walk forward", experts)
    assert plan.backend == "stub" and any(reason in note for note in plan.notes)
