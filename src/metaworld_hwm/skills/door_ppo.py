"""PPO for the legs of the door's sweep, trained on ``h1grip-door`` itself.

The door opener (:class:`~metaworld_hwm.skills.door.DoorOpener`) sweeps the unlocked door
from its lock tab (~0.28 rad) toward 0.9 rad with its arm while a command walker (the
``pull`` expert, trained with a steady hand load) holds the pelvis at a stance that recedes
with the door. Under the door's real load the pelvis drifts ~0.17 m left and its yaw turns
~0.5 rad, and that, not the arm's reach, ends the sweep at ~0.8 rad: followed kinematically
from the same start with the pelvis held where it began, the arm reaches 0.95 rad
(``bench/door_reach.py``). So the legs are trained where the drift happens.

:class:`DoorSweepEnv` is an episode of the sweep: it begins from a snapshot taken where the
opener's sweep begins (the regrasped lever, the door on its lock tab; snapshots of a few
opener episodes, each run once per env), the opener drives the arm, gripper and torso and
sets the legs' walk command toward its stance, and the policy's 10 leg outputs replace the
pull expert's. Its observation is the walker's own input (:func:`~metaworld_hwm.skills.
walk.walk_features` with the opener's command and the pull expert's gait clock), so the pull
expert's network is the starting policy. The episode ends on a fall, when the bar leaves the
gripper (the opener goes back to its pregrasp) or after ``episode_steps``.

Reward, per step:

    r = PROGRESS_SCALE * (new highest door angle of the episode - the previous highest)
        + hold_weight * (gamma * hold' - hold)
        + (open_reward + stance_reward * hold') * [door >= 0.9 rad] - FALL_PENALTY * fell

``hold`` = ``exp(-|dp|^2 / 2 0.1^2) exp(-dyaw^2 / 2 0.2^2)`` is how well the pelvis keeps the
offset from the receding stance and the yaw it had when the sweep began: from there the arm
reaches 0.95 rad (``bench/door_reach.py``). It enters as potential-based shaping, which
leaves the best policy unchanged. A first run rewarded the task's own per-step terms
(``0.45 min(1, q |q|)`` ...) with ``hold`` added each step: the episodes grew longer (the
grasp kept) while the door opened no further (``results/door/README.md``), since a sweep
that reaches the arm's end loses the bar and ends the rewards. Here an episode pays only
for how far it takes the door, and with ``open_reward`` (``--open-reward``) for each step
the door stays open too: with the opener's ``hold_door`` the sweep stops the door there, and
the legs and arm learn to keep the bar while it is held (the task pays 0.45 per step for a
door at 1 rad or more). The held door is lost to the body walking forward, not to the grasp
(``results/door/README.md``, session 19), so ``stance_reward`` (``--stance-reward``) pays
``hold`` itself each step the door is open, a dense term for keeping the stance there.

    metaworld-hwm experts train door-pull --library experts/door --from pull \\
        --objective door-sweep --iterations 300

``--pull-legs NAME`` (from ``--library``) keeps another walker for the pull before the lock, as
the door expert does (``pull``) when its sweep legs (``--from door-pull``) train on.

``--start-door RAD`` (``start_door``) begins the episodes at the sweep's first step with the
door at RAD or more instead, e.g. 0.9: the hold of the opened door alone, which every episode
from the sweep's start reaches only after ~100-250 steps.

``--sweep-arm`` (``arm=True``) lets the policy move the arm too: it also reads the arm's and
the door's state and gives one residual (rad) per arm joint on the opener's servo targets
(:mod:`~metaworld_hwm.skills.sweep_arm`). It starts from the walker's network widened with
zero weights, so its first policy is the legs-only one with no residual.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD
from metaworld_hwm.skills.door import DoorOpener, run_door_episode
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import NUM_LEG_JOINTS, leg_action, wrap_angle, yaw_of
from metaworld_hwm.skills.ppo import EvaluateFn, Objective
from metaworld_hwm.skills.sweep_arm import RESIDUAL_LIMIT, ArmSweepWalker, arm_context_dim
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert

#: Seeds of the opener episodes whose sweep starts become the snapshots.
SNAPSHOT_SEEDS = tuple(range(16))
#: Spreads (m, rad) of the hold term's pelvis offset and yaw.
HOLD_SIGMA = (0.1, 0.2)
#: Reward per radian of new door opening, and for a fall.
PROGRESS_SCALE = 10.0
FALL_PENALTY = 2.0
#: The discount of the hold term's shaping (PPO's gamma).
SHAPING_GAMMA = 0.99
#: Largest opener episode (steps) searched for the sweep's start.
SEARCH_STEPS = 1000
#: Sweep-start snapshots per (walkers, seeds, opener settings), built once per process.
_SNAPSHOTS: dict[tuple[Any, ...], list[dict[str, Any]]] = {}


def load_walkers(libraries: tuple[str, ...]) -> tuple[WalkExpert, ...]:
    """The walkers named by ``(library, name, library, name, ...)``."""
    pairs = zip(libraries[::2], libraries[1::2], strict=True)
    return tuple(ExpertLibrary.load(library)[name] for library, name in pairs)


class _PolicyLegsMixin:
    """A sweep walker whose legs PPO's policy gives: :meth:`act` records the features its
    network would read (:attr:`features_read`) and moves its gait clock on, and returns the
    other joints' hold targets with the legs at their default pose (the env puts the policy's
    legs there), so the opener's step costs no network pass that the env would overwrite."""

    features_read: np.ndarray | None = None

    def _act(self, obs: np.ndarray) -> np.ndarray:
        self.features_read = self.features(obs)  # type: ignore[attr-defined]
        self.advance_clock()  # type: ignore[attr-defined]
        return leg_action(np.zeros((obs.shape[0], NUM_LEG_JOINTS)), self.ctrlrange)  # type: ignore[attr-defined]


