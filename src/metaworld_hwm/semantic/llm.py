"""A planner on any chat model: prompt, cache, parse, retry stricter, fall back.

`LLMPlanner` is the paper's VLM interface: it sends the instruction, the expert library and
(when the model takes images) the camera frame; parses the response R into sub-goals with
w_i = softmax(extract_i(R) / tau); each sub-goal's skill parameters are the model's
``params`` when it gives them, else parsed from the sub-goal's text. A failed call (timeout,
HTTP error) or an unusable answer is retried with a stricter prompt; when every attempt
fails, the fallback planner (the embedded one by default) makes the plan. Every step is
logged and recorded in ``Plan.notes``. Each call carries the plan's `AnswerFormat` (its JSON
schema and token budget, from ``answer``), which the transports enforce: a ``response_format``
JSON schema over HTTP, a grammar in llama.cpp. Transports implement `ChatModel`
(``openai_backend``, ``llama_backend``).
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from metaworld_hwm.semantic.answer import AnswerFormat, answer_format
from metaworld_hwm.semantic.cache import ResponseCache
from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.params import parse_params
from metaworld_hwm.semantic.parsing import (
    ParsedResponse,
    normalise_scores,
    params_from_model,
    parse_response,
)
from metaworld_hwm.semantic.prompts import build_messages, encode_png, prompt_key_text
from metaworld_hwm.semantic.text import split_clauses
from metaworld_hwm.semantic.types import (
    DEFAULT_TAU,
    ExpertLike,
    Plan,
    Planner,
    SubGoal,
    expert_names,
    softmax,
)

log = logging.getLogger(__name__)


_PLACEHOLDER = re.compile(r"\s*<[^<>]*>\s*")


def uninformative(parsed: ParsedResponse, names: Sequence[str]) -> str | None:
    """Why a parsed answer says nothing about the instruction (None when it does): every
    sub-goal's text is a template placeholder such as ``<sub-goal>`` (a small model copying
    the prompt's example), or every sub-goal scores all skills alike (no choice made)."""
    goals = parsed.subgoals
    if goals and all(_PLACEHOLDER.fullmatch(g.text) for g in goals):
        return "the answer copies the prompt's example (placeholder sub-goal text)"
    if len(names) > 1 and goals and all(
        len({g.scores.get(n, 0.0) for n in names}) == 1 for g in goals
    ):
        return "every sub-goal scores all skills alike (no skill chosen)"
    return None


