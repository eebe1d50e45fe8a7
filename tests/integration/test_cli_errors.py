"""The CLI's error boundary: a user's mistake is one line on stderr and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from metaworld_hwm.cli import main


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["train", "--task", "h1-nope", "--steps", "10"], "unknown task 'nope'"),
        (["train", "--task", "h1-stand", "--steps", "-5"], "steps=-5 is invalid"),
        (["eval", "{missing}"], "is not a run directory (no config.json)"),
        (["eval", "{corrupt}"], "config.json is corrupt"),
    ],
)
def test_user_mistakes_are_one_line(
    argv: list[str], expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text("{bad")
    argv = [a.format(missing=tmp_path / "missing", corrupt=corrupt) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and err.count("\n") == 0 and err.startswith("metaworld-hwm ")
