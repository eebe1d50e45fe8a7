"""Tiers 1 and 2 as one guide for the trainer: plan -> active weights -> fused reference action.

Per episode, the semantic planner turns the instruction into sub-goals with weights ``w`` over
the library's experts, and a :class:`~metaworld_hwm.semantic.PlanTracker` advances or replans
in closed loop on the env's task signals. Each step, every expert acts on the current
observation (through its adapter) and the compositor fuses them:
``a_ref = sum_i (alpha w_i + (1 - alpha) p(i|s)) pi_i(s)``.

The context stored with each transition is ``[w, pi_1(s), ..., pi_K(s)]``: the experts are
fixed functions of the state, so their actions are computed once, when acting, and replayed
for the policy-prior guidance and for training phi and psi (which keep learning online).

Sub-goal parameters ("walk slowly backward", "turn left", "sprint") reach the experts that
take a command (``command_fields``, e.g. the walk and run experts' vx, vy, yaw_rate and
heading): whenever a sub-goal becomes active, each such expert gets `walk_command` of its
parameters, clipped into the expert's ``command_ranges``; a sub-goal without parameters gets
the expert's own default command back.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.hierarchy.adapters import make_action_adapter, make_adapter
from metaworld_hwm.physical.guide_interface import QFunction
from metaworld_hwm.semantic import ExpertCard, PlanTracker
from metaworld_hwm.semantic.params import TURN_RATE, turn_radians
from metaworld_hwm.semantic.types import Planner, SkillParams
from metaworld_hwm.skills import Compositor, Expert, FusionConfig, fusion_loss
from metaworld_hwm.skills.locomotion import wrap_angle, yaw_of

SLOW_SPEED = 0.4
"""m/s of a sub-goal that says "slowly" (a stroll; the walk expert's default is 1.2)."""
WALK_FIELDS = ("vx", "vy", "yaw_rate", "heading")
"""The command fields `walk_command` sets (the walk and run experts' `WalkCommand`)."""
_SWITCHES = {"semantic/advance", "semantic/skip", "semantic/replan", "semantic/regress"}

Command = dict[str, float | None]


def walk_command(
    params: SkillParams,
    default: Mapping[str, float | None],
    ranges: Mapping[str, tuple[float, float]],
    yaw: float,
) -> Command:
    """The (vx, vy, yaw_rate, heading) command for a sub-goal's parameters.

    Without motion parameters: ``default``. Speed: ``speed_mps``, else SLOW_SPEED for "slow",
    the top of the expert's vx range for "fast", else the default's. Direction: backward
    negates vx, left/right move sideways (vy, +y is left) instead. A turn alone turns on the
    spot (vx = vy = 0): "turn left/right" at yaw_rate +/-TURN_RATE with heading None, a stated
    angle or "around" as a heading of ``yaw`` (the robot's world yaw, rad) plus the angle.
    Every speed is clipped into ``ranges``.
    """
    command: Command = dict(default)
    if not params.moves:
        return command
    base = abs(float(default.get("vx") or 0.0))
    speed = params.speed_mps
    if speed is None:
        fast = ranges.get("vx", (0.0, base))[1]
        speed = {"slow": SLOW_SPEED, "fast": fast}.get(params.pace or "", base)
    only_turn = params.turn is not None and params.direction is None and params.pace is None
    if only_turn and params.speed_mps is None:
        command.update(vx=0.0, vy=0.0)
    elif params.direction in ("left", "right"):
        command.update(vx=0.0, vy=speed if params.direction == "left" else -speed)
    else:
        command.update(vx=-speed if params.direction == "backward" else speed, vy=0.0)
    if params.turn is not None:
        angle = turn_radians(params) or 0.0
        sign = -1.0 if params.turn == "right" else 1.0
        if params.turn_deg is None and params.turn != "around":
            command.update(yaw_rate=sign * TURN_RATE, heading=None)
        else:
            command.update(yaw_rate=0.0, heading=float(wrap_angle(yaw + sign * angle)))
    for name, (low, high) in ranges.items():
        value = command.get(name)
        if value is not None and math.isfinite(value):
            command[name] = min(max(float(value), low), high)
    return command


class SkillGuide:
    """Instruction-driven expert fusion for one env (see the module docstring).

    Args:
        env: the task env (used for its observation layout and action size).
        experts: the library's experts, in the order of the weight vector.
        planner: tier 1 (e.g. ``make_planner("embedded")``).
        instruction: the task instruction, e.g. "walk to the door and open it".
        fusion: alpha, feature sizes, entropy bonus, or an ablation's settings.
        lr: learning rate of phi, psi (and the learned weighting of "w/o VLM").
        seed: initialisation of phi and psi.
    """

    def __init__(
        self,
        env: HumanoidEnv,
        experts: Sequence[Expert],
        planner: Planner,
        instruction: str,
        fusion: FusionConfig | None = None,
        lr: float = 1e-3,
        seed: int = 0,
        stall_steps: int = 150,
        _shared: tuple[Compositor, torch.optim.Optimizer] | None = None,
    ) -> None:
        if not experts:
            raise ValueError("the guide needs at least one expert; add some to the library")
        self.env = env
        self.experts = list(experts)
        self.planner = planner
        self.instruction = instruction
        self.stall_steps = stall_steps
        self.cards = [
            ExpertCard(e.name, e.spec.description, e.spec.skill, e.stages) for e in self.experts
        ]
        self.adapters = [make_adapter(env, e.spec) for e in self.experts]
        self.action_adapters = [make_action_adapter(env, e.spec) for e in self.experts]
        self.num_experts = len(self.experts)
        self.action_dim = int(env.action_space.shape[0])
        self.context_dim = self.num_experts * (1 + self.action_dim)
        obs_dim = int(env.observation_space.shape[0])
        if _shared is None:
            fusion = fusion or FusionConfig()
            psi = np.stack([e.psi[: fusion.feature_dim] for e in self.experts])
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                compositor = Compositor(obs_dim, psi, fusion)
            optimiser = torch.optim.Adam(compositor.parameters(), lr=lr)
            _shared = (compositor, optimiser)
        self.compositor, self.optimiser = _shared
        self.tracker: PlanTracker | None = None
        self._actions = np.zeros((self.num_experts, self.action_dim), dtype=np.float32)
        #: each commanded expert's own default command (restored for sub-goals without
        #: parameters); None for experts that take no walk command
        self.default_commands: list[Command | None] = [
            {f: getattr(e.command, f) for f in WALK_FIELDS}
            if set(WALK_FIELDS) <= set(e.command_fields)
            else None
            for e in self.experts
        ]

    # ------------------------------------------------------------------ closed loop
    def start_episode(self, obs: np.ndarray) -> list[dict[str, Any]]:
        """Plan the instruction afresh, reset the experts' episode state (a walker's gait
        clock) and evaluate them on the first observation."""
        for expert in self.experts:
            expert.reset(1)
        self.tracker = PlanTracker(
            self.planner, self.instruction, self.cards, stall_steps=self.stall_steps
        )
        self.tracker.start(observation=obs)
        self._command_experts(obs)
        self._actions = self.expert_actions(obs[None])[0]
        return list(self.tracker.events)

    def _command_experts(self, obs: np.ndarray) -> None:
        """Give the commanded experts the active sub-goal's parameters: a walker its velocity
        (see `walk_command`), a staged expert its stage (None: all of them)."""
        assert self.tracker is not None and self.tracker.plan is not None
        goals = self.tracker.plan.subgoals
        params = goals[min(self.tracker.index, len(goals) - 1)].params
        for expert, adapt, default in zip(
            self.experts, self.adapters, self.default_commands, strict=True
        ):
            if expert.stages:
                expert.set_command(stage=params.stage)
            if default is None:
                continue
            yaw = float(yaw_of(adapt(obs[None])[:, 3:7])[0])  # both layouts start with qpos
            expert.set_command(**walk_command(params, default, expert.command_ranges, yaw))

    def observe(self, obs: np.ndarray, info: dict[str, Any]) -> list[dict[str, Any]]:
        """Feed the task signals to the tracker; evaluate the experts on the new observation."""
        if self.tracker is None:
            raise RuntimeError("call start_episode(obs) before observe(...)")
        signals = {k: float(v) for k, v in info.items() if np.isscalar(v)}
        events = self.tracker.update(signals, observation=obs)
        if any(e["name"] in _SWITCHES for e in events):
            self._command_experts(obs)
        self._actions = self.expert_actions(obs[None])[0]
        return events

    @property
    def subgoal(self) -> str | None:
        """The active sub-goal's text ("done" once the plan is; None before an episode)."""
        if self.tracker is None or self.tracker.plan is None:
            return None
        current = self.tracker.current
        return "done" if current is None else current.text

    @property
    def weights(self) -> np.ndarray:
        """The active sub-goal's semantic weights w (K,)."""
        if self.tracker is None:
            raise RuntimeError("call start_episode(obs) first")
        return np.asarray(self.tracker.weights, dtype=np.float32)

    def context(self) -> np.ndarray:
        """``[w, expert actions]`` for the current observation, flat (context_dim,)."""
        return np.concatenate([self.weights, self._actions.reshape(-1)])

    # ------------------------------------------------------------------ fusion
    def expert_actions(self, obs: np.ndarray) -> np.ndarray:
        """Every expert's action (N, K, A) for task observations (N, D)."""
        parts = zip(self.experts, self.adapters, self.action_adapters, strict=True)
        return np.stack(
            [widen(e.act(adapt(obs))) for e, adapt, widen in parts], axis=1
        ).astype(np.float32)

    def _split(self, context: np.ndarray | torch.Tensor) -> tuple[Any, Any]:
        k = self.num_experts
        return context[:, :k], context[:, k:].reshape(-1, k, self.action_dim)

    def reference(self, obs: np.ndarray, context: np.ndarray | None) -> np.ndarray:
        """Fused reference actions (N, A); experts are re-evaluated when no context is given
        (which advances a stateful expert's gait clock: pass the stored context when acting)."""
        if context is None:
            w = np.tile(self.weights, (obs.shape[0], 1))
            actions = self.expert_actions(obs)
        else:
            w, actions = self._split(np.asarray(context, dtype=np.float32))
        with torch.no_grad():
            a_ref = self.compositor(
                torch.as_tensor(obs, dtype=torch.float32),
                torch.as_tensor(actions),
                torch.as_tensor(np.ascontiguousarray(w)),
            )
        return a_ref.clamp(-1.0, 1.0).numpy()

    def fused_weights(self, obs: np.ndarray) -> np.ndarray:
        """w~ (K,) for one observation under the active sub-goal (for weight timelines)."""
        with torch.no_grad():
            return self.compositor.weights(
                torch.as_tensor(obs[None], dtype=torch.float32), torch.as_tensor(self.weights)
            )[0].numpy()

    def learn(self, obs: torch.Tensor, context: torch.Tensor | None, q_fn: QFunction) -> dict:
        """One Adam step of phi and psi maximising Q(s, a_ref) (plus the entropy bonus)."""
        if context is None:
            raise ValueError("SkillGuide.learn needs the stored context of each transition")
        w, actions = self._split(context)
        loss, metrics = fusion_loss(self.compositor, obs, actions, q_fn, w)
        self.optimiser.zero_grad(set_to_none=True)
        loss.backward()
        self.optimiser.step()
        return metrics | {"skills/fusion_loss": float(loss.detach())}

    # ------------------------------------------------------------------ bookkeeping
    def spawn(self) -> SkillGuide:
        """A guide with the same experts, planner and learned fusion, its own episode state
        (experts are shallow copies: shared weights, their own gait clock and command)."""
        guide = SkillGuide(
            self.env, [copy.copy(e) for e in self.experts], self.planner, self.instruction,
            stall_steps=self.stall_steps, _shared=(self.compositor, self.optimiser),
        )  # fmt: skip
        guide.default_commands = list(self.default_commands)  # not a sub-goal's command
        return guide

    def state_dict(self) -> dict[str, Any]:
        """The learned fusion and its optimiser."""
        return {
            "compositor": self.compositor.state_dict(),
            "optimiser": self.optimiser.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.compositor.load_state_dict(state["compositor"])
        self.optimiser.load_state_dict(state["optimiser"])
