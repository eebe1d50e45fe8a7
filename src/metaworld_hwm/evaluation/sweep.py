"""``metaworld-hwm sweep``: methods x tasks x seeds (x ablations) as parallel training runs.

Each job is one ``metaworld-hwm train`` process (plus ``eval`` of ``--trials`` protocol trials
when > 0) with its log in its run directory. Jobs run in local processes by default, or as Ray
tasks on a cluster with ``--ray-address`` (Ray schedules; nothing here does). A failed job is
retried ``--retries`` times, then reported in ``sweep.json``: never silently dropped. Finished
jobs are skipped and interrupted ones resume from their checkpoints, so a sweep can be re-run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import get_args

from metaworld_hwm.agent.variants import METHODS, AblationName
from metaworld_hwm.envs.registry import check_env_name
from metaworld_hwm.utils.atomic import atomic_write_text


@dataclass(frozen=True)
class SweepJob:
    """One training run of the sweep (``sweep.json`` lists them under ``trials``)."""

    task: str
    method: str
    seed: int
    ablation: str | None = None

    @property
    def label(self) -> str:
        method = self.method if self.ablation is None else f"{self.method}-{self.ablation}"
        return f"{self.task}/{method}/{self.seed}"


def plan_jobs(
    tasks: list[str], methods: list[str], seeds: list[int], ablations: list[str]
) -> list[SweepJob]:
    """The job grid; ablations apply to the metaworld method only.

    Raises:
        ValueError: a task, method or ablation that does not exist (naming those that do).
    """
    for task in tasks:
        check_env_name(task)
    for kind, given, known in (("method", methods, METHODS),
                               ("ablation", ablations, get_args(AblationName))):  # fmt: skip
        unknown = [name for name in given if name not in known]
        if unknown:
            raise ValueError(f"unknown {kind}(s) {', '.join(unknown)}; choose from "
                             f"{', '.join(known)}")  # fmt: skip
    jobs = [SweepJob(t, m, s) for t in tasks for m in methods for s in seeds]
    if "metaworld" in methods:
        jobs += [SweepJob(t, "metaworld", s, a) for t in tasks for a in ablations for s in seeds]
    return jobs


def job_commands(
    job: SweepJob, out: Path, train_args: list[str], eval_trials: int
) -> list[list[str]]:
    """The command lines of a job: train (resuming), then the evaluation protocol."""
    run_dir = out / job.label
    cli = [sys.executable, "-m", "metaworld_hwm.cli"]
    train = [*cli, "train", "--task", job.task, "--method", job.method,
             "--seed", str(job.seed), "--run-dir", str(run_dir), "--resume",
             *train_args]  # fmt: skip
    if job.ablation:
        train += ["--ablation", job.ablation]
    commands = [train]
    if eval_trials:
        commands.append([*cli, "eval", str(run_dir), "--trials", str(eval_trials)])
    return commands


def run_commands(commands: list[list[str]], log: Path, threads: int) -> int:
    """Run commands in order, appending output to ``log``; returns the first non-zero code."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    with log.open("a", encoding="utf-8") as handle:
        for command in commands:
            handle.write(f"$ {' '.join(command)}\n")
            handle.flush()
            done = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env)
            code = done.returncode
            if code:
                return code
    return 0


def run_sweep(
    jobs: list[SweepJob],
    out: Path,
    train_args: list[str],
    eval_trials: int = 0,
    workers: int = 2,
    retries: int = 1,
    ray_address: str | None = None,
    threads: int | None = None,
) -> dict:
    """Run every job; writes and returns the ``sweep.json`` summary.

    threads: OMP/torch threads per run; None: the cores divided among the workers.
    """
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    out.mkdir(parents=True, exist_ok=True)
    threads = threads or max(1, (os.cpu_count() or 1) // max(workers, 1))
    commands = {job.label: job_commands(job, out, train_args, eval_trials) for job in jobs}
    status: dict[str, dict] = {}
    start = time.perf_counter()

    def attempt(label: str) -> int:
        return run_commands(commands[label], out / label / "sweep.log", threads)

    pending = list(commands)
    for round_ in range(retries + 1):
        if not pending:
            break
        if ray_address is not None:
            codes = _run_on_ray(ray_address, {k: commands[k] for k in pending}, out, threads)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                codes = dict(zip(pending, pool.map(attempt, pending), strict=True))
        for label, code in codes.items():
            status[label] = {"exit_code": code, "attempts": round_ + 1}
            print(f"[sweep] {label}: {'ok' if code == 0 else f'failed (exit {code})'}",
                  flush=True)  # fmt: skip
        pending = [label for label, code in codes.items() if code != 0]
    summary = {
        "trials": [asdict(j) | status[j.label] | {"run_dir": str(out / j.label)} for j in jobs],
        "failed": pending,
        "minutes": round((time.perf_counter() - start) / 60, 2),
        "train_args": train_args,
    }
    atomic_write_text(out / "sweep.json", json.dumps(summary, indent=1) + "\n")
    if pending:
        print(f"[sweep] {len(pending)} trial(s) failed after {retries + 1} attempts: "
              f"{', '.join(pending)}; see their sweep.log", flush=True)  # fmt: skip
    return summary


def _run_on_ray(
    address: str, commands: dict[str, list[list[str]]], out: Path, threads: int
) -> dict:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError(
            "--ray-address needs Ray: pip install 'metaworld-hwm[ray]'"
        ) from exc
    ray.init(address=address, ignore_reinit_error=True)
    remote = ray.remote(num_cpus=threads)(run_commands)
    refs = {label: remote.remote(cmds, out / label / "sweep.log", threads)
            for label, cmds in commands.items()}  # fmt: skip
    return {label: ray.get(ref) for label, ref in refs.items()}
