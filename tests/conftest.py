"""Shared test set-up: one torch/BLAS thread, so timings and CI stay predictable, and EGL
for offscreen rendering before any test module imports mujoco (mujoco picks its GL backend
when first imported; ``import metaworld_hwm`` sets EGL only if it comes first, and a test
run without it aborted in the renderer)."""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MUJOCO_GL", "egl")
