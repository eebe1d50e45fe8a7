"""The three axes of a run, each defined here and nowhere else: method, ablation, preset.

* **method**: ``metaworld`` (TD-MPC2 guided by tiers 1 and 2), ``tdmpc2`` (the baseline: no
  guide, lambda 0) or ``dreamerv3`` (the peer baseline, trained by sheeprl through
  :mod:`metaworld_hwm.baselines`).
* **ablation** of ``metaworld`` (paper section 4.5): ``no-vlm``, ``no-dynamic-selection``,
  ``no-guidance``; :class:`Ablation` says what each takes away.
* **preset**: the scale of the run. A world-model size of :data:`metaworld_hwm.physical.PRESETS`
  (``tiny`` for tests and demos ... ``317m``) or ``paper`` (5m with the paper's hyperparameters),
  each with the DreamerV3 preset of the same scale.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from metaworld_hwm.physical import PRESETS as WORLD_MODEL_SIZES

Method = Literal["tdmpc2", "metaworld", "dreamerv3"]
METHODS: tuple[str, ...] = get_args(Method)
#: The methods whose agent :func:`metaworld_hwm.agent.build_agent` builds (DreamerV3's is
#: sheeprl's).
AGENT_METHODS = ("tdmpc2", "metaworld")

AblationName = Literal["no-vlm", "no-dynamic-selection", "no-guidance"]


@dataclass(frozen=True)
class Ablation:
    """What an ablation takes away from the MetaWorld agent (the full agent keeps all)."""

    semantic: Literal["planner", "learned"] = "planner"
    """Where the semantic weights w come from: tier 1's plan, or ``learned``: softmax(MLP(s)),
    trained like phi and psi (w/o VLM)."""
    dynamic_selection: bool = True
    """False: alpha = 1, the state-aware selection p(i|s) is ignored (w/o dynamic selection)."""
    guidance: bool = True
    """False: lambda = 0, a_ref pulls neither MPPI nor the policy prior (w/o guidance)."""


FULL = Ablation()
ABLATIONS: dict[str, Ablation] = {
    "no-vlm": Ablation(semantic="learned"),
    "no-dynamic-selection": Ablation(dynamic_selection=False),
    "no-guidance": Ablation(guidance=False),
}
"""Every ablation by its name (the spelling of ``--ablation``, run labels and reports)."""

#: The paper's hyperparameters (section 4): lr 1e-3, gamma 0.99, H 3, batch 256 on the 5m
#: world model (with tau 0.3 and alpha 0.7, the run defaults).
PAPER_WORLD_MODEL: Mapping[str, Any] = {"lr": 1e-3, "discount": 0.99, "horizon": 3,
                                        "batch_size": 256}  # fmt: skip


@dataclass(frozen=True)
class Preset:
    """The scale of a run, for each method."""

    size: str
    """World-model size: a key of :data:`metaworld_hwm.physical.PRESETS`."""
    world_model: Mapping[str, Any] = field(default_factory=dict)
    """Overrides of the size's WorldModelConfig fields (a run's own ``--set`` wins)."""
    dreamerv3: Literal["tiny", "paper"] = "paper"
    """The DreamerV3 preset of this scale (:data:`metaworld_hwm.baselines.PRESETS`)."""


PRESETS: dict[str, Preset] = {
    **{size: Preset(size, dreamerv3="tiny" if size == "tiny" else "paper")
       for size in WORLD_MODEL_SIZES},
    "paper": Preset("5m", PAPER_WORLD_MODEL),
}  # fmt: skip
"""Every preset by name: the world-model sizes and ``paper``."""
