"""Tier 2: the expert skill library and state-aware fusion into a reference action.

Modules: ``catalog`` (the eight skills), ``expert`` (interface, learned and analytic kinds),
``library`` (manifest + safetensors directory), ``balance``/``stand``/``reach`` (analytic
experts for H1), ``locomotion`` and ``walk`` (the command-conditioned walk expert),
``teacher`` and ``walk_distill`` (distilling it by DAgger from a teacher policy),
``fusion`` (phi, psi, alpha and the training loss),
``ppo``, ``ppo_cli``, ``locomotion_ppo`` and ``pull_ppo`` (PPO for new skills: run, hand
load), ``door`` (the door opener) and ``door_expert`` (it as a library expert),
``builtin`` and ``cli`` (``metaworld-hwm experts ...``).
"""

from metaworld_hwm.skills.catalog import SKILL_DESCRIPTIONS, SKILL_NAMES
from metaworld_hwm.skills.door_expert import DoorExpert
from metaworld_hwm.skills.expert import (
    AnalyticExpert,
    Expert,
    ExpertSpec,
    LearnedExpert,
    MLPPolicy,
    register_controller,
)
from metaworld_hwm.skills.fusion import (
    Compositor,
    FusionConfig,
    expert_actions,
    fusion_loss,
    reference_horizon,
    world_model_q,
)
from metaworld_hwm.skills.library import ExpertLibrary, LibraryError
from metaworld_hwm.skills.reach import ReachController
from metaworld_hwm.skills.stand import StandController
from metaworld_hwm.skills.walk import WalkExpert

__all__ = [
    "SKILL_DESCRIPTIONS",
    "SKILL_NAMES",
    "AnalyticExpert",
    "Compositor",
    "DoorExpert",
    "Expert",
    "ExpertLibrary",
    "ExpertSpec",
    "FusionConfig",
    "LearnedExpert",
    "LibraryError",
    "MLPPolicy",
    "ReachController",
    "StandController",
    "WalkExpert",
    "expert_actions",
    "fusion_loss",
    "reference_horizon",
    "register_controller",
    "world_model_q",
]
