"""Stage sub-goals: a sub-goal led by a staged expert becomes one sub-goal per stage.

An expert whose card lists ``stages`` (`ExpertCard.stages`, e.g. the door opener's grasp the
hatch, turn it, pull the door open) runs them one after another. Tier 1 plans the
instruction's clauses ("walk to the door and open it" -> walk to the door, open it); this
expansion replaces each sub-goal whose top expert is staged by its stages, with the same
weights, ``params.stage`` set to the stage's key (the guide commands the expert to it) and a
completion condition inferred from the stage's text (``hatch_grasped``, ``door_unlocked``,
``door_openness_reward``: the task's signals). ``source`` keeps the clause, so a replan asks
tier 1 for the clause again.

A walk to the very object a staged expert then acts on ("walk to the door", then "open it")
is that expert's approach: it is led by the staged expert too, with no stage limit (its own
approach walks to the stance its first stage starts from). Handed from the walk expert to the
door expert, the body arrives moving and off that stance: on the protocol's seeds the door
opened 1 time in 10 after the walk, 4 in 10 without it (``results/door/README.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from metaworld_hwm.semantic.conditions import infer_condition
from metaworld_hwm.semantic.types import ExpertLike, Plan, SubGoal


def expand_stages(plan: Plan, experts: Sequence[ExpertLike]) -> Plan:
    """``plan`` with each sub-goal led by a staged expert replaced by its stages (a sub-goal
    already on a stage, or led by an expert without stages, is kept as it is)."""
    stages = {e.name: tuple(getattr(e, "stages", ())) for e in experts}
    skills = {e.name: getattr(e, "skill", "") or e.name for e in experts}
    subgoals: list[SubGoal] = []
    expanded: list[str] = []
    for goal in plan.subgoals:
        top = goal.top(plan.experts)
        if goal.params.stage is not None or not stages.get(top):
            subgoals.append(goal)
            continue
        if subgoals and _walks_to(subgoals[-1], goal, plan.experts, skills):
            walk = subgoals.pop()
            subgoals.append(replace(walk, weights=goal.weights, scores=goal.scores))
            expanded.append(f"{walk.text!r} -> {top}'s approach")
        expanded.append(f"{goal.text!r} -> {top}'s stages {[key for key, _ in stages[top]]}")
        for key, text in stages[top]:
            params = replace(goal.params, stage=key)
            subgoals.append(
                replace(
                    goal, text=text, condition=infer_condition(text, top, params),
                    params=params, source=goal.source or goal.text,
                )
            )  # fmt: skip
    if not expanded:
        return plan
    notes = (*plan.notes, *(f"expanded {e}" for e in expanded))
    return replace(plan, subgoals=tuple(subgoals), notes=notes)


def _walks_to(walk: SubGoal, goal: SubGoal, names: Sequence[str], skills: dict[str, str]) -> bool:
    """Whether ``walk`` is a walk to the object ``goal`` (led by a staged expert) acts on."""
    target = goal.params.target
    return (skills.get(walk.top(names)) == "walk" and walk.params.stage is None
            and target is not None and walk.params.target == target)  # fmt: skip
