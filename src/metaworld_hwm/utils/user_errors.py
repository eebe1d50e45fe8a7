"""The command line's error boundary: a user's mistake is one line, a bug is a traceback.

Code that checks what a user gave (options, files, run directories) raises ``ValueError`` or
``FileNotFoundError`` with a message naming the problem and the fix. The CLI marks the parts
of a command that only read and check such input with :func:`user_errors`; what they raise
becomes a :class:`UserError`, which ``metaworld-hwm`` prints as one line (exit status 2).
Everything else, the training loop and evaluation trials included, keeps its traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class UserError(Exception):
    """A mistake in what the user gave; its message names the problem and the fix."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn ``ValueError`` and ``FileNotFoundError`` raised inside into :class:`UserError`."""
    try:
        yield
    except (ValueError, FileNotFoundError) as exc:
        raise UserError(str(exc)) from exc


def positive_int(text: str) -> int:
    """An argparse ``type`` for a count that must be >= 1 (argparse prints its one-line error)."""
    value = int(text) if text.lstrip("-").isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def output_dir(path: str | Path, option: str = "--out") -> Path:
    """``path`` created (with its parents) as a directory to write into; a :class:`UserError`
    naming ``option`` if it is a file or cannot be created."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"{option} {path} is not a directory; give a directory to write into")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot create it ({exc.strerror}); give a "
                        "directory you can write into") from exc  # fmt: skip
    return out
