"""Online training: replay buffer, trainer loop, checkpoints, loggers, progress."""

from metaworld_hwm.training.config import TrainConfig
from metaworld_hwm.training.trainer import OnlineTrainer

__all__ = ["OnlineTrainer", "TrainConfig"]
