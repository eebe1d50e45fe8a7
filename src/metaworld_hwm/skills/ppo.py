"""PPO for experts on CPU: rsl_rl's PPO over a :class:`~metaworld_hwm.envs.vector.VectorEnv`.

rsl_rl (``rsl-rl-lib``, the PPO behind legged_gym, Isaac Lab and mjlab) does the algorithm:
clipped surrogate, clipped value loss, GAE, adaptive learning rate from the KL, Gaussian
actions with a learned std, time-out bootstrapping, empirical observation normalisation. This
module does what rsl_rl's runner would do for a GPU simulator, for MuJoCo envs in worker
processes instead: collect rollouts, hand them to the algorithm, checkpoint, log.

What a task adds lives in an :class:`Objective`: the policy's inputs (features of the
observation and of its own state, e.g. a command and a gait clock), how policy outputs become
env actions, the reward PPO maximises and any curriculum. :class:`GymObjective` passes an
env's own observation, action and reward through.

An actor may start from a trained network (``initial_policy``, e.g. the walk expert's MLP with
its fixed input normaliser); ``critic_warmup`` iterations then fit the value function with the
actor frozen, so early advantages from an untrained critic cannot undo the pretraining.

Resumable: at an iteration boundary (every ``checkpoint_seconds``, and at the end) the
actor, critic, optimiser, learning rate, objective state, every env's physics and RNG state,
the current observations and the torch and numpy RNG states go atomically into
``work_dir/checkpoint.pt``; resuming follows the same curve as an uninterrupted run (tested).

The network kept as the run's result is the one of the best periodic evaluation: the policy's
mean action alone on ``eval_episodes`` episodes of fixed seeds, ranked by
:func:`~metaworld_hwm.skills.ppo_results.summarise_evaluation`'s ``eval_score``, in which a
fallen episode scores 0. One episode was not enough: a network that ran 639 on the one
evaluation seed fell on 2 of 10 others. Every evaluated network is also written to
``work_dir/evaluated/`` (:mod:`~metaworld_hwm.skills.ppo_results` reads one back), so a few
evaluation episodes need not decide: any of them can be benched on more seeds afterwards and
exported (``experts train ... --keep ITERATION``).
"""

from __future__ import annotations

import copy
import csv
import io
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rsl_rl.algorithms import PPO
from rsl_rl.models import MLPModel
from rsl_rl.storage import RolloutStorage
from tensordict import TensorDict
from torch import nn

from metaworld_hwm.envs.vector import EnvFactory, SignalFn, VectorEnv, VectorStep, no_signals
from metaworld_hwm.skills.ppo_results import (
    plot_ppo_curve,
    save_evaluated_network,
    summarise_evaluation,
)
from metaworld_hwm.utils.atomic import atomic_write_bytes, atomic_write_text
from metaworld_hwm.utils.run_state import load_for_resume

CHECKPOINT = "checkpoint.pt"

#: One evaluation episode: ``evaluate(policy, k)`` runs the ``k``-th of its fixed seeds with the
#: deterministic policy and returns at least ``eval_return`` and ``eval_fell`` (0 or 1), plus
#: any other per-episode figures (averaged over the episodes in the curve).
EvaluateFn = Callable[[nn.Module, int], dict[str, float]]


