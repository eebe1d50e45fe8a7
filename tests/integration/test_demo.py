"""The pose-hold check end to end on a tiny budget: tables always, video where rendering works."""

import csv
from pathlib import Path

from metaworld_hwm.cli import main
from metaworld_hwm.envs import ENV_NAMES


def test_pose_hold_writes_tables_and_video(tmp_path: Path, capsys) -> None:
    assert main(["pose-hold", "--out", str(tmp_path), "--steps", "6"]) == 0
    rows = list(csv.DictReader((tmp_path / "returns.csv").open()))
    assert [r["env"] for r in rows] == list(ENV_NAMES)
    assert all(int(r["steps"]) == 6 for r in rows)
    assert "| h1-door |" in (tmp_path / "returns.md").read_text()
    video = tmp_path / "pose_hold.mp4"
    assert video.exists() or "rendering unavailable" in capsys.readouterr().out


def test_envs_command_lists_every_env(capsys) -> None:
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ENV_NAMES)
