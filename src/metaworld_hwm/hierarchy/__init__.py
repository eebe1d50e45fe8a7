"""The MetaWorld hierarchy: tier 1 (plan) and tier 2 (fused experts) guiding tier 3.

``build_guide(cfg, env)`` makes the guide that :class:`~metaworld_hwm.training.OnlineTrainer`
uses for ``--method metaworld``; the composed policy is eq. 1 of the paper,
pi(a | s, T) = pi_phys(a | s, pi_sem(T)).
"""

from metaworld_hwm.hierarchy.build import DEFAULT_INSTRUCTIONS, build_guide, resolve_library
from metaworld_hwm.hierarchy.guide import SkillGuide

__all__ = ["DEFAULT_INSTRUCTIONS", "SkillGuide", "build_guide", "resolve_library"]
