"""extract_i(R): robust parsing of a model's response into per-expert scores and weights.

Accepted shapes, tried in order: JSON anywhere in the text (flat ``{"walk": 8}``, nested under
``"scores"``, records ``[{"name": "walk", "score": 8}]``, or a plan ``{"subgoals": [{"text":
..., "scores": {...}, "params": {...}}]}``), then ``name: value`` lines and prose ("walk gets
8/10"). A sub-goal's ``params`` become `SkillParams` (`params_from_model`; invalid fields are
dropped and reported). Scores
are put on [0, 1] by their apparent scale (1, 10 or 100). Whatever the input, the result is a
valid probability distribution; every repair is reported in ``problems`` and logged.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from metaworld_hwm.semantic.text import stem
from metaworld_hwm.semantic.types import DEFAULT_TAU, STATED_PARAMS, SkillParams, softmax

log = logging.getLogger(__name__)

MAX_CHARS = 20_000
"""Longer responses are cut (a runaway generation must not make parsing quadratic)."""

_TEXT_KEYS = ("text", "subgoal", "sub_goal", "goal", "step", "description", "instruction")
_NAME_KEYS = ("name", "expert", "skill")
_VALUE_KEYS = ("score", "weight", "value", "probability", "confidence")
_PARAMS_KEYS = ("params", "parameters", "skill_params")
_TEXT_FIELDS = {"pace", "direction", "turn", "target"}
_OPEN = re.compile(r"[\[{]")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass
class RawSubGoal:
    """A sub-goal as the response states it: text (may be empty), raw scores by name and its
    raw ``params`` object (None when the response gives none)."""

    text: str
    scores: dict[str, float]
    params: dict[str, Any] | None = None


@dataclass
class ParsedResponse:
    """Sub-goals found in a response; ``complete`` is False when JSON looked truncated."""

    subgoals: list[RawSubGoal]
    complete: bool
    problems: list[str] = field(default_factory=list)


def match_name(key: str, names: Sequence[str]) -> str | None:
    """The expert name that ``key`` denotes (case, spacing and inflection ignored), if any."""
    k = key.strip().lower()
    for name in names:
        if k == name.lower():
            return name
    k_stem = stem(k)
    for name in names:
        if k_stem == stem(name.lower()):
            return name
    return None


def _number(value: Any) -> float | None:
    """A finite float from a JSON number or a numeric string ("8", "8/10", "80%"), else None."""
    if isinstance(value, dict):
        value = next((value[k] for k in _VALUE_KEYS if k in value), None)
    if isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            x = float(value)
        elif isinstance(value, str) and (m := _NUMBER.search(value)):
            x = float(m.group())
        else:
            return None
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def _json_values(text: str) -> tuple[list[Any], bool]:
    """Every JSON object/array decodable in ``text``, in order, and whether none failed."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    clean = True
    i = 0
    while (m := _OPEN.search(text, i)) is not None:
        try:
            value, end = decoder.raw_decode(text, m.start())
        except (ValueError, RecursionError):  # ValueError covers JSONDecodeError, huge ints
            clean = False
            i = m.start() + 1
            continue
        values.append(value)
        i = end
    return values, clean


def _scores_in(obj: Any, names: Sequence[str], problems: list[str]) -> dict[str, float]:
    """Scores by canonical name found in a JSON value (first level that has any)."""
    found: dict[str, float] = {}
    if isinstance(obj, dict):
        unknown = []
        for key, raw in obj.items():
            name = match_name(str(key), names)
            if name is None:
                unknown.append(str(key))
            elif name not in found:
                x = _number(raw)
                if x is None:
                    problems.append(f"non-numeric score for {name!r}: {str(raw)[:40]!r}")
                else:
                    found[name] = x
        if found:
            if unknown:
                problems.append(f"ignored unknown experts {unknown}")
            return found
        for raw in obj.values():
            if isinstance(raw, dict | list) and (found := _scores_in(raw, names, problems)):
                return found
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, dict):
                key = next((str(item[k]) for k in _NAME_KEYS if k in item), None)
                raw = next((item[k] for k in _VALUE_KEYS if k in item), None)
                name = match_name(key, names) if key is not None else None
                if name is not None and name not in found and (x := _number(raw)) is not None:
                    found[name] = x
        if found:
            return found
        for item in obj:
            if isinstance(item, dict | list) and (found := _scores_in(item, names, problems)):
                return found
    return found


