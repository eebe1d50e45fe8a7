"""PPO for walking through an open doorway: the last stretch of the door task.

Once the door is open the robot has to walk through it. Placed by the doorway's gap with the
door at 1.0 rad (``bench/door_release.py --start``), the walk expert gets its torso past
x = 1.2 m on 9 of 10 seeds before the 160 kg leaf swings shut, but the leaf rests on the robot
as it passes, pushes it off its line, and 8 of those 9 fall (``results/door/README.md``,
session 21). This objective fine-tunes a walker for that stretch on ``h1grip-door`` itself.

:class:`DoorPassageEnv`: each episode starts from the task's standing pose moved to a pelvis
position by the gap and turned by a yaw, with the door open to an angle (drawn from
:class:`PassageStart`), the left gripper open and the torso and arms at the walker's pose.
The walker is steered toward the start's ``goal`` beyond the doorway
(:meth:`~metaworld_hwm.skills.walk.WalkExpert.steer_to`), and the policy's 10 leg outputs
replace its own. The observation is the walker's input under that command, so the walker's
network is the starting policy. Reward per step, h1-walk's shape with the door task's
passage term as the move term:

    r = small_control * stand_reward * (1 + 5 * clip(imu_x - 0.2, 0, 1)) / 6

The episode ends on a fall (the door task's: the pelvis below 0.58 m) or after
``episode_steps``.

    metaworld-hwm experts train door-passage --library LIB --from walk \\
        --objective door-passage --iterations 300
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any

import gymnasium as gym
import mujoco
import numpy as np
import torch
from torch import nn

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import JOINT_NAMES
from metaworld_hwm.envs.tasks.door import DOOR_X, PASSAGE_X
from metaworld_hwm.envs.vector import VectorStep
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import NUM_LEG_JOINTS, leg_action
from metaworld_hwm.skills.ppo import EvaluateFn, Objective
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert

#: Walk command (m/s) per metre from the pelvis to the goal. Steered harder (1.5 m/s per m,
#: up to the walker's 1.2 m/s) the walk expert ran past the goal and fell on 8 of 20 episodes;
#: at 1.0 and at most ``PassageStart.max_forward`` 0.8 m/s, on 2.
POSITION_GAIN = 1.0
#: Control steps of an evaluation episode: through the doorway and standing beyond it.
EVAL_STEPS = 500
#: The door's hinge axis in the world (x, y; m): ``DOOR_X`` plus the hinge's offset.
DOOR_HINGE = (DOOR_X - 0.05, -0.5)


@dataclasses.dataclass(frozen=True)
class PassageStart:
    """Where an episode begins, each a (low, high) uniform draw, and where the walk goes.

    door: the door's angle (rad). The pelvis is placed against the leaf's doorway side:
    ``along`` m from the hinge along the leaf and ``clearance`` m out from its face (the
    robot's half width is ~0.2 m, so the leaf is at or near its right side), turned by
    ``yaw`` (rad) from facing +x. The defaults surround ``bench/door_release.py --start 0.2
    0.15 1.0`` (0.81 m along, 0.25 m out). goal: the pelvis's (x, y) beyond the doorway (m);
    max_forward: the fastest forward command toward it (m/s).
    """

    door: tuple[float, float] = (0.9, 1.1)
    along: tuple[float, float] = (0.6, 0.85)
    clearance: tuple[float, float] = (0.22, 0.32)
    yaw: tuple[float, float] = (-0.2, 0.2)
    goal: tuple[float, float] = (1.6, 0.0)
    max_forward: float = 0.8

    def __post_init__(self) -> None:
        for name in ("door", "along", "clearance", "yaw"):
            low, high = getattr(self, name)
            if not low <= high:
                raise ValueError(f"passage start {name} must be (low, high) with low <= high, "
                                 f"got {(low, high)}")  # fmt: skip
        if not (self.door[0] >= 0.0 and self.door[1] <= 1.4):
            raise ValueError(f"passage start door must lie in the hinge's 0..1.4 rad, got "
                             f"{self.door}")  # fmt: skip

    def draw(self, rng: np.random.Generator) -> tuple[float, float, float, float]:
        """(pelvis x, pelvis y, yaw, door angle) of one episode."""
        door, along, clearance, yaw = (float(rng.uniform(*getattr(self, n)))
                                       for n in ("door", "along", "clearance", "yaw"))  # fmt: skip
        leaf = np.array([-np.sin(door), np.cos(door)])  # hinge to free edge
        face = np.array([np.cos(door), np.sin(door)])  # the doorway side's normal
        x, y = np.asarray(DOOR_HINGE) + along * leaf + clearance * face
        return float(x), float(y), yaw, door


def passage_reward(info: dict[str, float]) -> float:
    """The module docstring's reward, from the door task's terms of a step."""
    return (info["small_control"] * info["stand_reward"]
            * (1.0 + 5.0 * info["passage_reward"]) / 6.0)  # fmt: skip


class DoorPassageEnv(gym.Env):
    """The last stretch of the door task, with the legs left to the policy (module docstring).

    Args:
        walker: the walker whose command and gait clock the policy is given (its network is
            what PPO starts from).
        episode_steps: control steps per episode (truncation).
        start: the episodes' first states and goal.
    """

    def __init__(self, walker: WalkExpert, episode_steps: int = 300,
                 start: PassageStart | None = None) -> None:  # fmt: skip
        self.env = HumanoidEnv("h1grip", "door", max_episode_steps=10**9)
        self.walker = copy.copy(walker)
        self.walker.reset(1)
        self.episode_steps = episode_steps
        self.start = start or PassageStart()
        model = self.env.model
        self._robot_qpos = np.r_[0:7, [model.jnt_qposadr[model.joint(n).id] for n in JOINT_NAMES]]
        self._robot_dof = np.r_[0:6, [model.jnt_dofadr[model.joint(n).id] for n in JOINT_NAMES]]
        self._door_qpos = int(model.jnt_qposadr[model.joint("door_hinge").id])
        self._left_gripper = model.actuator("left_gripper").id
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (NUM_FEATURES,), np.float64)
        self.action_space = gym.spaces.Box(-np.inf, np.inf, (NUM_LEG_JOINTS,), np.float64)
        self._steps = 0
        self._features = np.zeros(NUM_FEATURES)

    def _prepare(self) -> None:
        """Steer the walker toward the goal from the pelvis now; the policy's input under it."""
        data = self.env.data
        self.walker.steer_to(data.qpos, np.asarray(self.start.goal), POSITION_GAIN, heading=0.0,
                             max_forward=self.start.max_forward)  # fmt: skip
        robot = np.concatenate([data.qpos[self._robot_qpos], data.qvel[self._robot_dof]])
        self._features = self.walker.features(robot[None])[0]

    def door_angle(self) -> float:
        """The door's hinge angle now (rad)."""
        return float(self.env.data.qpos[self._door_qpos])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:  # fmt: skip
        super().reset(seed=seed)
        self.env.reset(seed=int(self.np_random.integers(2**31)))
        x, y, yaw, door = self.start.draw(self.np_random)
        data = self.env.data
        turned = np.zeros(4)
        mujoco.mju_mulQuat(turned, np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]),
                           data.qpos[3:7].copy())  # fmt: skip
        data.qpos[:2], data.qpos[3:7] = (x, y), turned
        data.qpos[self._door_qpos] = door
        mujoco.mj_forward(self.env.model, data)
        self.walker.reset(1)
        self._steps = 0
        self._prepare()
        return self._features.copy(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        full = np.zeros(self.env.model.nu)
        full[:len(JOINT_NAMES)] = leg_action(np.asarray(action)[None], self.walker.ctrlrange)[0]
        full[self._left_gripper] = -1.0  # open
        self.walker.advance_clock()
        _, task_reward, terminated, _, info = self.env.step(full)
        self._steps += 1
        if not terminated:
            self._prepare()
        imu_x = float(self.env.physics.imu_position()[0])
        info = dict(info, task_reward=task_reward, imu_x=imu_x, door=self.door_angle())
        truncated = self._steps >= self.episode_steps
        return self._features.copy(), passage_reward(info), bool(terminated), truncated, info

    def get_state(self) -> dict[str, Any]:
        """Physics, the walker's clock and command, step count and RNG (for checkpoints)."""
        return {"env": self.env.get_state(), "clock": self.walker.clock.copy(),
                "command": self.walker.command, "steps": self._steps,
                "features": self._features.copy(),
                "rng": self.np_random.bit_generator.state}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        self.env.set_state(state["env"])
        self.walker.clock, self.walker.command = state["clock"].copy(), state["command"]
        self._steps = int(state["steps"])
        self._features = state["features"].copy()
        self.np_random.bit_generator.state = state["rng"]


def make_passage_env(library: str, name: str, episode_steps: int,
                     start: PassageStart | None = None) -> DoorPassageEnv:  # fmt: skip
    """A :class:`DoorPassageEnv` with walker ``name`` of ``library`` (picklable for workers)."""
    return DoorPassageEnv(ExpertLibrary.load(library)[name], episode_steps, start)


def passage_signals(env: DoorPassageEnv, info: dict[str, Any]) -> np.ndarray:
    """The torso's x and the door's angle after a step (for the iteration's statistics)."""
    return np.array([info["imu_x"], info["door"]])


class DoorPassageObjective(Objective):
    """Walk through the doorway and stay up (module docstring): the walker's own features
    in, its 10 leg outputs out."""

    feature_dim = NUM_FEATURES
    output_dim = NUM_LEG_JOINTS
    signal_fn = staticmethod(passage_signals)

    def __init__(self, library: str, name: str, episode_steps: int = 300,
                 start: PassageStart | None = None) -> None:  # fmt: skip
        self.library, self.name = library, name
        self.episode_steps = episode_steps
        self.first_states = start or PassageStart()
        self._through, self._imu_max, self._steps = 0, -np.inf, 0

    def env_factory(self) -> functools.partial[DoorPassageEnv]:
        return functools.partial(make_passage_env, self.library, self.name, self.episode_steps,
                                 self.first_states)  # fmt: skip

    def reward(self, step: VectorStep) -> np.ndarray:
        imu_x = step.signals[:, 0]
        self._through += int((imu_x >= PASSAGE_X).sum())
        self._imu_max = max(self._imu_max, float(imu_x.max()))
        self._steps += len(imu_x)
        return step.reward

    def end_iteration(self, stats: dict[str, float]) -> dict[str, float]:
        row = {"through": self._through / max(1, self._steps), "imu_x_max": self._imu_max}
        self._through, self._imu_max, self._steps = 0, -np.inf, 0
        return row


def passage_walker(base: WalkExpert, policy: nn.Module, name: str,
                   provenance: dict[str, Any]) -> WalkExpert:  # fmt: skip
    """``base`` with PPO's network, renamed, its provenance recorded."""
    config = dict(base.spec.config)
    config["design"] = (f"{base.name} fine-tuned by PPO (rsl_rl) on h1grip-door: walking "
                        "through the open doorway with the door's leaf on the body")  # fmt: skip
    config["provenance"] = provenance
    spec = dataclasses.replace(base.spec, name=name, config=config,
                               description="Walk through an open doorway while the door's "
                                           "leaf presses on the body.")  # fmt: skip
    return WalkExpert(spec, policy, base.ctrlrange)


def passage_evaluation(library: str, name: str, start: PassageStart | None = None,
                       seed: int = 30_000, steps: int = EVAL_STEPS) -> EvaluateFn:  # fmt: skip
    """An ``evaluate`` callback: one ``steps``-step episode of the passage (seed ``seed + k``)
    with the policy's mean action; the door task's return over it, a fall, and whether the
    torso got past :data:`~metaworld_hwm.envs.tasks.door.PASSAGE_X`."""
    env = make_passage_env(library, name, steps, start)

    def evaluate(policy: nn.Module, episode: int) -> dict[str, float]:
        features, _ = env.reset(seed=seed + episode)
        task_return, through, fell = 0.0, False, False
        for _ in range(steps):
            with torch.no_grad():
                outputs = policy(torch.as_tensor(features[None], dtype=torch.float32))
            features, _, fell, truncated, info = env.step(outputs.numpy()[0])
            task_return += info["task_reward"]
            through = through or info["imu_x"] >= PASSAGE_X
            if fell or truncated:
                break
        return {"eval_return": task_return, "eval_fell": int(fell),
                "eval_through": float(through)}  # fmt: skip

    return evaluate
