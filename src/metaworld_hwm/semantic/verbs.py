"""Skill cues: which catalog skill a clause's wording names, from hand-written phrase lists.

The embedding scores generalise poorly to verbs the exemplars do not cover ("clutch",
"lug", "scurry"), and a destination can outvote the verb ("fetch the box" near "go to the
box"). So each clause is also matched against per-skill phrases, in three tiers:

1. phrases that fix the skill whatever the verb: "up the stairs", "under the table", "pick
   it up", "take a seat", "turn left", "go back", "hold still";
2. verbs of one skill (grasp, press, fetch, hurry, climb, descend, crawl, perch...);
3. light verbs of moving (go, come, move, head), which only decide when nothing else does.

Within tier 1 the first listed pattern wins; within tiers 2 and 3 the leftmost verb. Words
are matched in their base form (`base_form`: "climbing" -> "climb", "sitting" -> "sit").
"""

from __future__ import annotations

import re
from types import MappingProxyType

# fmt: off
_TIER2: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "stairs": ("climb", "ascend", "descend", "clamber", "mount"),
    "crawl": ("crawl", "creep", "slither", "wriggle", "squirm", "kneel", "crouch", "shimmy",
              "worm"),
    "sit": ("sit", "perch", "plop", "flop", "seat", "settle", "recline", "rest"),
    "stand": ("stand", "wait", "stay", "remain", "freeze", "pause", "halt", "stop", "balance",
              "rise", "linger", "idle"),
    "reach": ("reach", "touch", "tap", "press", "push", "pull", "grab", "grasp", "grip",
              "clutch", "seize", "snatch", "hold", "open", "close", "shut", "unlock", "lock",
              "flip", "flick", "switch", "poke", "prod", "knock", "pat", "point", "hit",
              "punch", "ring", "toggle", "twist", "catch", "operate", "activate", "tug", "pinch",
              "yank", "nudge", "jab", "wrench"),
    "carry": ("carry", "lift", "fetch", "bring", "deliver", "transport", "haul", "lug", "tote",
              "retrieve", "hoist", "collect", "gather", "pick", "drag", "load", "unload",
              "ferry", "convey", "cart"),
    "run": ("run", "jog", "sprint", "dash", "race", "hurry", "rush", "scurry", "scamper",
            "bolt", "zip", "hasten", "speed", "trot", "gallop", "charge", "hustle", "scramble",
            "zoom", "lope"),
    "walk": ("walk", "stroll", "amble", "saunter", "wander", "shuffle", "plod", "trudge",
             "march", "pace", "proceed", "approach", "return", "advance", "travel", "tiptoe",
             "roam", "mosey", "stride", "cross", "navigate", "continue", "sidestep", "strafe",
             "traverse", "hike", "trek", "edge", "veer", "step", "turn", "face", "pivot",
             "spin", "swivel"),
})
_TIER3: MappingProxyType[str, tuple[str, ...]] = MappingProxyType({
    "walk": ("go", "come", "move", "head", "get", "make", "take", "back"),
})

_DET = r"(?:the|a|an|this|that|these|those|some|my|your|its|their)"
_STAIR = r"(?:stairs|stair|step|staircase|stairway|stairwell|steps|flight\s+of\s+stairs)"
_MOTION = (r"(?:go|walk|come|head|run|climb|hurry|jog|move|step|hop|dash|race|rush|"
           r"make\s+your\s+way)")
