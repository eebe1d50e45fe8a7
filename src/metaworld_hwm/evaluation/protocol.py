"""The paper's evaluation protocol (section 4.4): 10 trials, success counted per trial.

Success is each task's own (:meth:`~metaworld_hwm.envs.tasks.base.Task.goal_reached` and
``trial_steps``), as dm_control's tasks own their rewards:
* stand, walk, run: no fall for 30 s of simulated time (1500 control steps; the episode's
  time limit is lifted to 1500 for this check);
* door: the door opened, i.e. its hinge reached ``DOOR_OPEN_RAD`` = 0.9 rad (52 degrees, wide
  enough to pass; the door's range is 1.4 rad) at any step, without a fall;
* reach: the left hand within 5 cm of the goal at any step;
* a plain Gymnasium env (``gym:``): no termination before the time limit.
Returns are those of the same trials (summed over at most the 1000-step episode, as in
training, so they compare with training curves).

The trial loop (:func:`run_trial`) runs any :class:`ProtocolPolicy`: :class:`TrainerPolicy`
for our trainer's runs (``metaworld``, ``tdmpc2``), and
:class:`metaworld_hwm.baselines.dreamerv3_eval.DreamerV3Policy` for DreamerV3 (sheeprl) runs.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
import torch

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.utils.atomic import atomic_write_text

if TYPE_CHECKING:
    from metaworld_hwm.training.trainer import OnlineTrainer

#: Steps whose rewards make a trial's return (the training episode's length).
RETURN_STEPS = 1000
#: Policies of runs made by other programs, by the ``method`` in their ``config.json``:
#: ``"module:function"`` taking the run directory (imported on use, so evaluation does not
#: depend on the baselines; they depend on its :class:`ProtocolPolicy`).
RUN_POLICY_LOADERS: dict[str, str] = {
    "dreamerv3": "metaworld_hwm.baselines.dreamerv3_eval:load_run_policy",
}


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
    """Fused expert weights per step (metaworld runs, first trial only)."""


@dataclass(frozen=True)
class PolicyInfo:
    """What ``eval_protocol.json`` says of the evaluated run."""

    task: str
    method: str
    """The method label of the report (``metaworld``, ``tdmpc2``, ``dreamerv3``, ...)."""
    step: int
    """Env steps of training behind the evaluated weights."""
    experts: list[str] | None = None


class ProtocolPolicy(ABC):
    """A trained policy and the env it acts in, as the protocol's trial loop runs them.

    ``env`` is the policy's own view of the task (its wrappers included); the success checks
    read ``env.unwrapped``, and the protocol sets its ``max_episode_steps``, so no wrapper of
    ``env`` may cut episodes shorter.
    """

    env: gym.Env
    run_info: PolicyInfo

    def start_episode(self, obs: Any, seed: int) -> None:
        """Called after each reset with its first observation and the trial's seed."""

    @abstractmethod
    def act(self, obs: Any, t0: bool) -> np.ndarray:
        """The action for ``obs``, without exploration noise; ``t0``: first step of a trial."""

    def observe(self, obs: Any, info: dict[str, Any]) -> None:
        """Called after each step with the new observation and the step's ``info``."""

    def fused_weights(self, obs: Any) -> list[float] | None:
        """The fused expert weights at ``obs``; None for a policy without experts."""
        return None

    def close(self) -> None:
        """Release the env."""
        self.env.close()