class PolicyLegs(_PolicyLegsMixin, WalkExpert):
    """The policy's legs in place of a command walker (:class:`_PolicyLegsMixin`)."""

    def __init__(self, walker: WalkExpert) -> None:
        WalkExpert.__init__(self, walker.spec, walker.policy, walker.ctrlrange)
        self.clock, self.command = walker.clock.copy(), walker.command


class PolicyArmLegs(_PolicyLegsMixin, ArmSweepWalker):
    """The policy's legs and arm residuals in place of an arm sweep walker: the opener sets
    its arm context, and the env adds the policy's residuals to the opener's arm targets."""

    def __init__(self, walker: ArmSweepWalker) -> None:
        ArmSweepWalker.__init__(self, walker.spec, walker.policy, walker.ctrlrange)
        self.clock, self.command = walker.clock.copy(), walker.command


class DoorSweepEnv(gym.Env):
    """The door's sweep with the legs left to the policy (module docstring).

    Args:
        legs: the opener's walker for the approach and the grasp stages.
        pull_legs: the opener's walker for the pull before the lock (for the snapshots).
        sweep_legs: the walker whose command and gait clock the policy is given (its network
            is what PPO starts from; default: ``pull_legs``).
        snapshot_seeds: opener episodes whose sweep starts are the episodes' first states.
        episode_steps: control steps per episode (truncation).
        velocity_noise: U(-x, x) m/s (rad/s) added to the robot's velocities at each reset.
        hold_weight: weight of the pelvis-hold shaping term.
        open_reward: reward per step with the door open (>= ``DOOR_OPEN_RAD``).
        stance_reward: reward per step with the door open, times the hold term.
        config: the opener's settings.
        arm: the policy also gives residuals on the opener's arm targets
            (:class:`~metaworld_hwm.skills.sweep_arm.ArmSweepWalker`), and reads the arm context.
        snapshot_variants: other opener settings whose episodes (of ``snapshot_seeds``) give
            sweep starts too, e.g. faster stages before the sweep: the policy then meets the
            states those pipelines reach. The episodes' sweep runs on ``config``.
        start_door: begin the episodes later in the sweep, at its first step with the door
            at this angle (rad) or more, e.g. 0.9 to train the hold of the opened door alone
            (None: where the sweep begins).
    """

    def __init__(
        self, legs: WalkExpert, pull_legs: WalkExpert,
        snapshot_seeds: tuple[int, ...] = SNAPSHOT_SEEDS, episode_steps: int = 300,
        velocity_noise: float = 0.05, hold_weight: float = 1.0,
        config: DoorOpenerConfig | None = None, sweep_legs: WalkExpert | None = None,
        arm: bool = False, open_reward: float = 0.0,
        snapshot_variants: tuple[DoorOpenerConfig, ...] = (), stance_reward: float = 0.0,
        start_door: float | None = None,
    ) -> None:  # fmt: skip
        self.env = HumanoidEnv("h1grip", "door", max_episode_steps=10**9)
        sweep_legs = sweep_legs or pull_legs
        self.opener = DoorOpener(copy.copy(legs), copy.copy(pull_legs), config,
                                 copy.copy(sweep_legs) if sweep_legs is not pull_legs else None)
        self.episode_steps = episode_steps
        self.velocity_noise = velocity_noise
        self.hold_weight = hold_weight
        self.open_reward = open_reward
        self.stance_reward = stance_reward
        self._hold_origin = np.zeros(3)  # pelvis offset from the stance (x, y) and yaw
        self._hold, self._best_door = 1.0, 0.0
        self.arm_joints = len(self.opener.config.ik_joints) if arm else 0
        inputs = NUM_FEATURES + (arm_context_dim(self.arm_joints) if arm else 0)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (inputs,), np.float64)
        self.action_space = gym.spaces.Box(
            -np.inf, np.inf, (NUM_LEG_JOINTS + self.arm_joints,), np.float64)  # fmt: skip
        self._ctrlrange = sweep_legs.ctrlrange
        configs = (self.opener.config, *snapshot_variants)
        if any(c.ik_joints != self.opener.config.ik_joints for c in configs):
            raise ValueError("snapshot variants must move the opener's own IK joints")
        self.start_door = start_door
        key = (legs.name, pull_legs.name, tuple(snapshot_seeds), configs, start_door)
        if key not in _SNAPSHOTS:  # the envs of one worker process share them (copied on use)
            starts = (self._sweep_start(seed, c) for c in configs for seed in snapshot_seeds)
            _SNAPSHOTS[key] = [s for s in starts if s]
        self.snapshots = _SNAPSHOTS[key]
        if not self.snapshots:
            raise RuntimeError(f"no opener episode of seeds {snapshot_seeds} began the sweep")
        # every step from a snapshot is the sweep's pull, whose legs the policy gives
        self._policy_legs = _policy_legs(self.opener.sweep_legs, self.arm_joints)
        self.opener.sweep_legs = self.opener.hold_legs = self._policy_legs
        self._steps = 0
        self._pending = np.zeros(self.env.model.nu)
        self._features = np.zeros(inputs)

    def _sweep_start(self, seed: int, config: DoorOpenerConfig) -> dict[str, Any] | None:
        """The env and opener state where episode ``seed``'s sweep begins with the opener's
        settings ``config`` (None: never): the first pull after the release, or without
        ``release_at_unlock`` the first step of the pull past the lock; with ``start_door``,
        the first step of that pull with the door at that angle or more."""
        opener = self.opener
        own, opener.config = opener.config, config
        try:
            obs, _ = self.env.reset(seed=seed)
            opener.reset()
            released = False
            for _ in range(SEARCH_STEPS):
                released = released or opener.stage == "release"
                held_on = not config.release_at_unlock and opener.unlocked
                door_there = self.start_door is None or opener.door_angle(obs) >= self.start_door
                if (released or held_on) and opener.stage == "pull" and door_there:
                    return {"env": self.env.get_state(), "opener": opener.episode_state(),
                            "obs": obs}  # fmt: skip
                obs, _, terminated, _, _ = self.env.step(opener.act(obs))
                if terminated:
                    return None
            return None
        finally:
            opener.config = own

    def _prepare(self, obs: np.ndarray) -> None:
        """The opener's action for ``obs`` (its legs to be replaced) and the policy's input:
        the sweep walker's features under the command the opener just set."""
        opener, legs = self.opener, self._policy_legs
        legs.features_read, clock = None, legs.clock.copy()
        self._pending = opener.act(obs, clip=False)  # clipped with the policy's part in step
        if legs.features_read is None:  # the door fell back toward the lock: pull legs acted
            nq = opener.model.nq
            robot = np.concatenate([obs[opener._robot_qpos], obs[nq + opener._robot_dof]])
            if isinstance(legs, ArmSweepWalker):
                legs.context = opener.arm_context(obs[:nq], obs[nq:])[None]
            legs.features_read = legs.features(robot[None], clock)
        self._features = legs.features_read[0].copy()

    def _pelvis_offset(self) -> np.ndarray:
        """The pelvis's (x, y) offset from the opener's stance for the door now, and its yaw."""
        qpos = self.env.data.qpos
        stance, _ = self.opener._sweep_stance(self.door_angle())
        return np.r_[qpos[:2] - stance, yaw_of(qpos[None, 3:7])[0]]

    def hold(self) -> float:
        """How well the pelvis holds its offset from the stance and its yaw since the episode
        began: 1 exactly, falling off with ``HOLD_SIGMA``."""
        drift = self._pelvis_offset() - self._hold_origin
        drift[2] = wrap_angle(drift[2])
        return float(np.exp(-(drift[:2] @ drift[:2]) / (2 * HOLD_SIGMA[0] ** 2)
                            - drift[2] ** 2 / (2 * HOLD_SIGMA[1] ** 2)))  # fmt: skip

    def door_angle(self) -> float:
        """The door's hinge angle now (rad)."""
        return float(self.env.data.qpos[self.opener._door_qpos])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
        super().reset(seed=seed)
        snapshot = self.snapshots[int(self.np_random.integers(len(self.snapshots)))]
        self.env.set_state(snapshot["env"])
        self.opener.load_episode_state(snapshot["opener"])
        data = self.env.data
        robot_dofs = self.opener._robot_dof
        data.qvel[robot_dofs] += self.np_random.uniform(
            -self.velocity_noise, self.velocity_noise, len(robot_dofs))  # fmt: skip
        obs = snapshot["obs"].copy()
        obs[self.env.model.nq + robot_dofs] = data.qvel[robot_dofs]
        self._steps = 0
        self._hold_origin = self._pelvis_offset()
        self._hold, self._best_door = 1.0, self.door_angle()
        self._prepare(obs)
        return self._features.copy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        action = np.asarray(action, dtype=np.float64)
        legs = leg_action(action[None, :NUM_LEG_JOINTS], self._ctrlrange)[0]
        full = self._pending.copy()
        full[:NUM_LEG_JOINTS] = legs[:NUM_LEG_JOINTS]
        if self.arm_joints:
            residual = np.clip(action[NUM_LEG_JOINTS:], -RESIDUAL_LIMIT, RESIDUAL_LIMIT)
            full = self.opener.add_arm_residual(full, residual)
        obs, task_reward, terminated, _, info = self.env.step(np.clip(full, -1.0, 1.0))
        door, hold = self.door_angle(), self.hold()
        reward = (PROGRESS_SCALE * max(0.0, door - self._best_door)
                  + self.hold_weight * (SHAPING_GAMMA * hold - self._hold)
                  + (self.open_reward + self.stance_reward * hold) * (door >= DOOR_OPEN_RAD)
                  - FALL_PENALTY * terminated)  # fmt: skip
        self._best_door, self._hold = max(self._best_door, door), hold
        self._steps += 1
        if not terminated:
            self._prepare(obs)
            terminated = self.opener.stage != "pull"  # the bar left the gripper
        truncated = self._steps >= self.episode_steps
        info = dict(info, door=door, hold=hold, task_reward=task_reward)
        return self._features.copy(), float(reward), bool(terminated), truncated, info

    def get_state(self) -> dict[str, Any]:
        """Physics, opener, step count, pending action and RNG (for checkpoints)."""
        return {"env": self.env.get_state(), "opener": self.opener.episode_state(),
                "steps": self._steps, "pending": self._pending.copy(),
                "hold_origin": self._hold_origin.copy(), "hold": self._hold,
                "best_door": self._best_door,
                "features": self._features.copy(),
                "rng": self.np_random.bit_generator.state}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        self.env.set_state(state["env"])
        self.opener.load_episode_state(state["opener"])
        self._steps = int(state["steps"])
        self._pending = state["pending"].copy()
        self._hold_origin = state["hold_origin"].copy()
        self._hold, self._best_door = state["hold"], state["best_door"]
        self._features = state["features"].copy()
        self.np_random.bit_generator.state = state["rng"]


