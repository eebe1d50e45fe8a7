"""PPO objectives for command-conditioned locomotion, starting from the walk expert.

The policy is the walk expert's network (35 features: body state, command, gait clock -> 10
leg outputs; see :mod:`metaworld_hwm.skills.walk`). Each env runs forward along +x holding
heading 0 at its own commanded speed, and PPO maximises HumanoidBench's walk/run reward with
the target speed set to that command:

    r = small_control * stand_reward * (1 + 5 * move) / 6,
    move = tolerance(com_vx, bounds=(command, inf), margin=command, linear)

which is h1-walk's reward at command 1 m/s and h1-run's at 5 m/s. With a speed curriculum,
the top commanded speed (``target_speed``) starts at the walker's and rises by
``curriculum_step`` once robots asked for it have held 90 % of it on average, with few falls,
for ``level_iterations`` iterations and one ended episode per env (so that starts from standing
and whole episodes at that speed are in the window; falls are counted per ended episode,
:class:`~metaworld_hwm.skills.curriculum.CurriculumWindow`); most envs are asked for the top
speed, the others for a speed drawn below it (down to ``min_speed``), so slower commands stay
trained. Optional random pushes change the pelvis velocity. The gait clock may run faster for
faster commands (:class:`~metaworld_hwm.skills.locomotion.Cadence`): the walker alone, its
clock run 1.5 times faster and commanded 1.6 m/s, already walks 1.55 m/s without falling
(return 390 on h1-run, against 312 at its own 0.8 s stride), and 1.7 times faster 1.99 m/s
(return 456), so a runner starts from stepping faster.
"""

from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from torch import nn

from metaworld_hwm.envs.humanoid_env import CONTROL_DT, HumanoidEnv
from metaworld_hwm.envs.vector import EnvFactory, VectorStep
from metaworld_hwm.skills.curriculum import CurriculumWindow
from metaworld_hwm.skills.expert import ExpertSpec, MLPPolicy
from metaworld_hwm.skills.locomotion import (
    NUM_LEG_JOINTS,
    Cadence,
    WalkCommand,
    leg_action,
    yaw_of,
)
from metaworld_hwm.skills.ppo import EvaluateFn, Objective
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert, walk_features

#: Signals the workers report after each step (before any reset): COM vx, vy (m/s),
#: small_control, stand_reward, the pelvis's yaw (rad).
SIGNALS = ("com_vx", "com_vy", "small_control", "stand_reward", "yaw")


def locomotion_signals(env: HumanoidEnv, info: dict[str, float]) -> np.ndarray:
    """:data:`SIGNALS` of a stepped h1 env from its physics and the step's reward terms
    (computed in the worker process)."""
    vel = env.unwrapped.physics.center_of_mass_velocity()
    yaw = yaw_of(env.unwrapped.data.qpos[None, 3:7])[0]
    return np.array([vel[0], vel[1], info["small_control"], info["stand_reward"], yaw])


@dataclass(frozen=True)
class SpeedCurriculum:
    """Commanded forward speeds (m/s) and how the top one rises."""

    start_speed: float = 1.0
    max_speed: float = 5.0
    min_speed: float = 0.5
    """Lowest speed drawn for the envs not asked for the top speed."""
    top_share: float = 0.75
    """Share of episodes commanded the top speed."""
    curriculum_step: float = 0.0
    """Rise of the top speed once it is held (0: fixed speeds)."""
    level_iterations: int = 20
    """Iterations at a speed before it may rise (the window of the hold and fall counts; it
    also waits for one ended episode per env, :class:`~metaworld_hwm.skills.curriculum.
    CurriculumWindow`)."""
    hold_ratio: float = 0.9
    max_fall_share: float = 0.1
    """Falls per episode ended in the window that still allow a rise."""
    push_speed: float = 0.0
    """Largest random pelvis velocity change at a push (0: no pushes)."""
    push_interval: tuple[float, float] = (2.0, 5.0)
    cadence: Cadence = field(default_factory=Cadence)
    """Gait clock rate per commanded speed (default: the walker's, real time)."""

    def __post_init__(self) -> None:
        if not 0 < self.min_speed <= self.start_speed <= self.max_speed:
            raise ValueError(
                "speeds must satisfy 0 < min_speed <= start_speed <= max_speed, got "
                f"{self.min_speed}, {self.start_speed}, {self.max_speed}"
            )
        if not 0.0 <= self.top_share <= 1.0:
            raise ValueError(f"top_share must lie in [0, 1], got {self.top_share}")


