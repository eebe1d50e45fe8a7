"""Adapters for peer methods, trained and evaluated on our envs with our run-dir format.

DreamerV3 runs on sheeprl (``pip install 'metaworld-hwm[dreamerv3]'``); this package imports
without it, and says how to install it when a run is asked for.
"""

from metaworld_hwm.baselines.dreamerv3 import (
    PRESETS,
    SheeprlNotInstalledError,
    evaluate_dreamerv3,
    find_checkpoint,
    train_dreamerv3,
)

__all__ = [
    "PRESETS",
    "SheeprlNotInstalledError",
    "evaluate_dreamerv3",
    "find_checkpoint",
    "train_dreamerv3",
]
