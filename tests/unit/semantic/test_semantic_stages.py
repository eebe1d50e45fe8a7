"""Stage sub-goals: a staged expert's sub-goal becomes one per stage, each done on the task's
signals; a lost grasp while turning goes back to the grasp; a replan asks for the clause."""

from __future__ import annotations

from dataclasses import replace

import pytest

from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.stages import expand_stages
from metaworld_hwm.semantic.tracker import PlanTracker
from metaworld_hwm.semantic.types import ExpertCard, Plan, SkillParams, SubGoal

STAGES = (
    ("grasp", "grasp the door's hatch"),
    ("turn", "turn the hatch to unlock the door"),
    ("pull", "pull the door open"),
)


@pytest.fixture
def cards() -> tuple[ExpertCard, ...]:
    return (
        ExpertCard("walk", "Walk forward."),
        ExpertCard("door", "Open a door.", "reach", STAGES),
    )


def _plan(cards, *goals: tuple[str, str]) -> Plan:
    names = tuple(c.name for c in cards)
    subgoals = tuple(
        SubGoal(text, tuple(float(n == top) for n in names), infer_condition(text, top))
        for text, top in goals
    )
    return Plan("x", names, subgoals, backend="stub")


def test_the_staged_experts_sub_goal_becomes_its_stages(cards) -> None:
    plan = expand_stages(_plan(cards, ("walk to the door", "walk"), ("open it", "door")), cards)
    assert [g.text for g in plan.subgoals] == ["walk to the door", *(t for _, t in STAGES)]
    assert [g.params.stage for g in plan.subgoals] == [None, "grasp", "turn", "pull"]
    assert [g.condition.signal for g in plan.subgoals] == [
        "hand_hatch_proximity_reward", "hatch_grasped", "door_unlocked", "door_openness_reward",
    ]  # fmt: skip
    assert [g.source for g in plan.subgoals] == ["", "open it", "open it", "open it"]
    assert all(g.weights == plan.subgoals[1].weights for g in plan.subgoals[1:])
    turn = plan.subgoals[2].condition
    assert turn.hold == "hatch_grasped" and turn.flag
    assert any(note.startswith("expanded 'open it'") for note in plan.notes)
    assert expand_stages(plan, cards) == plan  # stage sub-goals stay as they are
    assert Plan.from_dict(plan.to_dict()) == plan


def test_a_walk_to_what_the_staged_expert_acts_on_is_its_approach(cards) -> None:
    door = SkillParams(target="door")
    plan = _plan(cards, ("walk to the door", "walk"), ("open it", "door"))
    walk, open_it = (replace(g, params=door) for g in plan.subgoals)
    plan = expand_stages(replace(plan, subgoals=(walk, open_it)), cards)
    assert [g.text for g in plan.subgoals] == ["walk to the door", *(t for _, t in STAGES)]
    assert [g.top(plan.experts) for g in plan.subgoals] == ["door"] * 4
    assert plan.subgoals[0].params.stage is None  # the door expert walks up unheld
    assert plan.subgoals[0].condition == walk.condition
    assert "expanded 'walk to the door' -> door's approach" in plan.notes
    kitchen = replace(walk, text="walk to the kitchen", params=SkillParams(target="kitchen"))
    plan = _plan(cards, ("walk to the kitchen", "walk"), ("open it", "door"))
    plan = expand_stages(replace(plan, subgoals=(kitchen, open_it)), cards)
    assert plan.subgoals[0].top(plan.experts) == "walk"  # elsewhere: the walker walks


def test_a_plan_without_staged_experts_is_unchanged(cards) -> None:
    plan = _plan(cards, ("walk forward", "walk"))
    assert expand_stages(plan, cards) is plan


def test_stage_key_is_not_a_motion() -> None:
    assert not SkillParams(stage="grasp").moves
    with pytest.raises(ValueError, match="stage"):
        SkillParams(stage=" ")


class _Planner:
    """Plans every instruction as walk-then-door (or door alone for one clause)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def plan(self, instruction, experts, observation=None, frame=None) -> Plan:
        self.calls.append(instruction)
        goals = [("open it", "door")]
        if "walk" in instruction:
            goals.insert(0, ("walk to the door", "walk"))
        return _plan(experts, *goals)


def test_a_lost_grasp_while_turning_goes_back_to_the_grasp(cards) -> None:
    tracker = PlanTracker(_Planner(), "walk to the door and open it", cards, hold_lost_steps=3)
    tracker.start()
    tracker.update({"hand_hatch_proximity_reward": 1.0})
    tracker.update({"hatch_grasped": 1.0})
    assert tracker.current.params.stage == "turn"
    signals = {"hatch_grasped": 0.0, "door_unlocked": 0.0}
    events = [tracker.update(signals) for _ in range(3)]
    assert [e["name"] for e in events[-1]] == ["semantic/regress"]
    assert events[-1][0]["back_to"] == "grasp the door's hatch"
    assert tracker.current.params.stage == "grasp" and tracker.metrics()["semantic/regresses"] == 1
    tracker.update({"hatch_grasped": 1.0})
    tracker.update({"hatch_grasped": 1.0, "door_unlocked": 1.0})
    assert tracker.current.params.stage == "pull"


def test_flags_wait_for_their_timeout_and_a_replan_asks_for_the_clause(cards) -> None:
    planner = _Planner()
    tracker = PlanTracker(planner, "open it", cards, stall_steps=5, dt=1.0)
    tracker.start()
    for _ in range(29):  # a 0/1 signal shows no progress: no stall
        assert tracker.update({"hatch_grasped": 0.0}) == []
    events = tracker.update({"hatch_grasped": 0.0})
    assert [e["name"] for e in events] == ["semantic/replan"] and events[0]["reason"] == "timeout"
    assert planner.calls == ["open it", "open it"]  # the clause once, not its three stages
    assert tracker.current.params.stage == "grasp"