def _policy_legs(walker: WalkExpert, arm_joints: int) -> PolicyLegs | PolicyArmLegs:
    """The env's stand-in for the sweep walker: legs only, or legs and arm residuals (the
    walker widened to an arm sweep walker when it is not one)."""
    if not arm_joints:
        return PolicyLegs(walker)
    if not isinstance(walker, ArmSweepWalker):
        walker = ArmSweepWalker.from_walker(walker, arm_joints)
    return PolicyArmLegs(walker)


def door_signals(env: DoorSweepEnv, info: dict[str, Any]) -> np.ndarray:
    """The door's angle and the hold term after a step (for the iteration's statistics)."""
    return np.array([info["door"], info["hold"]])


def make_sweep_env(
    libraries: tuple[str, ...], episode_steps: int, config: DoorOpenerConfig | None = None,
    arm: bool = False, open_reward: float = 0.0,
    snapshot_variants: tuple[DoorOpenerConfig, ...] = (), stance_reward: float = 0.0,
    snapshot_seeds: tuple[int, ...] = SNAPSHOT_SEEDS, start_door: float | None = None,
) -> DoorSweepEnv:  # fmt: skip
    """A :class:`DoorSweepEnv` with walkers loaded from ``(legs library, legs, pull library,
    pull, sweep library, sweep)`` (picklable for worker processes), the opener's settings
    ``config``, arm residuals or not (``arm``), the reward per open step, the settings
    whose sweep starts are snapshots too, the stance reward per open step, the opener
    episodes the snapshots come from and the door angle they start at; the same pull and
    sweep walker is one walker, as in an opener without sweep legs of its own."""
    legs, pull, sweep = load_walkers(libraries)
    own_sweep = sweep if libraries[2:4] != libraries[4:6] else None
    return DoorSweepEnv(legs, pull, snapshot_seeds=snapshot_seeds, episode_steps=episode_steps,
                        config=config, sweep_legs=own_sweep, arm=arm, open_reward=open_reward,
                        snapshot_variants=snapshot_variants,
                        stance_reward=stance_reward, start_door=start_door)  # fmt: skip


