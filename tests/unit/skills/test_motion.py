"""Motion clips (format, loader errors) and the tracking-reward wrapper."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs import make_env
from metaworld_hwm.skills.motion import (
    MotionClip,
    TrackingReward,
    load_clip,
    save_clip,
    sinusoidal_gait,
)


def test_clip_round_trip_and_interpolation(tmp_path: Path) -> None:
    clip = sinusoidal_gait(duration=2.0, fps=50.0, speed=1.0)
    loaded = load_clip(save_clip(clip, tmp_path / "gait.npz"))
    np.testing.assert_allclose(loaded.qpos, clip.qpos)
    assert loaded.fps == 50.0 and loaded.name == "sinusoidal_gait"
    np.testing.assert_allclose(clip.at(0.5), clip.qpos[25])
    # looping continues forward: one cycle later the pelvis is 2 m further
    np.testing.assert_allclose(clip.at(2.5)[0] - clip.at(0.5)[0], 2.0, atol=1e-9)


def test_loader_names_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        load_clip(tmp_path / "none.npz")
    np.savez(tmp_path / "nofps.npz", qpos=np.zeros((3, 26)))
    with pytest.raises(ValueError, match="lacks"):
        load_clip(tmp_path / "nofps.npz")
    np.savez(tmp_path / "shape.npz", qpos=np.zeros((3, 20)), fps=30.0)
    with pytest.raises(ValueError, match="shape"):
        load_clip(tmp_path / "shape.npz")
    with pytest.raises(ValueError, match="quaternion"):
        MotionClip(np.zeros((3, 26)), 30.0)


def test_tracking_reward_is_one_on_the_reference() -> None:
    clip = sinusoidal_gait()
    env = TrackingReward(make_env("h1-walk", seed=0), clip)
    env.reset(seed=0)
    terms = env.unwrapped
    qpos = clip.at(0.3)
    qvel = np.zeros(25)
    qvel[:2] = (clip.at(0.3 + 0.02)[:2] - qpos[:2]) / 0.02
    assert env.tracking_terms(qpos, qvel, 0.3)["reward"] == pytest.approx(1.0)
    far = qpos.copy()
    far[7:] += 0.5
    assert env.tracking_terms(far, qvel, 0.3)["reward"] < 0.5
    mujoco.mj_forward(terms.model, terms.data)
    _, reward, _, _, info = env.step(np.zeros(19, dtype=np.float32))
    assert 0.0 <= reward <= 1.0
    assert {"tracking/joint", "tracking/velocity", "tracking/height", "task_reward"} <= set(info)
