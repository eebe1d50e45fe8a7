"""extract_i(R): every kind of model output gives a valid distribution (examples + fuzzing)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metaworld_hwm.semantic.parsing import extract_weights, match_name, parse_response

NAMES = ("walk", "run", "stand", "reach", "sit", "crawl", "stairs", "carry")


def _assert_distribution(w: np.ndarray) -> None:
    assert w.shape == (len(NAMES),)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0)


def _top(text: str) -> str:
    w, _ = extract_weights(text, NAMES)
    _assert_distribution(w)
    return NAMES[int(np.argmax(w))]


@pytest.mark.parametrize(
    ("text", "top"),
    [
        ('{"walk": 8, "reach": 2}', "walk"),
        ('```json\n{"scores": {"walk": 10, "run": 90}}\n```', "run"),
        ('[{"name": "Sitting", "score": 0.7}, {"name": "stand", "score": 0.3}]', "sit"),
        ("walk: 2\nreach: 9\nsit: 1", "reach"),
        ("- Walk = 3/10\n- Crawl = 7/10", "crawl"),
        ("I think stairs deserves 9 and walking maybe 4.", "stairs"),
        ('{"walk": {"score": 1}, "carry": {"score": 6}}', "carry"),
        ('{"walk": "80%", "run": "20%"}', "walk"),
    ],
)
def test_accepted_formats(text, top):
    assert _top(text) == top


def test_scale_is_inferred_from_the_largest_score():
    w01, _ = extract_weights('{"walk": 1.0, "run": 0.0}', NAMES)
    w10, _ = extract_weights('{"walk": 10, "run": 0}', NAMES)
    np.testing.assert_allclose(w01, w10)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"walk": 5, "fly": 9}', "unknown experts ['fly']"),
        ('{"walk": 5}', "no score for ['run'"),
        ('{"walk": -5, "run": 2}', "negative scores of ['walk']"),
        ('{"walk": "high", "run": 2}', "non-numeric score for 'walk'"),
        ('{"walk": 0, "run": 0}', "every score is 0"),
        ('{"walk": 8, "reach": 2', "truncated"),
        ("", "no score for any expert"),
        ("I cannot help with that.", "no score for any expert"),
    ],
)
def test_repairs_are_reported(text, problem):
    w, problems = extract_weights(text, NAMES)
    _assert_distribution(w)
    assert any(problem in p for p in problems), problems


def test_unparseable_output_falls_back_to_uniform_with_a_warning(caplog):
    w, _ = extract_weights("no idea", NAMES)
    np.testing.assert_allclose(w, 1 / len(NAMES))
    assert "falling back to uniform" in caplog.text


def test_plan_response_with_sub_goals_and_truncation():
    full = {
        "subgoals": [
            {"text": "walk to the door", "scores": {"walk": 9, "reach": 1}},
            {"text": "open it", "scores": {"reach": 9, "walk": 0}},
        ]
    }
    parsed = parse_response("Sure! " + json.dumps(full) + " Done.", NAMES)
    assert parsed.complete and [g.text for g in parsed.subgoals] == ["walk to the door", "open it"]
    cut = json.dumps(full)[:-30]
    truncated = parse_response(cut, NAMES)
    assert not truncated.complete
    assert [g.text for g in truncated.subgoals] == ["walk to the door"]


def test_match_name_handles_case_and_inflection():
    assert match_name(" Walking ", NAMES) == "walk"
    assert match_name("STAIR", NAMES) == "stairs"
    assert match_name("fly", NAMES) is None


_fragments = st.one_of(
    st.sampled_from([*NAMES, "Walk", "fly", ":", "=", ",", "\n", "{", "}", "[", "]", '"', " "]),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_string_gives_a_distribution(text):
    w, problems = extract_weights(text, NAMES)
    _assert_distribution(w)
    assert all(isinstance(p, str) for p in problems)


@settings(max_examples=300, deadline=None)
@given(st.lists(_fragments, max_size=60).map("".join))
def test_near_valid_outputs_give_a_distribution(text):
    _assert_distribution(extract_weights(text, NAMES)[0])


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*NAMES, "fly", "text"]),
        st.one_of(st.floats(), st.integers(), st.text(max_size=5), st.none(), st.booleans()),
    ),
    st.integers(min_value=0, max_value=40),
)
def test_json_objects_and_their_truncations_give_a_distribution(obj, cut):
    text = json.dumps({"subgoals": [{"text": "x", "scores": obj}]})
    _assert_distribution(extract_weights(text, NAMES)[0])
    _assert_distribution(extract_weights(text[: max(0, len(text) - cut)], NAMES)[0])
