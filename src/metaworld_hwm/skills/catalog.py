"""The paper's eight skills: canonical names and one-sentence descriptions.

Tier 1 matches instructions against these descriptions, and the expert library uses them as
the default description of an expert of that skill. Order is the order of the weight vector
whenever a library holds all eight.
"""

from __future__ import annotations

from types import MappingProxyType

SKILL_DESCRIPTIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "walk": "Walk forward at a steady pace of about one metre per second, staying upright.",
        "run": "Run forward fast, at up to five metres per second, keeping balance.",
        "stand": "Stand still and keep balance in place without moving the feet.",
        "reach": "Reach out with a hand to touch or grasp a target point, such as a handle.",
        "sit": "Lower the body and sit down on a chair or seat behind the robot.",
        "crawl": "Crawl on hands and knees under a low ceiling or through a tunnel.",
        "stairs": "Climb up or down a flight of stairs, stepping onto each step.",
        "carry": "Pick up a package or box and carry it to a destination.",
    }
)

SKILL_NAMES: tuple[str, ...] = tuple(SKILL_DESCRIPTIONS)
