"""Overlap learning with acting: `TDMPC2Agent.update` on a background thread.

On a CPU with two cores, a planning call and an update each keep one core busy. Running the
update on a second thread while the caller plans the next action (and steps the env) uses
both: torch ops and the fused kernels release the GIL, so with ``torch.set_num_threads(1)``
each thread runs on its own core.

**Semantics (why this is opt-in):** an action is planned with the weights from before the
update that is still running, i.e. one update older than in the sequential loop
(act, update, act, update, ...). Planning uses a snapshot of the weights (an `ActingModel`
copy) that the learner thread takes after each update and `wait` installs, so acting never
reads weights that are being written. Acting and learning draw from separate generators
(`agent.generator`, `agent.learn_generator`; the learner calls
`agent.separate_learn_generator()`), so with `wait` right after each `submit` the results
equal those of the sequential loop of an agent with separate generators exactly (tested).

Usage, one update per env step::

    learner = AsyncLearner(agent)
    for step in range(steps):
        action = agent.act(obs)               # plans with the latest installed snapshot
        obs, ... = env.step(action)           # meanwhile the previous update runs
        metrics = learner.wait()              # that update's metrics (None on the first step)
        learner.submit(buffer.sample(...))    # the next update starts in the background
    learner.close()                           # waits for the last update

**Sharing the update (exact):** when the learner is the slower side, the caller computes each
update's TD targets (encoding of the next observations, policy samples and target Q heads;
no gradient) in `submit`, while the learner thread runs the forward pass with gradient on the
same weights, which nobody writes until both are done. The targets' noise is drawn from
`agent.learn_generator` before the learner starts, in the order a plain update draws it, so
the results are the same wherever the targets are computed (tested). By default the side is
chosen before each update from measured times (`targets_on_caller=None`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import NamedTuple

from torch import Tensor

from metaworld_hwm.physical.acting import ActingModel
from metaworld_hwm.physical.agent import TDMPC2Agent
from metaworld_hwm.physical.losses import TDTargets, draw_target_noise, td_targets

__all__ = ["AsyncLearner"]

_SMOOTHING = 0.3  # weight of the newest measurement in the running times


class _Result(NamedTuple):
    metrics: dict[str, float]
    snapshot: ActingModel
    own_seconds: float
    """The learner's time on this update, without the TD targets and waiting for them."""


def _smooth(previous: float | None, new: float) -> float:
    return new if previous is None else previous + _SMOOTHING * (new - previous)


class AsyncLearner:
    """Runs `agent.update` on one background thread; at most one update in flight.

    While an update runs, `agent.act` may be called (it plans with the snapshot), but not
    `agent.update`, `agent.state_dict` or `agent.load_state_dict` (RuntimeError: `wait`
    first). An exception raised by the update is re-raised by `wait`.

    targets_on_caller: compute each update's TD targets in `submit`, on the calling thread,
        while the learner starts (True), always on the learner (False), or decide before
        each update (None): on the caller when the learner's own work took longer than the
        caller's between `submit` and `wait`, both smoothed over recent updates. The results
        are the same either way; only the wall time differs.
    """

    def __init__(self, agent: TDMPC2Agent, targets_on_caller: bool | None = None) -> None:
        self.agent = agent
        self.targets_on_caller = targets_on_caller
        agent.separate_learn_generator()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tdmpc2-learner")
        self._future: Future[_Result] | None = None
        self._submitted_at: float | None = None
        self.caller_seconds: float | None = None
        """Smoothed time the caller spent between `submit` returning and `wait`."""
        self.learner_seconds: float | None = None
        """Smoothed time of the learner's own work per update (TD targets excluded)."""
        self.last_targets_on_caller = False
        """Where the latest submitted update's TD targets were computed."""

    @property
    def busy(self) -> bool:
        """Whether an update has been submitted and not yet collected by `wait`."""
        return self._future is not None

    def _caller_takes_targets(self) -> bool:
        if self.targets_on_caller is not None:
            return self.targets_on_caller
        if self.caller_seconds is None or self.learner_seconds is None:
            return False
        return self.learner_seconds > self.caller_seconds

    def submit(self, batch: dict[str, Tensor]) -> None:
        """Check `batch` (as `agent.update` does, raising here) and start its update; when
        the caller takes the TD targets, compute them before returning."""
        if self._future is not None:
            raise RuntimeError("an update is already in flight; call wait() before submit()")
        agent = self.agent
        data = agent._check_batch(batch)
        agent.separate_learn_generator()  # again: a load_state_dict may have rejoined them
        if agent.acting is agent._live:  # first update: freeze the acting weights
            agent.acting = ActingModel(agent.model, copy=True)
        agent._learning = True
        on_caller = self.last_targets_on_caller = self._caller_takes_targets()
        if not on_caller:
            self._future = self._pool.submit(self._run, data, None)
        else:
            noise = draw_target_noise(agent.model, data["reward"], agent.learn_generator)
            pending: Future[TDTargets] = Future()
            self._future = self._pool.submit(self._run, data, pending)
            try:
                pending.set_result(td_targets(agent.model, data, noise))
            except BaseException as err:  # the learner re-raises it; wait() reports it
                pending.set_exception(err)
                if not isinstance(err, Exception):  # KeyboardInterrupt, SystemExit
                    raise
        self._submitted_at = time.perf_counter()

    def _run(self, data: dict[str, Tensor], pending: Future[TDTargets] | None) -> _Result:
        agent, start, excluded = self.agent, time.perf_counter(), 0.0
        targets: TDTargets | Callable[[], TDTargets]
        if pending is None:
            targets = td_targets(agent.model, data, agent.learn_generator)
            excluded = time.perf_counter() - start
        else:

            def targets() -> TDTargets:
                nonlocal excluded
                waited = time.perf_counter()
                result = pending.result()
                excluded = time.perf_counter() - waited
                return result

        metrics = agent._update_checked(data, targets)
        snapshot = ActingModel(agent.model, copy=True)
        return _Result(metrics, snapshot, time.perf_counter() - start - excluded)

    def wait(self) -> dict[str, float] | None:
        """Block until the update in flight is done, let `act` plan with its weights, and
        return its metrics (None when nothing was in flight)."""
        if self._future is None:
            return None
        if self._submitted_at is not None:
            elapsed = time.perf_counter() - self._submitted_at
            self.caller_seconds = _smooth(self.caller_seconds, elapsed)
        future, self._future = self._future, None
        try:
            result = future.result()
        finally:
            self.agent._learning = False
            self._submitted_at = None
        self.learner_seconds = _smooth(self.learner_seconds, result.own_seconds)
        self.agent.acting = result.snapshot
        return result.metrics

    def close(self) -> dict[str, float] | None:
        """Wait for the update in flight (returning its metrics) and stop the thread."""
        try:
            return self.wait()
        finally:
            self._pool.shutdown(wait=True)

    def __enter__(self) -> AsyncLearner:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
