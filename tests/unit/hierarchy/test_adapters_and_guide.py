"""Observation adapters and the skill guide: right entries, right targets, right fusion."""

import mujoco
import numpy as np
import pytest
import torch

from metaworld_hwm.envs import make_env
from metaworld_hwm.hierarchy import resolve_library
from metaworld_hwm.hierarchy.adapters import hatch_position, make_adapter
from metaworld_hwm.hierarchy.skill_guide import SkillGuide
from metaworld_hwm.semantic import Plan, SubGoal
from metaworld_hwm.semantic.types import Condition
from metaworld_hwm.skills import ExpertLibrary, ExpertSpec, FusionConfig

SPEC_STATE = ExpertSpec(
    name="state", skill="stand", kind="analytic", robot="h1", obs_layout="qpos_qvel",
    obs_dim=51, action_dim=19,
)  # fmt: skip
SPEC_GOAL = ExpertSpec(
    name="goal", skill="reach", kind="analytic", robot="h1", obs_layout="qpos_qvel_hand_goal",
    obs_dim=57, action_dim=19,
)  # fmt: skip


class FixedPlanner:
    """A planner that always returns one sub-goal with the given weights."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights

    def plan(self, instruction, experts, observation=None, frame=None) -> Plan:
        names = [e.name for e in experts]
        goal = SubGoal(instruction, tuple(self.weights), Condition("subgoal_steps", ">=", 1e9))
        return Plan(instruction, tuple(names), (goal,), backend="fixed")


@pytest.fixture(scope="module")
def library() -> ExpertLibrary:
    return ExpertLibrary.load(resolve_library(None))


def test_door_adapter_takes_robot_entries_and_the_hatch() -> None:
    env = make_env("h1-door", seed=0)
    env.step(env.action_space.sample())
    mujoco.mj_forward(env.model, env.data)  # rewards read lagged sites; FK here is current
    obs = env.task.observe(env.physics)[None]
    state = make_adapter(env, SPEC_STATE)(obs)[0]
    np.testing.assert_array_equal(state[:26], env.data.qpos[:26])
    np.testing.assert_array_equal(state[26:], env.data.qvel[:25])
    reach_obs = make_adapter(env, SPEC_GOAL)(obs)[0]
    np.testing.assert_allclose(reach_obs[51:54], env.physics.left_hand_position(), atol=1e-6)
    hatch = env.data.xpos[env.model.body("door_hatch").id]
    np.testing.assert_allclose(reach_obs[54:57], hatch, atol=1e-6)


def test_hatch_position_by_hand() -> None:
    np.testing.assert_allclose(hatch_position(np.array([0.0]))[0], [0.8, 0.4, 1.2])
    # a quarter turn swings the handle 0.9 m toward the robot (-x) around the hinge
    np.testing.assert_allclose(hatch_position(np.array([np.pi / 2]))[0], [-0.15, -0.45, 1.2])


def test_reach_adapter_in_reach_is_identity() -> None:
    env = make_env("h1-reach", seed=0)
    obs = np.arange(57.0)[None]
    np.testing.assert_array_equal(make_adapter(env, SPEC_GOAL)(obs), obs)


def test_guide_with_all_weight_on_one_expert_reproduces_it(library: ExpertLibrary) -> None:
    env = make_env("h1-stand", seed=0)
    obs, _ = env.reset(seed=0)
    experts = [library["stand"], library["reach"]]
    guide = SkillGuide(env, experts, FixedPlanner([1.0, 0.0]), "stand",
                       FusionConfig(alpha=1.0))  # fmt: skip
    guide.start_episode(obs)
    a_ref = guide.reference(obs[None], guide.context()[None])[0]
    np.testing.assert_allclose(a_ref, np.clip(experts[0].act(obs[None])[0], -1, 1), atol=1e-6)
    # without a stored context the experts are evaluated afresh: same answer
    np.testing.assert_allclose(guide.reference(obs[None], None)[0], a_ref, atol=1e-6)
    assert guide.context().shape == (guide.context_dim,) == (2 * (1 + 19),)


def test_guide_learning_moves_the_fusion_toward_higher_q(library: ExpertLibrary) -> None:
    env = make_env("h1-stand", seed=0)
    obs, _ = env.reset(seed=0)
    experts = [library["stand"], library["reach"]]
    guide = SkillGuide(env, experts, FixedPlanner([0.5, 0.5]), "stand", FusionConfig(alpha=0.0))
    guide.start_episode(obs)
    batch_obs = torch.as_tensor(np.repeat(obs[None], 32, 0), dtype=torch.float32)
    context = torch.as_tensor(np.repeat(guide.context()[None], 32, 0))
    target = torch.as_tensor(guide.expert_actions(obs[None])[0, 1])

    def q_fn(o: torch.Tensor, a: torch.Tensor) -> torch.Tensor:  # best at expert 1's action
        return -((a - target) ** 2).sum(-1, keepdim=True)

    before = guide.fused_weights(obs)[1]
    for _ in range(100):
        metrics = guide.learn(batch_obs, context, q_fn)
    assert guide.fused_weights(obs)[1] > before + 0.2
    assert set(metrics) >= {"skills/q", "skills/entropy", "skills/fusion_loss"}
    spawned = guide.spawn()
    assert spawned.compositor is guide.compositor and spawned.tracker is None


def test_guide_resets_stateful_experts_and_spawned_guides_keep_their_own_clock(
    library: ExpertLibrary,
) -> None:
    env = make_env("h1-walk", seed=0)
    obs, _ = env.reset(seed=0)
    guide = SkillGuide(env, [library["stand"], library["walk"]], FixedPlanner([0.0, 1.0]), "walk")
    guide.start_episode(obs)
    for _ in range(10):
        guide.observe(obs, {})
    walker = guide.experts[1]
    assert walker.clock[0] == pytest.approx(11 * 0.02)  # one act per start and per observe
    evaluation = guide.spawn()
    evaluation.start_episode(obs)
    assert evaluation.experts[1].clock[0] == pytest.approx(0.02)
    assert walker.clock[0] == pytest.approx(11 * 0.02)  # the training guide's clock is its own
    assert evaluation.experts[1].policy is walker.policy
    guide.start_episode(obs)
    assert walker.clock[0] == pytest.approx(0.02)