class ForwardSpeedObjective(Objective):
    """Run (or walk) forward at a commanded speed, from the walk expert (module docstring).

    Args:
        task: ``"run"`` or ``"walk"``: the env whose own reward is reported alongside.
        curriculum: commanded speeds, curriculum and pushes.
        episode_steps: control steps per training episode (the benchmark's episodes are
            1000, its 30-s hold 1500: a gait that creeps faster than its command and falls
            after 1000 steps is never seen in 1000-step episodes).
        heading_sigma: when > 0, the training reward is also scaled by
            ``exp(-(yaw / heading_sigma)^2 / 2)``: the envs command heading 0, and h1-run's
            reward (forward COM speed) does not say so; a runner whose heading drifts by
            0.6 rad must run 1.2x faster for the same forward speed, and falls.
        effort_power: the training reward's ``small_control`` is raised to this power. The
            walker's h1-walk return is capped at ~927 by its legs' torques (``small_control``
            0.927 once at speed, ``results/walk_ppo/``), and in the task's own reward
            (power 1) a lower-torque gait is worth little against the move term's noise.
        move_target: the training reward's move target (m/s) for the envs commanded the top
            speed; the others keep their command (default: the top speed itself). The policy
            reads the command and the gait clock follows it, so a runner commanded the speed
            it holds (3.3 m/s) with h1-run's own target (5.0) is paid for running faster
            without the shift in its inputs a higher command brings; a walker commanded
            1.2 m/s with h1-walk's target (1.0) is paid for effort alone once at 1 m/s.
    """

    feature_dim = NUM_FEATURES
    output_dim = NUM_LEG_JOINTS
    signal_fn = staticmethod(locomotion_signals)

    def __init__(self, task: str, curriculum: SpeedCurriculum, episode_steps: int = 1000,
                 heading_sigma: float = 0.0, effort_power: float = 1.0,
                 move_target: float | None = None) -> None:  # fmt: skip
        if task not in ("run", "walk"):
            raise ValueError(f"forward-speed PPO trains on run or walk, not {task!r}")
        if episode_steps < 1 or heading_sigma < 0 or effort_power <= 0:
            raise ValueError(
                "episode_steps must be >= 1, heading_sigma >= 0 and effort_power > 0, got "
                f"{episode_steps}, {heading_sigma}, {effort_power}"
            )
        if move_target is not None and move_target <= 0:
            raise ValueError(f"move_target must be > 0, got {move_target}")
        self.move_target = move_target
        self.task = task
        self.episode_steps = episode_steps
        self.heading_sigma = heading_sigma
        self.effort_power = effort_power
        self.curriculum = curriculum
        self.ctrlrange = HumanoidEnv("h1", task).model.actuator_ctrlrange.copy()
        self.target_speed = curriculum.start_speed
        self.window = CurriculumWindow(curriculum.level_iterations, min_episodes=1)

    def env_factory(self) -> EnvFactory:
        return functools.partial(HumanoidEnv, "h1", self.task,
                                 max_episode_steps=self.episode_steps)  # fmt: skip

    def _draw_speed(self, i: int, rng: np.random.Generator) -> None:
        c = self.curriculum
        self.top[i] = rng.random() < c.top_share or self.target_speed <= c.min_speed
        self.speed[i] = (self.target_speed if self.top[i]
                         else rng.uniform(c.min_speed, self.target_speed))  # fmt: skip

    def _next_push(self, rng: np.random.Generator, now: float) -> float:
        if self.curriculum.push_speed <= 0:
            return np.inf
        return now + rng.uniform(*self.curriculum.push_interval)

    def start(self, num_envs: int, obs: np.ndarray, rng: np.random.Generator) -> None:
        self.clock = np.zeros(num_envs)
        self.gait = np.zeros(num_envs)
        self.speed, self.top = np.zeros(num_envs), np.zeros(num_envs, dtype=bool)
        for i in range(num_envs):
            self._draw_speed(i, rng)
        self.next_push = np.array([self._next_push(rng, 0.0) for _ in range(num_envs)])
        self.window.min_episodes = num_envs

    def commands(self, obs: np.ndarray) -> np.ndarray:
        """(vx, vy, yaw rate) per env as the policy reads them: its speed (capped by the
        cadence's ``max_feature_speed``), holding heading 0."""
        rates = WalkCommand(heading=0.0).velocities(yaw_of(obs[:, 3:7]))
        rates[:, 0] = self.curriculum.cadence.feature_speed(self.speed)
        return rates

    def features(self, obs: np.ndarray) -> np.ndarray:
        return walk_features(obs[:, :26], obs[:, 26:51], self.commands(obs), self.gait)

    def env_actions(self, outputs: np.ndarray) -> np.ndarray:
        return leg_action(outputs, self.ctrlrange)

    def reward(self, step: VectorStep) -> np.ndarray:
        vx, _, small_control, stand, yaw = step.signals.T
        move = np.clip(vx / self.speed, 0.0, 1.0)  # tolerance(bounds=(v, inf), margin=v, linear)
        self.window.add_steps(float(move[self.top].sum()), int(self.top.sum()))
        if self.move_target is not None:
            target = np.where(self.top, self.move_target, self.speed)
            move = np.clip(vx / target, 0.0, 1.0)
        reward = small_control**self.effort_power * stand * (1.0 + 5.0 * move) / 6.0
        if self.heading_sigma > 0:
            reward = reward * np.exp(-0.5 * (yaw / self.heading_sigma) ** 2)
        return reward

    def after_step(self, step: VectorStep, rng: np.random.Generator) -> np.ndarray | None:
        self.clock += CONTROL_DT
        self.gait += CONTROL_DT * self.curriculum.cadence.rate(self.speed)
        pushes = np.zeros((len(self.clock), 2))
        for i in np.flatnonzero(step.done):
            self.clock[i] = self.gait[i] = 0.0
            self._draw_speed(i, rng)
            self.next_push[i] = self._next_push(rng, 0.0)
        for i in np.flatnonzero(self.clock >= self.next_push):
            angle = rng.uniform(-np.pi, np.pi)
            pushes[i] = rng.uniform(0.0, self.curriculum.push_speed) * np.array(
                [np.cos(angle), np.sin(angle)]
            )
            self.next_push[i] = self._next_push(rng, self.clock[i])
        return pushes if pushes.any() else None

    def end_iteration(self, stats: dict[str, float]) -> dict[str, float]:
        c, window = self.curriculum, self.window
        window.end_iteration(stats)
        held = window.score
        if window.closed:
            if c.curriculum_step > 0 and window.held(c.hold_ratio, c.max_fall_share):
                self.target_speed = min(c.max_speed, self.target_speed + c.curriculum_step)
                self.speed[self.top] = self.target_speed
            window.restart()
        return {"target_speed": self.target_speed, "held": held}

    def state_dict(self) -> dict[str, Any]:
        return {"clock": self.clock, "gait": self.gait, "speed": self.speed, "top": self.top,
                "next_push": self.next_push, "target_speed": self.target_speed,
                "window": self.window.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.clock, self.speed = state["clock"].copy(), state["speed"].copy()
        self.top, self.gait = state["top"].copy(), state["gait"].copy()
        self.next_push, self.target_speed = state["next_push"].copy(), state["target_speed"]
        self.window.min_episodes = len(self.speed)
        self.window.load_state_dict(state["window"] if "window" in state else state["tallies"])


def forward_episode(
    expert: WalkExpert, task: str, speed: float, seed: int, steps: int = 1000,
    hold_steps: int = 0,
) -> tuple[float, float, bool]:  # fmt: skip
    """(task return over ``steps``, mean forward COM speed, fell) of ``expert`` commanded
    ``speed`` forward; the episode runs on to ``hold_steps`` when longer (a fall there
    counts, its reward does not: the benchmark's return and its 30-s hold)."""
    length = max(steps, hold_steps)
    env = HumanoidEnv("h1", task, max_episode_steps=length)
    obs, _ = env.reset(seed=seed)
    expert.reset(1)
    expert.set_command(vx=speed, vy=0.0, heading=0.0)
    ret, speeds, terminated = 0.0, [], False
    for t in range(length):
        obs, reward, terminated, truncated, _ = env.step(expert.act(obs))
        ret += reward if t < steps else 0.0
        speeds.append(float(env.physics.center_of_mass_velocity()[0]))
        if terminated or truncated:
            break
    return ret, float(np.mean(speeds)), bool(terminated)


def trained_expert(
    name: str,
    skill: str,
    task: str,
    policy: MLPPolicy,
    ctrlrange: np.ndarray,
    speed_range: tuple[float, float],
    provenance: dict[str, Any],
    hidden: tuple[int, ...],
    cadence: Cadence,
) -> WalkExpert:
    """A :class:`WalkExpert` for a PPO-trained network, commanded forward at up to
    ``speed_range[1]`` (its default command) holding heading 0. Its forward command range
    keeps the walker's slow and backward commands (from -0.5 m/s) when training drew speeds
    from 0.5 m/s up, and starts at ``speed_range[0]`` when training drew none below it."""
    low, high = speed_range
    low = min(low, -0.5) if low <= 0.5 else low
    spec = ExpertSpec(
        name=name, skill=skill, kind="learned", controller=WalkExpert.controller_name,
        robot="h1", task=f"h1-{task}", obs_layout="qpos_qvel", obs_dim=51, action_dim=19,
        config={
            "hidden": list(hidden),
            "design": "walk expert fine-tuned by PPO (rsl_rl) on HumanoidBench's forward-speed "
                      "reward with a speed curriculum",
            "command_ranges": {"vx": [low, high], "vy": [-0.3, 0.3],
                               "yaw_rate": [-0.8, 0.8]},
            "default_command": asdict(WalkCommand(vx=high, heading=0.0)),
            "cadence": asdict(cadence),
            "provenance": provenance | {"date": time.strftime("%Y-%m-%d")},
        },
    )  # fmt: skip
    return WalkExpert(spec, policy, ctrlrange)


def evaluation(
    task: str,
    objective: ForwardSpeedObjective,
    hidden: tuple[int, ...],
    seed: int = 10_000,
    steps: int = 1000,
    hold_steps: int = 0,
) -> EvaluateFn:
    """An ``evaluate`` callback for :class:`~metaworld_hwm.skills.ppo.PPOTrainer`: episode k
    (seed ``seed + k``, away from the benchmark's seeds 0-9) of ``task`` with the policy alone,
    commanded the curriculum's current top speed; its return over ``steps``, a fall within
    ``hold_steps`` (:func:`forward_episode`)."""

    def evaluate(policy: nn.Module, episode: int) -> dict[str, float]:
        speed = objective.target_speed
        expert = trained_expert("eval", task, task, policy, objective.ctrlrange, (0.5, speed),
                                {}, hidden, objective.curriculum.cadence)  # fmt: skip
        ret, mean_speed, fell = forward_episode(expert, task, speed, seed + episode, steps,
                                                hold_steps)  # fmt: skip
        return {"eval_return": ret, "eval_speed": mean_speed, "eval_fell": int(fell)}

    return evaluate
