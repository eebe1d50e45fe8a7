"""Tier 3, the physical layer: a TD-MPC2 latent world model planned with expert-guided MPPI.

Modules: `config` (WorldModelConfig, presets), `math` (symlog, two-hot, SimNorm, tanh-Gaussian),
`layers`, `q_ensemble`, `world_model`, `mppi` (the planner as a pure function), `losses`,
`agent` (TDMPC2Agent), `guide_interface` (Guide: how anything, tier 2 or a plain callable,
guides the planner). Speed: `kernels` (fused CPU kernels for LayerNorm + Mish), `acting`
(ActingModel, the fused planning pass `act` uses), `async_learner` (AsyncLearner: updates on a
second thread while acting, opt-in, one update stale).
"""

from metaworld_hwm.physical.agent import TDMPC2Agent, default_device
from metaworld_hwm.physical.async_learner import AsyncLearner
from metaworld_hwm.physical.config import PRESETS, WorldModelConfig, make_config
from metaworld_hwm.physical.mppi import PlanningModel, plan_action
from metaworld_hwm.physical.world_model import WorldModel

__all__ = [
    "PRESETS",
    "AsyncLearner",
    "PlanningModel",
    "TDMPC2Agent",
    "WorldModel",
    "WorldModelConfig",
    "default_device",
    "make_config",
    "plan_action",
]
