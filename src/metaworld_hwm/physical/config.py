"""Configuration of the physical tier: the TD-MPC2 world model, its losses and the MPPI planner.

`WorldModelConfig` is frozen and validated on construction. Build one with `make_config`, which
starts from a named size preset, resolves the derived fields (discount from the episode length,
two more planning iterations for large action spaces) and applies overrides. Default values
are the TD-MPC2 constants (see ``tdmpc2-facts.md``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "PRESETS",
    "RENAMED_FIELDS",
    "WorldModelConfig",
    "discount_from_episode_length",
    "make_config",
    "with_current_names",
]


@dataclass(frozen=True)
class WorldModelConfig:
    """Every constant of the TD-MPC2 world model, its optimisation and its MPPI planner."""

    obs_dim: int
    action_dim: int
    discount: float
    """Per-step discount gamma; `make_config` derives it from the episode length."""
    episodic: bool = False
    """Whether episodes can terminate early; adds a termination head and loss when True."""

    # Architecture (5M preset by default).
    latent_dim: int = 512
    enc_dim: int = 256
    mlp_dim: int = 512
    num_enc_layers: int = 2
    """Encoder depth: max(num_enc_layers - 1, 1) hidden layers of enc_dim, then the latent layer."""
    num_q: int = 5
    simnorm_dim: int = 8
    num_bins: int = 101
    vmin: float = -10.0
    vmax: float = 10.0
    dropout: float = 0.01
    log_std_min: float = -10.0
    log_std_max: float = 2.0

    # Losses and optimisation.
    horizon: int = 3
    rho: float = 0.5
    lr: float = 3e-4
    enc_lr_scale: float = 0.3
    grad_clip_norm: float = 20.0
    batch_size: int = 256
    polyak_rate: float = 0.01
    """Polyak rate of the target Q ensemble and of the running Q scale."""
    consistency_coef: float = 20.0
    reward_coef: float = 0.1
    value_coef: float = 0.1
    termination_coef: float = 1.0
    entropy_coef: float = 1e-4

    # MPPI planning.
    iterations: int = 6
    num_samples: int = 512
    num_elites: int = 64
    num_pi_trajs: int = 24
    min_std: float = 0.05
    max_std: float = 2.0
    temperature: float = 0.5
    planning_int8: bool = False
    """Run the planner's dynamics, reward, termination and Q matmuls in int8 (CPU only; a
    numerics change, default off: see `physical/int8.py`). Learning stays float32."""

    # Expert guidance (0 gives plain TD-MPC2).
    guidance_lambda: float = 0.0
    """Weight of lambda * ||a - a_ref||^2 in MPPI trajectory scores and in the policy loss."""
    guidance_radius: float = 0.0
    """Trust region of guided planning: candidates and the action stay within a_ref +- this
    (per action entry); 0 disables it."""

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def bin_size(self) -> float:
        """Width of one two-hot bin in symlog space."""
        return (self.vmax - self.vmin) / (self.num_bins - 1)

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary of every field, e.g. for saving with a run."""
        return dataclasses.asdict(self)


PRESETS: dict[str, dict[str, Any]] = {
    "tiny": dict(
        enc_dim=64,
        mlp_dim=64,
        latent_dim=32,
        num_enc_layers=1,
        num_q=2,
        num_samples=64,
        num_elites=8,
        num_pi_trajs=4,
        iterations=2,
        batch_size=32,
    ),
    "1m": dict(enc_dim=256, mlp_dim=384, latent_dim=128, num_enc_layers=2, num_q=2),
    "5m": dict(enc_dim=256, mlp_dim=512, latent_dim=512, num_enc_layers=2, num_q=5),
    "19m": dict(enc_dim=1024, mlp_dim=1024, latent_dim=768, num_enc_layers=3, num_q=5),
    "48m": dict(enc_dim=1792, mlp_dim=1792, latent_dim=768, num_enc_layers=4, num_q=5),
    "317m": dict(enc_dim=4096, mlp_dim=4096, latent_dim=1376, num_enc_layers=5, num_q=8),
}
"""Size presets: overrides of the `WorldModelConfig` defaults (tiny is for tests and demos)."""


#: Fields renamed since checkpoints were first saved: old name -> current name (``tau`` became
#: ``polyak_rate``, as tier 1's ``tau`` is the plan's temperature). Read a saved config
#: through `with_current_names` so that runs saved before a rename still load.
RENAMED_FIELDS: dict[str, str] = {"tau": "polyak_rate"}


def with_current_names(saved: Mapping[str, Any]) -> dict[str, Any]:
    """A saved `WorldModelConfig` dict with its renamed fields (`RENAMED_FIELDS`) under their
    current names."""
    return {RENAMED_FIELDS.get(name, name): value for name, value in saved.items()}


