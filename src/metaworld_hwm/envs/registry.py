"""Env names, Gymnasium registration and :func:`make_env`.

Names are ``{robot}-{task}`` (``h1-walk``), optionally with ``-v0`` and the ``metaworld_hwm/``
namespace. ``hb:<id>`` returns the original HumanoidBench env (when the ``humanoid_bench``
package is importable) behind the same interface.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import ROBOTS
from metaworld_hwm.envs.tasks import TASKS

NAMESPACE = "metaworld_hwm"
#: Name prefixes of envs from other packages: the original HumanoidBench's and Gymnasium's.
EXTERNAL_PREFIXES = ("hb:", "gym:")
#: Robots each task is available for.
TASK_ROBOTS: dict[str, tuple[str, ...]] = {
    "stand": ("h1",),
    "walk": ("h1",),
    "run": ("h1",),
    "reach": ("h1",),
    "door": ("h1", "h1grip"),
}
ENV_NAMES: tuple[str, ...] = tuple(
    f"{robot}-{task}" for task, robots in TASK_ROBOTS.items() for robot in robots
)


def parse_env_name(name: str) -> tuple[str, str]:
    """Split ``[metaworld_hwm/]{robot}-{task}[-v0]`` into (robot, task).

    Raises:
        ValueError: malformed name, unknown robot or task, or a task the robot lacks.
    """
    short = name.removeprefix(f"{NAMESPACE}/").removesuffix("-v0")
    robot, _, task = short.partition("-")
    if robot not in ROBOTS:
        raise ValueError(
            f"unknown robot {robot!r} in env name {name!r}; accepted robots: {', '.join(ROBOTS)} "
            f"(env names: {', '.join(ENV_NAMES)})"
        )
    if task not in TASKS:
        raise ValueError(
            f"unknown task {task!r} in env name {name!r}; accepted tasks: {', '.join(TASKS)} "
            f"(env names: {', '.join(ENV_NAMES)})"
        )
    if robot not in TASK_ROBOTS[task]:
        raise ValueError(
            f"task {task!r} is not available for robot {robot!r}; env names: {', '.join(ENV_NAMES)}"
        )
    return robot, task


def check_env_name(name: str) -> None:
    """Raise ValueError (naming the accepted names) if ``name`` is none of this package's envs;
    an ``hb:`` or ``gym:`` name is left to :func:`make_env`, which imports that package."""
    if not name.startswith(EXTERNAL_PREFIXES):
        parse_env_name(name)


def make_env(name: str, seed: int | None = None, **kwargs: object) -> gym.Env:
    """Create an env by name, its generators seeded with ``seed``.

    Args:
        name: ``h1-walk``, ``metaworld_hwm/h1-door-v0``, ``h1grip-door``, ``hb:<id>`` for
            the original HumanoidBench env (e.g. ``hb:h1hand-walk-v0``), or ``gym:<id>`` for
            any Gymnasium env with a Box action space, rescaled to [-1, 1]
            (e.g. ``gym:InvertedPendulum-v5``).
        seed: seeds the reset noise, task randomisation and ``action_space.sample``.
        **kwargs: passed to :class:`HumanoidEnv` (``render_mode``, ``width``, ``height``, ...).
    """
    if name.startswith("hb:"):
        env = _make_humanoidbench(name.removeprefix("hb:"), **kwargs)
    elif name.startswith("gym:"):
        env = _make_gymnasium(name.removeprefix("gym:"), **kwargs)
    else:
        robot, task = parse_env_name(name)
        env = HumanoidEnv(robot=robot, task=task, **kwargs)  # type: ignore[arg-type]
    if seed is not None:
        env.reset(seed=seed)
        env.action_space.seed(seed)
    return env


def _make_humanoidbench(env_id: str, **kwargs: object) -> gym.Env:
    try:
        import humanoid_bench  # noqa: F401  (registers the HumanoidBench ids)
    except ImportError as exc:
        raise ValueError(
            f"'hb:{env_id}' needs the original HumanoidBench package (import name "
            "'humanoid_bench'), which is not installed; install it from its repository, or use "
            f"one of this package's envs: {', '.join(ENV_NAMES)}"
        ) from exc
    return gym.make(env_id, **kwargs)


def _make_gymnasium(env_id: str, **kwargs: object) -> gym.Env:
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as exc:
        raise ValueError(f"gymnasium cannot make {env_id!r}: {exc}") from exc
    space = env.action_space
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"{env_id!r} has a {type(space).__name__} action space; need a Box")
    if not (np.all(space.low == -1.0) and np.all(space.high == 1.0)):
        ones = np.ones(space.shape, dtype=np.float32)
        env = gym.wrappers.RescaleAction(env, -ones, ones)
    return env


def register_envs() -> None:
    """Register every env with Gymnasium as ``metaworld_hwm/{robot}-{task}-v0``."""
    for env_name in ENV_NAMES:
        env_id = f"{NAMESPACE}/{env_name}-v0"
        if env_id in gym.registry:
            continue
        robot, task = parse_env_name(env_name)
        gym.register(
            id=env_id,
            entry_point="metaworld_hwm.envs.humanoid_env:HumanoidEnv",
            kwargs={"robot": robot, "task": task},
            disable_env_checker=True,
        )