class DoorSweepObjective(Objective):
    """The sweep's legs: the env's own features in, 10 leg outputs out (``arm``: the arm
    context in too, the arm's residuals out too), the env's reward."""

    signal_fn = staticmethod(door_signals)
    early_end = "falls or bars lost"

    def __init__(self, libraries: tuple[str, ...], episode_steps: int = 300,
                 config: DoorOpenerConfig | None = None, arm: bool = False,
                 open_reward: float = 0.0,
                 snapshot_variants: tuple[DoorOpenerConfig, ...] = (),
                 stance_reward: float = 0.0,
                 snapshot_seeds: tuple[int, ...] = SNAPSHOT_SEEDS,
                 start_door: float | None = None) -> None:  # fmt: skip
        self.libraries = libraries
        self.start_door = start_door
        self.snapshot_seeds = snapshot_seeds
        self.snapshot_variants = snapshot_variants
        self.stance_reward = stance_reward
        self.open_reward = open_reward
        self.episode_steps = episode_steps
        self.config = config or DoorOpenerConfig()
        self.arm = arm
        #: Arm joints the residuals move (0: legs only).
        self.arm_joints = len(self.config.ik_joints) if arm else 0
        self.feature_dim = NUM_FEATURES + (arm_context_dim(self.arm_joints) if arm else 0)
        self.output_dim = NUM_LEG_JOINTS + self.arm_joints
        self._door_sum, self._door_max, self._hold_sum, self._steps = 0.0, 0.0, 0.0, 0

    def env_factory(self) -> functools.partial[DoorSweepEnv]:
        return functools.partial(make_sweep_env, self.libraries, self.episode_steps,
                                 self.config, self.arm, self.open_reward,
                                 self.snapshot_variants, self.stance_reward,
                                 self.snapshot_seeds, self.start_door)  # fmt: skip

    def reward(self, step: Any) -> np.ndarray:
        door = step.signals[:, 0]
        self._door_sum += float(door.sum())
        self._door_max = max(self._door_max, float(door.max()))
        self._hold_sum += float(step.signals[:, 1].sum())
        self._steps += len(door)
        return step.reward

    def end_iteration(self, stats: dict[str, float]) -> dict[str, float]:
        steps = max(1, self._steps)
        row = {"door_mean": self._door_sum / steps, "door_max": self._door_max,
               "hold": self._hold_sum / steps}  # fmt: skip
        self._door_sum, self._door_max, self._hold_sum, self._steps = 0.0, 0.0, 0.0, 0
        return row


