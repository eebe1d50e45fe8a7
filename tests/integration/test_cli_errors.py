"""The CLI's error boundary: a user's mistake is one line on stderr and exit status 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--task", "h1-nope", "--steps", "10"], "unknown task 'nope'"),
        (["train", "--task", "h1-stand", "--steps", "-5"], "steps=-5 is invalid"),
        (["train", "--steps", "abc"], "argument --steps: invalid literal for int()"),
        (["train", "--method", "ppo"], "argument --method: invalid choice 'ppo'"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "--set", "num_samples"], "argument --set: expected KEY=VALUE"),
        (["eval", "{missing}"], "is not a run directory (no config.json)"),
        (["eval", "{corrupt}"], "config.json is corrupt"),
        (
            ["train", "--task", "h1-stand", "--steps", "10", "--run-dir", "{corrupt}", "--resume"],
            "no checkpoint to resume",
        ),
        (
            ["train", "--task", "h1-stand", "--steps", "10", "--run-dir", "{other}", "--resume"],
            "holds another run's config.json",
        ),
        (
            ["train", "--task", "h1-stand", "--steps", "10", "--run-dir", "{done}"],
            "pass --resume to continue it",
        ),
    ],
)
def test_user_mistakes_are_one_line(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text("{bad")
    other = tmp_path / "other"
    other.mkdir()
    train = RunConfig(task="h1-walk", steps=10).to_dict()
    other_run = {"train": train, "world_model": {"guidance_lambda": 100.0}, "seed_steps": 5}
    (other / "config.json").write_text(json.dumps(other_run))
    done = tmp_path / "done"
    done.mkdir()
    (done / "checkpoint.pt").write_bytes(b"")
    argv = [a.format(missing=tmp_path / "missing", corrupt=corrupt, other=other, done=done)
            for a in argv]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and err.count("\n") == 0 and err.startswith("metaworld-hwm ")