@dataclass(frozen=True)
class PPOConfig:
    """Settings of a PPO run (rsl_rl's names where they are rsl_rl's settings)."""

    iterations: int = 1000
    envs: int = 32
    workers: int | None = None
    """Worker processes (default: one per core, at most ``envs``)."""
    steps_per_env: int = 64
    """Rollout length per env and iteration."""
    learning_epochs: int = 5
    mini_batches: int = 4
    clip_param: float = 0.2
    gamma: float = 0.99
    lam: float = 0.95
    value_loss_coef: float = 1.0
    entropy_coef: float = 0.0
    learning_rate: float = 3e-4
    schedule: str = "adaptive"
    desired_kl: float = 0.01
    max_grad_norm: float = 1.0
    init_std: float = 0.3
    """Initial action std (policy output units)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of the critic, and of the actor when it starts untrained."""
    critic_warmup: int = 0
    """Iterations at the start that train only the critic (the actor frozen)."""
    critic_learning_rate: float = 3e-4
    """The critic's own fixed rate. rsl_rl keeps one rate for actor and critic and its KL
    schedule sets it; when fine-tuning, the actor's rate is tiny and a fresh critic trained at
    it never catches up (value loss stays ~100 and the advantages are noise)."""
    checkpoint_seconds: float = 300.0
    seed: int = 0

    def __post_init__(self) -> None:
        positive = {"iterations": self.iterations, "envs": self.envs,
                    "steps_per_env": self.steps_per_env, "learning_epochs": self.learning_epochs,
                    "mini_batches": self.mini_batches}  # fmt: skip
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"PPOConfig.{name} must be >= 1, got {value}")
        if self.init_std <= 0 or self.learning_rate <= 0:
            raise ValueError("PPOConfig.init_std and learning_rate must be > 0")
        if self.schedule not in ("adaptive", "fixed"):
            raise ValueError(f"schedule must be 'adaptive' or 'fixed', got {self.schedule!r}")


class Objective(ABC):
    """What a PPO run optimises, on batches of N envs (see the module docstring)."""

    #: Policy input size and output size.
    feature_dim: int
    output_dim: int
    #: Evaluated in the workers after every step (see :class:`VectorEnv`).
    signal_fn: SignalFn = staticmethod(no_signals)
    #: What an episode that terminates (ends before its time limit) is called in the log.
    early_end: str = "falls"

    @abstractmethod
    def env_factory(self) -> EnvFactory:
        """A picklable callable making one training env."""

    def start(self, num_envs: int, obs: np.ndarray, rng: np.random.Generator) -> None:
        """Begin ``num_envs`` episodes from their first observations (default: nothing)."""

    def features(self, obs: np.ndarray) -> np.ndarray:
        """Policy inputs (N, feature_dim) for observations (N, obs_dim); default: the obs."""
        return obs

    def env_actions(self, outputs: np.ndarray) -> np.ndarray:
        """Env actions for policy outputs (N, output_dim); default: the outputs."""
        return outputs

    def reward(self, step: VectorStep) -> np.ndarray:
        """PPO's reward (N,) for a step; default: the env's."""
        return step.reward

    def after_step(self, step: VectorStep, rng: np.random.Generator) -> np.ndarray | None:
        """Advance the objective's own state after a step (rows with ``step.done`` begin a new
        episode); may return velocity pushes (N, k) for :meth:`VectorEnv.push`."""
        return None

    def env_calls(self) -> tuple[str, list[Any]] | None:
        """A method and one argument per env to call on the envs now (see
        :meth:`VectorEnv.call`), e.g. a new episode's load; called after :meth:`start` and
        :meth:`after_step`. Default: none."""
        return None

    def end_iteration(self, stats: dict[str, float]) -> dict[str, float]:
        """Called with the iteration's statistics; returns extra curve columns (curricula)."""
        return {}

    def state_dict(self) -> dict[str, Any]:
        """The objective's state for a checkpoint (default: none)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


class GymObjective(Objective):
    """An env's own observation, action (clipped to its box) and reward."""

    def __init__(self, factory: EnvFactory) -> None:
        self._factory = factory
        probe = factory()
        self.feature_dim = int(np.prod(probe.observation_space.shape))
        self.output_dim = int(np.prod(probe.action_space.shape))
        self._low, self._high = probe.action_space.low, probe.action_space.high
        probe.close()

    def env_factory(self) -> EnvFactory:
        return self._factory

    def env_actions(self, outputs: np.ndarray) -> np.ndarray:
        return np.clip(outputs, self._low, self._high)


