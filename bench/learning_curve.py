"""Train TD-MPC2 on an H1 task for a CPU-sized budget and save its learning curve.

Writes ``<out>/learning_curve.png`` and ``<out>/learning_curve.csv`` (evaluation return per
evaluation step) beside the run directory, and prints the curve with this command on top.

    python bench/learning_curve.py [--task h1-stand] [--preset tiny] [--steps 20000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from metaworld_hwm.agent import RunConfig
from metaworld_hwm.evaluation.curves import eval_curve_csv, plot_learning_curve
from metaworld_hwm.training import OnlineTrainer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="h1-stand")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--eval-episodes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="results/learning_curve")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    print("command: python bench/learning_curve.py " + " ".join(sys.argv[1:]), flush=True)
    cfg = RunConfig(
        task=args.task, preset=args.preset, steps=args.steps, seed=args.seed,
        eval_every=args.eval_every, eval_episodes=args.eval_episodes,
        checkpoint_every=args.eval_every, run_dir=str(out / "run"), tensorboard=False,
    )  # fmt: skip
    start = time.perf_counter()
    OnlineTrainer.from_config(cfg).train(resume=True)
    minutes = (time.perf_counter() - start) / 60
    csv_path = eval_curve_csv(out / "run", out / "learning_curve.csv")
    png = plot_learning_curve(
        out / "run", out / "learning_curve.png",
        title=f"TD-MPC2 ({args.preset}) on {args.task}, seed {args.seed}",
    )  # fmt: skip
    print(csv_path.read_text())
    print(f"{args.steps} env steps in {minutes:.1f} min; curve: {png}, {csv_path}")


if __name__ == "__main__":
    main()
