"""OpenAI-compatible chat-completions transport (vLLM, Ollama, llama.cpp server, LM Studio,
hosted APIs), on the standard library only.

Configuration comes from arguments or the environment:

| variable                          | fallback          | meaning                           |
| --------------------------------- | ----------------- | --------------------------------- |
| ``METAWORLD_HWM_OPENAI_BASE_URL`` | ``OPENAI_BASE_URL``| e.g. ``http://localhost:8000/v1`` |
| ``METAWORLD_HWM_OPENAI_MODEL``    | ``OPENAI_MODEL``  | model name the server knows       |
| ``METAWORLD_HWM_OPENAI_API_KEY``  | ``OPENAI_API_KEY``| bearer token (local servers: none)|
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metaworld_hwm.semantic.llm import ChatError

_ENV = {
    "base_url": ("METAWORLD_HWM_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
    "model": ("METAWORLD_HWM_OPENAI_MODEL", "OPENAI_MODEL"),
    "api_key": ("METAWORLD_HWM_OPENAI_API_KEY", "OPENAI_API_KEY"),
}
_RETRYABLE_HTTP = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class OpenAIConfig:
    """Endpoint settings; ``api_key`` is kept out of ``repr``."""

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    temperature: float = 0.0
    max_tokens: int = 768

    @property
    def url(self) -> str:
        """The chat-completions URL (``base_url`` may already end with it)."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> OpenAIConfig:
        """Settings from the environment (see the module table), ``overrides`` winning.

        Raises a ValueError naming the variables to set when the URL or model is missing.
        """
        env = os.environ if environ is None else environ
        values = {
            key: next((env[n] for n in names if env.get(n)), "") for key, names in _ENV.items()
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        missing = [key for key in ("base_url", "model") if not values[key]]
        if missing:
            hints = " and ".join(_ENV[key][0] for key in missing)
            raise ValueError(
                f"the openai backend needs {' and '.join(missing)}: set {hints} "
                "(or pass them on the command line)"
            )
        return cls(**values)


class OpenAIChat:
    """`ChatModel` over HTTP POST ``{base_url}/chat/completions`` with urllib."""

    backend = "openai"
    supports_images = True

    def __init__(self, config: OpenAIConfig) -> None:
        self.config = config
        self.model = config.model

    def complete(self, messages: list[dict[str, Any]], timeout_s: float) -> str:
        """The first choice's message content; `ChatError` on any failure."""
        body = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        headers = {"Content-Type": "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        request = urllib.request.Request(
            self.config.url, data=json.dumps(body).encode("utf-8"), headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                payload = response.read()
        except urllib.error.HTTPError as err:
            detail = err.read(300).decode("utf-8", "replace")
            raise ChatError(
                f"HTTP {err.code} from {self.config.url}: {detail}{_http_hint(err.code)}",
                retryable=err.code in _RETRYABLE_HTTP,
            ) from err
        except urllib.error.URLError as err:
            raise ChatError(f"cannot reach {self.config.url}: {err.reason}") from err
        except TimeoutError as err:
            raise ChatError(f"no answer from {self.config.url} within {timeout_s:g} s") from err
        except (OSError, http.client.HTTPException) as err:
            raise ChatError(f"connection to {self.config.url} failed: {err!r}") from err
        try:
            content = json.loads(payload)["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as err:
            raise ChatError(
                f"not a chat-completions response from {self.config.url}: {payload[:200]!r}"
            ) from err
        if not isinstance(content, str) or not content.strip():
            raise ChatError(f"empty message content from {self.config.url}")
        return content


def _http_hint(code: int) -> str:
    if code in (401, 403):
        return " (check METAWORLD_HWM_OPENAI_API_KEY)"
    if code == 404:
        return " (check the base URL, usually ending in /v1, and the model name)"
    return ""
