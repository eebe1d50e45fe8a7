"""The paper's evaluation protocol (section 4.4): 10 trials, success counted per trial.

Success is each task's own (:meth:`~metaworld_hwm.envs.tasks.base.Task.goal_reached` and
``trial_steps``), as dm_control's tasks own their rewards:
* stand, walk, run: no fall for 30 s of simulated time (1500 control steps; the episode's
  time limit is lifted to 1500 for this check);
* door: the door opened, i.e. its hinge reached ``DOOR_OPEN_RAD`` = 0.9 rad (52 degrees, wide
  enough to pass; the door's range is 1.4 rad) at any step, without a fall; whether the
  robot also walked through (:meth:`~metaworld_hwm.envs.tasks.base.Task.passed_through`:
  its IMU past x = 1.2 m) is recorded apart (``Trial.passed``): success is the opening;
* reach: the left hand within 5 cm of the goal at any step;
* a plain Gymnasium env (``gym:``): no termination before the time limit.
Returns are those of the same trials (summed over at most the 1000-step episode, as in
training, so they compare with training curves).

:func:`evaluate` runs the trials of any :class:`~metaworld_hwm.evaluation.policy.ProtocolPolicy`
on its task; :func:`evaluate_run` loads a run directory's policy (any method's, see
:func:`~metaworld_hwm.evaluation.policy.load_policy`), evaluates it and writes
``eval_protocol.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.evaluation.policy import ProtocolPolicy, load_policy
from metaworld_hwm.utils.atomic import atomic_write_text

#: Steps whose rewards make a trial's return (the training episode's length).
RETURN_STEPS = 1000


@dataclass
class Trial:
    """One evaluation episode."""

    seed: int
    episode_return: float
    steps: int
    fell: bool
    success: bool
    weights: list[list[float]] = field(default_factory=list)
    forward_speed: float | None = None
    """Mean forward (+x) speed of the robot's centre of mass (m/s), H1 tasks only: "no fall"
    is success in walk and run, so this says whether the robot walked or stood."""
    subgoals: list[tuple[int, str]] = field(default_factory=list)
    """(step, text) where each sub-goal began (metaworld runs, first trial only)."""
    passed: bool | None = None
    """Door tasks: the robot was through the doorway (the task's ``passed_through``) at some
    step; None on tasks without a doorway."""


def run_trial(
    policy: ProtocolPolicy, seed: int, record_weights: bool = False, frames: list | None = None
) -> Trial:
    """One episode of ``policy`` on a fresh env seed, judged by the protocol."""
    env = policy.env
    base = env.unwrapped
    task = base.task if isinstance(base, HumanoidEnv) else None  # None: judged by not falling
    if task is not None:
        base.max_episode_steps = task.trial_steps or RETURN_STEPS
    obs, _ = env.reset(seed=seed)
    policy.start_episode(obs, seed)
    total, t, fell, reached, weights, speeds = 0.0, 0, False, None, [], []
    subgoals: list[tuple[int, str]] = []
    passed: bool | None = None
    while True:
        action = policy.act(obs, t0=t == 0)
        if record_weights and (fused := policy.fused_weights(obs)) is not None:
            weights.append(fused)
            text = policy.subgoal()
            if text is not None and (not subgoals or subgoals[-1][1] != text):
                subgoals.append((t, text))
        obs, reward, terminated, truncated, info = env.step(action)
        t += 1
        if t <= RETURN_STEPS:
            total += float(reward)
        if frames is not None and t % 2 == 0:
            frames.append(env.render())
        policy.observe(obs, info)
        if task is not None:
            speeds.append(float(base.physics.center_of_mass_velocity()[0]))
            goal = task.goal_reached(base.physics, info)
            reached = None if goal is None else bool(reached or goal)
            through = task.passed_through(base.physics)
            passed = None if through is None else bool(passed or through)
        fell = bool(terminated)
        if terminated or truncated:
            break
    success = not fell and reached is not False
    speed = float(np.mean(speeds)) if speeds else None
    return Trial(seed, total, t, fell, success, weights, speed, subgoals, passed)


def _enable_rendering(env: gym.Env) -> None:
    base = env.unwrapped
    if getattr(base, "task_name", None) is None:
        raise ValueError(f"--video needs one of this package's H1 envs; {base} does not render "
                         "frames for the protocol")  # fmt: skip
    base.render_mode = "rgb_array"


def evaluate(
    policy: ProtocolPolicy, task: str, trials: int = 10, seed: int = 100_000,
    video: Path | None = None,
) -> list[Trial]:  # fmt: skip
    """The protocol's ``trials`` of ``policy`` on ``task``, seeds ``seed``, ``seed + 1``, ...

    ``video``: an mp4 of the first trial. Torch's global generator is left as it was (a policy
    may seed it per trial). Raises ValueError when ``policy`` acts on another task (a trained
    policy's env is its run's).
    """
    if task != policy.run_info.task:
        raise ValueError(f"the policy acts on {policy.run_info.task!r}, not {task!r}; evaluate "
                         "it on its own task")  # fmt: skip
    if video is not None:
        _enable_rendering(policy.env)
    with torch.random.fork_rng(devices=[]):
        return [_trial(policy, i, trials, seed, video) for i in range(trials)]


def evaluate_run(
    run_dir: Path,
    trials: int = 10,
    seed: int = 100_000,
    video: Path | None = None,
    policy: ProtocolPolicy | None = None,
) -> dict[str, Any]:
    """Run the protocol on a run directory; writes and returns ``eval_protocol.json``.

    ``run_dir``: written by ``metaworld-hwm train`` (any method, DreamerV3 included);
    ``policy``: its policy when already loaded (default: :func:`load_policy`).
    """
    policy = policy or load_policy(run_dir)
    info = policy.run_info
    try:
        results = evaluate(policy, info.task, trials, seed, video)
    finally:
        policy.close()
    returns = np.array([r.episode_return for r in results])
    summary = {
        "run_dir": str(run_dir),
        "task": info.task,
        "method": info.method,
        "step": info.step,
        "trials": trials,
        "successes": int(sum(r.success for r in results)),
        "passed": None if results[0].passed is None else int(sum(bool(r.passed) for r in results)),
        "return_mean": float(returns.mean()),
        "return_std": float(returns.std()),
        "experts": info.experts,
        "per_trial": [asdict(r) for r in results],
    }
    atomic_write_text(run_dir / "eval_protocol.json", json.dumps(summary, indent=1) + "\n")
    return summary


def _trial(policy: ProtocolPolicy, i: int, trials: int, seed: int, video: Path | None) -> Trial:
    """Trial ``i`` (seed ``seed + i``), its video when it is the first and one is asked for."""
    frames: list | None = [] if (video is not None and i == 0) else None
    result = run_trial(policy, seed + i, record_weights=i == 0, frames=frames)
    if frames:
        from metaworld_hwm.envs.rendering import write_mp4

        write_mp4(frames, video, fps=25)
    speed = "" if result.forward_speed is None else f", {result.forward_speed:+.2f} m/s"
    passed = {None: "", True: ", walked through", False: ", not through"}[result.passed]
    print(f"trial {i + 1}/{trials}: return {result.episode_return:.1f}, {result.steps} steps"
          f"{speed}, {'success' if result.success else 'failure'}{passed}", flush=True)  # fmt: skip
    return result
