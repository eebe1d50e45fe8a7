"""The expert interface: an observation-to-action map with a name, a description and features.

Every expert, learned (a small torch policy) or analytic (a controller defined in code), maps a
batch of observations (B, obs_dim) to normalised actions (B, action_dim) in [-1, 1]. An expert
reads the first ``obs_dim`` entries of each observation: every H1 observation layout starts with
``qpos`` then ``qvel``, so a stand expert (layout ``qpos_qvel``) also acts in the reach task,
whose layout ``qpos_qvel_hand_goal`` extends it.

Experts may keep per-episode state (a gait clock, a memory) and take a command (the walk
expert's velocity). Every user of an expert calls :meth:`Expert.reset` at the start of each
episode and :meth:`Expert.act` once per control step (a stateful expert advances on each call);
:meth:`Expert.set_command` passes a sub-goal's parameters to experts that take them.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch
from torch import nn

from metaworld_hwm.skills.catalog import SKILL_DESCRIPTIONS

#: Observation layouts of the H1 tasks: name -> what follows qpos and qvel.
OBS_LAYOUTS: dict[str, str] = {
    "qpos_qvel": "robot qpos (26) then qvel (25)",
    "qpos_qvel_hand_goal": "qpos_qvel, then left hand position (3) and reach goal (3)",
    "qpos_qvel_door": "qpos and qvel including the door and hatch hinges",
}
KINDS: tuple[str, ...] = ("learned", "analytic")
#: Length of the default expert feature vector psi.
FEATURE_DIM = 16


def default_psi(name: str, dim: int = FEATURE_DIM) -> list[float]:
    """A deterministic unit feature vector for an expert, seeded by its name's bytes."""
    seed = int.from_bytes(name.encode("utf-8")[:16].ljust(16, b"\0"), "little")
    vec = np.random.default_rng(seed).standard_normal(dim)
    return (vec / np.linalg.norm(vec)).round(6).tolist()


