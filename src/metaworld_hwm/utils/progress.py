"""Progress of long runs: a bar in a terminal, periodic lines in a log (steps, rate, ETA and the
latest evaluation return)."""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import IO, Any


class ProgressReporter:
    """A tqdm bar when ``bar`` (default: standard error is a terminal), else a line every
    ``every_seconds`` and at the end (CI logs, redirected output).

    The rate is measured over the last ``window_seconds``, not since the start: after a resume
    it counts only this session's steps, and a burst of pre-training updates or an evaluation
    is forgotten once it leaves the window, so the ETA recovers. The bar shows the same rate
    and ETA, and the last evaluation return.
    """

    def __init__(
        self,
        total: int,
        start: int = 0,
        every_seconds: float = 10.0,
        label: str = "",
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.perf_counter,
        bar: bool | None = None,
        stream: IO[str] | None = None,
    ):
        self.total = total
        self.every_seconds = every_seconds
        self.window_seconds = window_seconds
        self.label = label
        self.last_eval: float | None = None
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque([(clock(), start)])
        self._last_print = -float("inf")
        self._bar: Any = None
        if bar if bar is not None else sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(
                total=total, initial=start, desc=label.strip() or None, unit="step",
                file=stream, bar_format="{desc} {bar} {n_fmt}/{total_fmt} {postfix}",
                mininterval=0, leave=True,
            )  # fmt: skip

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
        if self._bar is not None:
            self._bar.n = step
            self._bar.set_postfix_str(f"{rate:.1f} steps/s | ETA {_duration(eta)}{evaluation}")
            return None
        line = (
            f"{self.label}step {step}/{self.total} ({100 * step / self.total:.0f}%) | "
            f"{rate:.1f} steps/s | ETA {_duration(eta)}{evaluation}"
        )
        print(line, flush=True)
        return line

    def close(self) -> None:
        """Finish the bar (nothing to do for lines)."""
        if self._bar is not None:
            self._bar.close()


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
