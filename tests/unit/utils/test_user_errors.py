"""The command line's checks of what the user gave."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from metaworld_hwm.utils.user_errors import UserError, output_dir, positive_int, user_errors


def test_an_output_directory_is_created_or_refused_in_one_line(tmp_path: Path) -> None:
    assert output_dir(tmp_path / "a" / "b").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(UserError, match=r"--out .*file is not a directory"):
        output_dir(tmp_path / "file")
    with pytest.raises(UserError, match=r"--video-dir .*: cannot create it"):
        output_dir(tmp_path / "file" / "below", option="--video-dir")


def test_counts_and_checked_errors() -> None:
    assert positive_int("3") == 3
    for text in ("0", "-2", "two"):
        with pytest.raises(argparse.ArgumentTypeError, match=f"got '{text}'"):
            positive_int(text)
    with pytest.raises(UserError, match="bad value"), user_errors():
        raise ValueError("bad value")