class ChatError(RuntimeError):
    """A chat call failed; ``retryable`` says whether another attempt may succeed."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class ChatModel(Protocol):
    """A chat-completions transport."""

    backend: str
    model: str
    supports_images: bool

    def complete(
        self, messages: list[dict[str, Any]], timeout_s: float, answer: AnswerFormat | None = None
    ) -> str:
        """The assistant's reply text, constrained to ``answer`` when given (its schema, at
        most its ``max_tokens``); raises `ChatError` on failure."""
        ...


class LLMPlanner:
    """Planner on a chat model, with response cache, strict retries and a fallback planner.

    Args:
        chat: the transport (its model is only contacted on a cache miss).
        fallback: planner used when every attempt fails; the embedded planner when None.
        cache: response cache; None disables caching.
        tau: softmax temperature of the weights.
        max_attempts: calls per plan (the first with the normal prompt, then stricter ones).
        timeout_s: per-call time limit in seconds.
    """

    def __init__(
        self,
        chat: ChatModel,
        fallback: Planner | None = None,
        cache: ResponseCache | None = None,
        tau: float = DEFAULT_TAU,
        max_attempts: int = 3,
        timeout_s: float = 30.0,
    ) -> None:
        if max_attempts < 1 or not tau > 0 or not timeout_s > 0:
            raise ValueError(
                f"need max_attempts >= 1, tau > 0, timeout_s > 0; got {max_attempts}, {tau}, "
                f"{timeout_s}"
            )
        self.chat = chat
        self._fallback = fallback
        self.cache = cache
        self.tau = tau
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s

    @property
    def fallback(self) -> Planner:
        """The fallback planner (the embedded one, created on first use, by default)."""
        if self._fallback is None:
            from metaworld_hwm.semantic.embedded import EmbeddedPlanner

            self._fallback = EmbeddedPlanner(tau=self.tau)
        return self._fallback

    def _respond(self, messages: list[dict[str, Any]], image_sha: str, answer: AnswerFormat) -> str:
        """The model's answer to ``messages`` in ``answer``'s format, from the cache when it
        has it."""
        prompt = f"{prompt_key_text(messages)}\n{answer.key()}"
        key = ResponseCache.key(self.chat.backend, self.chat.model, prompt, image_sha)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            log.debug("semantic: cache hit %s", key[:12])
            return hit
        text = self.chat.complete(messages, self.timeout_s, answer)
        if self.cache is not None:
            self.cache.put(key, text, self.chat.backend, self.chat.model)
        return text

    def plan(
        self,
        instruction: str,
        experts: Sequence[ExpertLike],
        observation: np.ndarray | None = None,
        frame: np.ndarray | None = None,
    ) -> Plan:
        """Ask the model for the sub-goals of ``instruction`` over ``experts``.

        ``frame`` (an RGB array) is sent as an image when the model supports images;
        ``observation`` is passed to the fallback planner only.
        """
        names = expert_names(experts)
        if not instruction.strip():
            raise ValueError("empty instruction: say what the robot should do")
        notes: list[str] = []
        png = None
        if frame is not None and self.chat.supports_images:
            png = encode_png(frame)
        elif frame is not None:
            notes.append(f"camera frame ignored: the {self.chat.backend} backend is text-only")
        image_sha = hashlib.sha256(png).hexdigest() if png is not None else ""
        answer = answer_format(instruction, experts)
        reason: str | None = None
        for attempt in range(1, self.max_attempts + 1):
            messages = build_messages(instruction, experts, png, retry_reason=reason)
            try:
                text = self._respond(messages, image_sha, answer)
            except ChatError as err:
                reason = str(err)
                notes.append(f"attempt {attempt}: {err}")
                log.warning("semantic: %s attempt %d failed: %s", self.chat.backend, attempt, err)
                if not err.retryable:
                    break
                continue
            parsed = parse_response(text, names)
            last = attempt == self.max_attempts
            if (empty := uninformative(parsed, names)) is not None:
                reason = empty
            elif parsed.subgoals and (parsed.complete or last):
                notes += [f"attempt {attempt}: {p}" for p in parsed.problems]
                return self._to_plan(instruction, names, parsed, notes)
            else:
                reason = "; ".join(parsed.problems)
            notes.append(f"attempt {attempt}: unusable answer: {reason}")
            log.warning("semantic: %s attempt %d: %s", self.chat.backend, attempt, reason)
        fallback = self.fallback.plan(instruction, experts, observation, frame)
        message = (
            f"{self.chat.backend} ({self.chat.model}) gave no usable plan in {attempt} "
            f"attempt(s); plan made by the {fallback.backend} fallback"
        )
        log.warning("semantic: %s", message)
        return replace(fallback, notes=(*notes, message, *fallback.notes))

    def _to_plan(
        self, instruction: str, names: tuple[str, ...], parsed: ParsedResponse, notes: list[str]
    ) -> Plan:
        clauses = split_clauses(instruction)
        subgoals = []
        for i, raw in enumerate(parsed.subgoals):
            problems: list[str] = []
            scores = normalise_scores(raw.scores, names, problems)
            notes += [f"sub-goal {i + 1}: {p}" for p in problems]
            weights = softmax(scores, self.tau)
            text = raw.text.strip() or (
                clauses[i] if len(clauses) == len(parsed.subgoals) else instruction
            )
            top = names[int(np.argmax(weights))]
            if raw.params is None:  # the model stated none: read them from the text
                params = parse_params(text)
            else:
                param_problems: list[str] = []
                params = params_from_model(raw.params, param_problems)
                notes += [f"sub-goal {i + 1}: {p}" for p in param_problems]
            subgoals.append(
                SubGoal(
                    text=text,
                    weights=tuple(float(w) for w in weights),
                    condition=infer_condition(text, top, params),
                    scores=tuple(float(s) for s in scores),
                    params=params,
                )
            )
        return Plan(
            instruction=instruction,
            experts=names,
            subgoals=tuple(subgoals),
            backend=self.chat.backend,
            model=self.chat.model,
            tau=self.tau,
            notes=tuple(notes),
        )
