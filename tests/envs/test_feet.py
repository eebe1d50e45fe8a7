"""HumanoidBench's feet: a 30 x 3 cm sole on each ankle link, flat on the floor at the keyframe."""

import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs import make_env


def _sole_corners_in_ankle_frame(model: mujoco.MjModel, side: str) -> np.ndarray:
    geom = model.geom(f"{side}_sole")
    rotation = np.zeros(9)
    mujoco.mju_quat2Mat(rotation, geom.quat)
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)])
    return geom.pos + (signs * geom.size) @ rotation.reshape(3, 3).T


@pytest.mark.parametrize("side", ["left", "right"])
def test_sole_extent_in_the_ankle_frame(side: str) -> None:
    model = make_env("h1-walk").model
    corners = _sole_corners_in_ankle_frame(model, side)
    # HumanoidBench's foot hull: x -0.10..0.20, y -0.015..0.015, flat sole at z = -0.070.
    np.testing.assert_allclose(corners.min(0)[:2], [-0.10, -0.015], atol=1e-9)
    np.testing.assert_allclose(corners.max(0)[:2], [0.20, 0.015], atol=1e-9)
    assert corners.min(0)[2] == pytest.approx(-0.070)
    ankle = model.body(f"{side}_ankle_link").id
    colliding = [
        g for g in range(model.ngeom)
        if model.geom_bodyid[g] == ankle and (model.geom_contype[g] or model.geom_conaffinity[g])
    ]  # fmt: skip
    assert colliding == [model.geom(f"{side}_sole").id]  # the sole is the foot's only collider


def test_both_soles_lie_flat_on_the_floor_at_the_keyframe() -> None:
    env = make_env("h1-walk", reset_noise=0.0)
    env.reset(seed=0)
    for side in ("left", "right"):
        geom = env.model.geom(f"{side}_sole").id
        rotation = env.data.geom_xmat[geom].reshape(3, 3)
        assert rotation[2, 2] == pytest.approx(1.0, abs=1e-9)  # sole parallel to the floor
        bottom = env.data.geom_xpos[geom][2] - env.model.geom_size[geom][2]
        assert abs(bottom) < 2e-3  # resting on the floor (soft-contact penetration ~1 mm)