@dataclass(frozen=True)
class ExpertSpec:
    """What an expert is and what it accepts (one manifest entry, without file hashes).

    controller: the registered class that runs the expert: every analytic expert's, and a
        learned expert's whose network needs code of its own (empty: a plain MLP).
    config: JSON-serialisable construction parameters (hidden sizes, controller settings).
    """

    name: str
    skill: str
    kind: str
    robot: str
    obs_layout: str
    obs_dim: int
    action_dim: int
    description: str = ""
    task: str = ""
    version: int = 1
    controller: str = ""
    psi: tuple[float, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_." for c in self.name):
            raise ValueError(
                f"expert name {self.name!r} is invalid: use letters, digits, '-', '_' or '.'"
            )
        if self.skill not in SKILL_DESCRIPTIONS:
            raise ValueError(
                f"expert {self.name!r}: unknown skill {self.skill!r}; "
                f"accepted skills: {', '.join(SKILL_DESCRIPTIONS)}"
            )
        if self.kind not in KINDS:
            raise ValueError(
                f"expert {self.name!r}: unknown kind {self.kind!r}; accepted: {', '.join(KINDS)}"
            )
        if self.obs_layout not in OBS_LAYOUTS:
            raise ValueError(
                f"expert {self.name!r}: unknown obs_layout {self.obs_layout!r}; "
                f"accepted: {', '.join(OBS_LAYOUTS)}"
            )
        if self.obs_dim < 1 or self.action_dim < 1:
            raise ValueError(f"expert {self.name!r}: obs_dim and action_dim must be positive")
        if not self.description:
            object.__setattr__(self, "description", SKILL_DESCRIPTIONS[self.skill])
        if not self.psi:
            object.__setattr__(self, "psi", tuple(default_psi(self.name)))
        object.__setattr__(self, "psi", tuple(float(x) for x in self.psi))


class Expert(ABC):
    """An expert policy: ``act(obs (B, obs_dim)) -> actions (B, action_dim)`` in [-1, 1]."""

    def __init__(self, spec: ExpertSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        """The expert's unique name in its library."""
        return self.spec.name

    @property
    def psi(self) -> np.ndarray:
        """The expert's feature vector psi (feature_dim,), the fusion's initial value."""
        return np.asarray(self.spec.psi, dtype=np.float32)

    #: Name under which :func:`register_controller` makes the class loadable ("" for none).
    controller_name: ClassVar[str] = ""

    @classmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> Expert:
        """Rebuild an expert from :meth:`arrays` (what the library stored)."""
        raise NotImplementedError(f"{cls.__name__} cannot be rebuilt from stored arrays")

    #: Names of the command fields :meth:`set_command` accepts (none for most experts).
    command_fields: ClassVar[tuple[str, ...]] = ()
    #: ``(key, text)`` of the stages the expert runs one after another (none for most): tier 1
    #: gives each its own sub-goal, and the guide sets the active one with
    #: ``set_command(stage=key)``.
    stages: ClassVar[tuple[tuple[str, str], ...]] = ()

    def reset(self, batch_size: int = 1) -> None:
        """Start an episode for ``batch_size`` envs acting in lockstep (stateless: nothing)."""

    def set_command(self, **command: float | str | None) -> None:
        """Set the command (e.g. a walk velocity) of experts that take one.

        Raises:
            ValueError: the expert takes no command, or a field it does not know.
        """
        unknown = sorted(set(command) - set(self.command_fields))
        if unknown:
            accepted = ", ".join(self.command_fields) or "none"
            raise ValueError(
                f"expert {self.name!r} takes no command field(s) {unknown}; accepted: {accepted}"
            )

    def act(self, obs: np.ndarray) -> np.ndarray:
        """Actions (B, action_dim) float32 for observations (B, >= obs_dim) or (obs_dim,).

        A single observation gives a single action (action_dim,). Call once per control step.
        """
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        batch = obs[None] if single else obs
        if batch.ndim != 2 or batch.shape[1] < self.spec.obs_dim:
            raise ValueError(
                f"expert {self.name!r} needs observations of shape (B, {self.spec.obs_dim}) "
                f"(layout {self.spec.obs_layout!r}), got {obs.shape}"
            )
        if not np.isfinite(batch).all():
            raise ValueError(f"expert {self.name!r} got an observation with NaN or inf")
        actions = self._act(batch[:, : self.spec.obs_dim]).astype(np.float32)
        return actions[0] if single else actions

    @abstractmethod
    def _act(self, obs: np.ndarray) -> np.ndarray:
        """Actions (B, action_dim) for observations (B, obs_dim), finite, float64 allowed."""

    @abstractmethod
    def arrays(self) -> dict[str, np.ndarray]:
        """The named arrays (weights or controller parameters) the library stores."""


class MLPPolicy(nn.Module):
    """Normalise the observation, then an MLP with ELU hidden layers and a tanh output
    (``squash=False``: a linear output, for policies whose outputs are not in [-1, 1])."""

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        hidden: tuple[int, ...] = (256, 256),
        squash: bool = True,
    ) -> None:
        super().__init__()
        self.squash = squash
        self.register_buffer("obs_mean", torch.zeros(obs_dim))
        self.register_buffer("obs_std", torch.ones(obs_dim))
        layers: list[nn.Module] = []
        sizes = (obs_dim, *hidden)
        for n_in, n_out in itertools.pairwise(sizes):
            layers += [nn.Linear(n_in, n_out), nn.LayerNorm(n_out), nn.ELU()]
        layers.append(nn.Linear(sizes[-1], action_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Outputs (..., action_dim) for observations (..., obs_dim); in [-1, 1] if squashed."""
        out = self.net((obs - self.obs_mean) / self.obs_std)
        return torch.tanh(out) if self.squash else out


class LearnedExpert(Expert):
    """A small torch policy (:class:`MLPPolicy`); ``spec.config["hidden"]`` gives its sizes."""

    def __init__(self, spec: ExpertSpec, policy: MLPPolicy | None = None) -> None:
        super().__init__(spec)
        hidden = tuple(spec.config.get("hidden", (256, 256)))
        self.policy = policy or MLPPolicy(spec.obs_dim, spec.action_dim, hidden)
        self.policy.eval()

    @classmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> LearnedExpert:
        """Rebuild from :meth:`arrays`; a missing or mis-shaped weight raises ValueError."""
        expert = cls(spec)
        state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        try:
            expert.policy.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(
                f"learned expert {spec.name!r}: its weights do not fit an MLP with obs_dim "
                f"{spec.obs_dim}, action_dim {spec.action_dim}, hidden {spec.config.get('hidden')}"
                f" ({exc}); re-save the expert with matching dimensions"
            ) from exc
        return expert

    @torch.no_grad()
    def _act(self, obs: np.ndarray) -> np.ndarray:
        out = self.policy(torch.as_tensor(obs, dtype=torch.float32))
        return out.numpy()

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy() for k, v in self.policy.state_dict().items()}


class AnalyticExpert(Expert):
    """A controller defined in code; subclasses register under ``controller_name``."""

    @classmethod
    @abstractmethod
    def from_arrays(cls, spec: ExpertSpec, arrays: dict[str, np.ndarray]) -> AnalyticExpert:
        """Rebuild the controller from its stored parameters."""


#: Expert classes by ``controller_name``: analytic controllers, and learned experts whose
#: network sits inside code of their own (``spec.controller`` names them; plain MLP experts
#: leave it empty).
CONTROLLERS: dict[str, type[Expert]] = {}

ExpertClass = TypeVar("ExpertClass", bound=type[Expert])


def register_controller(cls: ExpertClass) -> ExpertClass:
    """Class decorator: make an expert class loadable by its ``controller_name``."""
    CONTROLLERS[cls.controller_name] = cls
    return cls
