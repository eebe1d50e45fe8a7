"""What the protocol evaluates: a policy and its view of the task, loaded from any run directory.

:class:`ProtocolPolicy` is the interface (peers' adapters implement it too);
:class:`AgentPolicy` is ours, the agent of a ``metaworld`` or ``tdmpc2`` run, rebuilt by the
composition layer and its checkpoint's weights (no trainer, no replay buffer).
:func:`load_policy` picks the loader of a run directory's method from
:data:`RUN_POLICY_LOADERS`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from metaworld_hwm.agent import (
    CHECKPOINT,
    Agent,
    build_agent,
    make_run_env,
    read_run_config,
    run_method,
    trained_run_config,
    upgrade_checkpoint,
)
from metaworld_hwm.training.checkpoint import load_checkpoint

#: The policy loader of each method: ``"module:function"`` taking the run directory (imported
#: on use, so that evaluation does not depend on the baselines; they depend on
#: :class:`ProtocolPolicy`).
RUN_POLICY_LOADERS: dict[str, str] = {
    "metaworld": "metaworld_hwm.evaluation.policy:load_agent_policy",
    "tdmpc2": "metaworld_hwm.evaluation.policy:load_agent_policy",
    "dreamerv3": "metaworld_hwm.baselines.dreamerv3_eval:load_run_policy",
}


@dataclass(frozen=True)
class PolicyInfo:
    """What ``eval_protocol.json`` says of the evaluated run."""

    task: str
    method: str
    """The method label of the report (``metaworld``, ``tdmpc2``, ``dreamerv3``, ...)."""
    step: int
    """Env steps of training behind the evaluated weights."""
    experts: list[str] | None = None


class ProtocolPolicy(ABC):
    """A trained policy and the env it acts in, as the protocol's trial loop runs them.

    ``env`` is the policy's own view of its task (its wrappers included); the success checks
    read ``env.unwrapped``, and the protocol sets its ``max_episode_steps``, so no wrapper of
    ``env`` may cut episodes shorter.
    """

    env: gym.Env
    run_info: PolicyInfo

    def start_episode(self, obs: Any, seed: int) -> None:
        """Called after each reset with its first observation and the trial's seed."""

    @abstractmethod
    def act(self, obs: Any, t0: bool) -> np.ndarray:
        """The action for ``obs``, without exploration noise; ``t0``: first step of a trial."""

    def observe(self, obs: Any, info: dict[str, Any]) -> None:
        """Called after each step with the new observation and the step's ``info``."""

    def fused_weights(self, obs: Any) -> list[float] | None:
        """The fused expert weights at ``obs``; None for a policy without experts."""
        return None

    def subgoal(self) -> str | None:
        """The text of the sub-goal being executed; None for a policy without a plan."""
        return None

    def close(self) -> None:
        """Release the env."""
        self.env.close()


class AgentPolicy(ProtocolPolicy):
    """Our agent (noise-free planner), guided by its experts for ``metaworld`` runs.

    Args:
        agent: the run's agent (:func:`metaworld_hwm.agent.build_agent`) with its weights.
        env: the env it acts in (the run's evaluation env).
        step: env steps of training behind the weights.
    """

    def __init__(self, agent: Agent, env: gym.Env, step: int) -> None:
        self.agent = agent
        self.env = env
        self.guide = None if agent.guide is None else agent.guide.spawn()
        cfg = agent.run.config
        experts = None if agent.guide is None else [e.name for e in agent.guide.experts]
        self.run_info = PolicyInfo(cfg.task, cfg.method_label, step, experts)

    def start_episode(self, obs: Any, seed: int) -> None:
        if self.guide is not None:
            self.guide.start_episode(obs)

    def act(self, obs: Any, t0: bool) -> np.ndarray:
        return self.agent.act(obs, t0=t0, eval_mode=True, guide=self.guide)

    def observe(self, obs: Any, info: dict[str, Any]) -> None:
        if self.guide is not None:
            self.guide.observe(obs, info)

    def fused_weights(self, obs: Any) -> list[float] | None:
        return None if self.guide is None else self.guide.fused_weights(obs).round(4).tolist()

    def subgoal(self) -> str | None:
        return None if self.guide is None else self.guide.subgoal


def load_agent_policy(run_dir: Path) -> AgentPolicy:
    """The policy of a run of ``metaworld-hwm train`` (``metaworld``, ``tdmpc2``): its agent
    rebuilt from ``config.json`` for its evaluation env, with ``checkpoint.pt``'s weights.

    Raises:
        FileNotFoundError: there is no checkpoint.
        CheckpointError: the checkpoint is corrupt or another configuration's.
    """
    config = read_run_config(run_dir)
    cfg = trained_run_config(run_dir, config)
    env = make_run_env(cfg, evaluation=True)
    agent = build_agent(cfg, env)
    path = run_dir / CHECKPOINT
    if not path.exists():
        raise FileNotFoundError(f"{run_dir} has no checkpoint.pt to evaluate; train first")
    state = load_checkpoint(path, expected_config=agent.run.identity(), upgrade=upgrade_checkpoint)
    agent.load_state_dict(state)
    return AgentPolicy(agent, env, state["step"])


def load_policy(run_dir: Path) -> ProtocolPolicy:
    """The policy of a run directory of any method (:data:`RUN_POLICY_LOADERS`).

    Raises:
        FileNotFoundError: ``run_dir`` has no ``config.json``, or no checkpoint.
        ValueError: ``config.json`` is of no method evaluation knows.
    """
    config = read_run_config(run_dir)
    loader = RUN_POLICY_LOADERS.get(run_method(config) or "")
    if loader is None:
        raise ValueError(
            f"{run_dir / 'config.json'} is neither a run of `metaworld-hwm train` (no 'train' "
            f"section) nor a DreamerV3 run (method {config.get('method')!r}, not 'dreamerv3'); "
            "eval needs a directory written by `metaworld-hwm train`"
        )
    module, function = loader.split(":")
    return getattr(importlib.import_module(module), function)(run_dir)
