"""Skill parameters from text: speed, direction, turn, distance, duration, target."""

from __future__ import annotations

import math

import pytest

from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.params import (
    clause_params,
    compatible,
    merge,
    parse_params,
    turn_radians,
    with_referent,
)
from metaworld_hwm.semantic.types import SkillParams


@pytest.mark.parametrize(
    ("clause", "stated"),
    [
        # speed
        ("walk slowly", {"pace": "slow"}),
        ("walk at a leisurely pace", {"pace": "slow"}),
        ("run as fast as you can", {"pace": "fast"}),
        ("sprint to the flag", {"pace": "fast", "target": "flag"}),
        ("walk at 0.5 m/s", {"speed_mps": 0.5}),
        ("run at 3 metres per second", {"speed_mps": 3.0}),
        ("walk at 3.6 km/h", {"speed_mps": 1.0}),
        # direction
        ("walk forward", {"direction": "forward"}),
        ("walk slowly backward", {"pace": "slow", "direction": "backward"}),
        ("back up a bit", {"direction": "backward"}),
        ("step back", {"direction": "backward"}),
        ("sidestep to the right", {"direction": "right"}),
        ("move left", {"direction": "left"}),
        # "back" that is not a direction
        ("go back to the door", {"target": "door"}),
        ("sit back down", {}),
        ("run back", {}),
        # turn
        ("turn left", {"turn": "left"}),
        ("turn to your right", {"turn": "right"}),
        ("turn around", {"turn": "around"}),
        ("face the other way", {"turn": "around"}),
        ("turn 90 degrees to the right", {"turn": "right", "turn_deg": 90.0}),
        ("turn left 45 degrees", {"turn": "left", "turn_deg": 45.0}),
        ("turn 180 degrees", {"turn": "around", "turn_deg": 180.0}),
        ("turn the knob to the right", {"target": "knob"}),  # a knob's turn, not the body's
        # distance and duration
        ("walk 3 metres", {"distance_m": 3.0}),
        ("walk three metres ahead", {"direction": "forward", "distance_m": 3.0}),
        ("move half a metre", {"distance_m": 0.5}),
        ("walk 50 cm", {"distance_m": 0.5}),
        ("walk 10 feet", {"distance_m": 3.048}),
        ("stand still for 5 seconds", {"duration_s": 5.0}),
        ("hold still for ten seconds", {"duration_s": 10.0}),
        ("remain standing for a minute", {"duration_s": 60.0}),
        ("jog for 2 s", {"duration_s": 2.0}),
        # targets
        ("press the red button on the wall", {"target": "red button"}),
        ("pick up the cup and the plate", {"target": "cup and plate"}),
        ("fetch me the blue mug", {"target": "blue mug"}),
        ("open it", {"target": "it"}),
        ("put your palm on the panel", {"target": "panel"}),
        ("take a seat on the bench", {"target": "bench"}),
        ("walk forward for 5 seconds at a slow pace",
         {"pace": "slow", "direction": "forward", "duration_s": 5.0}),
    ],
)  # fmt: skip
def test_parse_params(clause, stated):
    got = parse_params(clause).stated()
    assert got.keys() == stated.keys()
    for key, value in stated.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value)
        else:
            assert got[key] == value


def test_pronouns_take_the_previous_target_or_else_the_next():
    def targets(*clauses: str) -> list[tuple[str | None, str | None]]:
        return [(p.target, referent) for p, referent in clause_params(list(clauses))]

    assert targets("walk to the door", "open it") == [("door", None), ("door", "door")]
    assert targets("jog to the hallway", "wait there")[1] == ("hallway", "hallway")
    assert targets("open it") == [(None, None)]
    assert targets("walk to the door", "open the box")[1] == ("box", None)
    assert targets("walk over to it", "open the fridge")[0] == ("fridge", "fridge")
    assert with_referent("go down them", "stairs") == "go down the stairs"
    assert with_referent("open it", None) == "open it"


def test_compatible_clauses_merge_but_turns_and_conflicts_do_not():
    lift, haul = parse_params("lift the box"), SkillParams(target="box")
    assert compatible(lift, haul) and merge(lift, haul) == lift
    kneel, crawl = parse_params("kneel down"), parse_params("crawl forward 2 metres")
    assert compatible(kneel, crawl) and merge(kneel, crawl).distance_m == 2.0
    assert not compatible(parse_params("walk 2 metres"), parse_params("walk 1 metre"))
    assert not compatible(parse_params("walk to the door"), parse_params("walk to the window"))
    assert not compatible(parse_params("walk forward"), parse_params("turn left"))


def test_turn_angles_and_conditions():
    assert turn_radians(SkillParams(turn="left")) == pytest.approx(math.pi / 2)
    assert turn_radians(SkillParams(turn="around")) == pytest.approx(math.pi)
    assert turn_radians(SkillParams(turn="right", turn_deg=45.0)) == pytest.approx(math.pi / 4)
    assert turn_radians(SkillParams()) is None
    cond = infer_condition("turn left", "walk")
    assert cond.signal == "subgoal_seconds" and cond.threshold == pytest.approx(3.14)
    cond = infer_condition("hold still for ten seconds", "stand")  # number words count
    assert (cond.signal, cond.threshold) == ("subgoal_seconds", 10.0)
    cond = infer_condition("walk", "walk", SkillParams(distance_m=2.0))
    assert (cond.signal, cond.threshold, cond.relative) == ("distance_m", 2.0, True)


@pytest.mark.parametrize(
    "fields",
    [{"pace": "medium"}, {"direction": "up"}, {"turn": "back"}, {"speed_mps": -1.0},
     {"distance_m": float("nan")}, {"duration_s": 0.0}, {"target": " "}],
)  # fmt: skip
def test_skill_params_reject_bad_values(fields):
    with pytest.raises(ValueError, match="SkillParams"):
        SkillParams(**fields)