class TrainerPolicy(ProtocolPolicy):
    """Our trainer's agent (noise-free planner), guided by its experts for ``metaworld`` runs."""

    def __init__(self, trainer: OnlineTrainer) -> None:
        self.trainer = trainer
        self.env = trainer.eval_env
        self.guide = trainer.eval_guide
        experts = None if trainer.guide is None else [e.name for e in trainer.guide.experts]
        self.run_info = PolicyInfo(trainer.cfg.task, trainer.cfg.method_label, trainer.step,
                                   experts)  # fmt: skip

    def start_episode(self, obs: Any, seed: int) -> None:
        if self.guide is not None:
            self.guide.start_episode(obs)

    def act(self, obs: Any, t0: bool) -> np.ndarray:
        return self.trainer.act(obs, t0=t0, eval_mode=True, guide=self.guide)

    def observe(self, obs: Any, info: dict[str, Any]) -> None:
        if self.guide is not None:
            self.guide.observe(obs, info)

    def fused_weights(self, obs: Any) -> list[float] | None:
        return None if self.guide is None else self.guide.fused_weights(obs).round(4).tolist()


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
    while True:
        action = policy.act(obs, t0=t == 0)
        if record_weights and (fused := policy.fused_weights(obs)) is not None:
            weights.append(fused)
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
        fell = bool(terminated)
        if terminated or truncated:
            break
    success = not fell and reached is not False
    speed = float(np.mean(speeds)) if speeds else None
    return Trial(seed, total, t, fell, success, weights, speed)


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """A run directory's ``config.json``; FileNotFoundError or ValueError (naming the fix)
    when it is missing or not a JSON object."""
    config_path = Path(run_dir) / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a run directory (no config.json)")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{config_path} is corrupt ({exc}); restore it or train the run again into a new "
            "directory"
        ) from exc
    if not isinstance(config, dict):
        raise ValueError(f"{config_path} holds no JSON object; restore it or train again")
    return config


def load_trainer(run_dir: Path) -> OnlineTrainer:
    """Rebuild a run's trainer from its ``config.json`` and ``checkpoint.pt``."""
    from metaworld_hwm.training.config import TrainConfig
    from metaworld_hwm.training.trainer import OnlineTrainer

    train = read_run_config(run_dir)["train"]
    cfg = TrainConfig(**{**train, "run_dir": str(run_dir), "tensorboard": False})
    trainer = OnlineTrainer(cfg)
    if not trainer.restore():
        raise FileNotFoundError(f"{run_dir} has no checkpoint.pt to evaluate; train first")
    return trainer


def load_policy(run_dir: Path) -> ProtocolPolicy:
    """The policy of a run directory: our trainer's (``metaworld``, ``tdmpc2``) or DreamerV3's.

    Raises:
        FileNotFoundError: ``run_dir`` has no ``config.json``, or no checkpoint.
        ValueError: ``config.json`` is neither our trainer's nor a DreamerV3 run's.
    """
    config_path = run_dir / "config.json"
    config = read_run_config(run_dir)
    if "train" in config:
        return TrainerPolicy(load_trainer(run_dir))
    if (loader := RUN_POLICY_LOADERS.get(config.get("method"))) is not None:
        module, function = loader.split(":")
        return getattr(importlib.import_module(module), function)(run_dir)
    raise ValueError(
        f"{config_path} is neither a run of `metaworld-hwm train` (no 'train' section) nor a "
        f"DreamerV3 run (method {config.get('method')!r}, not 'dreamerv3'); eval needs a "
        "directory written by `metaworld-hwm train`"
    )


def _enable_rendering(env: gym.Env) -> None:
    base = env.unwrapped
    if getattr(base, "task_name", None) is None:
        raise ValueError(f"--video needs one of this package's H1 envs; {base} does not render "
                         "frames for the protocol")  # fmt: skip
    base.render_mode = "rgb_array"


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
    try:
        if video is not None:
            _enable_rendering(policy.env)
        # A policy may seed torch's global generator per trial; the caller's is left as it was.
        with torch.random.fork_rng(devices=[]):
            results = [_trial(policy, i, trials, seed, video) for i in range(trials)]
    finally:
        policy.close()
    returns = np.array([r.episode_return for r in results])
    info = policy.run_info
    summary = {
        "run_dir": str(run_dir),
        "task": info.task,
        "method": info.method,
        "step": info.step,
        "trials": trials,
        "successes": int(sum(r.success for r in results)),
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
    print(f"trial {i + 1}/{trials}: return {result.episode_return:.1f}, {result.steps} steps"
          f"{speed}, {'success' if result.success else 'failure'}", flush=True)  # fmt: skip
    return result
