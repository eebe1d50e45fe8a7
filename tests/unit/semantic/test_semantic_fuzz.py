"""Fuzz: any text gives a valid plan (or a clear ValueError), and the rules never crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metaworld_hwm.semantic.params import clause_params
from metaworld_hwm.semantic.parsing import params_from_model
from metaworld_hwm.semantic.text import split_clauses
from metaworld_hwm.semantic.types import Plan, SkillParams
from metaworld_hwm.semantic.verbs import skill_cue

WORDS = ("walk", "then", "and", "before", "after", "once", "turn", "left", "around", "back",
         "slowly", "3", "metres", "for", "seconds", "the", "door", "it", "up", "stairs", ",",
         ".", "first", "finally", "pick", "cup", "0.5", "m/s", "degrees", "sit", "you")  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(WORDS), max_size=14).map(" ".join),
)


@given(TEXT)
@settings(max_examples=300, deadline=None)
def test_rules_never_crash(text):
    clauses = split_clauses(text)
    assert clauses and all(isinstance(c, str) for c in clauses)
    for clause in clauses:
        skill_cue(clause)
    for params, _ in clause_params(clauses):
        assert isinstance(params, SkillParams)  # validated in __post_init__


@given(TEXT)
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_text_gives_a_valid_plan_or_a_clear_error(embedded, experts, text):
    if not text.strip():
        with pytest.raises(ValueError, match="empty instruction"):
            embedded.plan(text, experts)
        return
    plan = embedded.plan(text, experts)
    assert Plan.from_json(plan.to_json()) == plan
    assert all(g.text.strip() for g in plan.subgoals)
    assert plan.low_confidence == any(n.startswith("low confidence") for n in plan.notes)


@given(
    st.dictionaries(
        st.sampled_from(["pace", "speed_mps", "direction", "turn", "turn_deg", "distance_m",
                         "duration_s", "target", "other"]),
        st.one_of(st.none(), st.text(max_size=8), st.floats(), st.integers(), st.booleans()),
    )
)  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_any_model_params_object_gives_valid_params(raw):
    problems: list[str] = []
    assert isinstance(params_from_model(raw, problems), SkillParams)
