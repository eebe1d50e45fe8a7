"""Evaluating a sheeprl DreamerV3 checkpoint on our env: returns, and the success protocol.

:func:`evaluate_checkpoint` follows the protocol of our trainer
(:meth:`metaworld_hwm.training.OnlineTrainer.evaluate`): one env made with
``make_env(task, seed=seed + EVAL_SEED_OFFSET)``, reset without a seed before each episode, the
policy without exploration noise (the mode of DreamerV3's actor), the return summed over the
env's whole episode. :class:`DreamerV3Policy` is the same agent for the success protocol of
``metaworld-hwm eval`` (:func:`metaworld_hwm.evaluation.protocol.evaluate`). The agent is
rebuilt from the checkpoint with sheeprl's own ``build_agent``, and sees the env through
sheeprl's own wrappers, as in training.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import yaml

from metaworld_hwm.agent import EVAL_SEED_OFFSET
from metaworld_hwm.baselines.sheeprl_run import checkpoints, require_sheeprl
from metaworld_hwm.evaluation.policy import PolicyInfo, ProtocolPolicy
from metaworld_hwm.utils.episodes import EvalEpisodes

#: The method label of DreamerV3 runs (``config.json``'s ``method``, the report's rows).
METHOD = "dreamerv3"


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


def checkpoint_step(checkpoint: Path) -> int:
    """The policy step at which sheeprl wrote ``checkpoint`` (``ckpt_<step>_0.ckpt``)."""
    steps = {path.name: step for step, path in checkpoints(checkpoint.parent.parent)}
    if checkpoint.name not in steps:
        raise ValueError(
            f"{checkpoint} is not named like a sheeprl checkpoint (ckpt_<step>_0.ckpt)"
        )
    return steps[checkpoint.name]


class DreamerV3Agent:
    """A DreamerV3 checkpoint's player and one env of its task, wrapped by sheeprl as in training.

    Args:
        checkpoint: ``.../checkpoint/ckpt_<step>_0.ckpt`` written by sheeprl (a pickled dict,
            loaded with ``weights_only=False``: load only checkpoints you trust).
        env_seed: seed of the env.
        device: ``cpu`` or ``cuda``.
        sheeprl_time_limit: keep the ``TimeLimit`` that sheeprl adds when the run's
            ``env.max_episode_steps`` is set; False: only the env's own limit applies (the
            protocol sets it).
    """

    def __init__(
        self, checkpoint: str | Path, env_seed: int, device: str = "cpu",
        sheeprl_time_limit: bool = True,
    ) -> None:  # fmt: skip
        require_sheeprl()
        from lightning import Fabric
        from sheeprl.algos.dreamer_v3.agent import build_agent
        from sheeprl.utils.env import make_env as sheeprl_make_env
        from sheeprl.utils.utils import dotdict

        checkpoint = Path(checkpoint)
        if not checkpoint.is_file():
            raise FileNotFoundError(f"DreamerV3 checkpoint {checkpoint} does not exist")
        cfg = dotdict(load_run_config(checkpoint))
        cfg.env.num_envs = 1
        cfg.env.capture_video = False
        cfg.env.wrapper.episode_log = None  # evaluation episodes are not training episodes
        if not sheeprl_time_limit:
            cfg.env.max_episode_steps = None
        self.cfg = cfg
        self.fabric = Fabric(
            accelerator="cuda" if device == "cuda" else "cpu", devices=1,
            precision=cfg.fabric.get("precision", "32-true"),
        )  # fmt: skip
        state = self.fabric.load(str(checkpoint), weights_only=False)
        self.env: gym.Env = sheeprl_make_env(cfg, env_seed, 0, None, "eval", vector_env_idx=0)()
        if cfg.algo.cnn_keys.encoder or not isinstance(self.env.action_space, gym.spaces.Box):
            raise ValueError(
                f"{checkpoint}: only runs on vector observations with continuous actions are "
                f"supported (cnn keys {cfg.algo.cnn_keys.encoder}, actions {self.env.action_space})"
            )
        _, _, _, _, self.player = build_agent(
            self.fabric, tuple(self.env.action_space.shape), True, cfg,
            self.env.observation_space, state["world_model"], state["actor"],
        )  # fmt: skip
        self.player.num_envs = 1

    def reset(self) -> None:
        """Start an episode: the recurrent state and the previous action back to their start."""
        self.player.init_states()

    @torch.inference_mode()
    def act(self, obs: dict[str, np.ndarray], greedy: bool = True) -> np.ndarray:
        """The action for ``obs`` (sheeprl's observation dict): the actor's mode when greedy.

        The latent state is sampled with torch's global generator, as in sheeprl.
        """
        from sheeprl.algos.dreamer_v3.utils import prepare_obs

        torch_obs = prepare_obs(self.fabric, obs, cnn_keys=[])
        action = torch.cat(self.player.get_actions(torch_obs, greedy=greedy), -1)
        return action.cpu().numpy().reshape(self.env.action_space.shape)


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
    agent = DreamerV3Agent(checkpoint, seed + EVAL_SEED_OFFSET, device)
    env = agent.env
    returns, lengths = [], []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + EVAL_SEED_OFFSET)
        for _ in range(episodes):
            obs, _ = env.reset()
            agent.reset()
            total, t, done = 0.0, 0, False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(agent.act(obs, greedy))
                total, t, done = total + float(reward), t + 1, terminated or truncated
            returns.append(total)
            lengths.append(t)
    env.close()
    return EvalEpisodes(returns, lengths)


class DreamerV3Policy(ProtocolPolicy):
    """A DreamerV3 checkpoint for the success protocol (``metaworld-hwm eval``).

    The env is the run's, made by sheeprl's ``make_env`` (seeded with the run's seed plus
    :data:`EVAL_SEED_OFFSET`) without sheeprl's ``TimeLimit``: the protocol's episode length
    is the one that applies. Each trial seeds torch's global generator with the trial's seed
    (DreamerV3 samples its latent state from it), so that a trial is reproducible.

    Args:
        checkpoint: a sheeprl DreamerV3 checkpoint (see :class:`DreamerV3Agent`).
        device: ``cpu`` or ``cuda``.
        greedy: the mode of the actor (True) or a sample from it.
    """

    def __init__(self, checkpoint: str | Path, device: str = "cpu", greedy: bool = True) -> None:
        checkpoint = Path(checkpoint)
        seed = int(load_run_config(checkpoint)["seed"])
        self.agent = DreamerV3Agent(
            checkpoint, seed + EVAL_SEED_OFFSET, device, sheeprl_time_limit=False
        )
        self.env = self.agent.env
        self.greedy = greedy
        self.run_info = PolicyInfo(
            task=str(self.agent.cfg.env.id), method=METHOD, step=checkpoint_step(checkpoint)
        )

    def start_episode(self, obs: Any, seed: int) -> None:
        torch.manual_seed(seed)
        self.agent.reset()

    def act(self, obs: Any, t0: bool) -> np.ndarray:
        return self.agent.act(obs, self.greedy)


def load_run_policy(run_dir: Path) -> DreamerV3Policy:
    """The greedy policy of a DreamerV3 run directory's last checkpoint (for
    :func:`metaworld_hwm.evaluation.policy.load_policy`)."""
    from metaworld_hwm.baselines.dreamerv3 import find_checkpoint

    try:
        checkpoint = find_checkpoint(run_dir)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{exc}; {run_dir} has no DreamerV3 checkpoint to evaluate; "
                                "train first") from exc  # fmt: skip
    return DreamerV3Policy(checkpoint, device="cuda" if torch.cuda.is_available() else "cpu")
