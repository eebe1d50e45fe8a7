"""The expert library: a directory with ``manifest.json`` and one safetensors file per expert.

Manifest (JSON)::

    {"format": "metaworld-hwm-experts", "format_version": 1,
     "experts": [{"name": "stand", "skill": "stand", "kind": "analytic",
                  "controller": "stand_lqr", "description": "...", "robot": "h1",
                  "task": "h1-stand", "obs_layout": "qpos_qvel", "obs_dim": 51,
                  "action_dim": 19, "version": 1, "psi": [...16 floats],
                  "config": {...}, "files": {"arrays": {"path": "stand.safetensors",
                                                         "sha256": "..."}}}, ...]}

Learned experts store their torch weights in the file, analytic ones their controller
parameters (gains, references). Loading validates everything and raises :class:`LibraryError`
naming the expert, the problem and the fix.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load as load_arrays
from safetensors.numpy import save as save_arrays

from metaworld_hwm.skills.expert import CONTROLLERS, KINDS, Expert, ExpertSpec, LearnedExpert
from metaworld_hwm.utils.atomic import atomic_write_bytes, atomic_write_text

MANIFEST = "manifest.json"
FORMAT = "metaworld-hwm-experts"
FORMAT_VERSION = 1
#: Observation layout of each task's env.
TASK_LAYOUTS = {
    "stand": "qpos_qvel", "walk": "qpos_qvel", "run": "qpos_qvel",
    "reach": "qpos_qvel_hand_goal", "door": "qpos_qvel_door",
}  # fmt: skip
_REQUIRED = ("name", "skill", "kind", "robot", "obs_layout", "obs_dim", "action_dim", "files")


class LibraryError(ValueError):
    """A library directory, manifest entry or weight file is missing or invalid."""


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _spec_from_entry(entry: dict[str, Any], where: str) -> ExpertSpec:
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        raise LibraryError(f"{where}: manifest entry lacks field(s) {missing}; add them")
    if entry["kind"] not in KINDS:
        raise LibraryError(
            f"{where}: unknown kind {entry['kind']!r}; accepted kinds: {', '.join(KINDS)}"
        )
    needs_controller = entry["kind"] == "analytic" or entry.get("controller")
    if needs_controller and entry.get("controller") not in CONTROLLERS:
        raise LibraryError(
            f"{where}: unknown analytic controller {entry.get('controller')!r}; registered: "
            f"{', '.join(sorted(CONTROLLERS))} (import the module that registers it)"
        )
    fields = {f.name for f in dataclasses.fields(ExpertSpec)}
    try:
        return ExpertSpec(**{k: v for k, v in entry.items() if k in fields})
    except (TypeError, ValueError) as exc:
        raise LibraryError(f"{where}: {exc}") from exc


def _build_expert(spec: ExpertSpec, arrays: dict[str, np.ndarray], where: str) -> Expert:
    try:
        if spec.kind == "learned" and not spec.controller:
            return LearnedExpert.from_arrays(spec, arrays)
        return CONTROLLERS[spec.controller].from_arrays(spec, arrays)
    except ValueError as exc:
        raise LibraryError(f"{where}: {exc}") from exc


class ExpertLibrary:
    """The experts of one library directory, validated and ready to act."""

    def __init__(self, root: str | Path, experts: dict[str, Expert] | None = None) -> None:
        self.root = Path(root)
        self.experts: dict[str, Expert] = dict(experts or {})

    @property
    def names(self) -> list[str]:
        """Expert names in manifest order (the order of fusion weight vectors)."""
        return list(self.experts)

    def __len__(self) -> int:
        return len(self.experts)

    def __getitem__(self, name: str) -> Expert:
        if name not in self.experts:
            raise KeyError(
                f"no expert {name!r} in library {self.root}; it holds: "
                f"{', '.join(self.experts) or 'nothing'}"
            )
        return self.experts[name]

    @classmethod
    def load(cls, root: str | Path, env: Any = None) -> ExpertLibrary:
        """Read and validate a library; with ``env``, also check every expert fits it."""
        root = Path(root)
        path = root / MANIFEST
        if not path.is_file():
            raise LibraryError(
                f"no {MANIFEST} in {root}: not an expert library; create one with "
                "`metaworld-hwm experts add stand --library DIR`"
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise LibraryError(f"{path} is not valid JSON ({exc}); fix or recreate it") from exc
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise LibraryError(
                f"{path}: format {manifest.get('format')!r} version "
                f"{manifest.get('format_version')!r} is not {FORMAT!r} version {FORMAT_VERSION}"
            )
        library = cls(root)
        for i, entry in enumerate(manifest.get("experts", [])):
            where = f"{path} expert #{i} ({entry.get('name', '?')!r})"
            spec = _spec_from_entry(entry, where)
            if spec.name in library.experts:
                raise LibraryError(f"{where}: duplicate name; names must be unique")
            file_info = entry["files"].get("arrays", {})
            file = root / str(file_info.get("path", ""))
            if not file_info.get("path") or not file.is_file():
                raise LibraryError(
                    f"{where}: weight file {file} is missing; restore it or remove the expert "
                    f"with `metaworld-hwm experts remove {spec.name}`"
                )
            digest = sha256(file)
            if digest != file_info.get("sha256"):
                raise LibraryError(
                    f"{where}: hash mismatch for {file} (manifest {file_info.get('sha256')}, "
                    f"file {digest}): the file was changed or corrupted; re-add the expert"
                )
            arrays = load_arrays(file.read_bytes())
            library.experts[spec.name] = _build_expert(spec, arrays, where)
        if env is not None:
            library.check_env(env)
        return library

    def check_env(self, env: Any, names: list[str] | None = None) -> None:
        """Raise LibraryError unless every expert (or those named) can act in ``env``."""
        act_dim = int(env.action_space.shape[0])
        robot = getattr(env, "robot", None)
        layout = TASK_LAYOUTS.get(getattr(getattr(env, "task", None), "name", ""), "")
        for name in names or self.names:
            spec = self[name].spec
            if spec.action_dim != act_dim:
                raise LibraryError(
                    f"expert {name!r} outputs {spec.action_dim} actions but the env takes "
                    f"{act_dim}; use an expert made for robot {robot!r} or another env"
                )
            if robot is not None and spec.robot != robot:
                raise LibraryError(f"expert {name!r} is for robot {spec.robot!r}, env is {robot!r}")
            if layout and not layout.startswith(spec.obs_layout):
                raise LibraryError(
                    f"expert {name!r} reads observation layout {spec.obs_layout!r}, which the "
                    f"env's layout {layout!r} does not start with; use it in a matching task"
                )

    def add(self, expert: Expert, overwrite: bool = False) -> None:
        """Store ``expert``'s arrays and rewrite the manifest (both atomically)."""
        if expert.name in self.experts and not overwrite:
            raise LibraryError(
                f"expert {expert.name!r} is already in {self.root}; remove it first or pass "
                "overwrite=True (`--overwrite`)"
            )
        arrays = {k: np.ascontiguousarray(v) for k, v in expert.arrays().items()}
        atomic_write_bytes(self.root / f"{expert.name}.safetensors", save_arrays(arrays))
        self.experts[expert.name] = expert
        self.save_manifest()

    def remove(self, name: str) -> None:
        """Drop an expert and delete its file."""
        self[name]
        del self.experts[name]
        self.save_manifest()
        (self.root / f"{name}.safetensors").unlink(missing_ok=True)

    def entry(self, name: str) -> dict[str, Any]:
        """The manifest entry of one expert (file hash read from disk)."""
        spec = self[name].spec
        entry = dataclasses.asdict(spec)
        entry["psi"] = list(spec.psi)
        file = self.root / f"{name}.safetensors"
        entry["files"] = {"arrays": {"path": file.name, "sha256": sha256(file)}}
        return entry

    def save_manifest(self) -> None:
        """Write ``manifest.json`` for the current experts."""
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "experts": [self.entry(n) for n in self.names],
        }
        atomic_write_text(self.root / MANIFEST, json.dumps(manifest, indent=1) + "\n")