def swept_walker(base: WalkExpert, policy: nn.Module, name: str, provenance: dict[str, Any],
                 arm_joints: int = 0) -> WalkExpert:  # fmt: skip
    """``base`` (the pull walker) with PPO's network, renamed, its provenance recorded; with
    ``arm_joints`` an :class:`~metaworld_hwm.skills.sweep_arm.ArmSweepWalker` (the network
    then gives the arm's residuals too)."""
    config = dict(base.spec.config)
    config["design"] = ("pull walker fine-tuned by PPO (rsl_rl) on h1grip-door's reward, "
                        "legs of the door opener's sweep"
                        + (" with residuals on its arm targets" if arm_joints else ""))  # fmt: skip
    config["provenance"] = provenance
    spec = dataclasses.replace(base.spec, name=name, config=config,
                        description="Legs of the door's sweep: hold the stance the door "
                                    "opener commands under the door's load.")  # fmt: skip
    if arm_joints:
        spec = dataclasses.replace(spec, controller=ArmSweepWalker.controller_name,
                                   config=dict(config, arm_joints=arm_joints))  # fmt: skip
        return ArmSweepWalker(spec, policy, base.ctrlrange)
    return WalkExpert(dataclasses.replace(spec, controller=WalkExpert.controller_name), policy,
                      base.ctrlrange)  # fmt: skip


