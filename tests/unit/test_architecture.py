"""The package's layering: no two subpackages import each other (lazy imports included)."""

from __future__ import annotations

import ast
import itertools
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "metaworld_hwm"


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
    assert {"skills", "hierarchy", "training", "evaluation"} <= set(edges)  # the scan sees them
    cycles = [(a, b) for a, b in itertools.combinations(sorted(edges), 2)
              if b in edges[a] and a in edges[b]]  # fmt: skip
    assert cycles == []
