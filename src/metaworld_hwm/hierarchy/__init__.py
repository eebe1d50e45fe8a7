"""The MetaWorld hierarchy: tier 1 (plan) and tier 2 (fused experts) as one guide for tier 3.

:class:`SkillGuide` turns an instruction into reference actions, step by step;
:func:`build_guide` assembles one from a library, a planner and a fusion. A run's guide is
built from its config by :mod:`metaworld_hwm.agent`; the composed policy is eq. 1 of the
paper, pi(a | s, T) = pi_phys(a | s, pi_sem(T)).
"""

from metaworld_hwm.hierarchy.build import build_guide, resolve_library
from metaworld_hwm.hierarchy.skill_guide import SkillGuide

__all__ = ["SkillGuide", "build_guide", "resolve_library"]
