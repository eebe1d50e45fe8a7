"""Make learned experts by distillation: behaviour-clone a teacher into a small MLP policy.

The teacher is any ``obs -> action`` callable: a trained TD-MPC2 agent (:func:`agent_teacher`)
or another expert. :func:`collect` rolls the teacher in the env and records (obs, teacher
action) pairs; executed actions get Gaussian noise so the student also sees the states just
off the teacher's path, where its own errors take it (DART-style noise injection).
:func:`behaviour_clone` fits an :class:`MLPPolicy` to the pairs and returns a
:class:`LearnedExpert` ready for the library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from metaworld_hwm.skills.expert import ExpertSpec, LearnedExpert, MLPPolicy

Teacher = Callable[[np.ndarray], np.ndarray]


def agent_teacher(agent: Any) -> Teacher:
    """A teacher from a :class:`metaworld_hwm.physical.TDMPC2Agent` (planning, no noise)."""
    return lambda obs: agent.act(obs, eval_mode=True)


def collect(
    teacher: Teacher, env: Any, steps: int, seed: int = 0, action_noise: float = 0.1
) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """(obs (N, D), teacher actions (N, A), episode returns) from ``steps`` env steps.

    The env executes teacher action + N(0, action_noise^2), clipped to [-1, 1]; the teacher's
    clean action is what is recorded. Returns are of the noisy episodes that finished.
    """
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    observations, actions, returns, ret = [], [], [], 0.0
    for _ in range(steps):
        action = np.asarray(teacher(obs), dtype=np.float32)
        observations.append(obs)
        actions.append(action)
        noisy = np.clip(action + action_noise * rng.standard_normal(action.shape), -1, 1)
        obs, reward, terminated, truncated, _ = env.step(noisy)
        ret += reward
        if terminated or truncated:
            returns.append(ret)
            ret = 0.0
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
    return np.asarray(observations), np.asarray(actions), returns


def behaviour_clone(
    spec: ExpertSpec,
    obs: np.ndarray,
    actions: np.ndarray,
    epochs: int = 30,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
) -> tuple[LearnedExpert, list[float]]:
    """Fit a learned expert to (obs, actions) by mean-squared error (Adam, cosine-decayed
    learning rate); returns it and the loss per epoch. ``spec.config["hidden"]`` sets the MLP
    sizes (default (256, 256))."""
    if spec.kind != "learned":
        raise ValueError(f"behaviour_clone makes learned experts; spec.kind is {spec.kind!r}")
    if obs.ndim != 2 or obs.shape[1] < spec.obs_dim or actions.shape != (len(obs), spec.action_dim):
        raise ValueError(
            f"need obs (N, >= {spec.obs_dim}) and actions (N, {spec.action_dim}), got "
            f"{obs.shape} and {actions.shape}"
        )
    generator = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(obs[:, : spec.obs_dim], dtype=torch.float32)
    y = torch.as_tensor(actions, dtype=torch.float32).clamp(-1, 1)
    hidden = tuple(spec.config.get("hidden", (256, 256)))
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        policy = MLPPolicy(spec.obs_dim, spec.action_dim, hidden)
    policy.obs_mean.copy_(x.mean(0))
    policy.obs_std.copy_(x.std(0).clamp_min(1e-3))
    optim = torch.optim.Adam(policy.parameters(), lr=lr)
    # cosine decay to 0: the last epochs refine the fit, which a stiff teacher (LQR) needs
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optim, T_max=epochs)
    losses = []
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss = (policy(x[idx]) - y[idx]).pow(2).mean()
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            total += float(loss.detach()) * len(idx)
        losses.append(total / len(x))
        schedule.step()
    return LearnedExpert(spec, policy), losses


def evaluate(
    policy: Teacher, env: Any, episodes: int, seed: int = 0, max_steps: int | None = None
) -> list[float]:
    """Returns of ``episodes`` noise-free episodes (seeds seed, seed + 1, ...)."""
    returns = []
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        ret, t, done = 0.0, 0, False
        while not done and (max_steps is None or t < max_steps):
            obs, reward, terminated, truncated, _ = env.step(policy(obs))
            ret, t, done = ret + reward, t + 1, terminated or truncated
        returns.append(ret)
    return returns
