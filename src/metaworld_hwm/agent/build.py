"""A run's agent from its config: the env it acts in, the resolved config, TD-MPC2 and the guide.

``build_agent(cfg, env)`` is the one place where method, ablation and preset meet:
* the preset picks the world model's size and overrides (:data:`~.variants.PRESETS`);
* the method decides the guide: tiers 1 and 2 for ``metaworld``, none for ``tdmpc2``;
* the ablation decides the guide's fusion and lambda (:data:`~.variants.ABLATIONS`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from metaworld_hwm.agent.config import RunConfig
from metaworld_hwm.agent.variants import AGENT_METHODS, PRESETS
from metaworld_hwm.envs import make_env
from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.hierarchy import SkillGuide, build_guide
from metaworld_hwm.physical import TDMPC2Agent, WorldModelConfig, make_config
from metaworld_hwm.physical.guide_interface import Guide
from metaworld_hwm.skills import FusionConfig

#: Offset of the evaluation env's seed from the run's seed.
EVAL_SEED_OFFSET = 10_000
#: Fields of RunConfig that decide the trajectory; a resume must match them.
IDENTITY = ("task", "method", "ablation", "preset", "seed", "utd", "max_episode_steps",
            "guidance_lambda", "guidance_radius", "fusion_sharpness", "world_model",
            "buffer_size", "instruction", "library", "planner", "tau", "alpha",
            "async_updates")  # fmt: skip
#: Instruction used for a task when the run gives none.
DEFAULT_INSTRUCTIONS: dict[str, str] = {
    "stand": "stand still and keep your balance",
    "walk": "walk forward",
    "run": "run forward as fast as you can",
    "reach": "reach the target with your left hand",
    "door": "walk to the door and open it",
}


def make_run_env(cfg: RunConfig, evaluation: bool = False) -> gym.Env:
    """The env of a run, seeded with its seed (``evaluation``: plus :data:`EVAL_SEED_OFFSET`)."""
    kwargs = {} if cfg.max_episode_steps is None else {"max_episode_steps": cfg.max_episode_steps}
    return make_env(cfg.task, seed=cfg.seed + (EVAL_SEED_OFFSET if evaluation else 0), **kwargs)


def episode_length(env: gym.Env) -> int:
    """The env's time limit in steps."""
    limit = getattr(env.unwrapped, "max_episode_steps", None) or (
        env.spec.max_episode_steps if env.spec is not None else None
    )
    if not limit:
        raise ValueError("the env has no episode time limit; set max_episode_steps")
    return int(limit)


def is_episodic(env: gym.Env) -> bool:
    """Whether episodes can end early (a fall): adds TD-MPC2's termination head."""
    task = getattr(env.unwrapped, "task", None)
    return True if task is None else task.termination_height is not None


def identity_of(resolved: dict[str, Any]) -> dict[str, Any]:
    """The fields of a resolved config (``config.json``'s form) that a resume must match,
    with the guidance lambda the run uses (a default one resolved: defaults change).

    Raises KeyError or TypeError when ``resolved`` is not of that form."""
    train = resolved["train"]
    return ({k: train[k] for k in IDENTITY} | {"seed_steps": resolved["seed_steps"]}
            | {"guidance_lambda": resolved["world_model"]["guidance_lambda"]})  # fmt: skip


