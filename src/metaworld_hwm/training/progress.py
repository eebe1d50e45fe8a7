"""Progress lines for long runs: steps, rate, ETA and the latest evaluation return."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class ProgressReporter:
    """Print a line every ``every_seconds`` (and at the end): works in CI logs and terminals.

    The rate is measured over the last ``window_seconds``, not since the start: after a resume
    it counts only this session's steps, and a burst of pre-training updates or an evaluation
    is forgotten once it leaves the window, so the ETA recovers.
    """

    def __init__(
        self,
        total: int,
        start: int = 0,
        every_seconds: float = 10.0,
        label: str = "",
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.total = total
        self.every_seconds = every_seconds
        self.window_seconds = window_seconds
        self.label = label
        self.last_eval: float | None = None
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque([(clock(), start)])
        self._last_print = -float("inf")

    def _record_and_rate(self, step: int, now: float) -> float:
        """Record (``now``, ``step``); steps per second over the window ending there."""
        samples = self._samples
        samples.append((now, step))
        # keep one sample at or before the window's start, so the window is always covered
        while len(samples) > 2 and samples[1][0] <= now - self.window_seconds:
            samples.popleft()
        then, first = samples[0]
        return (step - first) / max(now - then, 1e-9)

    def update(self, step: int, force: bool = False) -> str | None:
        """Print (and return) a progress line if it is time to, else None."""
        now = self._clock()
        rate = self._record_and_rate(step, now)
        if not force and now - self._last_print < self.every_seconds:
            return None
        self._last_print = now
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
