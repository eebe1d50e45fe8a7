"""Evaluating a sheeprl DreamerV3 checkpoint on our env, with the protocol of our trainer.

The protocol (:class:`metaworld_hwm.training.trainer.OnlineTrainer.evaluate`): one env made with
``make_env(task, seed=seed + 10_000)``, reset without a seed before each episode, the policy
without exploration noise (the mode of DreamerV3's actor), the return summed over the env's
whole episode. The agent is rebuilt from the checkpoint with sheeprl's own ``build_agent``, and
sees the env through sheeprl's own wrappers, as in training.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import yaml

from metaworld_hwm.baselines.sheeprl_run import require_sheeprl

#: Offset of the evaluation env's seed from the run's seed (as in the TD-MPC2 trainer).
EVAL_SEED_OFFSET = 10_000


@dataclass(frozen=True)
class EvalEpisodes:
    """Returns and lengths of evaluation episodes."""

    returns: list[float]
    lengths: list[int]

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns)) if self.returns else float("nan")


def load_run_config(checkpoint: Path) -> dict[str, Any]:
    """The resolved sheeprl config of the run that wrote ``checkpoint`` (``<log_dir>/config.yaml``
    for ``<log_dir>/checkpoint/ckpt_<step>_0.ckpt``)."""
    path = checkpoint.parent.parent / "config.yaml"
    if not path.exists():
        raise FileNotFoundError(
            f"no sheeprl config.yaml beside checkpoint {checkpoint} (looked for {path}); a "
            "DreamerV3 checkpoint must stay in the checkpoint/ folder of its sheeprl run"
        )
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or config.get("algo", {}).get("name") != "dreamer_v3":
        raise ValueError(f"{path} is not the config of a sheeprl dreamer_v3 run")
    return config


def evaluate_checkpoint(
    checkpoint: str | Path,
    episodes: int,
    seed: int,
    device: str = "cpu",
    greedy: bool = True,
) -> EvalEpisodes:
    """Run ``episodes`` episodes of the checkpoint's DreamerV3 policy on its task.

    Args:
        checkpoint: ``.../checkpoint/ckpt_<step>_0.ckpt`` written by sheeprl (a pickled dict,
            loaded with ``weights_only=False``: load only checkpoints you trust).
        episodes: number of episodes.
        seed: the run's seed; the env is seeded with ``seed + EVAL_SEED_OFFSET``.
        device: ``cpu`` or ``cuda``.
        greedy: the mode of the actor (True) or a sample from it.
    """
    require_sheeprl()
    from lightning import Fabric
    from sheeprl.algos.dreamer_v3.agent import build_agent
    from sheeprl.algos.dreamer_v3.utils import prepare_obs
    from sheeprl.utils.env import make_env as sheeprl_make_env
    from sheeprl.utils.utils import dotdict

    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"DreamerV3 checkpoint {checkpoint} does not exist")
    cfg = dotdict(load_run_config(checkpoint))
    cfg.env.num_envs = 1
    cfg.env.capture_video = False
    cfg.env.wrapper.episode_log = None  # evaluation episodes are not training episodes
    fabric = Fabric(
        accelerator="cuda" if device == "cuda" else "cpu", devices=1,
        precision=cfg.fabric.get("precision", "32-true"),
    )  # fmt: skip
    state = fabric.load(str(checkpoint), weights_only=False)
    env = sheeprl_make_env(cfg, seed + EVAL_SEED_OFFSET, 0, None, "eval", vector_env_idx=0)()
    if cfg.algo.cnn_keys.encoder or not isinstance(env.action_space, gym.spaces.Box):
        raise ValueError(
            f"{checkpoint}: only runs on vector observations with continuous actions are "
            f"supported (cnn keys {cfg.algo.cnn_keys.encoder}, actions {env.action_space})"
        )
    actions_dim = tuple(env.action_space.shape)
    _, _, _, _, player = build_agent(
        fabric, actions_dim, True, cfg, env.observation_space, state["world_model"],
        state["actor"],
    )  # fmt: skip
    player.num_envs = 1
    returns, lengths = [], []
    with torch.random.fork_rng(devices=[]), torch.inference_mode():
        torch.manual_seed(seed + EVAL_SEED_OFFSET)
        for _ in range(episodes):
            obs, _ = env.reset()
            player.init_states()
            total, t, done = 0.0, 0, False
            while not done:
                torch_obs = prepare_obs(fabric, obs, cnn_keys=[])
                action = torch.cat(player.get_actions(torch_obs, greedy=greedy), -1)
                action = action.cpu().numpy().reshape(env.action_space.shape)
                obs, reward, terminated, truncated, _ = env.step(action)
                total, t, done = total + float(reward), t + 1, terminated or truncated
            returns.append(total)
            lengths.append(t)
    env.close()
    return EvalEpisodes(returns, lengths)
