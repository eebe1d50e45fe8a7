"""Shared set-up of the baseline tests: whether sheeprl (the DreamerV3 implementation) is here."""

from __future__ import annotations

import importlib.util

import pytest

HAS_SHEEPRL = importlib.util.find_spec("sheeprl") is not None

needs_sheeprl = pytest.mark.skipif(
    not HAS_SHEEPRL,
    reason="sheeprl is not installed (pip install 'metaworld-hwm[dreamerv3]')",
)
