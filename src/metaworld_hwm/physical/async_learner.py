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
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from torch import Tensor

from metaworld_hwm.physical.acting import ActingModel
from metaworld_hwm.physical.agent import TDMPC2Agent

__all__ = ["AsyncLearner"]

_Result = tuple[dict[str, float], ActingModel]


class AsyncLearner:
    """Runs `agent.update` on one background thread; at most one update in flight.

    While an update runs, `agent.act` may be called (it plans with the snapshot), but not
    `agent.update`, `agent.state_dict` or `agent.load_state_dict` (RuntimeError: `wait`
    first). An exception raised by the update is re-raised by `wait`.
    """

    def __init__(self, agent: TDMPC2Agent) -> None:
        self.agent = agent
        agent.separate_learn_generator()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tdmpc2-learner")
        self._future: Future[_Result] | None = None

    @property
    def busy(self) -> bool:
        """Whether an update has been submitted and not yet collected by `wait`."""
        return self._future is not None

    def submit(self, batch: dict[str, Tensor]) -> None:
        """Check `batch` (as `agent.update` does, raising here) and start its update."""
        if self._future is not None:
            raise RuntimeError("an update is already in flight; call wait() before submit()")
        agent = self.agent
        data = agent._check_batch(batch)
        agent.separate_learn_generator()  # again: a load_state_dict may have rejoined them
        if agent.acting is agent._live:  # first update: freeze the acting weights
            agent.acting = ActingModel(agent.model, copy=True)
        agent._learning = True
        self._future = self._pool.submit(self._run, data)

    def _run(self, data: dict[str, Tensor]) -> _Result:
        metrics = self.agent._update_checked(data)
        return metrics, ActingModel(self.agent.model, copy=True)

    def wait(self) -> dict[str, float] | None:
        """Block until the update in flight is done, let `act` plan with its weights, and
        return its metrics (None when nothing was in flight)."""
        if self._future is None:
            return None
        future, self._future = self._future, None
        try:
            metrics, snapshot = future.result()
        finally:
            self.agent._learning = False
        self.agent.acting = snapshot
        return metrics

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
