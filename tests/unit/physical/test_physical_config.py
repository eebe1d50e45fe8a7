"""WorldModelConfig: presets, derived fields and loud validation."""

from __future__ import annotations

import dataclasses

import pytest

from metaworld_hwm.physical.config import (
    PRESETS,
    WorldModelConfig,
    discount_from_episode_length,
    make_config,
)

# enc_dim / mlp_dim / latent_dim / num_enc_layers / num_q, from tdmpc2-facts.md
FACT_SIZES = {
    "1m": (256, 384, 128, 2, 2),
    "5m": (256, 512, 512, 2, 5),
    "19m": (1024, 1024, 768, 3, 5),
    "48m": (1792, 1792, 768, 4, 5),
    "317m": (4096, 4096, 1376, 5, 8),
}


@pytest.mark.parametrize("preset", sorted(FACT_SIZES))
def test_size_presets_match_tdmpc2(preset: str) -> None:
    cfg = make_config(preset, 24, 6, 1000)
    sizes = (cfg.enc_dim, cfg.mlp_dim, cfg.latent_dim, cfg.num_enc_layers, cfg.num_q)
    assert sizes == FACT_SIZES[preset]
    assert (cfg.iterations, cfg.num_samples, cfg.num_elites, cfg.num_pi_trajs) == (6, 512, 64, 24)


def test_defaults_are_the_5m_preset_and_tdmpc2_constants() -> None:
    cfg = WorldModelConfig(obs_dim=24, action_dim=6, discount=0.99)
    assert cfg == make_config("5m", 24, 6, 500)
    assert (cfg.horizon, cfg.rho, cfg.lr, cfg.enc_lr_scale, cfg.polyak_rate) == (
        3, 0.5, 3e-4, 0.3, 0.01
    )
    assert (cfg.num_bins, cfg.vmin, cfg.vmax, cfg.bin_size) == (101, -10, 10, pytest.approx(0.2))
    assert (cfg.min_std, cfg.max_std, cfg.temperature, cfg.guidance_lambda) == (0.05, 2, 0.5, 0)


def test_tiny_preset_is_small() -> None:
    cfg = make_config("tiny", 24, 6, 1000)
    assert cfg.latent_dim <= 32 and cfg.num_samples <= 64 and cfg.batch_size <= 32


@pytest.mark.parametrize(
    ("episode_length", "discount"), [(1000, 0.995), (500, 0.99), (100, 0.95), (10, 0.95)]
)
def test_discount_heuristic(episode_length: int, discount: float) -> None:
    assert discount_from_episode_length(episode_length) == pytest.approx(discount)
    assert make_config("tiny", 4, 2, episode_length).discount == pytest.approx(discount)


def test_large_action_spaces_get_two_more_iterations() -> None:
    assert make_config("5m", 50, 19, 1000).iterations == 6
    assert make_config("5m", 50, 20, 1000).iterations == 8
    assert make_config("tiny", 50, 61, 1000).iterations == 4
    assert make_config("5m", 50, 61, 1000, iterations=3).iterations == 3


def test_overrides_win_and_config_is_frozen() -> None:
    cfg = make_config("1m", 8, 2, 1000, episodic=True, discount=0.9, guidance_lambda=0.5)
    assert (cfg.discount, cfg.guidance_lambda, cfg.episodic) == (0.9, 0.5, True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0  # type: ignore[misc]
    assert WorldModelConfig(**cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"preset": "huge"}, r"unknown preset 'huge'; accepted presets: \['19m'"),
        ({"learning_rate": 1.0}, r"unknown WorldModelConfig field\(s\) \['learning_rate'\]"),
        ({"num_elites": 1000}, r"num_elites=1000 .* <= num_samples \+ num_pi_trajs = 68"),
        ({"latent_dim": 30}, r"latent_dim=30 .* multiple of simnorm_dim=8"),
        ({"num_q": 1}, r"num_q=1 .* >= 2"),
        ({"discount": 1.0}, r"discount=1.0 .* 0 < discount < 1"),
        ({"lr": -1e-3}, r"lr=-0.001 .* positive"),
        ({"horizon": 2.5}, r"horizon=2.5 .* an int"),
        ({"horizon": True}, r"horizon=True .* an int"),
        ({"rho": float("nan")}, r"rho=nan .* finite"),
        ({"vmin": 10.0}, r"vmin=10.0 .* < vmax=10.0"),
        ({"min_std": 3.0}, r"min_std=3.0 .* <= max_std=2"),
        ({"dropout": 1.0}, r"dropout=1.0 .* 0 <= dropout < 1"),
        ({"guidance_lambda": -1.0}, r"guidance_lambda=-1.0 .* >= 0"),
    ],
)
def test_invalid_values_raise_naming_the_field(kwargs: dict, message: str) -> None:
    preset = kwargs.pop("preset", "tiny")
    with pytest.raises(ValueError, match=message):
        make_config(preset, 10, 3, 100, **kwargs)


def test_invalid_episode_length() -> None:
    with pytest.raises(ValueError, match="episode_length must be positive"):
        make_config("tiny", 10, 3, 0)
    with pytest.raises(ValueError, match="action_dim=0"):
        make_config("tiny", 10, 0, 100)


def test_every_preset_builds() -> None:
    for preset in PRESETS:
        make_config(preset, 10, 3, 100)