class _Actor(MLPModel):
    """rsl_rl's MLP model whose network may be replaced by a pretrained one."""

    def __init__(self, obs: TensorDict, output_dim: int, cfg: PPOConfig,
                 network: nn.Module | None) -> None:  # fmt: skip
        super().__init__(
            obs, {"actor": ["policy"]}, "actor", output_dim, hidden_dims=cfg.hidden,
            obs_normalization=network is None,
            distribution_cfg={"class_name": "GaussianDistribution", "init_std": cfg.init_std},
        )  # fmt: skip
        if network is not None:
            self.mlp = network


class PPOTrainer:
    """One resumable PPO run in ``work_dir`` (see the module docstring).

    Args:
        cfg: the run's settings.
        objective: what to optimise.
        work_dir: checkpoint, ``curve.csv``, ``curve.png`` and ``train.log``.
        initial_policy: a network (feature_dim -> output_dim) to start the actor from; it is
            trained in place. None: rsl_rl's MLP with observation normalisation.
        evaluate: one evaluation episode (:data:`EvaluateFn`), run ``eval_episodes`` times
            (k = 0, 1, ...) with the actor's deterministic network every ``eval_every``
            iterations and at the last; ``summarise_evaluation`` makes the curve columns.
            The network of the highest ``eval_score`` is kept (``best_network``,
            ``best_row``).
        eval_episodes: episodes per evaluation.
        log: where progress lines go (besides ``train.log``).
        objective_settings: what defines ``objective`` beyond ``cfg`` (e.g. a command line's
            options, by name), kept in the checkpoint: :meth:`resume` refuses other ones.
    """

    def __init__(
        self,
        cfg: PPOConfig,
        objective: Objective,
        work_dir: str | Path,
        initial_policy: nn.Module | None = None,
        evaluate: EvaluateFn | None = None,
        eval_every: int = 20,
        log: Callable[[str], None] = print,
        eval_episodes: int = 1,
        objective_settings: dict[str, Any] | None = None,
    ) -> None:
        if eval_every < 1 or eval_episodes < 1:
            raise ValueError(
                f"eval_every and eval_episodes must be >= 1, got {eval_every}, {eval_episodes}"
            )
        self.cfg = cfg
        self.objective = objective
        self.objective_settings = dict(objective_settings or {})
        self.work_dir = Path(work_dir)
        self._evaluate = evaluate
        self.eval_every = eval_every
        self.eval_episodes = eval_episodes
        self._log = log
        self.rng = np.random.default_rng(cfg.seed)
        torch.manual_seed(cfg.seed)
        n = cfg.envs
        self.envs = VectorEnv(objective.env_factory(), n, cfg.workers, objective.signal_fn)
        self.obs = self.envs.reset(self.rng.integers(2**31, size=n))
        objective.start(n, self.obs, self.rng)
        self._send_env_calls()
        example = self._obs_dict(objective.features(self.obs))
        actor = _Actor(example, objective.output_dim, cfg, initial_policy)
        critic = MLPModel(example, {"critic": ["policy"]}, "critic", 1, hidden_dims=cfg.hidden,
                          obs_normalization=True)  # fmt: skip
        storage = RolloutStorage("rl", n, cfg.steps_per_env, example, [objective.output_dim])
        self.alg = PPO(
            actor, critic, storage, num_learning_epochs=cfg.learning_epochs,
            num_mini_batches=cfg.mini_batches, clip_param=cfg.clip_param, gamma=cfg.gamma,
            lam=cfg.lam, value_loss_coef=cfg.value_loss_coef, entropy_coef=cfg.entropy_coef,
            learning_rate=cfg.learning_rate, max_grad_norm=cfg.max_grad_norm,
            schedule=cfg.schedule, desired_kl=cfg.desired_kl,
        )  # fmt: skip
        self._split_learning_rates()
        #: The network state and curve row of the best evaluation so far ({} before one).
        self.best_network: dict[str, torch.Tensor] = {}
        self.best_row: dict[str, float] = {}
        self.iteration = 0
        #: Whether the last :meth:`run` was stopped by a signal before its last iteration.
        self.stopped = False
        self.env_steps = 0
        self.seconds = 0.0
        self.curve: list[dict[str, float]] = []
        self._episode_return = np.zeros(n)
        self._episode_task_return = np.zeros(n)
        self._episode_length = np.zeros(n, dtype=int)

    # ------------------------------------------------------------------ training
    @staticmethod
    def _obs_dict(features: np.ndarray) -> TensorDict:
        tensor = torch.as_tensor(features, dtype=torch.float32)
        return TensorDict({"policy": tensor}, batch_size=[tensor.shape[0]])

    @property
    def policy(self) -> nn.Module:
        """The deterministic policy: observation normaliser, then the network."""
        return nn.Sequential(self.alg.actor.obs_normalizer, self.alg.actor.mlp)

    @property
    def network(self) -> nn.Module:
        """The actor's trainable network (``initial_policy`` when one was given)."""
        return self.alg.actor.mlp

    def log(self, line: str) -> None:
        """Print a progress line and append it to ``train.log``."""
        self._log(line)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with (self.work_dir / "train.log").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def run(self, progress: Callable[[int], None] | None = None) -> None:
        """Train until ``cfg.iterations``; checkpoints every ``checkpoint_seconds`` and at the
        end. SIGINT or SIGTERM stops it cleanly after the current iteration (checkpointed, so
        ``resume`` continues it). progress: called with the env steps of each iteration."""
        last_save = time.monotonic()
        stop = []
        handlers = {sig: signal.signal(sig, lambda *_: stop.append(True))
                    for sig in (signal.SIGINT, signal.SIGTERM)}  # fmt: skip
        try:
            while self.iteration < self.cfg.iterations and not stop:
                self._one_iteration()
                if progress is not None:
                    progress(self.cfg.envs * self.cfg.steps_per_env)
                if time.monotonic() - last_save >= self.cfg.checkpoint_seconds:
                    self.save()
                    last_save = time.monotonic()
            self.save()
            self.stopped = bool(stop)
            if stop:
                self.log(f"stopped at iteration {self.iteration}; --resume continues the run")
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            self.envs.close()

    def _one_iteration(self) -> None:
        start = time.perf_counter()
        cfg = self.cfg
        frozen = self.iteration < cfg.critic_warmup
        for p in self.alg.actor.parameters():
            p.requires_grad_(not frozen)
        finished = self._collect()
        collected = time.perf_counter()
        losses = self.alg.update()
        self.iteration += 1
        self.env_steps += cfg.envs * cfg.steps_per_env
        self.seconds += time.perf_counter() - start
        stats = {
            "iteration": self.iteration, "env_steps": self.env_steps,
            "seconds": round(self.seconds, 2),
            "episodes": len(finished), "falls": int(sum(row[3] for row in finished)),
            "train_return": _mean(row[0] for row in finished),
            "task_return": _mean(row[1] for row in finished),
            "episode_length": _mean(row[2] for row in finished),
            "value_loss": losses["value"], "surrogate_loss": losses["surrogate"],
            "action_std": float(self.alg.actor.distribution.std_param.detach().mean()),
            "learning_rate": self.alg.learning_rate,
            "collect_seconds": round(collected - start, 3),
            "update_seconds": round(time.perf_counter() - collected, 3),
        }  # fmt: skip
        base = set(stats)
        stats |= self.objective.end_iteration(stats)
        if self._evaluate is not None and (
            self.iteration % self.eval_every == 0 or self.iteration == cfg.iterations
        ):
            stats |= self._evaluation()
            save_evaluated_network(self.work_dir, self.network.state_dict(), stats)
            # a best row without a score (a one-episode evaluation of an older run) yields
            if stats["eval_score"] > self.best_row.get("eval_score", -np.inf):
                self.best_row = dict(stats)
                self.best_network = copy.deepcopy(self.network.state_dict())
        self.curve.append(stats)
        rate = cfg.envs * cfg.steps_per_env / max(1e-9, stats["collect_seconds"])
        extras = {k: v for k, v in stats.items() if k not in base}
        self.log(self._line(stats, rate, extras))

    def _evaluation(self) -> dict[str, float]:
        """The deterministic policy on ``eval_episodes`` episodes, summarised."""
        policy = self.policy
        was_training = policy.training
        policy.eval()
        try:
            episodes = [self._evaluate(policy, k) for k in range(self.eval_episodes)]
        finally:
            policy.train(was_training)
        return summarise_evaluation(episodes)

    def _collect(self) -> list[tuple[float, float, int, bool]]:
        """One rollout of ``steps_per_env`` steps into rsl_rl's storage, then the returns;
        gives (PPO return, task return, length, fell) of every episode that ended in it."""
        finished = []
        self.alg.train_mode()
        with torch.inference_mode():
            for _ in range(self.cfg.steps_per_env):
                obs = self._obs_dict(self.objective.features(self.obs))
                outputs = self.alg.act(obs).double().numpy()
                step = self.envs.step(self.objective.env_actions(outputs))
                reward = self.objective.reward(step)
                self.alg.process_env_step(
                    obs, torch.as_tensor(reward, dtype=torch.float32),
                    torch.as_tensor(step.done), {"time_outs": torch.as_tensor(
                        step.truncated & ~step.terminated, dtype=torch.float32)},
                )  # fmt: skip
                self._episode_return += reward
                self._episode_task_return += step.reward
                self._episode_length += 1
                for i in np.flatnonzero(step.done):
                    finished.append(
                        (
                            self._episode_return[i],
                            self._episode_task_return[i],
                            self._episode_length[i],
                            bool(step.terminated[i]),
                        )
                    )
                for counter in (self._episode_return, self._episode_task_return,
                                self._episode_length):  # fmt: skip
                    counter[step.done] = 0
                pushes = self.objective.after_step(step, self.rng)
                if pushes is not None:
                    self.envs.push(pushes)
                self._send_env_calls()
                self.obs = step.obs
            self.alg.compute_returns(self._obs_dict(self.objective.features(self.obs)))
        return finished

    def _send_env_calls(self) -> None:
        calls = self.objective.env_calls()
        if calls is not None:
            self.envs.call(*calls)

    def _split_learning_rates(self) -> None:
        """Give the critic its own param group at ``critic_learning_rate``, out of reach of
        rsl_rl's schedule (which writes every group's rate)."""
        groups = self.alg.optimizer.param_groups
        critic = {id(p) for p in self.alg.critic.parameters()}
        if len(groups) == 1:
            params = groups[0]["params"]
            groups[0]["params"] = [p for p in params if id(p) not in critic]
            rest = {k: v for k, v in groups[0].items() if k != "params"}
            groups.append({**rest, "params": [p for p in params if id(p) in critic]})
        groups[1] = _FixedRate(groups[1])
        dict.__setitem__(groups[1], "lr", self.cfg.critic_learning_rate)

    def _line(self, s: dict[str, float], rate: float, extras: dict[str, float]) -> str:
        more = "".join(f" | {k} {v:.3g}" for k, v in extras.items())
        return (
            f"it {s['iteration']}/{self.cfg.iterations} | {s['env_steps']} steps | "
            f"collect {rate:.0f} steps/s, update {s['update_seconds']:.2f} s | "
            f"episodes {s['episodes']} ({s['falls']} {self.objective.early_end}) | "
            f"return {s['train_return']:.1f} (task {s['task_return']:.1f}, length "
            f"{s['episode_length']:.0f}) | std {s['action_std']:.3f} | lr "
            f"{s['learning_rate']:.1e}{more}"
        )

    # ------------------------------------------------------------------ persistence
    def save(self) -> None:
        """Write the checkpoint, ``curve.csv`` and ``curve.png`` atomically."""
        state = {
            "config": asdict(self.cfg),
            "objective_settings": self.objective_settings,
            "algorithm": self.alg.save(),
            "learning_rate": self.alg.learning_rate,
            "objective": self.objective.state_dict(),
            "envs": self.envs.get_state(),
            "obs": self.obs,
            "episode": (self._episode_return, self._episode_task_return, self._episode_length),
            "rng": self.rng.bit_generator.state,
            "torch_rng": torch.get_rng_state(),
            "iteration": self.iteration, "env_steps": self.env_steps,
            "seconds": self.seconds, "curve": self.curve,
            "best": (self.best_network, self.best_row),
        }  # fmt: skip
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(self.work_dir / CHECKPOINT, buffer.getvalue())
        self._save_curve()

    def resume(self) -> None:
        """Continue from ``work_dir``'s checkpoint; refuses one made with other settings (only
        ``iterations``, ``checkpoint_seconds`` and ``workers`` may change: each env's state is
        its own, so a run goes on over more cores on the same curve) or other objective
        settings. A checkpoint from before objective settings were kept resumes with a warning."""
        free = ("iterations", "checkpoint_seconds", "workers")
        path = self.work_dir / CHECKPOINT
        state = load_for_resume(path, asdict(self.cfg), free,
                                "--iterations, --checkpoint-minutes and --workers")  # fmt: skip
        saved = state.get("objective_settings")
        if saved is None and self.objective_settings:
            self.log(f"resume: {path} predates kept objective settings; they are not checked")
        elif saved is not None and saved != self.objective_settings:
            current = self.objective_settings
            changed = sorted(k for k in {**saved, **current} if saved.get(k) != current.get(k))
            raise ValueError(
                f"{path} was made with other objective settings ({', '.join(changed)}); resume "
                "with the same ones or use another --work-dir"
            )
        self.alg.load(state["algorithm"], None, strict=True)
        self.alg.learning_rate = state["learning_rate"]
        self._split_learning_rates()
        self.rng.bit_generator.state = state["rng"]
        self._episode_return, self._episode_task_return, self._episode_length = state["episode"]
        self.objective.load_state_dict(state["objective"])
        if any(s is None for s in state["envs"]):  # envs that cannot be snapshotted
            self.log("resume: these envs keep no state; the episodes in progress restart")
            self.obs = self.envs.reset(self.rng.integers(2**31, size=self.cfg.envs))
            self.objective.start(self.cfg.envs, self.obs, self.rng)
            self._send_env_calls()
            for counter in (self._episode_return, self._episode_task_return,
                            self._episode_length):  # fmt: skip
                counter[:] = 0
        else:
            self.envs.set_state(state["envs"])
            self.obs = state["obs"]
        torch.set_rng_state(state["torch_rng"])
        self.iteration, self.env_steps = state["iteration"], state["env_steps"]
        self.seconds, self.curve = state["seconds"], state["curve"]
        self.best_network, self.best_row = state.get("best", ({}, {}))

    def _save_curve(self) -> None:
        if not self.curve:
            return
        fields = list(dict.fromkeys(k for row in self.curve for k in row))
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=fields)
        writer.writeheader()
        writer.writerows(self.curve)
        atomic_write_text(self.work_dir / "curve.csv", text.getvalue())
        plot_ppo_curve(self.curve, self.work_dir / "curve.png")


class _FixedRate(dict):
    """An optimiser param group whose learning rate ignores later writes (the critic's)."""

    def __setitem__(self, key: str, value: Any) -> None:
        if key != "lr":
            super().__setitem__(key, value)


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return float(np.mean(values)) if values else float("nan")
