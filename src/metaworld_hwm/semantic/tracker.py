"""Closed-loop execution of a plan: advance on completion, replan on stall or timeout.

The agent calls `PlanTracker.update` once per control step with the task signals (the env's
``info`` dict, plus anything else it measures). The tracker adds ``subgoal_steps`` and
``subgoal_seconds``, checks the current sub-goal's condition, and

- advances to the next sub-goal when the condition is met;
- replans the remaining sub-goals when the condition's signal has not improved by
  ``min_progress`` for ``stall_steps`` steps (unless it is a 0/1 flag), or the sub-goal ran
  past its ``timeout_s``;
- skips a sub-goal after ``max_replans`` replans that did not get it done;
- goes back to an earlier sub-goal when the current one's ``hold`` signal (a grasp the turn of
  a handle needs) has been below 0.5 for ``hold_lost_steps`` steps: to the latest one whose
  condition achieves that signal (``regress``; at most ``max_regresses`` per episode).

Each plan is expanded into stage sub-goals first (`metaworld_hwm.semantic.stages`).

Every plan, replan, advance, skip and the end are events (dicts named ``semantic/...``) in
`PlanTracker.events`, for the agent's loggers; a plan the planner marked ``low_confidence``
adds a ``semantic/low_confidence`` event (with its notes) and a warning; `PlanTracker.metrics`
gives scalars.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from metaworld_hwm.semantic.stages import expand_stages
from metaworld_hwm.semantic.types import (
    SECONDS_SIGNAL,
    STEPS_SIGNAL,
    ExpertLike,
    Plan,
    Planner,
    SubGoal,
)

log = logging.getLogger(__name__)

CONTROL_DT = 0.02
"""Seconds per env step (50 Hz control, DESIGN.md)."""


class PlanTracker:
    """Follows a planner's plan for one instruction through an episode.

    Args:
        planner: any `Planner`; called at the start and on every replan.
        instruction: the task instruction.
        experts: the expert library the weights range over.
        stall_steps: steps without progress on the condition's signal before replanning.
        min_progress: smallest change of the signal that counts as progress.
        dt: seconds per `update` call.
        max_replans: replans of one sub-goal before it is skipped.
        hold_lost_steps: steps a sub-goal's ``hold`` signal may stay lost before going back.
        max_regresses: how many times an episode may go back (then holds are not checked).
    """

    def __init__(
        self,
        planner: Planner,
        instruction: str,
        experts: Sequence[ExpertLike],
        *,
        stall_steps: int = 150,
        min_progress: float = 1e-3,
        dt: float = CONTROL_DT,
        max_replans: int = 2,
        hold_lost_steps: int = 10,
        max_regresses: int = 5,
    ) -> None:
        if stall_steps < 1 or dt <= 0 or max_replans < 0 or hold_lost_steps < 1:
            raise ValueError(
                f"need stall_steps >= 1, dt > 0, max_replans >= 0, hold_lost_steps >= 1; got "
                f"{stall_steps}, {dt}, {max_replans}, {hold_lost_steps}"
            )
        self.planner = planner
        self.instruction = instruction
        self.experts = tuple(experts)
        self.stall_steps = stall_steps
        self.min_progress = min_progress
        self.dt = dt
        self.max_replans = max_replans
        self.hold_lost_steps = hold_lost_steps
        self.max_regresses = max_regresses
        self.regresses = 0
        self.plan: Plan | None = None
        self.index = 0
        self.events: list[dict[str, Any]] = []
        self.step = 0
        self.replans = 0
        self._previous: Mapping[str, float] = {}
        self._reset_subgoal()

    def _reset_subgoal(self) -> None:
        self._steps = 0
        self._start_value: float | None = None
        self._best = -np.inf
        self._last_progress = 0
        self._warned_missing = False
        self._hold_lost = 0

    def _event(self, name: str, **fields: Any) -> dict[str, Any]:
        event = {"name": f"semantic/{name}", "step": self.step, "subgoal": self.index, **fields}
        self.events.append(event)
        log.info("semantic: %s", {k: v for k, v in event.items() if k != "plan"})
        return event

    @property
    def done(self) -> bool:
        """Whether every sub-goal is complete (or skipped)."""
        return self.plan is not None and self.index >= len(self.plan.subgoals)

    @property
    def current(self) -> SubGoal | None:
        """The sub-goal being executed (None before `start` and once done)."""
        if self.plan is None or self.done:
            return None
        return self.plan.subgoals[self.index]

    @property
    def weights(self) -> np.ndarray:
        """Expert weights to use now (the last sub-goal's once done)."""
        if self.plan is None:
            raise RuntimeError("PlanTracker has no plan yet: call start() or update() first")
        i = min(self.index, len(self.plan.subgoals) - 1)
        return np.asarray(self.plan.subgoals[i].weights)

    def start(self, observation: np.ndarray | None = None, frame: np.ndarray | None = None) -> Plan:
        """Make the first plan (records a ``semantic/plan`` event)."""
        self.plan = self._plan(self.instruction, observation, frame)
        self.index = 0
        self.regresses = 0
        self._reset_subgoal()
        self._event("plan", plan=self.plan.to_dict())
        self._flag_low_confidence()
        return self.plan

    def _plan(
        self, instruction: str, observation: np.ndarray | None, frame: np.ndarray | None
    ) -> Plan:
        plan = self.planner.plan(instruction, self.experts, observation, frame)
        return expand_stages(plan, self.experts)

    def _flag_low_confidence(self) -> None:
        assert self.plan is not None
        if self.plan.low_confidence:
            notes = [n for n in self.plan.notes if n.startswith("low confidence")]
            self._event("low_confidence", instruction=self.plan.instruction, notes=notes)
            log.warning("semantic: low-confidence plan for %r", self.plan.instruction)

    def update(
        self,
        signals: Mapping[str, float],
        observation: np.ndarray | None = None,
        frame: np.ndarray | None = None,
    ) -> list[dict[str, Any]]:
        """Advance the tracker by one step; returns the events of this step."""
        first_new = len(self.events)
        if self.plan is None:
            self.start(observation, frame)
        self.step += 1
        goal = self.current
        if goal is None:
            return []
        self._steps += 1
        values = {**signals, STEPS_SIGNAL: self._steps, SECONDS_SIGNAL: self._steps * self.dt}
        cond = goal.condition
        seconds = self._steps * self.dt
        previous, self._previous = self._previous, dict(signals)
        if cond.signal in values:
            value = float(values[cond.signal])
            if cond.relative:
                if self._start_value is None:  # the reading when the sub-goal began
                    self._start_value = float(previous.get(cond.signal, value))
                value -= self._start_value
            if cond.is_met(value):
                self._advance("advance", value=value)
                return self.events[first_new:]
            if self._hold_lost_for_long(cond.hold, signals):
                return self.events[first_new:]
            if cond.progress(value) > self._best + self.min_progress:
                self._best = cond.progress(value)
                self._last_progress = self._steps
        elif not self._warned_missing:
            self._warned_missing = True
            self._event("missing_signal", signal=cond.signal, available=sorted(values))
        if seconds >= cond.timeout_s:
            self._replan("timeout", observation, frame)
        elif (
            cond.signal not in (STEPS_SIGNAL, SECONDS_SIGNAL)
            and not cond.flag
            and self._steps - self._last_progress >= self.stall_steps
        ):
            self._replan("stalled", observation, frame)
        return self.events[first_new:]

    def _hold_lost_for_long(self, hold: str, signals: Mapping[str, float]) -> bool:
        """Count steps with the ``hold`` signal lost; past ``hold_lost_steps`` go back to the
        sub-goal that achieves it (returns whether it did)."""
        assert self.plan is not None
        if not hold or self.regresses >= self.max_regresses or hold not in signals:
            return False
        self._hold_lost = self._hold_lost + 1 if float(signals[hold]) < 0.5 else 0
        if self._hold_lost < self.hold_lost_steps:
            return False
        earlier = [
            i for i, g in enumerate(self.plan.subgoals[: self.index]) if g.condition.signal == hold
        ]
        if not earlier:
            return False
        self._event("regress", text=self.plan.subgoals[self.index].text, lost=hold,
                    back_to=self.plan.subgoals[earlier[-1]].text)  # fmt: skip
        self.index = earlier[-1]
        self.regresses += 1
        self._reset_subgoal()
        return True

    def _advance(self, name: str, **fields: Any) -> None:
        assert self.plan is not None
        self._event(name, text=self.plan.subgoals[self.index].text, steps=self._steps, **fields)
        self.index += 1
        self.replans = 0
        self._reset_subgoal()
        if self.done:
            self._event("done")

    def _replan(
        self, reason: str, observation: np.ndarray | None, frame: np.ndarray | None
    ) -> None:
        assert self.plan is not None
        if self.replans >= self.max_replans:
            self._advance("skip", reason=f"{reason} after {self.replans} replan(s)")
            return
        remaining = ", then ".join(_clauses(self.plan.subgoals[self.index :]))
        self.plan = self._plan(remaining, observation, frame)
        self.index = 0
        self.replans += 1
        self._reset_subgoal()
        self._event("replan", reason=reason, instruction=remaining, plan=self.plan.to_dict())
        self._flag_low_confidence()

    def metrics(self) -> dict[str, float]:
        """Scalars to log each step under ``semantic/``."""
        return {
            "semantic/subgoal_index": float(self.index),
            "semantic/subgoal_steps": float(self._steps),
            "semantic/replans": float(sum(e["name"] == "semantic/replan" for e in self.events)),
            "semantic/regresses": float(self.regresses),
            "semantic/done": float(self.done),
        }


def _clauses(subgoals: Sequence[SubGoal]) -> list[str]:
    """The plan clauses behind ``subgoals``: a run of stage sub-goals from one clause gives that
    clause once (replanning a stage asks for its whole skill again)."""
    out: list[str] = []
    previous_source = ""
    for goal in subgoals:
        if goal.source and goal.source == previous_source:
            continue
        out.append(goal.source or goal.text)
        previous_source = goal.source
    return out
