"""Skill cues: synonyms and paraphrases of each skill, light verbs, and known traps."""

from __future__ import annotations

import pytest

from metaworld_hwm.semantic.verbs import base_form, normalise, skill_cue, starts_action

CASES = {
    "reach": ["grasp the lever", "clutch the railing", "seize the rope", "grab the handle",
              "press the button", "push the elevator call button", "tap the light switch",
              "switch off the lamp", "turn the knob", "put your palm on the panel",
              "hold onto the rail", "snatch the keys", "ring the doorbell", "open it"],
    "carry": ["fetch me the blue mug", "go get the newspaper", "retrieve the toolbox",
              "lug the suitcase up to the car", "pick it up", "bring the chair over",
              "haul the crate", "set it down", "move the box onto the shelf",
              "take the parcel to the door", "lift the bucket", "get me a towel"],
    "run": ["hurry to the exit", "scurry over", "sprint", "dash to the gate", "make haste",
            "rush forward", "jog for a bit", "zip across the lawn", "go fast",
            "race down the hall"],
    "stairs": ["climb the stairs", "descend the staircase", "head downstairs",
               "go back upstairs", "hop up the steps", "make your way down the stairs",
               "take the stairs", "walk back down", "go up", "climb up to the second floor",
               "ascend"],
    "crawl": ["crawl", "slither beneath the fence", "duck under the rope",
              "squeeze underneath the gap", "get on your hands and knees", "creep",
              "go under the table", "kneel down", "wriggle under the bed"],
    "sit": ["sit", "perch on the stool", "take a seat", "settle down on the sofa",
            "plop onto the couch", "be seated", "sit back down", "lower yourself onto it"],
    "stand": ["stand still", "hold your pose", "remain on your feet", "get up", "rise",
              "wait for three seconds", "stay put", "don't move", "freeze",
              "keep your balance", "remain standing", "look around"],
    "walk": ["walk forward", "go back to the door", "come back here", "turn left",
             "turn around", "face the other way", "back up a bit", "sidestep to the right",
             "saunter towards the fountain", "shuffle over", "get to the chair",
             "step back two metres", "move left one metre", "go to the kitchen"],
}  # fmt: skip


@pytest.mark.parametrize(
    ("clause", "skill"), [(c, s) for s, clauses in CASES.items() for c in clauses]
)
def test_skill_cues(clause, skill):
    assert skill_cue(clause) == skill


def test_grasp_and_fetch_never_map_to_locomotion_and_go_back_never_to_run():
    for clause in CASES["reach"] + CASES["carry"]:
        assert skill_cue(clause) not in ("walk", "run")
    for clause in ("go back", "come back to the door", "head back", "walk back to the car"):
        assert skill_cue(clause) == "walk"


def test_light_verbs_give_way_to_specific_ones():
    assert skill_cue("go for a jog") == "run"
    assert skill_cue("go and sit on the bench") == "sit"
    assert skill_cue("walk to the stairs") == "walk"  # a destination, not a climb
    assert skill_cue("sing a song") is None


def test_base_forms_and_verb_detection():
    assert [base_form(w) for w in ("climbing", "sitting", "carries", "taking", "pressed")] == [
        "climb", "sit", "carry", "take", "press",
    ]  # fmt: skip
    assert base_form("stairs") == "stairs"
    assert normalise("Climbing the Stairs!") == "climb the stairs"
    assert starts_action("slowly walk away") and starts_action("open it")
    assert not starts_action("the plate") and not starts_action("knees")