def sweep_evaluation(libraries: tuple[str, ...], base: WalkExpert,
                     config: DoorOpenerConfig | None = None, seed: int = 20_000,
                     steps: int = 1000, arm_joints: int = 0,
                     hold: bool = False) -> EvaluateFn:  # fmt: skip
    """An ``evaluate`` callback: a whole opener episode on ``h1grip-door`` (seed ``seed + k``)
    with the walkers of ``libraries`` (:func:`make_sweep_env`), the opener's settings
    ``config`` and the policy in ``base``'s place as the sweep's legs (``arm_joints``: and
    the arm's residuals), or with ``hold`` as the hold's legs only (``base`` sweeping until
    the door is open: the policy was trained from there, ``start_door``); its return, fall
    and largest door angle."""
    legs, pull = load_walkers(libraries[:4])

    def evaluate(policy: nn.Module, episode: int) -> dict[str, float]:
        trained = swept_walker(base, copy.deepcopy(policy).eval(), "eval", {}, arm_joints)
        opener = DoorOpener(legs, copy.copy(pull), config,
                            sweep_legs=copy.copy(base) if hold else trained,
                            hold_legs=trained if hold else None)  # fmt: skip
        with torch.no_grad():
            run = run_door_episode(opener, seed + episode, steps)
        return {"eval_return": run.task_return, "eval_fell": int(run.fell),
                "eval_door": run.door}  # fmt: skip

    return evaluate
