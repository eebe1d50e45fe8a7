"""Skill parameters from a clause's wording: speed, direction, turn, distance, duration, target.

`parse_params` reads one clause ("walk slowly backward for 3 seconds") into `SkillParams`.
Numbers may be digits or words ("three metres", "half a metre", "a minute"); speeds in m/s,
km/h or mph, distances in m, cm or feet. "Back" means backward only in "step/move back",
"back up" and "backward(s)": "go back to the door" and "sit back down" state no direction.
The target is the first noun phrase with an article after the verb ("the red button on the
wall" -> "red button"); a pronoun ("it", "there") names another clause's target, which
`clause_params` fills in.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from metaworld_hwm.semantic.types import SkillParams

TURN_RATE = 0.5
"""rad/s of a stated turn without an angle ("turn left"); a quarter turn takes ~3 s."""
DEFAULT_TURN_DEG = 90.0
"""Angle of "turn left/right" when none is stated."""

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60,
    "ninety": 90, "hundred": 100, "a hundred": 100, "half a": 0.5, "half an": 0.5,
    "a couple of": 2, "a half": 0.5, "one and a half": 1.5,
}  # fmt: skip
# digits may touch their unit ("2m"), number words may not ("as" is not "a s")
_NUM = (
    r"(?:(?P<num>\d+(?:\.\d+)?|\.\d+)\s*|(?P<word>"
    + "|".join(re.escape(w) for w in sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\s+)"
)
_SPEED_UNITS = (
    (r"m/s|mps|m\s+per\s+s(?:ec(?:ond)?)?|met(?:re|er)s?\s+(?:per|a|each)\s+second", 1.0),
    (r"km/h|kmh|kph|kilomet(?:re|er)s?\s+(?:per|an|a)\s+hour", 1 / 3.6),
    (r"mph|miles?\s+(?:per|an|a)\s+hour", 0.44704),
)
_DISTANCE_UNITS = (
    (r"cm|centimet(?:re|er)s?", 0.01),
    (r"m|met(?:re|er)s?", 1.0),
    (r"ft|feet|foot", 0.3048),
    (r"yards?", 0.9144),
)
_DURATION_UNITS = (
    (r"s|secs?|seconds?", 1.0),
    (r"mins?|minutes?", 60.0),
)
_DEGREES = re.compile(rf"(?<![\w.]){_NUM}(?:degrees?|deg|°)")
_SLOW = re.compile(
    r"\b(?:slowly|slow|slower|leisurely|unhurriedly|gingerly|at\s+an?\s+(?:slow|gentle|"
    r"leisurely|relaxed|easy|steady|calm)\s+pace|at\s+(?:a\s+)?(?:low|slow)\s+speed|"
    r"take\s+your\s+time)\b"
)
_FAST = re.compile(
    r"\b(?:quickly|quick|fast|faster|rapidly|speedily|swiftly|briskly|hastily|sprint\w*|"
    r"at\s+(?:full|top|high|maximum|max)\s+speed|as\s+fast\s+as\s+(?:you\s+can|possible)|"
    r"at\s+an?\s+(?:fast|quick|brisk|rapid|high)\s+pace|flat\s+out|full\s+tilt)\b"
)
_TURN_AROUND = re.compile(
    r"\b(?:turn|spin|pivot|swivel|rotate|wheel)\s+(?:\w+ly\s+)?(?:back\s+)?(?:around|round|"
    r"about)\b|"
    r"\babout[- ](?:face|turn)\b|\bu-turn\b|\bface\s+(?:the\s+)?(?:other|opposite)\s+"
    r"(?:way|direction)\b|\bturn\s+back\b|\bturn\s+180\b"
)
_TURN_SIDE = re.compile(
    r"\b(?:turn|spin|pivot|swivel|rotate|veer|face|wheel)\s+(?:\w+ly\s+|a\s+(?:bit|little)\s+)?"
    r"(?:to\s+(?:the|your)\s+)?(?P<side>left|right)\b|"
    r"\b(?:make|take|hang)\s+a\s+(?P<side2>left|right)\b"
)
_TURN_OBJECT = re.compile(r"\b(?:turn|twist|rotate|spin)\s+(?:the|a|an|this|that|it|them)\b")
_BACKWARD = re.compile(
    r"\bbackwards?\b|\bin\s+reverse\b|\breverse\b|^back\s+up\b|\bback\s+up\s+(?:a\s+|by\b)|"
    r"\bback\s+(?:away|off)\b|"
    r"\b(?:step|move|shuffle|scoot|walk|lean|edge|inch)\s+back(?!\s+(?:to|down|up|here|there|"
    r"home|inside|in|into|towards?|upstairs|downstairs|over|onto|on)\b)\b"
)
_FORWARD = re.compile(
    r"\b(?:forwards?|ahead|straight\s+on)\b|\b(?:go|walk|head|move|run|keep|continue)\s+straight\b"
)
_SIDE = re.compile(
    r"\b(?:move|step|walk|go|head|sidestep|side-step|shuffle|strafe|slide|scoot|run|jog|"
    r"crawl|edge|inch|veer|drift)\s+(?:\w+\s+)?(?:sideways\s+)?(?:to\s+(?:the|your)\s+)?"
    r"(?P<side>left|right)(?:wards?)?\b|"
    r"\b(?:sideways|sidestep|steps?|to\s+(?:the|your))\s+(?:to\s+(?:the|your)\s+)?"
    r"(?P<side2>left|right)\b|"
    r"\b(?P<side3>left|right)wards?\b"
)
_ARTICLES = {"the", "a", "an", "this", "that", "these", "those", "my", "its", "their", "our",
             "his", "her", "some"}  # fmt: skip
_PRONOUNS = {"it", "them", "there", "that", "this", "one"}
_STOP = {
    "to", "towards", "toward", "into", "onto", "on", "in", "at", "by", "from", "of", "with",
    "under", "underneath", "beneath", "below", "over", "through", "across", "up", "down",
    "off", "out", "for", "until", "before", "after", "then", "open", "shut", "closed",
    "again", "back", "away", "around", "near", "next", "inside", "outside", "while", "and",
    "or", "but", "so", "as", "here", "now", "carefully", "gently", "firmly", "via", "using",
    "along", "past", "behind", "beside", "without", "if", "when", "once", "is", "are",
}  # fmt: skip
_NOT_TARGETS = {"bit", "little", "while", "moment", "lot", "few", "pace", "speed", "way",
                "time", "other", "opposite", "left", "right", "second", "minute", "metre",
                "meter", "step", "turn", "couple", "half", "seat", "stroll", "walk", "jog",
                "run", "break", "look", "rest", "side"}  # fmt: skip
_NOT_TARGET_START = {"other", "opposite", "few", "couple"}
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")


def _value(m: re.Match[str]) -> float:
    word = m.group("word")
    return float(_NUMBER_WORDS[word]) if word is not None else float(m.group("num"))


def _measure(text: str, units: tuple[tuple[str, float], ...]) -> tuple[float | None, str]:
    """The first "<number> <unit>" of ``text`` in SI units, and the text without it."""
    best: tuple[int, float, re.Match[str]] | None = None
    for unit, scale in units:
        m = re.search(rf"(?<![\w.]){_NUM}(?:{unit})(?![\w/])", text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), scale, m)
    if best is None:
        return None, text
    _, scale, m = best
    value = _value(m) * scale
    rest = text[: m.start()] + " " + text[m.end() :]
    return (value if math.isfinite(value) and value > 0 else None), rest


def _ends_phrase(word: str) -> bool:
    """Whether ``word`` ends a noun phrase: a preposition, an adverb or a number."""
    return (
        word in _STOP
        or word.endswith("ly")
        or word[0].isdigit()
        or (word in _NUMBER_WORDS and word not in ("a", "an"))
    )


def _target(text: str) -> str | None:
    """The first noun phrase with an article (or a pronoun) after the first word."""
    words = _WORD.findall(text)
    i = 1
    while i < len(words):
        word = words[i]
        if word in _PRONOUNS and (i + 1 == len(words) or words[i + 1] in _STOP | {"down"}):
            return word
        if word in _ARTICLES:
            phrase: list[str] = []
            j = i + 1
            while j < len(words) and not _ends_phrase(words[j]):
                phrase.append(words[j])
                j += 1
            while (
                j + 1 < len(words) and words[j] == "and" and words[j + 1] in _ARTICLES
            ):  # "the cup and the plate": one object list
                k = j + 2
                more = []
                while k < len(words) and not _ends_phrase(words[k]):
                    more.append(words[k])
                    k += 1
                if not more:
                    break
                phrase += ["and", *more]
                j = k
            phrase = [w for w in phrase if w not in _ARTICLES]
            if phrase and phrase[-1] not in _NOT_TARGETS and phrase[0] not in _NOT_TARGET_START:
                return " ".join(phrase)
            i = j
            continue
        i += 1
    return None


def parse_params(clause: str) -> SkillParams:
    """The skill parameters ``clause`` states (see the module docstring); never raises."""
    text = " ".join(clause.lower().split())
    speed = None
    for unit, scale in _SPEED_UNITS:
        value, rest = _measure(text, ((unit, scale),))
        if value is not None:
            speed, text = value, rest
            break
    duration, text = _measure(text, _DURATION_UNITS)
    if duration is None and (m := re.search(r"\bfor\s+(?:a|one)\s+(second|minute)\b", text)):
        duration = 1.0 if m.group(1) == "second" else 60.0
    turn_deg = None
    if m := _DEGREES.search(text):
        turn_deg = _value(m)
        text = text[: m.start()] + " " + text[m.end() :]
    distance, text = _measure(text, _DISTANCE_UNITS)
    turn = None
    if _TURN_AROUND.search(text):
        turn = "around"
    elif m := _TURN_SIDE.search(text):
        turn = m.group("side") or m.group("side2")
    direction = None
    if _TURN_OBJECT.search(text):
        pass  # "turn the knob to the right": the knob turns, the robot does not move
    elif turn is None and (m := _SIDE.search(text)):
        direction = m.group("side") or m.group("side2") or m.group("side3")
    elif _BACKWARD.search(text):
        direction = "backward"
    elif _FORWARD.search(text):
        direction = "forward"
    pace = "fast" if _FAST.search(text) else "slow" if _SLOW.search(text) else None
    if turn is None and turn_deg is not None and re.search(r"\b(?:turn|spin|rotate|pivot)", text):
        turn = "around" if 170 <= turn_deg <= 190 else None
    if turn is None:
        turn_deg = None  # "90 degrees" outside a turn (a dial, a slope) is not a turn
    if turn_deg is not None and not 0 < turn_deg <= 360:
        turn_deg = None
    return SkillParams(
        pace=pace, speed_mps=speed, direction=direction, turn=turn, turn_deg=turn_deg,
        distance_m=distance, duration_s=duration, target=_target(text),
    )  # fmt: skip


def clause_params(clauses: list[str]) -> list[tuple[SkillParams, str | None]]:
    """Each clause's parameters with pronoun targets resolved, and the pronoun's referent
    (None when the clause has no pronoun target). A pronoun refers to the latest target
    before it, or, when none is, to the next one ("Before you open the fridge, walk over to
    it": the clauses run walk-then-open, and "it" is the fridge)."""
    own = [parse_params(c) for c in clauses]
    out: list[tuple[SkillParams, str | None]] = []
    previous: str | None = None
    for i, params in enumerate(own):
        referent = None
        if params.target in _PRONOUNS:
            later = (p.target for p in own[i + 1 :] if p.target not in _PRONOUNS | {None})
            referent = previous or next(later, None)
            params = replace(params, target=referent)
        out.append((params, referent))
        previous = params.target or previous
    return out


def with_referent(clause: str, target: str | None) -> str:
    """``clause`` with its object pronoun ("it", "them") spelled out as ``the target``, so
    "go down them" after "walk to the stairs" reads "go down the stairs"."""
    if target is None:
        return clause
    return re.sub(r"\b(?:it|them)\b", f"the {target}", clause, count=1)


def compatible(a: SkillParams, b: SkillParams) -> bool:
    """Whether two clauses' parameters can describe one action: no turn in either (a turn is
    its own step) and no field stated differently by both."""
    if a.turn is not None or b.turn is not None:
        return False
    sa, sb = a.stated(), b.stated()
    return all(sa[k] == sb[k] for k in sa.keys() & sb.keys())


def merge(a: SkillParams, b: SkillParams) -> SkillParams:
    """Fields of ``a``, with those only ``b`` states added (for `compatible` clauses)."""
    return replace(a, **{k: v for k, v in b.stated().items() if getattr(a, k) is None})


def turn_radians(params: SkillParams) -> float | None:
    """Angle (rad, > 0) of a stated turn; None without one."""
    if params.turn is None:
        return None
    if params.turn_deg is not None:
        return math.radians(params.turn_deg)
    return math.pi if params.turn == "around" else math.radians(DEFAULT_TURN_DEG)
