"""HumanoidBench-style H1 tasks on MuJoCo: ``make_env("h1-walk", seed=0)``."""

from metaworld_hwm.envs.humanoid_env import EPISODE_STEPS, FRAME_SKIP, HumanoidEnv
from metaworld_hwm.envs.registry import ENV_NAMES, make_env, parse_env_name, register_envs

register_envs()

__all__ = [
    "ENV_NAMES",
    "EPISODE_STEPS",
    "FRAME_SKIP",
    "HumanoidEnv",
    "make_env",
    "parse_env_name",
    "register_envs",
]
