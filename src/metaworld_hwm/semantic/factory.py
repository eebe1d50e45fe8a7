"""`make_planner`: one entry point for every backend, by name."""

from __future__ import annotations

from pathlib import Path

from metaworld_hwm.semantic.types import DEFAULT_TAU, Planner

BACKENDS = ("embedded", "openai", "llama")


def make_planner(
    backend: str = "embedded",
    tau: float = DEFAULT_TAU,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    model_path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    timeout_s: float = 30.0,
    max_attempts: int = 3,
) -> Planner:
    """A planner by backend name.

    Args:
        backend: ``embedded`` (offline default), ``openai`` (any OpenAI-compatible
            endpoint; settings from the arguments or ``METAWORLD_HWM_OPENAI_*``) or
            ``llama`` (local GGUF through the ``llama`` extra).
        tau: softmax temperature of the weights.
        base_url, model, api_key: ``openai`` settings overriding the environment.
        model_path: ``llama`` GGUF file (else ``$METAWORLD_HWM_GGUF`` or the Gemma package).
        cache_dir: response cache folder of the LLM backends (default: see ``cache``).
        timeout_s, max_attempts: per-call limit and calls per plan of the LLM backends.
    """
    from metaworld_hwm.semantic.embedded import EmbeddedPlanner

    if backend == "embedded":
        return EmbeddedPlanner(tau=tau)
    from metaworld_hwm.semantic.cache import ResponseCache
    from metaworld_hwm.semantic.llm import ChatModel, LLMPlanner

    chat: ChatModel
    if backend == "openai":
        from metaworld_hwm.semantic.openai_backend import OpenAIChat, OpenAIConfig

        chat = OpenAIChat(OpenAIConfig.from_env(base_url=base_url, model=model, api_key=api_key))
    elif backend == "llama":
        from metaworld_hwm.semantic.llama_backend import LlamaCppChat

        chat = LlamaCppChat(model_path)
    else:
        raise ValueError(f"unknown planner backend {backend!r}; choose one of {BACKENDS}")
    return LLMPlanner(
        chat,
        fallback=EmbeddedPlanner(tau=tau),
        cache=ResponseCache(cache_dir),
        tau=tau,
        max_attempts=max_attempts,
        timeout_s=timeout_s,
    )
