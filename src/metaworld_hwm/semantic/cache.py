"""On-disk cache of model responses, so a planning run can be replayed without the model.

One JSON file per response, named by the SHA-256 of (backend, model, prompt, image hash) and
written atomically (temp file + ``os.replace``), so concurrent runs and kills never leave a
half-written entry. The default folder is ``$METAWORLD_HWM_CACHE_DIR`` or
``~/.cache/metaworld_hwm/semantic``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from metaworld_hwm.utils.atomic import atomic_write_text

log = logging.getLogger(__name__)

CACHE_ENV = "METAWORLD_HWM_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$METAWORLD_HWM_CACHE_DIR`` or ``~/.cache/metaworld_hwm/semantic``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "metaworld_hwm" / "semantic"


class ResponseCache:
    """Raw model responses keyed by `ResponseCache.key`."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()

    @staticmethod
    def key(backend: str, model: str, prompt: str, image_sha256: str = "") -> str:
        """Hex SHA-256 of the backend, model, prompt text and image hash."""
        payload = json.dumps([backend, model, prompt, image_sha256])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        """File of ``key`` (two-level fan-out keeps folders small)."""
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> str | None:
        """The cached response, or None (a corrupt entry is logged and ignored)."""
        path = self.path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            return str(entry["response"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("semantic: ignoring corrupt cache entry %s (%r); delete it", path, err)
            return None

    def put(self, key: str, response: str, backend: str, model: str) -> Path:
        """Store ``response`` atomically; returns its file."""
        entry = {"backend": backend, "model": model, "response": response}
        return atomic_write_text(self.path(key), json.dumps(entry))
