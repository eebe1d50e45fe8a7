"""Decomposition in the order of events: sequence words, before/after/once, coordination."""

from __future__ import annotations

import pytest

from metaworld_hwm.semantic.text import split_clauses


@pytest.mark.parametrize(
    ("instruction", "clauses"),
    [
        # a comma followed by "then" splits
        ("Go to the sink, then wash your hands", ["go to the sink", "wash your hands"]),
        ("walk forward, and then sit", ["walk forward", "sit"]),
        # sequence words
        ("walk to the door. next, open it", ["walk to the door", "open it"]),
        ("stand up; afterwards walk to the table", ["stand up", "walk to the table"]),
        (
            "first crawl under it, then get up, and finally run",
            ["crawl under it", "get up", "run"],
        ),
        ("to start, stand still, then walk", ["stand still", "walk"]),
        ("start by walking to the box, then lift it", ["walk to the box", "lift it"]),
        ("walk next to the wall", ["walk next to the wall"]),  # "next to" is a place
    ],
)
def test_sequence_words_split(instruction, clauses):
    assert split_clauses(instruction) == clauses


@pytest.mark.parametrize(
    ("instruction", "clauses"),
    [
        # "Before X, Y" happens as (Y, X)
        ("Before you sit down, switch off the lamp", ["switch off the lamp", "sit down"]),
        ("Before climbing the stairs, pick up the bag", ["pick up the bag", "climb the stairs"]),
        ("touch the switch before sitting down", ["touch the switch", "sit down"]),
        # after / once / when / as soon as give (X, Y)
        ("After you stand up, walk to the window", ["stand up", "walk to the window"]),
        ("Once you get to the chair, sit on it", ["get to the chair", "sit on it"]),
        # in a time clause "reach" + place is arriving; "reach for" stays a grasp
        ("When you reach the wall, turn left", ["get to the wall", "turn left"]),
        ("Once you reach the door, knock on it", ["get to the door", "knock on it"]),
        ("After reaching the table, sit down", ["get to the table", "sit down"]),
        ("open the box once you reach it", ["get to it", "open the box"]),
        ("Before you reach the wall, turn left", ["turn left", "get to the wall"]),
        ("When you reach for the cup, stop", ["reach for the cup", "stop"]),
        ("reach the shelf and grab the cup", ["reach the shelf", "grab the cup"]),
        ("sit on the chair after you bring me the cup", ["bring me the cup", "sit on the chair"]),
        ("sit down once you get to the bench", ["get to the bench", "sit down"]),
        ("After sitting for ten seconds, stand up", ["sit for ten seconds", "stand up"]),
        # "Y, but first X" and a later "But first" sentence go before
        ("open the door, but first walk to it", ["walk to it", "open the door"]),
        ("Walk to the door. But first, stand up.", ["stand up", "walk to the door"]),
    ],
)
def test_subordinate_clauses_follow_the_order_of_events(instruction, clauses):
    assert split_clauses(instruction) == clauses


@pytest.mark.parametrize(
    ("instruction", "clauses"),
    [
        # coordination splits actions, not objects
        ("pick up the cup and the plate", ["pick up the cup and the plate"]),
        ("pick up the cup, the plate and the fork", ["pick up the cup, the plate and the fork"]),
        ("walk to the door and open it", ["walk to the door", "open it"]),
        ("get on your hands and knees and crawl", ["get on your hands and knees", "crawl"]),
        ("walk to the door, open it, and walk through", ["walk to the door", "open it",
                                                         "walk through"]),
        ("walk slowly and carefully", ["walk slowly and carefully"]),
        ("stand up and slowly walk away", ["stand up", "slowly walk away"]),
        # fillers and gerunds
        ("Please could you walk forward", ["walk forward"]),
        ("I want you to walk to the door first, then open it", ["walk to the door", "open it"]),
        ("Walk forward at 0.5 m/s.", ["walk forward at 0.5 m/s"]),  # a decimal, not a stop
    ],
)  # fmt: skip
def test_coordination_and_fillers(instruction, clauses):
    assert split_clauses(instruction) == clauses
