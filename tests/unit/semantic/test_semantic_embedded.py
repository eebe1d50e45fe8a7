"""The embedded planner on the packaged MiniLM: known answers, calibration, round trip."""

from __future__ import annotations

import numpy as np
import pytest

from metaworld_hwm.semantic.calibration import (
    FEATURES,
    clause_features,
    fit_calibration,
    raw_cosine_probs,
    reliability,
)
from metaworld_hwm.semantic.embedded import EmbeddedPlanner
from metaworld_hwm.semantic.lexicon import CALIBRATION_SET
from metaworld_hwm.semantic.types import ExpertCard, Plan, Planner, softmax


@pytest.mark.parametrize(
    ("instruction", "experts_expected"),
    [
        ("walk to the door and open it", ["walk", "reach"]),
        ("climb the stairs, then sit down", ["stairs", "sit"]),
        ("pick up the box and carry it to the table", ["carry"]),
        ("crawl through the tunnel before running to the exit", ["crawl", "run"]),
        ("stand still", ["stand"]),
    ],
)
def test_known_answers(embedded, experts, instruction, experts_expected):
    plan = embedded.plan(instruction, experts)
    assert plan.top_experts() == experts_expected
    assert plan.backend == "embedded" and plan.model == "all-MiniLM-L6-v2"
    for goal in plan.subgoals:
        assert max(goal.weights) > 0.5  # calibrated: a clear winner, not a flat softmax


def test_door_plan_has_checkable_conditions_and_round_trips(embedded, experts):
    assert isinstance(embedded, Planner)
    plan = embedded.plan("walk to the door and open it", experts)
    assert [g.text for g in plan.subgoals] == ["walk to the door", "open it"]
    assert plan.subgoals[1].condition.signal == "door_openness_reward"
    assert Plan.from_json(plan.to_json()) == plan


def test_weights_follow_tau(encoder, embedded, experts):
    sharp = EmbeddedPlanner(encoder, embedded.calibration, tau=0.1).plan("walk forward", experts)
    flat = EmbeddedPlanner(encoder, embedded.calibration, tau=3.0).plan("walk forward", experts)
    assert max(sharp.subgoals[0].weights) > max(flat.subgoals[0].weights)
    np.testing.assert_allclose(
        flat.subgoals[0].weights, softmax(np.array(flat.subgoals[0].scores), 3.0)
    )


def test_calibration_beats_raw_cosines_on_its_fit_set(encoder, embedded, experts):
    names = [e.name for e in experts]
    feats = clause_features(encoder, [t for t, _ in CALIBRATION_SET], experts)
    labels = np.array([names.index(label) for _, label in CALIBRATION_SET])
    raw = reliability(raw_cosine_probs(feats), labels)
    probs = np.stack([softmax(s) for s in embedded.calibration.scores(feats)])
    calibrated = reliability(probs, labels)
    assert raw["confidence"] < 0.35  # the problem: near-uniform weights
    assert calibrated["nll"] < raw["nll"] and calibrated["ece"] < raw["ece"]
    assert calibrated["accuracy"] >= 0.9
    assert len(embedded.calibration.coefficients) == len(FEATURES)


def test_custom_experts_outside_the_catalog(embedded):
    experts = [
        ExpertCard("wave", "Wave a hand in the air to greet someone."),
        ExpertCard("walk", "Walk forward at a steady pace."),
        ExpertCard("kick", "Kick a ball with the right foot."),
    ]
    plan = embedded.plan("walk to the ball and kick it", experts)
    assert plan.experts == ("wave", "walk", "kick")
    assert plan.top_experts() == ["walk", "kick"]


def test_frame_is_noted_and_bad_input_is_rejected(embedded, experts):
    plan = embedded.plan("sit down", experts, frame=np.zeros((4, 4, 3), np.uint8))
    assert "reads text only" in plan.notes[0]
    with pytest.raises(ValueError, match="empty instruction"):
        embedded.plan("  ", experts)
    with pytest.raises(ValueError, match="labels"):
        fit_calibration(embedded.encoder, [("fly away", "fly")], experts)


@pytest.mark.parametrize(
    ("instruction", "expected"),
    [
        # order of events, one sub-goal per action
        ("Go to the sink, then grab the soap", ["walk", "reach"]),
        ("Before you sit down, switch off the lamp", ["reach", "sit"]),
        ("pick up the cup and the plate", ["carry"]),
        ("walk forward two metres, turn right, then walk forward one metre",
         ["walk", "walk", "walk"]),
        # grasping and fetching are not locomotion; "go back" is not running
        ("clutch the railing", ["reach"]),
        ("go get the newspaper", ["carry"]),
        ("fetch me the blue mug", ["carry"]),
        ("go back to the door", ["walk"]),
        ("walk to the stairs, and go down them", ["walk", "stairs"]),
    ],
)  # fmt: skip
def test_decomposition_and_skill_choice(embedded, experts, instruction, expected):
    assert embedded.plan(instruction, experts).top_experts() == expected


def test_plans_carry_parameters_and_pronoun_targets(embedded, experts):
    plan = embedded.plan("Walk slowly backward for 3 seconds, then turn left and open it", experts)
    first, turn, reach = plan.subgoals
    assert first.params.stated() == {"pace": "slow", "direction": "backward", "duration_s": 3.0}
    assert first.condition.threshold == 3.0
    assert turn.params.turn == "left" and turn.condition.signal == "subgoal_seconds"
    assert reach.params.target is None  # "it" with nothing before it
    door = embedded.plan("walk to the door and open it", experts)
    assert [g.params.target for g in door.subgoals] == ["door", "door"]
    fridge = embedded.plan("Before you open the fridge, walk over to it", experts)
    assert [g.params.target for g in fridge.subgoals] == ["fridge", "fridge"]
    assert Plan.from_json(plan.to_json()) == plan


def test_random_characters_make_a_low_confidence_plan(embedded, experts, caplog):
    plan = embedded.plan("xqzv blorp", experts)
    assert plan.low_confidence and "low confidence" in plan.notes[0]
    assert "low confidence" in caplog.text
    assert not embedded.plan("walk to the door and open it", experts).low_confidence
