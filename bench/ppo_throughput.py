"""PPO collection steps/s against env-only steps/s on this machine, side by side.

Three figures on h1-run, the envs driven the same way (the walk expert's gait, so the physics
costs what it costs while training):

- one env, one process: ``HumanoidEnv.step`` replaying recorded walker actions;
- env-only, ``--workers`` processes: the same replay through
  :class:`~metaworld_hwm.envs.vector.VectorEnv` (``--envs`` envs), no policy;
- PPO collection: :class:`~metaworld_hwm.skills.ppo.PPOTrainer` iterations from the walk
  expert (features, batched actor and critic inference, storage, rewards), timed without the
  update; the update's seconds are printed apart.

The ratio collection / env-only is what the PPO loop costs on top of the envs (goal >= 0.75).

    python bench/ppo_throughput.py [--envs 32] [--workers 2] [--seconds 20] [--iterations 12]
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.vector import VectorEnv
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion_ppo import ForwardSpeedObjective, SpeedCurriculum
from metaworld_hwm.skills.ppo import PPOConfig, PPOTrainer
from metaworld_hwm.utils.machine import machine_label


def walker_actions(steps: int) -> np.ndarray:
    """Actions (steps, 19) of the walk expert walking h1-run from seed 0."""
    walk = ExpertLibrary.load(default_library_path())["walk"]
    env = HumanoidEnv("h1", "run")
    obs, _ = env.reset(seed=0)
    walk.reset(1)
    actions = []
    for _ in range(steps):
        actions.append(walk.act(obs))
        obs, *_ = env.step(actions[-1])
    return np.array(actions)


def single_rate(actions: np.ndarray, seconds: float) -> float:
    """Steps/s of one env in this process, replaying ``actions``."""
    env = HumanoidEnv("h1", "run")
    env.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        _, _, terminated, truncated, _ = env.step(actions[steps % len(actions)])
        steps += 1
        if terminated or truncated or steps % len(actions) == 0:
            env.reset()
    return steps / (time.perf_counter() - start)


def vector_rate(actions: np.ndarray, envs: int, workers: int, seconds: float) -> float:
    """Steps/s of ``envs`` envs over ``workers`` processes replaying ``actions``."""
    with VectorEnv(functools.partial(HumanoidEnv, "h1", "run"), envs, workers) as vec:
        vec.reset(list(range(envs)))
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            vec.step(np.tile(actions[steps % len(actions)], (envs, 1)))
            steps += 1
        return steps * envs / (time.perf_counter() - start)


def ppo_rates(envs: int, workers: int, iterations: int) -> tuple[float, float]:
    """(collection steps/s, update seconds per iteration), median over ``iterations``."""
    walk = ExpertLibrary.load(default_library_path())["walk"]
    cfg = PPOConfig(iterations=iterations, envs=envs, workers=workers, steps_per_env=64,
                    critic_warmup=0, learning_rate=1e-5)  # fmt: skip
    objective = ForwardSpeedObjective("run", SpeedCurriculum())
    with tempfile.TemporaryDirectory() as work:
        trainer = PPOTrainer(cfg, objective, work, copy.deepcopy(walk.policy).train(),
                             log=lambda line: None)  # fmt: skip
        trainer.run()
    collect = [envs * 64 / row["collect_seconds"] for row in trainer.curve[1:]]
    update = [row["update_seconds"] for row in trainer.curve[1:]]
    return float(np.median(collect)), float(np.median(update))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--envs", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--iterations", type=int, default=12)
    args = parser.parse_args()
    actions = walker_actions(500)
    single = single_rate(actions, args.seconds)
    vector = vector_rate(actions, args.envs, args.workers, args.seconds)
    collect, update = ppo_rates(args.envs, args.workers, args.iterations)
    print(f"# {machine_label()}; "
          f"h1-run, {args.envs} envs over {args.workers} worker processes")  # fmt: skip
    print(f"one env, one process       {single:8.0f} steps/s")
    print(f"env-only, VectorEnv        {vector:8.0f} steps/s")
    print(f"PPO collection             {collect:8.0f} steps/s  "
          f"({collect / vector:.2f} of env-only)")  # fmt: skip
    print(f"PPO update                 {update:8.2f} s per iteration of {args.envs * 64} steps")
    print(f"PPO end to end             {args.envs * 64 / (args.envs * 64 / collect + update):8.0f}"
          " steps/s")  # fmt: skip


if __name__ == "__main__":
    main()
