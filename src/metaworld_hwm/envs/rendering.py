"""Offscreen rendering tuned for CPUs, and an mp4 writer.

MuJoCo picks its GL backend from ``MUJOCO_GL`` when it is first imported; importing
:mod:`metaworld_hwm` sets it to ``egl`` unless the user chose one (``osmesa`` is the software
fallback: Debian package ``libosmesa6``). Shadows, reflections and multisampling are off:
software rasterisers spend most of their time on them at small sizes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import mujoco
import numpy as np

TRACKING_CAMERA = "track"


class RenderingUnavailableError(RuntimeError):
    """No OpenGL backend could create an offscreen context."""


class OffscreenRenderer:
    """Render RGB frames of ``model`` from its tracking camera."""

    def __init__(self, model: mujoco.MjModel, height: int = 240, width: int = 320) -> None:
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, height)
        try:
            self._renderer = mujoco.Renderer(model, height=height, width=width)
        except Exception as exc:  # GL back-ends raise many unrelated types
            raise RenderingUnavailableError(
                f"offscreen rendering failed with MUJOCO_GL={_gl_backend()!r}: {exc}. "
                "Use MUJOCO_GL=egl (Debian: libegl1 libegl-mesa0) or MUJOCO_GL=osmesa "
                "(Debian: libosmesa6), set before Python starts"
            ) from exc
        flags = self._renderer.scene.flags
        flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
        flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
        flags[mujoco.mjtRndFlag.mjRND_SKYBOX] = False
        self._camera = model.camera(TRACKING_CAMERA).id

    def render(self, data: mujoco.MjData) -> np.ndarray:
        """An RGB uint8 frame of shape (height, width, 3)."""
        self._renderer.update_scene(data, camera=self._camera)
        return self._renderer.render()

    def close(self) -> None:
        """Free the GL context."""
        self._renderer.close()


def _gl_backend() -> str:
    return os.environ.get("MUJOCO_GL", "")


def write_mp4(frames: Iterable[np.ndarray], path: str | Path, fps: int = 50) -> Path:
    """Write RGB frames to an H.264 mp4 (ffmpeg from ``imageio-ffmpeg``); returns the path.

    The file appears only when complete: frames go to a temporary file that is renamed.
    """
    import imageio.v2 as imageio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.stem + ".partial.mp4")
    with imageio.get_writer(partial, fps=fps, codec="libx264", macro_block_size=8) as writer:
        for frame in frames:
            writer.append_data(frame)
    partial.replace(path)
    return path
