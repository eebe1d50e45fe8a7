"""``metaworld-hwm eval``, ``report`` and ``sweep``."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from metaworld_hwm.utils.user_errors import output_dir, positive_int, user_errors


def add_evaluation_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``eval``, ``report`` and ``sweep`` on the main parser's sub-commands."""
    ev = sub.add_parser("eval", help="the paper's success protocol on a trained run")
    ev.add_argument(
        "run_dir", type=Path, help="a run of any method: metaworld, tdmpc2 or dreamerv3"
    )
    ev.add_argument("--trials", type=positive_int, default=10)
    ev.add_argument("--seed", type=int, default=100_000, help="seed of the first trial")
    ev.add_argument("--video", type=Path, default=None, help="mp4 of the first trial")
    ev.set_defaults(func=_cmd_eval)

    rep = sub.add_parser("report", help="tables and figures from run directories")
    rep.add_argument("run_dirs", type=Path, nargs="+", help="run dirs or folders holding them")
    rep.add_argument("--out", type=Path, default=Path("report"))
    rep.set_defaults(func=_cmd_report)

    sw = sub.add_parser("sweep", help="methods x tasks x seeds x ablations")
    sw.add_argument("--tasks", nargs="+", default=["h1-stand", "h1-walk"])
    sw.add_argument("--methods", nargs="+", default=["metaworld", "tdmpc2"])
    sw.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    sw.add_argument(
        "--ablations",
        nargs="*",
        default=[],
        help="metaworld ablations to add: no-vlm no-dynamic-selection no-guidance",
    )
    sw.add_argument("--out", type=Path, default=Path("runs/sweep"))
    sw.add_argument("--workers", type=positive_int, default=2, help="local parallel processes")
    sw.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch threads per run (default: cores / workers; use 1 when other "
        "jobs share the cores: two threads each then slow every run down)",
    )
    sw.add_argument("--retries", type=int, default=1)
    sw.add_argument("--trials", type=int, default=0, help="protocol trials after training")
    sw.add_argument("--ray-address", default=None, help="run on a Ray cluster (e.g. auto)")
    sw.add_argument("--preset", default="tiny")
    sw.add_argument("--steps", type=positive_int, default=5000)
    sw.add_argument("train_args", nargs=argparse.REMAINDER,
                    help="after --, more `train` options (e.g. -- --eval-every 1000)")  # fmt: skip
    sw.set_defaults(func=_cmd_sweep)


def _cmd_eval(args: argparse.Namespace) -> int:
    from metaworld_hwm.evaluation.policy import load_policy
    from metaworld_hwm.evaluation.protocol import evaluate_run

    with user_errors():
        policy = load_policy(args.run_dir)
    summary = evaluate_run(args.run_dir, args.trials, args.seed, args.video, policy=policy)
    print(f"{summary['task']} {summary['method']}: {summary['successes']}/{summary['trials']} "
          f"successes, return {summary['return_mean']:.1f} ± {summary['return_std']:.1f}; "
          f"written to {args.run_dir / 'eval_protocol.json'}")  # fmt: skip
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from metaworld_hwm.evaluation.report import find_runs, write_report

    command = "metaworld-hwm " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""
    with user_errors():
        runs = find_runs(args.run_dirs)
    path = write_report(runs, output_dir(args.out), command)
    print(path.read_text())
    print(f"report: {path}")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from metaworld_hwm.evaluation.sweep import plan_jobs, run_sweep

    extra = [a for a in args.train_args if a != "--"]
    with user_errors():
        jobs = plan_jobs(args.tasks, args.methods, args.seeds, args.ablations)
    print(f"[sweep] {len(jobs)} trials into {args.out}", flush=True)
    summary = run_sweep(
        jobs, args.out, ["--preset", args.preset, "--steps", str(args.steps), *extra],
        eval_trials=args.trials, workers=args.workers, retries=args.retries,
        ray_address=args.ray_address, threads=args.threads,
    )  # fmt: skip
    return 1 if summary["failed"] else 0
