"""Progress lines: the rate covers a recent window, so it is right after a resume or a pause."""

from __future__ import annotations

from metaworld_hwm.utils.progress import ProgressReporter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_after_a_resume_counts_this_sessions_steps_only() -> None:
    clock = FakeClock()
    progress = ProgressReporter(10_000, start=6_000, every_seconds=0, clock=clock)
    clock.now = 10.0
    line = progress.update(6_100)
    assert "10.0 steps/s" in line and "ETA 6m30s" in line


def test_a_pause_leaves_the_rate_once_it_leaves_the_window() -> None:
    clock = FakeClock()
    progress = ProgressReporter(100_000, every_seconds=0, window_seconds=60, clock=clock)
    for second in range(1, 121):  # 120 s at 10 steps/s
        clock.now = float(second)
        progress.update(10 * second)
    clock.now = 300.0  # a 180 s evaluation: no steps
    assert "steps/s" in progress.update(1_200)
    for second in range(301, 421):  # 120 s at 10 steps/s again
        clock.now = float(second)
        line = progress.update(1_200 + 10 * (second - 300))
    assert "10.0 steps/s" in line


def test_lines_come_every_so_often() -> None:
    clock = FakeClock()
    progress = ProgressReporter(100, every_seconds=10, clock=clock)
    clock.now = 1.0
    assert progress.update(1) is not None  # the first line comes at once
    clock.now = 5.0
    assert progress.update(2) is None
    assert progress.update(2, force=True) is not None


def test_a_terminal_gets_a_bar_with_the_windowed_rate() -> None:
    import io

    clock, stream = FakeClock(), io.StringIO()
    progress = ProgressReporter(1_000, start=400, every_seconds=0, clock=clock, bar=True,
                                stream=stream, label="[h1-walk] ")  # fmt: skip
    progress.last_eval = 12.5
    clock.now = 10.0
    assert progress.update(500) is None  # the bar, not a line
    progress.close()
    out = stream.getvalue()
    assert "[h1-walk]" in out and "500/1000" in out and "10.0 steps/s" in out
    assert "ETA 0m50s" in out and "last eval return 12.5" in out
