"""Walkers on the last stretch of the door: through the open doorway with the leaf on the body.

Each episode is one of ``experts train --objective door-passage``'s
(:class:`~metaworld_hwm.skills.passage_ppo.DoorPassageEnv`, the default
:class:`~metaworld_hwm.skills.passage_ppo.PassageStart`): the pelvis placed against the leaf's
doorway face with the door open 0.9-1.1 rad, the walker steered to (1.6, 0) m at up to
0.8 m/s. Per walker,
``--episodes`` episodes of ``--steps`` steps (seeds ``--seed``, ``--seed`` + 1, ...; a PPO
run evaluates on 30000 on): the door task's return, a fall, and whether the torso got past
x = 1.2 m, then the mean, the falls and the count through.

    python bench/door_passage.py --library LIB --walkers walk door-passage [--episodes 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.passage_ppo import EVAL_STEPS, passage_evaluation
from metaworld_hwm.skills.walk import WalkExpert


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--library", default="experts/door", help="library of the walkers")
    parser.add_argument("--walkers", nargs="+", default=["walk"])
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=40_000, help="first episode's seed")
    parser.add_argument("--steps", type=int, default=EVAL_STEPS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    library = ExpertLibrary.load(args.library)
    for name in args.walkers:
        if not isinstance(library.experts.get(name), WalkExpert):
            raise SystemExit(f"bench/door_passage.py: {name!r} is not a walker in {args.library}")
    print(f"$ python {shlex.join(sys.argv)}")
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores")
    for name in args.walkers:
        evaluate = passage_evaluation(args.library, name, seed=args.seed, steps=args.steps)
        policy = library[name].policy
        runs = [evaluate(policy, k) for k in range(args.episodes)]
        returns = [r["eval_return"] for r in runs]
        cells = " ".join(f"{r['eval_return']:.0f}{'F' if r['eval_fell'] else ''}" for r in runs)
        print(f"{name}: return {np.mean(returns):.1f} +- {np.std(returns):.1f}, falls "
              f"{sum(r['eval_fell'] for r in runs)}/{len(runs)}, through "
              f"{sum(r['eval_through'] > 0 for r in runs)}/{len(runs)} | per episode "
              f"(F: fell) {cells}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