def upgrade_checkpoint(payload: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's payload with its identity in the current form: checkpoints written
    before 2026-12-07 record a default guidance lambda as ``None`` (the lambda their agent
    was built with is in their ``resolved_config``)."""
    identity = payload.get("config")
    if not isinstance(identity, dict) or identity.get("guidance_lambda") is not None:
        return payload
    try:
        resolved = payload["resolved_config"]["world_model"]["guidance_lambda"]
    except (KeyError, TypeError):
        return payload
    return payload | {"config": identity | {"guidance_lambda": resolved}}


@dataclass(frozen=True)
class ResolvedRun:
    """A run config resolved for its env: everything that defines the run (``config.json``)."""

    config: RunConfig
    world_model: WorldModelConfig
    seed_steps: int
    """Random-action steps before learning (``config.seed_steps`` or its default)."""
    episode_length: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, as saved in ``config.json``."""
        return {
            "train": self.config.to_dict(),
            "world_model": self.world_model.to_dict(),
            "seed_steps": self.seed_steps,
            "episode_length": self.episode_length,
        }

    def identity(self) -> dict[str, Any]:
        """What a checkpoint of this run must have been written with (see :data:`IDENTITY`)."""
        return identity_of(self.to_dict())


def resolve(cfg: RunConfig, env: gym.Env) -> ResolvedRun:
    """Resolve ``cfg`` for ``env``: the world model of its preset for the env's sizes and
    episode length (plus ``cfg.world_model``'s overrides), and the seed steps."""
    length = episode_length(env)
    preset = PRESETS[cfg.preset]
    world_model = make_config(
        preset.size, env.observation_space.shape[0], env.action_space.shape[0], length,
        is_episodic(env), guidance_lambda=cfg.resolved_lambda,
        guidance_radius=cfg.guidance_radius, **(dict(preset.world_model) | cfg.world_model),
    )  # fmt: skip
    heuristic = max(1000, 5 * length)
    seed_steps = cfg.seed_steps if cfg.seed_steps is not None else min(heuristic, cfg.steps // 4)
    return ResolvedRun(cfg, world_model, seed_steps, length)


def run_fusion(cfg: RunConfig) -> FusionConfig:
    """The expert fusion of a ``metaworld`` run: its alpha and sharpness, less what its
    ablation takes away."""
    ablation = cfg.ablation_settings
    return FusionConfig(
        alpha=cfg.alpha if ablation.dynamic_selection else 1.0, semantic=ablation.semantic,
        sharpness=cfg.resolved_sharpness,
    )  # fmt: skip


def run_guide(cfg: RunConfig, env: gym.Env) -> SkillGuide:
    """The guide of a ``metaworld`` run (with its ablation) for ``env``."""
    if not isinstance(env.unwrapped, HumanoidEnv):
        raise ValueError(
            f"method 'metaworld' needs an H1 task (h1-stand, h1-walk, ...), got {cfg.task!r}"
        )
    instruction = cfg.instruction or DEFAULT_INSTRUCTIONS[env.unwrapped.task_name]
    return build_guide(env.unwrapped, cfg.library, instruction, run_fusion(cfg), cfg.planner,
                       cfg.tau, cfg.seed)  # fmt: skip


@dataclass(frozen=True)
class Agent:
    """A run's agent: TD-MPC2 (world model, planner, learner) and, for ``metaworld``, the guide
    (tiers 1 and 2) whose reference actions pull its planner and policy prior."""

    run: ResolvedRun
    tdmpc2: TDMPC2Agent
    guide: Guide | None

    def act(self, obs: np.ndarray, t0: bool, eval_mode: bool, guide: Guide | None) -> np.ndarray:
        """The planned action for ``obs``, guided by ``guide``'s reference when there is one
        (the agent's own guide, or a :meth:`~Guide.spawn` of it with its own episode state)."""
        a_ref = None
        if guide is not None:
            a_ref = guide.reference(obs[None], guide.context()[None])[0]
        return self.tdmpc2.act(obs, t0=t0, eval_mode=eval_mode, a_ref=a_ref)

    def state_dict(self) -> dict[str, Any]:
        """The learned state: ``agent`` (TD-MPC2) and ``guide`` (None without one)."""
        guide = None if self.guide is None else self.guide.state_dict()
        return {"agent": self.tdmpc2.state_dict(), "guide": guide}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (a checkpoint holds it)."""
        self.tdmpc2.load_state_dict(state["agent"])
        if self.guide is not None and state.get("guide") is not None:
            self.guide.load_state_dict(state["guide"])


def build_agent(cfg: RunConfig, env: gym.Env, guide: Guide | None = None) -> Agent:
    """The agent of ``cfg`` for ``env``: ``guide``, or by default the run's own guide for
    ``metaworld`` and none for ``tdmpc2``, and TD-MPC2 of the resolved preset.

    Raises ValueError for a method whose agent is another program's (``dreamerv3``), an H1
    guide on a non-H1 env, or an invalid world-model override."""
    if cfg.method not in AGENT_METHODS:
        raise ValueError(
            f"method {cfg.method!r} has no agent in this package; its runs are trained and "
            "loaded by metaworld_hwm.baselines"
        )
    if guide is None and cfg.method == "metaworld":
        guide = run_guide(cfg, env)
    run = resolve(cfg, env)
    return Agent(run, TDMPC2Agent(run.world_model, seed=cfg.seed, device=cfg.device), guide)
