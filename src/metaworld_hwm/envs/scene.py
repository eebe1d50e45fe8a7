"""Assemble robot + floor + task into a compiled MuJoCo model (cached per robot and task)."""

from __future__ import annotations

import copy
import functools

import mujoco

from metaworld_hwm.envs.robot import build_robot, home_qpos
from metaworld_hwm.envs.tasks import TASKS


def _add_floor_and_lights(spec: mujoco.MjSpec) -> None:
    spec.add_texture(
        name="skybox", type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT, rgb1=(0.55, 0.7, 0.85), rgb2=(0.1, 0.1, 0.15),
        width=64, height=64,
    )  # fmt: skip
    spec.add_texture(
        name="grid", type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER, rgb1=(0.85, 0.85, 0.85),
        rgb2=(0.7, 0.7, 0.72), mark=mujoco.mjtMark.mjMARK_EDGE, markrgb=(0.5, 0.5, 0.5),
        width=100, height=100,
    )  # fmt: skip
    material = spec.add_material(name="floor", texrepeat=(20, 20), reflectance=0.0)
    material.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = "grid"
    spec.worldbody.add_geom(
        name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=(20, 20, 1), material="floor"
    )
    spec.worldbody.add_light(
        pos=(0, 0, 10), dir=(0, 0, -1), type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
    )
    spec.visual.headlight.diffuse = (0.6, 0.6, 0.6)
    spec.visual.headlight.ambient = (0.3, 0.3, 0.3)
    spec.visual.headlight.specular = (0, 0, 0)
    spec.visual.quality.offsamples = 0  # no multisampling: CPU rendering


@functools.cache
def _compile(robot: str, task: str) -> mujoco.MjModel:
    spec = build_robot(robot)
    _add_floor_and_lights(spec)
    TASKS[task]().add_to_scene(spec)
    model = spec.compile()
    spec.add_key(name="qpos0", qpos=home_qpos(model))
    return spec.compile()


def build_model(robot: str, task: str) -> mujoco.MjModel:
    """A fresh copy of the compiled model of ``robot`` in ``task``'s scene.

    The model has one keyframe, ``qpos0``: the standing start state before noise.

    Raises:
        ValueError: unknown robot or task name.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; accepted tasks: {', '.join(TASKS)}")
    return copy.copy(_compile(robot, task))
