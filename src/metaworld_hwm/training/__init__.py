"""Online training: the loop (its agent and envs injected), replay buffer, checkpoints, loggers."""

from metaworld_hwm.training.trainer import OnlineTrainer

__all__ = ["OnlineTrainer"]
