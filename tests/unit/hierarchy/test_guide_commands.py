"""Sub-goal parameters become expert commands: mapping, clipping, defaults at switches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metaworld_hwm.envs import make_env
from metaworld_hwm.hierarchy import resolve_library
from metaworld_hwm.hierarchy.skill_guide import SLOW_SPEED, SkillGuide, walk_command
from metaworld_hwm.semantic import Plan, SkillParams, SubGoal
from metaworld_hwm.semantic.params import TURN_RATE
from metaworld_hwm.semantic.types import Condition
from metaworld_hwm.skills import ExpertLibrary

DEFAULT = {"vx": 1.2, "vy": 0.0, "yaw_rate": 0.0, "heading": 0.0}
WALK = {"vx": (-0.5, 1.2), "vy": (-0.3, 0.3), "yaw_rate": (-0.8, 0.8)}
RUN = {"vx": (-0.5, 4.0), "vy": (-0.3, 0.3), "yaw_rate": (-0.8, 0.8)}


@pytest.mark.parametrize(
    ("params", "ranges", "expected"),
    [
        (SkillParams(), WALK, DEFAULT),
        (SkillParams(target="door"), WALK, DEFAULT),  # a target alone changes nothing
        (SkillParams(pace="slow"), WALK, {**DEFAULT, "vx": SLOW_SPEED}),
        (SkillParams(pace="slow", direction="backward"), WALK, {**DEFAULT, "vx": -SLOW_SPEED}),
        (SkillParams(direction="backward"), WALK, {**DEFAULT, "vx": -0.5}),  # clipped
        (SkillParams(pace="fast"), WALK, {**DEFAULT, "vx": 1.2}),
        (SkillParams(pace="fast"), RUN, {**DEFAULT, "vx": 4.0}),
        (SkillParams(speed_mps=9.0), RUN, {**DEFAULT, "vx": 4.0}),
        (SkillParams(speed_mps=0.5, direction="forward"), WALK, {**DEFAULT, "vx": 0.5}),
        (SkillParams(direction="left"), WALK, {**DEFAULT, "vx": 0.0, "vy": 0.3}),
        (SkillParams(direction="right", speed_mps=0.2), WALK, {**DEFAULT, "vx": 0.0, "vy": -0.2}),
        (SkillParams(turn="left"), WALK,
         {"vx": 0.0, "vy": 0.0, "yaw_rate": TURN_RATE, "heading": None}),
        (SkillParams(turn="right"), WALK,
         {"vx": 0.0, "vy": 0.0, "yaw_rate": -TURN_RATE, "heading": None}),
    ],
)  # fmt: skip
def test_walk_command_maps_and_clips(params, ranges, expected):
    assert walk_command(params, DEFAULT, ranges, yaw=0.3) == pytest.approx(expected)


def test_turn_around_and_stated_angles_set_a_heading_from_the_current_yaw():
    around = walk_command(SkillParams(turn="around"), DEFAULT, WALK, yaw=0.5)
    assert around["heading"] == pytest.approx(0.5 - math.pi)  # 0.5 + pi, wrapped
    assert around["vx"] == 0.0 and around["yaw_rate"] == 0.0
    right = walk_command(SkillParams(turn="right", turn_deg=90.0), DEFAULT, WALK, yaw=0.0)
    assert right["heading"] == pytest.approx(-math.pi / 2)
    walking_turn = walk_command(SkillParams(turn="left", pace="slow"), DEFAULT, WALK, yaw=0.0)
    assert walking_turn["vx"] == SLOW_SPEED and walking_turn["yaw_rate"] == TURN_RATE


class ScriptedPlanner:
    """One plan of (text, expert, params) sub-goals, each done after two steps."""

    def __init__(self, goals: list[tuple[str, str, SkillParams]]) -> None:
        self.goals = goals

    def plan(self, instruction, experts, observation=None, frame=None) -> Plan:
        names = tuple(e.name for e in experts)
        subgoals = tuple(
            SubGoal(text, tuple(float(n == expert) for n in names),
                    Condition("subgoal_steps", ">=", 2.0), params=params)
            for text, expert, params in self.goals
        )  # fmt: skip
        return Plan(instruction, names, subgoals, backend="scripted")


def test_guide_passes_each_sub_goal_s_parameters_to_the_walker_and_resets_defaults() -> None:
    library = ExpertLibrary.load(resolve_library(None))
    env = make_env("h1-walk", seed=0)
    obs, _ = env.reset(seed=0)
    planner = ScriptedPlanner([
        ("walk slowly backward", "walk", SkillParams(pace="slow", direction="backward")),
        ("stand still", "stand", SkillParams()),
        ("turn left", "walk", SkillParams(turn="left")),
    ])  # fmt: skip
    guide = SkillGuide(env, [library["stand"], library["walk"]], planner, "scripted")
    walker = guide.experts[1]
    assert guide.default_commands[0] is None  # the stand expert takes no command
    default = dict(guide.default_commands[1])
    guide.start_episode(obs)
    assert walker.command.vx == pytest.approx(-SLOW_SPEED) and walker.command.vy == 0.0
    commands = []
    for _ in range(6):
        guide.observe(obs, {})
        commands.append((guide.tracker.index, walker.command))
    assert commands[1][0] == 1 and commands[1][1].vx == pytest.approx(default["vx"])
    turning = commands[3][1]
    assert commands[3][0] == 2 and turning.yaw_rate == TURN_RATE and turning.heading is None
    spawned = guide.spawn()
    assert spawned.default_commands == guide.default_commands
    spawned.start_episode(obs)
    assert spawned.experts[1].command.vx == pytest.approx(-SLOW_SPEED)
    assert np.isfinite(guide.context()).all()