def _json_subgoals(obj: Any, names: Sequence[str], problems: list[str]) -> list[RawSubGoal]:
    """Dicts with a text key and scores, in document order (not descending into them)."""
    if isinstance(obj, dict):
        text_key = next((k for k in _TEXT_KEYS if isinstance(obj.get(k), str)), None)
        if text_key is not None:
            rest = {k: v for k, v in obj.items() if k != text_key and k not in _PARAMS_KEYS}
            scores = _scores_in(rest, names, problems)
            if scores:
                params = next((obj[k] for k in _PARAMS_KEYS if isinstance(obj.get(k), dict)), None)
                return [RawSubGoal(obj[text_key], scores, params)]
        children = list(obj.values())
    elif isinstance(obj, list):
        children = obj
    else:
        return []
    return [g for child in children for g in _json_subgoals(child, names, problems)]


def _prose_scores(text: str, names: Sequence[str]) -> dict[str, float]:
    """Scores from ``name: value`` lines or prose: the first number after a name, same line."""
    pattern = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    hits = list(re.finditer(rf"\b({pattern})(?:s|es|ing|ed)?\b", text, flags=re.IGNORECASE))
    found: dict[str, float] = {}
    for i, hit in enumerate(hits):
        name = match_name(hit.group(1), names)
        stop = hits[i + 1].start() if i + 1 < len(hits) else len(text)
        window = text[hit.end() : min(stop, hit.end() + 40)].split("\n", 1)[0]
        m = _NUMBER.search(window)
        if name is not None and name not in found and m is not None:
            x = float(m.group())
            if math.isfinite(x):
                found[name] = x
    return found


def parse_response(text: str, names: Sequence[str]) -> ParsedResponse:
    """Sub-goals with raw scores from any model output (JSON first, then lines/prose)."""
    problems: list[str] = []
    if len(text) > MAX_CHARS:
        problems.append(f"response of {len(text)} characters cut to {MAX_CHARS}")
        text = text[:MAX_CHARS]
    values, clean = _json_values(text)
    subgoals = [g for v in values for g in _json_subgoals(v, names, problems)]
    if not subgoals:
        for v in values:
            if scores := _scores_in(v, names, problems):
                subgoals = [RawSubGoal("", scores)]
                break
    if not subgoals and (scores := _prose_scores(text, names)):
        subgoals = [RawSubGoal("", scores)]
    complete = clean
    if not complete:
        problems.append("response JSON is malformed or truncated")
    if not subgoals:
        problems.append(f"no score for any expert of {list(names)} in the response")
    return ParsedResponse(subgoals, complete, problems)


def params_from_model(raw: Mapping[str, Any], problems: list[str]) -> SkillParams:
    """`SkillParams` from a model's ``params`` object; null, empty and invalid fields are
    dropped (each invalid one reported in ``problems``), unknown keys ignored."""
    known = set(STATED_PARAMS)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        problems.append(f"ignored unknown params {unknown}")
    values: dict[str, Any] = {}
    for name in known & set(raw):
        value = raw[name]
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "null")):
            continue
        if name in _TEXT_FIELDS:
            value = str(value).strip().lower()
            if name == "target":
                value = re.sub(r"^(?:the|a|an)\s+", "", value)
        else:
            value = _number(value)
        try:
            SkillParams(**{name: value})
        except (ValueError, TypeError) as err:
            problems.append(f"dropped param {name}={str(raw[name])[:40]!r}: {err}")
            continue
        values[name] = value
    return SkillParams(**values)


def normalise_scores(
    raw: Mapping[str, float], names: Sequence[str], problems: list[str]
) -> np.ndarray:
    """extract_i on [0, 1]: negatives clipped to 0, missing experts 0, scale 1, 10 or 100."""
    missing = [n for n in names if n not in raw]
    if missing and len(missing) < len(names):
        problems.append(f"no score for {missing}; taken as 0")
    x = np.array([raw.get(n, 0.0) for n in names], dtype=np.float64)
    if np.any(x < 0):
        negative = [n for n, v in zip(names, x.tolist(), strict=True) if v < 0]
        problems.append(f"negative scores of {negative} clipped to 0")
        x = np.clip(x, 0.0, None)
    top = float(x.max())
    if top == 0.0:
        problems.append("every score is 0; the weights are uniform")
    scale = next((s for s in (1.0, 10.0, 100.0) if top <= s), top)
    return x / scale


def extract_weights(
    text: str, names: Sequence[str], tau: float = DEFAULT_TAU
) -> tuple[np.ndarray, list[str]]:
    """w = softmax(extract(R) / tau) for a single-goal response; uniform if nothing parses.

    Returns the weights (always a distribution over ``names``) and the problems met; a
    uniform fallback is logged as a warning.
    """
    parsed = parse_response(text, names)
    problems = parsed.problems
    if not parsed.subgoals:
        log.warning("semantic: %s; falling back to uniform weights", "; ".join(problems))
        return np.full(len(names), 1.0 / len(names)), problems
    scores = normalise_scores(parsed.subgoals[0].scores, names, problems)
    return softmax(scores, tau), problems
