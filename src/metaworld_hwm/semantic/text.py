"""Small text utilities: word stems and splitting an instruction into ordered clauses.

The clause splitter is deliberately rule-based (connectives such as "then", "and", "before",
"after"), so the embedded planner needs no language model to decompose an instruction.
"""

from __future__ import annotations

import re

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


# Connectives that end one step and start the next, tried on lower-cased text. "and" splits
# too: a fragment without a verb ("and the plate") is glued back by `split_clauses`.
_SPLIT = re.compile(
    r"\s*(?:[;.!?]+|,?\s*\b(?:and\s+then|and\s+after\s+that|and\s+finally|then|after\s+that|"
    r"afterwards|finally|and|once\s+done|when\s+done)\b,?)\s*"
    r"|\s*,\s*"
)
_LEADING = re.compile(r"^(?:first(?:ly)?|please|now|to\s+start|start\s+by|begin\s+by)\b,?\s*")
_BEFORE = re.compile(r"^(?P<a>.+?)\s*,?\s*\bbefore\b(?!\s+that)\s*(?P<b>.+)$")
_AFTER_LEAD = re.compile(r"^after\s+(?!that\b)(?:you\s+)?(?P<a>.+?)\s*,\s*(?P<b>.+)$")
_AFTER_MID = re.compile(r"^(?P<b>.+?)\s*,?\s*\bafter\b(?!\s+that)\s+(?:you\s+)?(?P<a>.+)$")
_FRAGMENT_START = {"the", "a", "an", "it", "them", "this", "that", "its", "their", "my", "your"}
_FILLERS = {"", "you", "please", "also", "then"}


_DESTINATION = re.compile(r"\s+\b(?:to|towards?|into|onto|until|at)\b\s")


def head(clause: str) -> str:
    """The clause without its destination: "run to the stairs" -> "run".

    The verb phrase says how to move; a destination ("the stairs", "the box") names an object
    that may belong to another skill, so the planner scores the head separately.
    """
    m = _DESTINATION.search(clause)
    return clause[: m.start()] if m and m.start() > 0 else clause


def _order(text: str) -> list[str]:
    """Put "X before Y", "after X, Y" and "Y after X" into execution order [X, Y]."""
    for pattern in (_AFTER_LEAD, _BEFORE, _AFTER_MID):
        m = pattern.match(text)
        if m:
            return [*_order(m.group("a")), *_order(m.group("b"))]
    return [text]


def _ing_to_base(word: str) -> str:
    """'walking' -> 'walk' for gerunds after "before"/"after" ("after walking, sit")."""
    return stem(word) if word.endswith("ing") else word


def split_clauses(instruction: str) -> list[str]:
    """Ordered clauses of ``instruction``; never empty (the whole text if nothing splits).

    >>> split_clauses("walk to the door and open it")
    ['walk to the door', 'open it']
    """
    text = " ".join(instruction.lower().split())
    ordered = _order(text)
    clauses: list[str] = []
    for part in ordered:
        for piece in _SPLIT.split(part):
            piece = _LEADING.sub("", piece.strip(" ,")).strip()
            if piece in _FILLERS:
                continue
            words = piece.split()
            words[0] = _ing_to_base(words[0])
            piece = " ".join(words)
            if clauses and words[0] in _FRAGMENT_START:
                clauses[-1] = f"{clauses[-1]} and {piece}"
            else:
                clauses.append(piece)
    return clauses or [instruction.strip() or instruction]
