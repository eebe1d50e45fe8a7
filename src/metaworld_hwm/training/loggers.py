"""Metric loggers: a list of outputs. JSONL and CSV always; TensorBoard when installed.

Metric names are namespaced (``train/``, ``eval/``, ``semantic/``, ``skills/``). Every record
carries the env step it belongs to.
"""

from __future__ import annotations

import contextlib
import csv
import json
from pathlib import Path
from typing import Protocol


class MetricLogger(Protocol):
    """Anything that takes ``(step, metrics)`` records."""

    def log(self, step: int, metrics: dict[str, float]) -> None: ...

    def close(self) -> None: ...


class JsonlLogger:
    """One JSON object per line: ``{"step": ..., "train/loss": ...}``; appends on resume."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a", encoding="utf-8")

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self._file.write(json.dumps({"step": step, **metrics}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class CsvLogger:
    """One CSV file per namespace (``train.csv``, ``eval.csv``).

    A metric that first appears later (losses after the seed phase) widens the file: it is
    rewritten with the new column, earlier rows left blank there.
    """

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._columns: dict[str, list[str]] = {}

    def log(self, step: int, metrics: dict[str, float]) -> None:
        groups: dict[str, dict[str, float]] = {}
        for key, value in metrics.items():
            namespace, _, name = key.rpartition("/")
            groups.setdefault(namespace or "metrics", {})[name] = value
        for namespace, values in groups.items():
            path = self._dir / f"{namespace.replace('/', '_')}.csv"
            columns = self._columns.get(namespace) or _existing_columns(path)
            row = {"step": step, **values}
            if not columns or set(row) - set(columns):
                columns = [*columns, *(k for k in row if k not in columns)] or list(row)
                _rewrite(path, columns)
            self._columns[namespace] = columns
            with path.open("a", newline="", encoding="utf-8") as handle:
                csv.DictWriter(handle, fieldnames=columns).writerow(row)

    def close(self) -> None:
        """Nothing stays open between records."""


def _existing_columns(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def _rewrite(path: Path, columns: list[str]) -> None:
    rows = []
    if path.exists():
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


class TensorBoardLogger:
    """Scalars to TensorBoard event files (needs the ``tensorboard`` package)."""

    def __init__(self, directory: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self._writer = SummaryWriter(str(directory))

    def log(self, step: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            self._writer.add_scalar(key, value, step)

    def close(self) -> None:
        self._writer.close()


class Loggers:
    """Fan-out to every configured logger."""

    def __init__(self, run_dir: Path, tensorboard: bool = True) -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        self.outputs: list[MetricLogger] = [
            JsonlLogger(run_dir / "metrics.jsonl"),
            CsvLogger(run_dir),
        ]
        if tensorboard:
            with contextlib.suppress(ImportError):  # optional: TensorBoard not installed
                self.outputs.append(TensorBoardLogger(run_dir / "tensorboard"))

    def log(self, step: int, metrics: dict[str, float]) -> None:
        """Send one record to every output."""
        for output in self.outputs:
            output.log(step, metrics)

    def close(self) -> None:
        """Close every output."""
        for output in self.outputs:
            output.close()