_OBJ = rf"(?:it|them|this|that|{_DET}(?:\s+\w+){{1,3}})"
_TIER1: tuple[tuple[str, str], ...] = (
    ("stairs", rf"\b(?:up|down)\s+(?:{_DET}\s+)?{_STAIR}\b"),
    ("stairs", rf"\b{_MOTION}\s+(?:\w+\s+)?(?:up|down)stairs\b"),
    ("stairs", rf"\btake\s+the\s+{_STAIR}\b"),
    ("stairs", r"\b(?:up|down)\s+to\s+the\s+(?:\w+\s+)?(?:floor|level|storey|story|landing|"
               r"basement|attic|loft)\b"),
    ("stairs", rf"\b{_MOTION}\s+(?:back\s+)?(?:up|down)$"),
    ("crawl", r"\b(?:on|onto)\s+(?:all\s+fours|(?:your\s+)?hands?\s+and\s+knees?|"
              r"(?:your\s+)?(?:belly|stomach|knees))\b"),
    ("crawl", r"\b(?:go|get|squeeze|slide|duck|crouch|pass|move|slip|wriggle|scoot|creep|"
              r"shimmy|head|walk|make\s+your\s+way|crawl|worm|edge)\s+(?:\w+\s+)?"
              r"(?:under|underneath|beneath|below)\b"),
    ("crawl", r"\b(?:army|commando|bear|belly)[- ]crawl\b"),
    ("sit", r"\b(?:take|have|grab|find)\s+a\s+seat\b"),
    ("sit", r"\b(?:be|get)\s+seat(?:ed)?\b|\bseat\s+yourself\b|\bpark\s+yourself\b"),
    ("sit", r"\blower\s+yourself\s+(?:onto|into|on|down)\b"),
    ("sit", r"\bsettle\s+(?:down|into|onto|on|in)\b"),
    ("stand", r"\b(?:get|rise|stand|spring|jump|straighten)\s+(?:back\s+)?up\b"),
    ("stand", r"\b(?:on|to)\s+your\s+feet\b"),
    ("stand", r"\b(?:stay|remain|keep|hold|be|stand)\s+(?:completely\s+|perfectly\s+|very\s+|"
              r"totally\s+|quite\s+)?(?:still|put|steady|upright|motionless|stationary|"
              r"in\s+place|where\s+you\s+are|here|there|stand|balanced|your\s+balance|"
              r"your\s+ground|your\s+pose|your\s+position|position|tall|straight)\b"),
    ("stand", r"\b(?:do\s+not|don't|dont|never)\s+move\b|\bkeep\s+your\s+balance\b"),
    ("stand", r"\blook\s+(?:a)?round\b"),  # looking about, in place
    ("reach", r"\b(?:turn|twist|rotate)\s+(?:the\s+|a\s+|that\s+)?(?:\w+\s+)?(?:knob|doorknob|"
              r"handle|dial|valve|key|tap|faucet|crank|wheel|lever|switch)\b"),
    ("reach", r"\b(?:switch|turn|flip|flick)\s+(?:\w+\s+){0,3}?(?:on|off)\b"),
    ("reach", r"\b(?:put|place|lay|rest|press)\s+your\s+(?:hands?|palm|fingers?|fist|thumb)\b"),
    ("reach", r"\bpoint\s+(?:at|to|towards?)\b|\bknock\s+on\b|\bring\s+the\s+(?:door)?bell\b"),
    ("reach", r"\bhold\s+(?:onto|on\s+to)\b|\btake\s+hold\b"),
    ("carry", r"\b(?:pick|scoop|lift|hoist|grab|snatch)\s+(?:\w+\s+){0,3}?up\b"),
    ("carry", r"\b(?:go|come|run|hurry|walk|head)\s+(?:and\s+|to\s+)?(?:get|fetch|grab|bring|"
              r"retrieve|collect|pick)\b"),
    ("carry", r"\b(?:get|hand|pass|give|bring|fetch)\s+me\b"),
    ("carry", rf"\b(?:put|set|place|lay|drop)\s+{_OBJ}\s+(?:down|on|onto|in|into|at|by|"
              r"next\s+to|beside)\b"),
    ("carry", rf"\b(?:move|take|push|drag|roll|shift|wheel|slide)\s+{_OBJ}\s+(?:\w+\s+)?"
              r"(?:to|onto|into|towards?|across|up|down)\b"),
    ("carry", r"\bget\s+(?:the|a|an|that|this|those|these|some)\b"),
    ("run", r"\bmake\s+haste\b|\bpick\s+up\s+(?:the\s+)?pace\b|\bbreak\s+into\s+a\s+run\b"),
    ("run", r"\b(?:go|move|head|get)\s+(?:\w+\s+)?(?:fast|quickly|rapidly|speedily|swiftly|"
            r"hastily)\b"),
    ("walk", r"\b(?:turn|spin|pivot|swivel|rotate|wheel)\s+(?:\w+\s+){0,3}?(?:left|right|around|"
             r"round|about)\b"),
    ("walk", r"\babout[- ](?:face|turn)\b|\bu-turn\b|\bface\s+(?:the\s+)?(?:other|opposite)\s+"
             r"(?:way|direction)\b|\bturn\s+back\b"),
    ("walk", r"\b(?:make|take)\s+a\s+(?:left|right)\b|\bback\s+up\b|\bstep\s+(?:back|aside|"
             r"forward|sideways)\b"),
    ("walk", r"\b(?:go|come|head|walk|get|make\s+your\s+way|turn)\s+back\b|\bget\s+to\b"),
    ("walk", r"\bmake\s+your\s+way\b|\btake\s+a\s+(?:stroll|walk|step|few\s+steps|wander)\b"),
)
# fmt: on

