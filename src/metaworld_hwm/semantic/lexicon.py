"""Hand-written phrases for the embedded planner: exemplars per skill and a labelled set.

``EXEMPLARS`` widen each catalog skill beyond its one-sentence description (what people say
when they mean it); a clause's similarity to its nearest exemplar is one scoring feature.
``CALIBRATION_SET`` is a separate labelled set of clauses on which the score calibration is
fitted. Neither overlaps the instructions of ``bench/planner_accuracy.py``, which measures
accuracy on held-out text.
"""

from __future__ import annotations

from types import MappingProxyType

# fmt: off
EXEMPLARS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "walk": (
            "walk forward", "go to the door", "move over to the table", "step forward",
            "stroll across the room", "head towards the exit", "approach the wall",
            "take a few steps", "walk to the kitchen", "move ahead at a normal pace",
        ),
        "run": (
            "run forward", "sprint", "jog ahead", "dash across the field",
            "hurry to the end of the hall", "go fast", "race to the finish line",
            "move quickly", "run away",
        ),
        "stand": (
            "stand still", "stand up", "stay where you are", "keep your balance",
            "hold still", "remain upright", "wait here", "do not move", "stop and wait",
            "get up",
        ),
        "reach": (
            "reach the handle", "open the door", "grab the handle", "touch the button",
            "press the switch", "grasp the knob", "open it", "push the door open",
            "turn the doorknob", "pull the lever", "extend your arm to the target",
            "reach out", "point at the light",
        ),
        "sit": (
            "sit down", "take a seat", "sit on the chair", "have a seat", "sit on the bench",
            "lower yourself onto the stool", "rest on the seat", "be seated",
        ),
        "crawl": (
            "crawl", "crawl under the table", "go through the tunnel on all fours",
            "get down on your hands and knees", "creep under the low beam",
            "squeeze under the barrier", "move on all fours",
        ),
        "stairs": (
            "climb the stairs", "go up the steps", "walk down the staircase", "go upstairs",
            "go downstairs", "ascend the stairway", "descend the steps",
            "go up to the next floor",
        ),
        "carry": (
            "carry the box", "pick up the package", "bring the parcel to me",
            "deliver the crate", "lift the box", "move the box to the shelf",
            "transport the bag", "take the package to the door", "fetch the box",
        ),
    }
)

CALIBRATION_SET: tuple[tuple[str, str], ...] = tuple(
    (text, skill)
    for skill, texts in {
        "walk": (
            "walk over to the window", "go to the chair", "proceed to the corner",
            "wander around the room", "walk two metres ahead", "make your way to the hallway",
            "move toward the table", "go over there",
        ),
        "run": (
            "run to the wall", "jog for a bit", "sprint to the door", "run as fast as you can",
            "hurry over", "rush forward", "speed towards the goal", "run a lap",
        ),
        "stand": (
            "stand upright", "stay still", "balance in place", "rise to your feet",
            "hold your position", "freeze", "remain standing", "stand and wait",
        ),
        "reach": (
            "open the cabinet", "touch the red ball", "grab the doorknob", "reach for the cup",
            "press the elevator button", "push the handle down", "put your hand on the target",
            "pull the door handle",
        ),
        "sit": (
            "sit on the sofa", "sit", "take a seat on the stool",
            "sit down on the chair behind you", "get seated", "sit and rest",
            "lower onto the seat", "settle into the armchair",
        ),
        "crawl": (
            "crawl forward", "crawl through the pipe", "go under the low table",
            "creep along the floor", "crawl beneath the fence", "get on all fours and move",
            "slide under the bar", "crawl into the cave",
        ),
        "stairs": (
            "go up the stairs", "climb to the second floor", "walk up the staircase",
            "go down the stairs", "head downstairs", "take the stairs", "step up the staircase",
            "climb the steps",
        ),
        "carry": (
            "carry the crate", "pick up the bag", "bring me the parcel",
            "carry the basket to the kitchen", "move the boxes to the truck",
            "lift and carry the package", "take this box to the shelf", "haul the suitcase",
        ),
    }.items()
    for text in texts
)
# fmt: on
