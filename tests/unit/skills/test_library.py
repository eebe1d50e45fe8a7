"""Library round trip, every bad-manifest case with its message, and the CLI."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from metaworld_hwm.envs import make_env
from metaworld_hwm.skills.cli import add_experts_parser
from metaworld_hwm.skills.library import MANIFEST, ExpertLibrary, LibraryError
from tests.unit.skills.conftest import learned_expert

COMMITTED = Path(__file__).resolve().parents[3] / "experts"


@pytest.fixture
def library(tmp_path: Path) -> ExpertLibrary:
    """A library with one learned expert and a copy of the committed stand expert."""
    lib = ExpertLibrary(tmp_path / "lib")
    lib.add(learned_expert())
    lib.add(ExpertLibrary.load(COMMITTED)["stand"])
    return lib


def edit_manifest(lib: ExpertLibrary, change) -> None:
    path = lib.root / MANIFEST
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def test_round_trip_keeps_specs_and_actions(library: ExpertLibrary) -> None:
    loaded = ExpertLibrary.load(library.root, env=make_env("h1-stand"))
    assert loaded.names == ["walk-bc", "stand"]
    obs = np.random.default_rng(0).standard_normal((3, 51)) * 0.01
    obs[:, 2] += 1.0
    obs[:, 3] = 1.0
    for name in loaded.names:
        assert loaded[name].spec == library[name].spec
        np.testing.assert_allclose(loaded[name].act(obs), library[name].act(obs), atol=1e-6)
        assert loaded[name].act(obs).shape == (3, 19)


def test_committed_library_loads_and_fits_its_tasks() -> None:
    lib = ExpertLibrary.load(COMMITTED)
    assert {"stand", "reach"} <= set(lib.names)
    lib.check_env(make_env("h1-reach"))  # stand reads the qpos/qvel prefix of reach's obs
    with pytest.raises(LibraryError, match="layout"):
        lib.check_env(make_env("h1-stand"), ["reach"])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda m: m.update(format="other"), "format"),
        (lambda m: m["experts"][0].pop("obs_dim"), r"lacks field\(s\) \['obs_dim'\]"),
        (lambda m: m["experts"][0].update(kind="neural"), "unknown kind 'neural'"),
        (lambda m: m["experts"][1].update(controller="pid"), "unknown analytic controller 'pid'"),
        (lambda m: m["experts"][0].update(skill="fly"), "unknown skill 'fly'"),
        (lambda m: m["experts"][0]["files"]["arrays"].update(sha256="0" * 64), "hash mismatch"),
        (lambda m: m["experts"][1].update(name="walk-bc"), "duplicate name"),
        (lambda m: m["experts"][0].update(obs_dim=50), "do not fit"),
    ],
)
def test_bad_manifest_gives_a_clear_error(library: ExpertLibrary, change, match: str) -> None:
    edit_manifest(library, change)
    with pytest.raises(LibraryError, match=match):
        ExpertLibrary.load(library.root)


def test_missing_manifest_file_and_bad_json(library: ExpertLibrary, tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="not an expert library"):
        ExpertLibrary.load(tmp_path / "nowhere")
    (library.root / "stand.safetensors").unlink()
    with pytest.raises(LibraryError, match=r"weight file .* is missing"):
        ExpertLibrary.load(library.root)
    (library.root / MANIFEST).write_text("{not json")
    with pytest.raises(LibraryError, match="not valid JSON"):
        ExpertLibrary.load(library.root)


def test_action_dim_that_does_not_match_the_env(tmp_path: Path) -> None:
    lib = ExpertLibrary(tmp_path)
    lib.add(learned_expert("small", action_dim=7))
    with pytest.raises(LibraryError, match="outputs 7 actions but the env takes 19"):
        ExpertLibrary.load(tmp_path, env=make_env("h1-walk"))


def test_add_twice_and_remove(library: ExpertLibrary) -> None:
    with pytest.raises(LibraryError, match="already"):
        library.add(learned_expert())
    library.remove("walk-bc")
    assert ExpertLibrary.load(library.root).names == ["stand"]
    assert not (library.root / "walk-bc.safetensors").exists()
    with pytest.raises(KeyError, match="no expert"):
        library.remove("walk-bc")


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_experts_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["experts", *argv])
    return args.func(args)


def test_cli_list_add_show_remove(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lib_dir = tmp_path / "lib"
    shutil.copytree(COMMITTED, lib_dir)
    assert run_cli("remove", "reach", "--library", str(lib_dir)) == 0
    assert run_cli("add", f"{COMMITTED}:reach", "--library", str(lib_dir)) == 0
    assert run_cli("list", "--library", str(lib_dir)) == 0
    out = capsys.readouterr().out
    for skill in ("walk", "run", "stand", "reach", "sit", "crawl", "stairs", "carry"):
        assert f"\n{skill} " in out
    assert run_cli("show", "stand", "--library", str(lib_dir)) == 0
    assert '"controller": "stand_lqr"' in capsys.readouterr().out
    assert run_cli("show", "nope", "--library", str(lib_dir)) == 2
    assert "no expert 'nope'" in capsys.readouterr().err
    assert run_cli("add", "fly", "--library", str(lib_dir)) == 2


def test_cli_show_renders_a_video(tmp_path: Path) -> None:
    from metaworld_hwm.envs.rendering import RenderingUnavailableError

    video = tmp_path / "stand.mp4"
    try:
        code = run_cli("show", "stand", "--library", str(COMMITTED), "--video", str(video),
                       "--steps", "5")  # fmt: skip
    except RenderingUnavailableError as exc:
        pytest.skip(f"no offscreen rendering here: {exc}")
    assert code == 0 and video.stat().st_size > 0
