"""Completion conditions for sub-goals, inferred from their text and chosen expert.

Signals are the ``info`` terms the tasks report (``envs/tasks``) plus those `PlanTracker`
adds itself (``subgoal_seconds``, ``subgoal_steps``). ``distance_m`` is an odometer the agent
supplies (metres walked so far); conditions on it are relative to the sub-goal's start.

| text / expert                  | signal                        | done when        |
| ------------------------------ | ----------------------------- | ---------------- |
| "for N seconds"                | subgoal_seconds               | >= N             |
| "N metres"                     | distance_m (relative)         | >= N             |
| "turn left/right/around"       | subgoal_seconds               | >= angle / rate  |
| grasp the handle (not reach)   | hatch_grasped                 | >= 0.5           |
| turn / unlock the handle, hatch| door_unlocked (hold: grasped) | >= 0.5           |
| open the door                  | door_openness_reward          | >= 0.8 (~0.9 rad)|
| through / past the door        | passage_reward                | >= 0.9           |
| to the door                    | hand_hatch_proximity_reward   | >= 0.8 (<=0.45 m)|
| reach a handle / hatch         | hand_hatch_proximity_reward   | >= 0.9           |
| reach anything else            | hand_dist                     | <= 0.05 m        |
| stand, sit (hold a posture)    | subgoal_seconds               | >= 3             |
| anything else                  | subgoal_seconds               | >= 10            |
"""

from __future__ import annotations

import re

from metaworld_hwm.semantic.params import TURN_RATE, parse_params, turn_radians
from metaworld_hwm.semantic.types import SECONDS_SIGNAL, Condition, SkillParams

DEFAULT_TIMEOUT_S = 30.0
HOLD_S = 3.0
DEFAULT_DURATION_S = 10.0

_DOOR_OPEN = re.compile(r"\b(?:open|push|pull|swing)\w*\b.*\b(?:door|it)\b|\bdoor\b.*\bopen")
_DOOR_PASS = re.compile(r"\b(?:through|past|pass)\w*\b.*\b(?:door|doorway|it)\b")
_TO_DOOR = re.compile(r"\b(?:to|towards?|up to|near)\s+(?:the\s+)?door")
_HANDLE = re.compile(r"\b(?:handle|hatch|knob|latch)\b")
_GRASP_HANDLE = re.compile(
    r"\b(?:grasp|grab|grip|hold|take|seize)\w*\b.*\b(?:handle|hatch|knob|latch|lever)"
)
_TURN_HANDLE = re.compile(
    r"\b(?:turn|rotate|twist|unlatch)\w*\b.*\b(?:handle|hatch|knob|latch|lever)|\bunlock\w*\b"
)
#: The door task's stage signals (``envs/tasks/door.py``), 1.0 or 0.0.
GRASPED_SIGNAL = "hatch_grasped"
UNLOCKED_SIGNAL = "door_unlocked"


def infer_condition(text: str, expert: str, params: SkillParams | None = None) -> Condition:
    """A checkable completion condition for sub-goal ``text`` executed mainly by ``expert``;
    a stated duration, distance or turn (``params``, parsed from ``text`` when None) decides
    first."""
    t = text.lower()
    params = parse_params(text) if params is None else params
    if (seconds := params.duration_s) is not None:
        return Condition(SECONDS_SIGNAL, ">=", seconds, seconds + DEFAULT_TIMEOUT_S,
                         description=f"{seconds:g} s elapsed")  # fmt: skip
    if (metres := params.distance_m) is not None:
        return Condition("distance_m", ">=", metres, DEFAULT_TIMEOUT_S, relative=True,
                         description=f"{metres:g} m travelled")  # fmt: skip
    if (angle := turn_radians(params)) is not None:
        seconds = round(angle / TURN_RATE, 2)
        return Condition(SECONDS_SIGNAL, ">=", seconds, seconds + DEFAULT_TIMEOUT_S,
                         description=f"turned {params.turn} for {seconds:g} s")  # fmt: skip
    if _DOOR_PASS.search(t):
        return Condition("passage_reward", ">=", 0.9, DEFAULT_TIMEOUT_S,
                         description="robot through the doorway")  # fmt: skip
    if _GRASP_HANDLE.search(t) and expert != "reach":  # a reach expert has no gripper
        return Condition(GRASPED_SIGNAL, ">=", 0.5, DEFAULT_TIMEOUT_S, flag=True,
                         description="a gripper holding the handle")  # fmt: skip
    if _TURN_HANDLE.search(t):
        return Condition(UNLOCKED_SIGNAL, ">=", 0.5, DEFAULT_TIMEOUT_S, hold=GRASPED_SIGNAL,
                         flag=True, description="handle turned past the lock, held")  # fmt: skip
    if _DOOR_OPEN.search(t) and expert != "walk":
        return Condition("door_openness_reward", ">=", 0.8, DEFAULT_TIMEOUT_S,
                         description="door hinge open to about 0.9 rad")  # fmt: skip
    if _TO_DOOR.search(t):
        # within arm's reach: the hands start ~0.5 m from the handle (proximity 0.74-0.76) and
        # are 0.43-0.45 m from it (0.80-0.82) where the door expert's arm grasps from; at 0.9
        # the walker carried the body ~0.2 m past that stance (111 steps of walking, not 31)
        return Condition("hand_hatch_proximity_reward", ">=", 0.8, DEFAULT_TIMEOUT_S,
                         description="a hand within 0.45 m of the door handle")  # fmt: skip
    if expert == "reach":
        if _HANDLE.search(t):
            return Condition("hand_hatch_proximity_reward", ">=", 0.9, DEFAULT_TIMEOUT_S,
                             description="a hand on the door handle")  # fmt: skip
        return Condition("hand_dist", "<=", 0.05, DEFAULT_TIMEOUT_S,
                         description="hand within 5 cm of the target")  # fmt: skip
    if expert in ("stand", "sit"):
        return Condition(SECONDS_SIGNAL, ">=", HOLD_S, HOLD_S + DEFAULT_TIMEOUT_S,
                         description=f"posture held {HOLD_S:g} s")  # fmt: skip
    return Condition(SECONDS_SIGNAL, ">=", DEFAULT_DURATION_S,
                     DEFAULT_DURATION_S + DEFAULT_TIMEOUT_S,
                     description=f"{DEFAULT_DURATION_S:g} s of {expert}")  # fmt: skip