_TIER1_COMPILED = tuple((skill, re.compile(pattern)) for skill, pattern in _TIER1)
_VERB_SKILL = {v: s for tier in (_TIER3, _TIER2) for s, verbs in tier.items() for v in verbs}
_TIER_OF = {v: t for t, tier in ((3, _TIER3), (2, _TIER2)) for vs in tier.values() for v in vs}
# fmt: off
OTHER_VERBS = frozenset((
    "put", "place", "set", "lay", "drop", "wash", "look", "use", "leave", "enter", "exit",
    "keep", "hand", "pass", "give", "find", "check", "follow", "jump", "hop", "kick", "throw",
    "wave", "clean", "wipe", "fill", "empty", "lie", "dismount", "squat", "bend", "duck",
    "squeeze", "slide", "slip", "scoot", "lower", "raise", "straighten", "knock", "get",
    "take", "make",
))
# fmt: on
"""Verbs outside the skill lists that still start an action (for the clause splitter)."""
KNOWN_VERBS = frozenset(_VERB_SKILL) | OTHER_VERBS
_WORD = re.compile(r"[a-z]+(?:['-][a-z]+)*")
_UNDOUBLE = set("bdgmnprt")


def base_form(word: str) -> str:
    """A known verb's base form ("climbing" -> "climb", "carries" -> "carry", "taking" ->
    "take"); other words unchanged (nouns keep their plural: "stairs")."""
    if word in KNOWN_VERBS:
        return word
    for suffix in ("ing", "ed", "es", "s", "d"):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            root = word[: -len(suffix)]
            candidates = [root, root + "e"]
            if len(root) >= 3 and root[-1] == root[-2] and root[-1] in _UNDOUBLE:
                candidates.insert(0, root[:-1])
            if root.endswith("i"):
                candidates.append(root[:-1] + "y")
            for candidate in candidates:
                if candidate in KNOWN_VERBS:
                    return candidate
    return word


def normalise(text: str) -> str:
    """Lower-cased words of ``text`` in base form, single-spaced (punctuation dropped)."""
    return " ".join(base_form(w) for w in _WORD.findall(text.lower()))


def starts_action(text: str) -> bool:
    """Whether ``text`` begins with a verb (after adverbs and "you"), i.e. states an action."""
    for word in normalise(text).split():
        if word in KNOWN_VERBS:
            return True
        if not (word.endswith("ly") or word in {"you", "please", "also", "just", "now", "then"}):
            return False
    return False


def skill_cue(clause: str) -> str | None:
    """The catalog skill the wording of ``clause`` names, or None when no phrase matches."""
    text = normalise(clause)
    for skill, pattern in _TIER1_COMPILED:
        if pattern.search(text):
            return skill
    words = text.split()
    for tier in (2, 3):
        for word in words:
            if _TIER_OF.get(word) == tier:
                return _VERB_SKILL[word]
    return None
