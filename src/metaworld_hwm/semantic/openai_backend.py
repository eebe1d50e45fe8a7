"""OpenAI-compatible chat-completions transport (vLLM, Ollama, llama.cpp server, LM Studio,
hosted APIs), on the standard library only.

Configuration comes from arguments or the environment:

| variable                          | fallback          | meaning                           |
| --------------------------------- | ----------------- | --------------------------------- |
| ``METAWORLD_HWM_OPENAI_BASE_URL`` | ``OPENAI_BASE_URL``| e.g. ``http://localhost:8000/v1`` |
| ``METAWORLD_HWM_OPENAI_MODEL``    | ``OPENAI_MODEL``  | model name the server knows       |
| ``METAWORLD_HWM_OPENAI_API_KEY``  | ``OPENAI_API_KEY``| bearer token (local servers: none)|
| ``METAWORLD_HWM_OPENAI_STRUCTURED``| (``1``)          | ``0``: no ``response_format``     |

Each request carries the plan's JSON schema as ``response_format`` (``{"type": "json_schema",
"json_schema": {"name", "schema", "strict": true}}``, see ``answer``), which llama.cpp's
server, vLLM and hosted APIs enforce while decoding, and a ``max_tokens`` of the plan's token
budget (at most ``OpenAIConfig.max_tokens``). llama-cpp-python's server (0.3.x) takes a schema
only as ``{"type": "json_object", "schema": ...}`` and answers ``json_schema`` with an error
naming ``json_object`` (HTTP 500 in 0.3.36): on that answer the request is sent once more in
that form, which this chat then keeps. For a server that rejects ``response_format``
set ``METAWORLD_HWM_OPENAI_STRUCTURED=0``: the prompt still asks for the same JSON.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from metaworld_hwm.semantic.answer import AnswerFormat
from metaworld_hwm.semantic.llm import ChatError

log = logging.getLogger(__name__)

_ENV = {
    "base_url": ("METAWORLD_HWM_OPENAI_BASE_URL", "OPENAI_BASE_URL"),
    "model": ("METAWORLD_HWM_OPENAI_MODEL", "OPENAI_MODEL"),
    "api_key": ("METAWORLD_HWM_OPENAI_API_KEY", "OPENAI_API_KEY"),
}
STRUCTURED_ENV = "METAWORLD_HWM_OPENAI_STRUCTURED"
_FLAGS = {"1": True, "true": True, "yes": True, "on": True,
          "0": False, "false": False, "no": False, "off": False}  # fmt: skip
_RETRYABLE_HTTP = {408, 409, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class OpenAIConfig:
    """Endpoint settings; ``api_key`` is kept out of ``repr``.

    ``max_tokens`` is a ceiling: a plan request asks for its answer format's budget when that
    is smaller. ``structured`` sends the answer's JSON schema as ``response_format``.
    """

    base_url: str
    model: str
    api_key: str = field(default="", repr=False)
    temperature: float = 0.0
    max_tokens: int = 1024
    structured: bool = True

    @property
    def url(self) -> str:
        """The chat-completions URL (``base_url`` may already end with it)."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> OpenAIConfig:
        """Settings from the environment (see the module table), ``overrides`` winning.

        Raises a ValueError naming the variables to set when the URL or model is missing,
        or when ``$METAWORLD_HWM_OPENAI_STRUCTURED`` is not a yes/no flag.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {
            key: next((env[n] for n in names if env.get(n)), "") for key, names in _ENV.items()
        }
        if flag := env.get(STRUCTURED_ENV, "").strip().lower():
            if flag not in _FLAGS:
                raise ValueError(f"{STRUCTURED_ENV} must be 1 or 0, got {flag!r}")
            values["structured"] = _FLAGS[flag]
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
        self.schema_style = "json_schema"  # "json_object": llama-cpp-python server's form

    def complete(
        self, messages: list[dict[str, Any]], timeout_s: float, answer: AnswerFormat | None = None
    ) -> str:
        """The first choice's message content, asked in ``answer``'s format (its JSON schema
        as ``response_format`` unless ``structured`` is off; its token budget); `ChatError` on
        any failure."""
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        if answer is not None:
            body["max_tokens"] = min(self.config.max_tokens, answer.max_tokens)
            if self.config.structured:
                body["response_format"] = answer.response_format()
                if self.schema_style == "json_object":
                    body["response_format"] = {"type": "json_object", "schema": answer.schema}
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
            detail = err.read(2000).decode("utf-8", "replace")
            if _wants_json_object(body, detail):
                log.warning(
                    "semantic: %s takes no json_schema response_format; sending the plan "
                    "schema as {'type': 'json_object', 'schema': ...} (llama-cpp-python's form)",
                    self.config.url,
                )
                self.schema_style = "json_object"
                return self.complete(messages, timeout_s, answer)
            detail = detail[:300]
            raise ChatError(
                f"HTTP {err.code} from {self.config.url}: {detail}{_http_hint(err.code, body)}",
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


def _wants_json_object(body: Mapping[str, Any], detail: str) -> bool:
    """Whether an error answer to a ``json_schema`` request asks for ``json_object`` instead."""
    fmt = body.get("response_format") or {}
    return fmt.get("type") == "json_schema" and "json_object" in detail


def _http_hint(code: int, body: Mapping[str, Any]) -> str:
    if code in (400, 422) and "response_format" in body:
        return f" (if the server rejects response_format, set {STRUCTURED_ENV}=0)"
    if code in (401, 403):
        return " (check METAWORLD_HWM_OPENAI_API_KEY)"
    if code == 404:
        return " (check the base URL, usually ending in /v1, and the model name)"
    return ""
