"""Where the guide finds its expert library: a given path, ``$METAWORLD_HWM_EXPERTS``,
``./experts``, the source checkout's ``experts/``, and a library inside those (``door``)."""

from pathlib import Path

import pytest

from metaworld_hwm.hierarchy import resolve_library
from metaworld_hwm.skills.builtin import LIBRARY_ENV

CHECKOUT_EXPERTS = Path(__file__).resolve().parents[3] / "experts"


def _library(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text('{"format": "metaworld-hwm-experts"}\n')
    return path


def test_the_checkout_libraries_are_found_from_any_directory(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(LIBRARY_ENV, raising=False)
    monkeypatch.chdir(tmp_path)  # no ./experts here
    assert resolve_library(None) == CHECKOUT_EXPERTS
    assert resolve_library(None, within="door") == CHECKOUT_EXPERTS / "door"


def test_a_library_within_follows_the_default_library(tmp_path, monkeypatch) -> None:
    mine = _library(tmp_path / "mine")
    _library(mine / "door")
    monkeypatch.setenv(LIBRARY_ENV, str(mine))
    assert resolve_library(None, within="door") == mine / "door"
    monkeypatch.setenv(LIBRARY_ENV, str(tmp_path / "elsewhere"))  # none there: the checkout's
    assert resolve_library(None, within="door") == CHECKOUT_EXPERTS / "door"
    assert resolve_library(str(mine), within="door") == mine  # a given path is taken as is


def test_no_library_names_every_place_looked(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(LIBRARY_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        resolve_library(None, within="nowhere")
