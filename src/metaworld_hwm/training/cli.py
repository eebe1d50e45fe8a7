"""``metaworld-hwm train``: online training of one method on one task."""

from __future__ import annotations

import argparse
import json

from metaworld_hwm.training.config import ABLATIONS, METHODS, TrainConfig
from metaworld_hwm.utils.user_errors import user_errors


def _override(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``train`` on the main parser's sub-commands."""
    p = sub.add_parser("train", help="train an agent online on a task")
    p.add_argument("--task", default="h1-stand", help="env name, e.g. h1-walk or gym:Hopper-v5")
    p.add_argument("--method", default="tdmpc2", choices=(*METHODS, "dreamerv3"))
    p.add_argument(
        "--preset", default="5m", help="world model: tiny, 1m, 5m, 19m, 48m, or paper (5m with "
        "the paper's lr 1e-3, gamma 0.99, batch 256, H 3)",
    )  # fmt: skip
    p.add_argument("--steps", type=int, default=100_000, help="env steps")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--run-dir", default=None, help="default runs/<task>/<method>/<seed>")
    p.add_argument("--resume", action="store_true", help="continue the run dir's checkpoint")
    p.add_argument("--seed-steps", type=int, default=None, help="random-action steps first")
    p.add_argument("--utd", type=float, default=1.0, help="updates per env step")
    p.add_argument("--eval-every", type=int, default=50_000)
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--checkpoint-every", type=int, default=10_000)
    p.add_argument("--save-buffer", action="store_true", help="checkpoint the replay buffer")
    p.add_argument("--max-episode-steps", type=int, default=None)
    p.add_argument(
        "--guidance-lambda", type=float, default=None,
        help="lambda of ||a - a_ref||^2 (default 20 for metaworld, 0 for tdmpc2; paper: 0.05)",
    )  # fmt: skip
    p.add_argument(
        "--guidance-radius", type=float, default=0.0,
        help="trust region of guided MPPI, a_ref +- radius per action entry (default 0: none)",
    )  # fmt: skip
    p.add_argument(
        "--fusion-sharpness", type=float, default=None,
        help="power on the fused expert weights (default 4; 1: the paper's blend)",
    )  # fmt: skip
    p.add_argument("--ablation", default=None, choices=ABLATIONS, help="metaworld ablation")
    p.add_argument("--instruction", default=None, help="metaworld: the task instruction")
    p.add_argument("--library", default=None, help="metaworld: expert library directory")
    p.add_argument("--planner", default="embedded", help="embedded, openai or llama")
    p.add_argument("--tau", type=float, default=0.3, help="softmax temperature of the plan")
    p.add_argument("--alpha", type=float, default=0.7, help="semantic vs state-aware weight")
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda if present)")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument(
        "--async-updates", action="store_true",
        help="learn on the second core while acting (plans with weights one update old)",
    )  # fmt: skip
    p.add_argument(
        "--set", dest="overrides", type=_override, action="append", default=[],
        metavar="KEY=VALUE", help="override a world-model field, e.g. --set num_samples=256",
    )  # fmt: skip
    p.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Build the config from ``args`` and train."""
    if args.method == "dreamerv3":
        return _train_dreamerv3(args)
    from metaworld_hwm.training.trainer import OnlineTrainer

    with user_errors():
        trainer = OnlineTrainer(_train_config(args))
        trainer.check_run_dir(resume=args.resume)
    print(f"run dir: {trainer.run_dir}")
    result = trainer.train(resume=args.resume)
    print(f"final eval return {result.mean_return:.1f} over {len(result.returns)} episodes")
    return 0


def _train_config(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        task=args.task, method=args.method, preset=args.preset, steps=args.steps,
        seed=args.seed, seed_steps=args.seed_steps, utd=args.utd, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, checkpoint_every=args.checkpoint_every,
        save_buffer=args.save_buffer, max_episode_steps=args.max_episode_steps,
        guidance_lambda=args.guidance_lambda, guidance_radius=args.guidance_radius,
        fusion_sharpness=args.fusion_sharpness, ablation=args.ablation,
        instruction=args.instruction, library=args.library, planner=args.planner,
        tau=args.tau, alpha=args.alpha, device=args.device, run_dir=args.run_dir,
        tensorboard=not args.no_tensorboard, world_model=dict(args.overrides),
        async_updates=args.async_updates,
    )  # fmt: skip


def _train_dreamerv3(args: argparse.Namespace) -> int:
    """DreamerV3 (sheeprl) behind the same command; writes the same run-dir files."""
    from pathlib import Path

    from metaworld_hwm.baselines import train_dreamerv3
    from metaworld_hwm.envs import make_env

    run_dir = Path(args.run_dir or f"runs/{args.task.replace(':', '_')}/dreamerv3/{args.seed}")
    with user_errors():
        make_env(args.task)  # an unknown task is the user's mistake, before sheeprl starts
    preset = args.preset if args.preset in ("tiny", "paper") else "paper"
    print(f"run dir: {run_dir}")
    train_dreamerv3(
        args.task, args.steps, args.seed, run_dir, preset=preset, device=args.device,
        eval_every=args.eval_every, eval_episodes=args.eval_episodes,
        learning_starts=args.seed_steps, max_episode_steps=args.max_episode_steps,
    )  # fmt: skip
    return 0
