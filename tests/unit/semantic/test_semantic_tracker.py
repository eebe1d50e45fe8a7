"""PlanTracker: advance on completion, replan on stall and timeout, events for the logs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metaworld_hwm.semantic.tracker import PlanTracker

DOOR = [("walk to the door", "walk"), ("open it", "reach")]


def _names(events):
    return [e["name"] for e in events]


def test_advances_through_the_plan_on_task_signals(experts, make_stub):
    tracker = PlanTracker(make_stub([DOOR]), "walk to the door and open it", experts)
    plan = tracker.start()
    assert tracker.current == plan.subgoals[0] and tracker.weights.argmax() == 0
    assert tracker.update({"hand_hatch_proximity_reward": 0.5}) == []
    events = tracker.update({"hand_hatch_proximity_reward": 0.95})
    assert _names(events) == ["semantic/advance"] and tracker.index == 1
    assert tracker.weights.argmax() == 3  # reach
    events = tracker.update({"door_openness_reward": 0.9})
    assert _names(events) == ["semantic/advance", "semantic/done"] and tracker.done
    assert tracker.update({}) == [] and tracker.weights.argmax() == 3
    assert _names(tracker.events)[0] == "semantic/plan"
    assert all(e["name"].startswith("semantic/") for e in tracker.events)
    json.dumps(tracker.events)  # events are plain data for the loggers
    assert tracker.metrics()["semantic/done"] == 1.0


def test_stall_triggers_a_replan_of_the_remaining_sub_goals(experts, make_stub):
    planner = make_stub([DOOR, [("open the door", "reach")]])
    tracker = PlanTracker(planner, "walk to the door and open it", experts, stall_steps=5)
    tracker.start()
    tracker.update({"hand_hatch_proximity_reward": 0.95})
    events = []
    for _ in range(6):  # the first reading sets the baseline, then 5 steps without progress
        events += tracker.update({"door_openness_reward": 0.1})
    assert _names(events) == ["semantic/replan"]
    assert events[0]["reason"] == "stalled" and planner.calls[1] == "open it"
    assert tracker.plan.subgoals[0].text == "open the door"
    assert tracker.metrics()["semantic/replans"] == 1.0


def test_progress_delays_the_stall(experts, make_stub):
    tracker = PlanTracker(make_stub([DOOR]), "x", experts, stall_steps=5)
    tracker.start()
    for i in range(20):
        assert tracker.update({"hand_hatch_proximity_reward": 0.01 * i}) == []


def test_timeout_replans_then_skips_after_max_replans(experts, make_stub):
    planner = make_stub([[("grab the handle", "reach"), ("sit down", "sit")]])
    tracker = PlanTracker(planner, "x", experts, dt=1.0, stall_steps=1000, max_replans=1)
    names = []
    for _ in range(70):
        names += _names(tracker.update({"hand_hatch_proximity_reward": 0.0}))
        if tracker.index == 1:
            break
    assert names == ["semantic/plan", "semantic/replan", "semantic/skip"]
    assert tracker.events[1]["reason"] == "timeout"
    assert tracker.current.text == "sit down"


def test_time_conditions_and_relative_signals(experts, make_stub):
    planner = make_stub([[("stand still for 2 seconds", "stand"), ("walk 3 metres", "walk")]])
    tracker = PlanTracker(planner, "x", experts, dt=0.5)
    steps = 0
    while tracker.index == 0:
        tracker.update({"distance_m": 10.0})
        steps += 1
    assert steps == 4
    tracker.update({"distance_m": 12.0})
    assert tracker.index == 1  # 2 m since the sub-goal started, not 12
    tracker.update({"distance_m": 13.0})
    assert tracker.done


def test_missing_signal_is_reported_once(experts, make_stub):
    tracker = PlanTracker(make_stub([DOOR]), "x", experts)
    tracker.update({})
    tracker.update({})
    assert _names(tracker.events).count("semantic/missing_signal") == 1


def test_bad_arguments(experts, make_stub):
    with pytest.raises(ValueError, match="stall_steps"):
        PlanTracker(make_stub([DOOR]), "x", experts, stall_steps=0)
    with pytest.raises(RuntimeError, match="no plan yet"):
        np.asarray(PlanTracker(make_stub([DOOR]), "x", experts).weights)


def test_low_confidence_plan_is_an_event(experts, make_stub, caplog):
    from dataclasses import replace

    class Unsure:
        def __init__(self, inner):
            self.inner = inner

        def plan(self, instruction, experts, observation=None, frame=None):
            plan = self.inner.plan(instruction, experts, observation, frame)
            return replace(plan, low_confidence=True, notes=("low confidence: sub-goal 1 ...",))

    tracker = PlanTracker(Unsure(make_stub([DOOR])), "xqzv", experts)
    tracker.start()
    names = _names(tracker.events)
    assert names == ["semantic/plan", "semantic/low_confidence"]
    assert tracker.events[1]["notes"] == ["low confidence: sub-goal 1 ..."]
    assert "low-confidence plan" in caplog.text
