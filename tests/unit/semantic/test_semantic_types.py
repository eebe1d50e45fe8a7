"""Plan data types: validation and JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metaworld_hwm.semantic.types import (
    Condition,
    ExpertCard,
    ExpertLike,
    Plan,
    SubGoal,
    catalog_cards,
    cue_target,
    expert_names,
    softmax,
)


def _plan() -> Plan:
    cond = Condition("door_openness_reward", ">=", 0.8, 30.0, description="door open")
    goals = (
        SubGoal("walk to the door", (0.9, 0.1), Condition("subgoal_seconds", ">=", 10.0)),
        SubGoal("open it", (0.25, 0.75), cond, scores=(0.1, 0.9)),
    )
    return Plan("walk to the door and open it", ("walk", "reach"), goals, "stub", notes=("n",))


def test_json_round_trip_is_exact():
    plan = _plan()
    text = plan.to_json()
    assert json.loads(text)["subgoals"][1]["condition"]["signal"] == "door_openness_reward"
    assert Plan.from_json(text) == plan
    assert Plan.from_dict(json.loads(plan.to_json(indent=None))) == plan


def test_from_dict_names_missing_key():
    data = _plan().to_dict()
    del data["experts"]
    with pytest.raises(ValueError, match="not a serialised Plan"):
        Plan.from_dict(data)


@pytest.mark.parametrize("weights", [(0.5, 0.6), (1.5, -0.5), (float("nan"), 1.0), ()])
def test_subgoal_rejects_non_distributions(weights):
    with pytest.raises(ValueError, match="weights"):
        SubGoal("x", weights, Condition("subgoal_seconds", ">=", 1.0))


def test_plan_rejects_wrong_weight_count_and_empty_plans():
    goal = SubGoal("x", (1.0,), Condition("subgoal_seconds", ">=", 1.0))
    with pytest.raises(ValueError, match="1 weights for 2 experts"):
        Plan("x", ("a", "b"), (goal,), "stub")
    with pytest.raises(ValueError, match="at least one sub-goal"):
        Plan("x", ("a",), (), "stub")


def test_condition_checks():
    le = Condition("hand_dist", "<=", 0.05)
    assert le.is_met(0.01) and not le.is_met(0.2)
    assert le.progress(0.1) > le.progress(0.5)
    with pytest.raises(ValueError, match="op"):
        Condition("x", "==", 1.0)
    with pytest.raises(ValueError, match="timeout_s"):
        Condition("x", ">=", 1.0, timeout_s=0.0)


def test_softmax_and_top_experts():
    w = softmax([1.0, 0.0, 0.0], tau=0.3)
    assert w.sum() == pytest.approx(1.0) and w.argmax() == 0
    assert softmax([1.0, 0.0], tau=0.1)[0] > softmax([1.0, 0.0], tau=1.0)[0]
    with pytest.raises(ValueError, match="tau"):
        softmax([1.0], tau=0.0)
    assert _plan().top_experts() == ["walk", "reach"]
    np.testing.assert_allclose(_plan().weight_matrix().sum(axis=1), 1.0)


def test_expert_cards_and_names():
    cards = catalog_cards()
    assert [c.name for c in cards][:3] == ["walk", "run", "stand"]
    assert all(isinstance(c, ExpertLike) for c in cards)
    with pytest.raises(ValueError, match="unique"):
        expert_names([ExpertCard("a", "x"), ExpertCard("a", "y")])
    with pytest.raises(ValueError, match="empty"):
        expert_names([])


def test_params_and_low_confidence_round_trip_and_old_json_loads():
    from metaworld_hwm.semantic.types import SkillParams

    params = SkillParams(pace="slow", direction="backward", duration_s=3.0, target="door")
    goal = SubGoal("walk slowly back", (1.0,), Condition("subgoal_seconds", ">=", 3.0),
                   params=params)  # fmt: skip
    plan = Plan("walk slowly back", ("walk",), (goal,), "stub", low_confidence=True)
    data = json.loads(plan.to_json())
    assert data["subgoals"][0]["params"]["direction"] == "backward"
    assert data["low_confidence"] is True
    assert Plan.from_json(plan.to_json()) == plan
    for key in ("low_confidence",):
        del data[key]
    del data["subgoals"][0]["params"]  # a plan saved before parameters existed
    old = Plan.from_dict(data)
    assert old.subgoals[0].params == SkillParams() and not old.low_confidence
    assert params.stated() == {"pace": "slow", "direction": "backward", "duration_s": 3.0,
                               "target": "door"} and params.moves  # fmt: skip
    assert not SkillParams(target="door").moves
    data["subgoals"][0]["params"] = {"pace": "medium"}
    with pytest.raises(ValueError, match="pace"):
        Plan.from_dict(data)


def test_a_skill_cue_goes_to_the_expert_named_after_it_else_to_one_of_that_skill() -> None:
    door = ExpertCard("door", "Open a door.", skill="reach")
    walk, pull = ExpertCard("walk", "Walk."), ExpertCard("pull", "Walk with a load.", "walk")
    assert cue_target("reach", [walk, door]) == "door"
    assert cue_target("reach", [ExpertCard("reach", "Reach."), door]) == "reach"
    assert cue_target("walk", [pull, walk]) == "walk"
    assert cue_target("run", [walk, door]) is None
    assert cue_target(None, [walk]) is None
