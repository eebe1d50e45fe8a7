"""Offscreen rendering and the mp4 writer (skipped where no GL backend works)."""

from pathlib import Path

import imageio.v2 as imageio
import numpy as np
import pytest

from metaworld_hwm.envs import make_env
from metaworld_hwm.envs.rendering import RenderingUnavailableError, write_mp4


def test_rgb_array_frames_show_the_scene(tmp_path: Path) -> None:
    env = make_env("h1-stand", seed=0, render_mode="rgb_array", width=160, height=120)
    try:
        first = env.render()
    except RenderingUnavailableError as exc:
        pytest.skip(f"no offscreen GL here: {exc}")
    assert first.shape == (120, 160, 3) and first.dtype == np.uint8
    assert first.std() > 10  # not a blank image
    for _ in range(30):
        env.step(env.action_space.sample())
    second = env.render()
    assert not np.array_equal(first, second)
    path = write_mp4([first, second] * 5, tmp_path / "clip.mp4", fps=10)
    assert path.stat().st_size > 0
    assert len(imageio.mimread(path)) == 10
    env.close()


def test_no_render_mode_returns_none() -> None:
    assert make_env("h1-walk").render() is None
