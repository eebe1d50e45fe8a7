"""Small text utilities: word stems and splitting an instruction into clauses in event order.

The clause splitter is rule-based, so the embedded planner needs no language model:

- sentences, then sequence words (then, after that, next, finally...) always split;
- "Before X, Y" and "Y before X" give (Y, X); "After/once/when X, Y", "Y after X" and
  "Y, but first X" give (X, Y); in such a time clause "reach the door" means arriving
  ("once you reach the door, knock" -> "get to the door", "knock");
- "and" and commas split actions, not objects: a piece that does not start with a verb
  ("and the plate") stays with the one before ("pick up the cup and the plate" is one step);
- leading fillers (first, please, you should, start by) are dropped and a leading gerund
  becomes a verb ("after crawling under it" -> "crawl under it").
"""

from __future__ import annotations

import re

from metaworld_hwm.semantic.verbs import base_form, starts_action

_WORD = re.compile(r"[a-z]+")
_SUFFIXES = ("ing", "ed", "es", "s")


def stem(word: str) -> str:
    """A crude stem that maps inflections of one verb or noun to the same string.

    walking/walked/walks -> walk, running -> run, sitting -> sit, carries -> carry,
    stairs -> stair. Only consistency matters: both sides of a comparison are stemmed.
    """
    w = word.lower()
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) >= 4 and w[-1] == w[-2]:
        w = w[:-1]
    if w.endswith("i"):
        w = w[:-1] + "y"
    return w


def stems(text: str) -> set[str]:
    """Stems of the words of ``text``."""
    return {stem(w) for w in _WORD.findall(text.lower())}


_DESTINATION = re.compile(r"\s+\b(?:to|towards?|into|onto|until|at)\b\s")


def head(clause: str) -> str:
    """The clause without its destination: "run to the stairs" -> "run".

    The verb phrase says how to move; a destination ("the stairs", "the box") names an object
    that may belong to another skill, so the planner scores the head separately.
    """
    m = _DESTINATION.search(clause)
    return clause[: m.start()] if m and m.start() > 0 else clause


_SENTENCE = re.compile(r"\s*(?:(?<!\d)\.(?!\d)|[;!?])+\s*")
_HARD = re.compile(
    r"\s*,?\s*\b(?:and\s+)?(?:then|after\s+that|afterwards?|finally|lastly|next(?!\s+to\b)|"
    r"subsequently|once\s+done|when\s+done|once\s+(?:you're|you\s+are)\s+(?:done|there)|"
    r"followed\s+by)\b\s*,?\s*"
)
_SOFT = re.compile(r"(\s*,\s*(?:and\s+)?|\s+and\s+)")
_FILLER = re.compile(
    r"^(?:first(?:ly)?|please|now|then|next|also|and|but|so|ok(?:ay)?|finally|lastly|just|"
    r"to\s+(?:start|begin)(?:\s+with)?|start\s+by|begin\s+by|go\s+ahead\s+and|try\s+to|"
    r"(?:could|can|would|will)\s+you|i\s+(?:want|need|would\s+like)\s+you\s+to|"
    r"i'd\s+like\s+you\s+to|you\s+(?:should|must|need\s+to|have\s+to|can|will)|"
    r"you(?:'ve|\s+have)?|robot)\b,?\s*"
)
_TRAILING = re.compile(r"\s*,?\s*\b(?:first|please|now)$")
# (pattern, the group that is a time clause or None); each pattern has groups a and b, a first
_ORDER = (
    (re.compile(r"^before\s+(?!that\b)(?P<b>.+?)\s*,\s*(?P<a>.+)$"), "b"),
    (re.compile(r"^(?:after|once|when|as\s+soon\s+as)\s+(?!that\b|done\b|finished\b)"
                r"(?P<a>.+?)\s*,\s*(?P<b>.+)$"), "a"),
    (re.compile(r"^(?P<b>.+?)\s*,?\s*\bbut\s+(?:first|before\s+that)\b,?\s*(?P<a>.+)$"), None),
    (re.compile(r"^(?P<a>.+?)\s*,?\s*\bbefore\b(?!\s+that)\s*(?P<b>.+)$"), "b"),
    (re.compile(r"^(?P<b>.+?)\s*,?\s*\bafter\b(?!\s+that)\s+(?P<a>.+)$"), "a"),
    (re.compile(r"^(?P<b>.+?)\s*,?\s*\b(?:once|as\s+soon\s+as|when)\s+"
                r"(?=you\b|we\b|i\b|the\s+robot\b|\w+ing\b)(?P<a>.+)$"), "a"),
)  # fmt: skip
# in a time clause "reach" + place is arriving ("once you reach the door"), not grasping
_ARRIVE = re.compile(
    r"^((?:you|we|i|the\s+robot)\s+)?reach(?:es|ed|ing)?\b(?!\s+(?:for|out|over|into|up|down|"
    r"across|under|in|inside|behind)\b)"
)
_BEFORE_PREVIOUS = re.compile(r"^(?:but\s+)?(?:first|before\s+that|beforehand)\b,?\s*")


