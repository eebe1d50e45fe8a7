"""The package's layering (lazy imports included): no two subpackages import each other, and
every import points down the layers of DESIGN.md's layout."""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "metaworld_hwm"
#: DESIGN.md's layout, bottom first (the tiers, the composition, the loop, evaluation, the
#: peers, the apps): each may import only those before it.
LAYERS = ("utils", "envs", "physical", "skills", "semantic", "hierarchy", "agent", "training",
          "evaluation", "baselines", "pose_hold", "demo", "cli")  # fmt: skip


def _subpackage_imports() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        source = parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith("metaworld_hwm.") and name.split(".")[1] != source:
                    edges[source].add(name.split(".")[1])
    return edges


def test_no_two_subpackages_import_each_other() -> None:
    edges = _subpackage_imports()
    assert {"skills", "hierarchy", "agent", "training", "evaluation"} <= set(edges)  # seen
    cycles = [(a, b) for a, b in itertools.combinations(sorted(edges), 2)
              if b in edges[a] and a in edges[b]]  # fmt: skip
    assert cycles == []


def test_imports_point_down_the_layers() -> None:
    edges = _subpackage_imports()
    assert set(edges) | {b for deps in edges.values() for b in deps} <= set(LAYERS)
    upward = sorted((a, b) for a, deps in edges.items() for b in deps
                    if LAYERS.index(b) >= LAYERS.index(a))  # fmt: skip
    assert upward == []
