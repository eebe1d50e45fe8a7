"""Progress lines for long runs: steps, rate, ETA and the latest evaluation return."""

from __future__ import annotations

import time


class ProgressReporter:
    """Print a line every ``every_seconds`` (and at the end): works in CI logs and terminals."""

    def __init__(self, total: int, start: int = 0, every_seconds: float = 10.0, label: str = ""):
        self.total = total
        self._start_step = start
        self._t0 = time.perf_counter()
        self._last_print = -float("inf")
        self.every_seconds = every_seconds
        self.label = label
        self.last_eval: float | None = None

    def update(self, step: int, force: bool = False) -> str | None:
        """Print (and return) a progress line if it is time to, else None."""
        now = time.perf_counter()
        if not force and now - self._last_print < self.every_seconds:
            return None
        self._last_print = now
        done = step - self._start_step
        rate = done / max(now - self._t0, 1e-9)
        eta = (self.total - step) / rate if rate > 0 else float("inf")
        evaluation = "" if self.last_eval is None else f" | last eval return {self.last_eval:.1f}"
        line = (
            f"{self.label}step {step}/{self.total} ({100 * step / self.total:.0f}%) | "
            f"{rate:.1f} steps/s | ETA {_duration(eta)}{evaluation}"
        )
        print(line, flush=True)
        return line


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