def _order(text: str) -> list[str]:
    """Parts of one sentence in the order of events (see the module docstring)."""
    for pattern, time_clause in _ORDER:
        m = pattern.match(text)
        if m and m.group("a").strip(" ,") and m.group("b").strip(" ,"):
            parts = {g: m.group(g) for g in ("a", "b")}
            if time_clause is not None:
                parts[time_clause] = _ARRIVE.sub(r"\1get to", parts[time_clause])
            return [*_order(parts["a"]), *_order(parts["b"])]
    return [text]


def _clean(piece: str) -> str:
    """A piece without fillers, trailing "first", and with a leading gerund made a verb."""
    piece = piece.strip(" ,")
    while (m := _FILLER.match(piece)) and m.end() > 0:
        piece = piece[m.end() :].strip(" ,")
    piece = _TRAILING.sub("", piece).strip(" ,")
    words = piece.split()
    if words:
        words[0] = base_form(words[0])
    return " ".join(words)


def _actions(part: str) -> list[str]:
    """Split one ordered part at sequence words, and at "and"/commas before a verb."""
    clauses: list[str] = []
    for chunk in _HARD.split(part):
        pieces = _SOFT.split(chunk)
        merged: list[str] = []
        pending = ""  # a verb-less opening piece joins the next one
        for i in range(0, len(pieces), 2):
            piece = _clean(pieces[i])
            if not piece:
                continue
            joiner = pieces[i - 1].strip() if i > 0 else ""
            if merged and not starts_action(piece):
                glue = ", " if joiner.startswith(",") else " and "
                merged[-1] = f"{merged[-1]}{glue}{piece}"
            elif not merged and not starts_action(piece) and i + 2 < len(pieces):
                pending = f"{pending}{piece} "
            else:
                merged.append(f"{pending}{piece}")
                pending = ""
        if pending.strip():
            merged.append(pending.strip())
        clauses += merged
    return clauses


def split_clauses(instruction: str) -> list[str]:
    """Clauses of ``instruction`` in the order of events; never empty (the whole text if
    nothing splits).

    >>> split_clauses("walk to the door and open it")
    ['walk to the door', 'open it']
    >>> split_clauses("Before you sit down, switch off the lamp")
    ['switch off the lamp', 'sit down']
    """
    text = " ".join(instruction.lower().split())
    clauses: list[str] = []
    for sentence in _SENTENCE.split(text):
        sentence = sentence.strip(" ,")
        if not sentence:
            continue
        earlier = bool(clauses) and _BEFORE_PREVIOUS.match(sentence) is not None
        found = [c for part in _order(sentence) for c in _actions(part)]
        clauses = [*found, *clauses] if earlier else [*clauses, *found]
    return clauses or [instruction.strip() or instruction]