def discount_from_episode_length(episode_length: int) -> float:
    """TD-MPC2 heuristic: frac = T / 5, gamma = clip((frac - 1) / frac, 0.95, 0.995)."""
    if isinstance(episode_length, bool) or not isinstance(episode_length, int):
        raise TypeError(f"episode_length must be an int, got {episode_length!r}")
    if episode_length <= 0:
        raise ValueError(f"episode_length must be positive, got {episode_length}")
    frac = episode_length / 5
    return float(min(max((frac - 1) / frac, 0.95), 0.995))


def make_config(
    preset: str,
    obs_dim: int,
    action_dim: int,
    episode_length: int,
    episodic: bool = False,
    **overrides: Any,
) -> WorldModelConfig:
    """Resolve a preset for one task into a validated `WorldModelConfig`.

    Derived fields, unless given in `overrides`: `discount` from `episode_length`, and
    `iterations` raised by 2 when `action_dim >= 20`. Raises ValueError on an unknown preset,
    an unknown field or an invalid value, naming it and what is accepted.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; accepted presets: {sorted(PRESETS)}")
    names = {f.name for f in dataclasses.fields(WorldModelConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown WorldModelConfig field(s) {unknown}; accepted: {sorted(names)}")
    values: dict[str, Any] = dict(PRESETS[preset])
    values.update(obs_dim=obs_dim, action_dim=action_dim, episodic=episodic)
    values["discount"] = discount_from_episode_length(episode_length)
    iterations = values.get("iterations", WorldModelConfig.iterations)
    if isinstance(action_dim, int) and action_dim >= 20:
        iterations += 2
    values["iterations"] = iterations
    values.update(overrides)
    return WorldModelConfig(**values)


_POSITIVE_INTS = (
    "obs_dim",
    "action_dim",
    "latent_dim",
    "enc_dim",
    "mlp_dim",
    "num_enc_layers",
    "simnorm_dim",
    "horizon",
    "batch_size",
    "iterations",
    "num_samples",
    "num_elites",
)
_POSITIVE_FLOATS = (
    "lr",
    "enc_lr_scale",
    "grad_clip_norm",
    "consistency_coef",
    "reward_coef",
    "value_coef",
    "temperature",
    "min_std",
    "max_std",
)
_NON_NEGATIVE_FLOATS = (
    "termination_coef", "entropy_coef", "guidance_lambda", "guidance_radius",
)


def _fail(name: str, value: Any, accepted: str) -> None:
    raise ValueError(f"WorldModelConfig.{name}={value!r} is invalid; accepted: {accepted}")


def _validate(cfg: WorldModelConfig) -> None:
    """Check every field's type and range, raising ValueError that names the field."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if f.type == "bool" and not isinstance(value, bool):
            _fail(f.name, value, "True or False")
        if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
            _fail(f.name, value, "an int")
        if f.type == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                _fail(f.name, value, "a real number")
            if not math.isfinite(value):
                _fail(f.name, value, "a finite number")
    for name in _POSITIVE_INTS + _POSITIVE_FLOATS:
        if getattr(cfg, name) <= 0:
            _fail(name, getattr(cfg, name), "a positive number")
    for name in _NON_NEGATIVE_FLOATS:
        if getattr(cfg, name) < 0:
            _fail(name, getattr(cfg, name), "a number >= 0")
    if not 0 < cfg.discount < 1:
        _fail("discount", cfg.discount, "0 < discount < 1")
    if not 0 < cfg.rho <= 1:
        _fail("rho", cfg.rho, "0 < rho <= 1")
    if not 0 < cfg.polyak_rate <= 1:
        _fail("polyak_rate", cfg.polyak_rate, "0 < polyak_rate <= 1")
    if not 0 <= cfg.dropout < 1:
        _fail("dropout", cfg.dropout, "0 <= dropout < 1")
    if cfg.num_q < 2:
        _fail("num_q", cfg.num_q, "an int >= 2 (targets use 2 randomly chosen heads)")
    if cfg.num_bins < 2:
        _fail("num_bins", cfg.num_bins, "an int >= 2")
    if cfg.vmin >= cfg.vmax:
        _fail("vmin", cfg.vmin, f"a number < vmax={cfg.vmax}")
    if cfg.log_std_min >= cfg.log_std_max:
        _fail("log_std_min", cfg.log_std_min, f"a number < log_std_max={cfg.log_std_max}")
    if cfg.min_std > cfg.max_std:
        _fail("min_std", cfg.min_std, f"a number <= max_std={cfg.max_std}")
    if cfg.latent_dim % cfg.simnorm_dim:
        _fail("latent_dim", cfg.latent_dim, f"a multiple of simnorm_dim={cfg.simnorm_dim}")
    if cfg.num_pi_trajs < 0:
        _fail("num_pi_trajs", cfg.num_pi_trajs, "an int >= 0")
    if cfg.num_elites > cfg.num_samples + cfg.num_pi_trajs:
        _fail(
            "num_elites",
            cfg.num_elites,
            f"an int <= num_samples + num_pi_trajs = {cfg.num_samples + cfg.num_pi_trajs}",
        )
