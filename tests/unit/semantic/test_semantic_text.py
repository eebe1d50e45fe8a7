"""Clause splitting, stems, heads and completion conditions (no model needed)."""

from __future__ import annotations

import pytest

from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.text import head, split_clauses, stem


@pytest.mark.parametrize(
    ("instruction", "clauses"),
    [
        ("walk to the door and open it", ["walk to the door", "open it"]),
        ("First, walk forward. Then sit down.", ["walk forward", "sit down"]),
        (
            "run ahead, then climb the stairs and finally sit",
            ["run ahead", "climb the stairs", "sit"],
        ),
        ("sit down after you walk to the chair", ["walk to the chair", "sit down"]),
        ("after walking to the door, open it", ["walk to the door", "open it"]),
        ("walk to the door before opening it", ["walk to the door", "open it"]),
        ("walk forward, after that sit down", ["walk forward", "sit down"]),
        ("reach for the cup and the plate", ["reach for the cup and the plate"]),
        ("Stand still", ["stand still"]),
    ],
)
def test_split_clauses(instruction, clauses):
    assert split_clauses(instruction) == clauses


def test_split_never_returns_nothing():
    assert split_clauses("and") == ["and"]
    assert split_clauses(" ; ") != []


@pytest.mark.parametrize(
    ("word", "expected"),
    [("walking", "walk"), ("running", "run"), ("sitting", "sit"), ("carries", "carry"),
     ("stairs", "stair"), ("reached", "reach")],
)  # fmt: skip
def test_stem(word, expected):
    assert stem(word) == expected


def test_head_drops_the_destination():
    assert head("run to the stairs") == "run"
    assert head("walk over to the box") == "walk over"
    assert head("climb up the stairs") == "climb up the stairs"


@pytest.mark.parametrize(
    ("text", "expert", "signal", "op", "threshold"),
    [
        ("walk to the door", "walk", "hand_hatch_proximity_reward", ">=", 0.8),
        ("open it", "reach", "door_openness_reward", ">=", 0.8),
        ("walk through the door", "walk", "passage_reward", ">=", 0.9),
        ("grab the handle", "reach", "hand_hatch_proximity_reward", ">=", 0.9),
        ("touch the red ball", "reach", "hand_dist", "<=", 0.05),
        ("stand still for 5 seconds", "stand", "subgoal_seconds", ">=", 5.0),
        ("walk 3 metres", "walk", "distance_m", ">=", 3.0),
        ("sit down", "sit", "subgoal_seconds", ">=", 3.0),
        ("crawl under the table", "crawl", "subgoal_seconds", ">=", 10.0),
    ],
)
def test_infer_condition(text, expert, signal, op, threshold):
    cond = infer_condition(text, expert)
    assert (cond.signal, cond.op, cond.threshold) == (signal, op, threshold)
    assert cond.relative == (signal == "distance_m")
