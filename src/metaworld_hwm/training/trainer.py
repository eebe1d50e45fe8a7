"""Online TD-MPC2 training: collect with the planner, learn from replayed sub-trajectories.

The loop: ``seed_steps`` of uniform random actions, then as many updates at once, then
``utd`` updates per env step; evaluation every ``eval_every`` steps with the planner and no
noise; a checkpoint at the end of the first episode after every ``checkpoint_every`` steps.
Checkpoints fall on episode boundaries, so a resumed run restarts from the same env RNG state
and (with ``save_buffer``) continues exactly as the uninterrupted run would have.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from metaworld_hwm.agent import (
    CHECKPOINT,
    CONFIG,
    Agent,
    RunConfig,
    build_agent,
    make_run_env,
    upgrade_checkpoint,
)
from metaworld_hwm.physical import AsyncLearner
from metaworld_hwm.physical.guide_interface import Guide
from metaworld_hwm.skills.fusion import world_model_q
from metaworld_hwm.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from metaworld_hwm.training.loggers import Loggers
from metaworld_hwm.training.replay_buffer import ReplayBuffer
from metaworld_hwm.utils.atomic import atomic_write_text
from metaworld_hwm.utils.episodes import EvalEpisodes
from metaworld_hwm.utils.progress import ProgressReporter

BUFFER = "replay.npz"


class OnlineTrainer:
    """Trains an agent online on one env, learning its guide's fusion alongside.

    The parts are injected: ``agent`` (built by :func:`metaworld_hwm.agent.build_agent`; its
    resolved run config sets the budgets and the run directory), the env it learns in and the
    env it is evaluated in. :meth:`from_config` builds all three from a run config.
    """

    def __init__(self, agent: Agent, env: gym.Env, eval_env: gym.Env) -> None:
        self.agent = agent
        self.run = agent.run
        self.cfg = agent.run.config
        self.env, self.eval_env = env, eval_env
        self.guide = agent.guide
        self.eval_guide = None if self.guide is None else self.guide.spawn()
        self.buffer = ReplayBuffer(
            self.cfg.buffer_size, env.observation_space.shape[0], env.action_space.shape[0],
            0 if self.guide is None else self.guide.context_dim,
        )  # fmt: skip
        self.rng = np.random.default_rng(self.cfg.seed)
        self.step = 0
        self.episodes = 0
        self.learner: AsyncLearner | None = None
        self.run_dir = self.cfg.resolved_run_dir

    @classmethod
    def from_config(cls, cfg: RunConfig, guide: Guide | None = None) -> OnlineTrainer:
        """The trainer of ``cfg``: its env, its evaluation env and its agent (with ``guide``,
        or the run's own; see :func:`~metaworld_hwm.agent.build_agent`)."""
        env = make_run_env(cfg)
        eval_env = make_run_env(cfg, evaluation=True)
        return cls(build_agent(cfg, env, guide), env, eval_env)

    # ----------------------------------------------------------------- evaluation
    def evaluate(self, episodes: int) -> EvalEpisodes:
        """Run ``episodes`` episodes on the eval env with the noise-free planner."""
        returns, lengths = [], []
        guide = self.eval_guide
        for _ in range(episodes):
            obs, _ = self.eval_env.reset()
            if guide is not None:
                guide.start_episode(obs)
            total, t, done = 0.0, 0, False
            while not done:
                action = self.agent.act(obs, t0=t == 0, eval_mode=True, guide=guide)
                obs, reward, terminated, truncated, info = self.eval_env.step(action)
                if guide is not None:
                    guide.observe(obs, info)
                total += float(reward)
                t += 1
                done = terminated or truncated
            returns.append(total)
            lengths.append(t)
        return EvalEpisodes(returns, lengths)

    # ----------------------------------------------------------------- learning
    def _batch(self) -> tuple[dict[str, torch.Tensor], torch.Tensor | None]:
        """A replayed batch (with a_ref when guided) and its stored contexts."""
        wm_cfg = self.run.world_model
        batch = self.buffer.sample(wm_cfg.batch_size, wm_cfg.horizon, self.rng)
        context = batch.pop("context", None)
        if self.guide is not None:
            H, B = wm_cfg.horizon, batch["obs"].shape[1]
            obs = batch["obs"][:H].reshape(H * B, -1)
            flat = None if context is None else context.reshape(H * B, -1).numpy()
            a_ref = np.asarray(self.guide.reference(obs.numpy(), flat), dtype=np.float32)
            batch["a_ref"] = torch.from_numpy(a_ref.reshape(H, B, -1))
        return batch, context

    def _learn_guide(self, batch: dict[str, torch.Tensor], context: torch.Tensor | None) -> dict:
        if self.guide is None:
            return {}
        first = None if context is None else context[0]
        return self.guide.learn(
            batch["obs"][0],
            first,
            world_model_q(self.agent.tdmpc2.model, self.agent.tdmpc2.generator),
        )

    def _update(self) -> dict[str, float]:
        """One sequential update of the agent (and of the guide's fusion)."""
        batch, context = self._batch()
        return self.agent.tdmpc2.update(batch) | self._learn_guide(batch, context)

    def _update_async(self) -> dict[str, float]:
        """Collect the running update's metrics and start the next one in the background.

        The guide learns here, between updates, when no thread writes the world model.
        """
        assert self.learner is not None
        metrics = self.learner.wait() or {}
        batch, context = self._batch()
        metrics = metrics | self._learn_guide(batch, context)
        self.learner.submit(batch)
        return metrics

    def _flush(self) -> None:
        """Wait for a background update (before evaluating, saving or stopping)."""
        if self.learner is not None:
            self.learner.wait()

    # ----------------------------------------------------------------- persistence
    def save(self) -> Path:
        """Write the checkpoint (and the buffer when configured) atomically."""
        if self.cfg.save_buffer:
            self.buffer.save(self.run_dir / BUFFER)
        return save_checkpoint(
            self.run_dir / CHECKPOINT,
            {
                "config": self.run.identity(),
                "resolved_config": self.run.to_dict(),
                **self.agent.state_dict(),
                "step": self.step,
                "episodes": self.episodes,
                "rng": self.rng.bit_generator.state,
                "env_rng": self.env.unwrapped.np_random.bit_generator.state,
                "eval_env_rng": self.eval_env.unwrapped.np_random.bit_generator.state,
                "has_buffer": self.cfg.save_buffer,
            },
        )

    def restore(self) -> bool:
        """Resume from the run directory's checkpoint; False when there is none."""
        path = self.run_dir / CHECKPOINT
        if not path.exists():
            return False
        state = load_checkpoint(path, expected_config=self.run.identity(),
                                upgrade=upgrade_checkpoint)  # fmt: skip
        try:
            self.agent.load_state_dict(state)
        except ValueError as exc:  # e.g. a preset's world-model default changed since
            raise CheckpointError(
                f"checkpoint {path} does not fit this run's agent ({exc}); resume with the "
                "settings it was trained with (config.json's world_model) or choose a new "
                "--run-dir"
            ) from exc
        self.step, self.episodes = state["step"], state["episodes"]
        self.rng.bit_generator.state = state["rng"]
        self.env.unwrapped.np_random.bit_generator.state = state["env_rng"]
        self.eval_env.unwrapped.np_random.bit_generator.state = state["eval_env_rng"]
        if state["has_buffer"]:
            self.buffer.load(self.run_dir / BUFFER)
        return True

    # ----------------------------------------------------------------- the loop
    def train(self, resume: bool = False) -> EvalEpisodes:
        """Train for ``cfg.steps`` env steps (continuing a checkpoint if ``resume``)."""
        cfg = self.cfg
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if resume and self.restore():
            print(f"resumed {self.run_dir} at step {self.step}")
            if not cfg.save_buffer:
                print("the replay buffer was not saved: learning restarts from new data")
            final = self.run_dir / "final.json"
            if self.step >= cfg.steps and final.exists():
                print(f"{self.run_dir} already trained for {self.step} steps; nothing to do")
                return EvalEpisodes(json.loads(final.read_text())["eval_returns"], [])
        atomic_write_text(self.run_dir / CONFIG, json.dumps(self.run.to_dict(), indent=2) + "\n")
        loggers = Loggers(self.run_dir, tensorboard=cfg.tensorboard)
        progress = ProgressReporter(cfg.steps, start=self.step, label=f"[{cfg.task}] ")
        if cfg.async_updates:
            torch.set_num_threads(1)  # one core acts, the other learns
            self.learner = AsyncLearner(self.agent.tdmpc2)
        next_checkpoint = self.step - self.step % cfg.checkpoint_every + cfg.checkpoint_every
        last_eval = EvalEpisodes([], [])
        try:
            while self.step < cfg.steps:
                last_eval = self._run_episode(loggers, progress, last_eval)
                if self.step >= next_checkpoint or self.step >= cfg.steps:
                    self._flush()
                    self.save()
                    next_checkpoint = self.step - self.step % cfg.checkpoint_every
                    next_checkpoint += cfg.checkpoint_every
            if cfg.eval_episodes and (not last_eval.returns or self.step % cfg.eval_every):
                last_eval = self._evaluate_and_log(loggers, progress)
        finally:
            if self.learner is not None:
                self.learner.close()
                self.learner = None
            loggers.close()
        progress.update(self.step, force=True)
        progress.close()
        summary = {"step": self.step, "eval_returns": last_eval.returns,
                   "eval_mean_return": last_eval.mean_return}  # fmt: skip
        atomic_write_text(self.run_dir / "final.json", json.dumps(summary, indent=2) + "\n")
        return last_eval

    def _log_events(self, events: list[dict[str, Any]]) -> None:
        """Append closed-loop events (plans, replans, sub-goal switches) to events.jsonl."""
        if not events:
            return
        with (self.run_dir / "events.jsonl").open("a", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps({"step": self.step, **event}, default=float) + "\n")

    def _evaluate_and_log(self, loggers: Loggers, progress: ProgressReporter) -> EvalEpisodes:
        self._flush()
        result = self.evaluate(self.cfg.eval_episodes)
        loggers.log(self.step, {
            "eval/episode_reward": result.mean_return,
            "eval/episode_reward_std": float(np.std(result.returns)),
            "eval/episode_length": float(np.mean(result.lengths)),
        })  # fmt: skip
        progress.last_eval = result.mean_return
        return result

    def _run_episode(
        self, loggers: Loggers, progress: ProgressReporter, last_eval: EvalEpisodes
    ) -> EvalEpisodes:
        cfg = self.cfg
        obs, _ = self.env.reset()
        self.buffer.start_episode(obs)
        if self.guide is not None:
            self._log_events(self.guide.start_episode(obs))
        total, t, done = 0.0, 0, False
        losses: list[dict[str, float]] = []
        started = time.perf_counter()
        while not done and self.step < cfg.steps:
            if self.step < self.run.seed_steps:
                action = self.rng.uniform(-1.0, 1.0, self.env.action_space.shape)
            else:
                action = self.agent.act(obs, t0=t == 0, eval_mode=False, guide=self.guide)
            context = None if self.guide is None else self.guide.context()
            next_obs, reward, terminated, truncated, info = self.env.step(action)
            self.buffer.add(action, float(reward), terminated, truncated, next_obs, context)
            if self.guide is not None:
                self._log_events(self.guide.observe(next_obs, info))
            obs, total, t, done = next_obs, total + float(reward), t + 1, terminated or truncated
            self.step += 1
            seed_steps = self.run.seed_steps
            ready = self.buffer.num_transitions > self.run.world_model.horizon
            if self.step >= seed_steps and ready:
                if self.step == seed_steps or self.learner is None:
                    pretrain = self.step == seed_steps
                    n = seed_steps if pretrain else _updates(self.step, cfg.utd)
                    losses.extend(self._update() for _ in range(n))
                else:
                    losses.extend(self._update_async() for _ in range(_updates(self.step, cfg.utd)))
            if self.step % cfg.eval_every == 0 and cfg.eval_episodes:
                last_eval = self._evaluate_and_log(loggers, progress)
            progress.update(self.step)
        self.episodes += 1
        metrics = {
            "train/episode_reward": total,
            "train/episode_length": float(t),
            "train/episodes": float(self.episodes),
            "train/steps_per_second": t / max(time.perf_counter() - started, 1e-9),
        }
        if losses:
            keys = dict.fromkeys(k for m in losses for k in m)  # async: the first has none
            metrics |= {  # the guide's metrics keep their namespace (skills/...)
                k if "/" in k else f"train/{k}": float(np.mean([m[k] for m in losses if k in m]))
                for k in keys
            }
        loggers.log(self.step, metrics)
        return last_eval


def _updates(step: int, utd: float) -> int:
    """Updates to run at ``step`` so that ``utd`` per step holds on average."""
    return int(step * utd) - int((step - 1) * utd)
