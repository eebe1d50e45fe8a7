"""MetaWorld-HWM: a hierarchical world model for humanoid loco-manipulation.

Tiers (see DESIGN.md): ``semantic`` (instruction -> plan of expert weights), ``skills``
(expert library and state-aware fusion -> reference action), ``physical`` (TD-MPC2 latent
world model with expert-guided MPPI). ``envs`` holds the HumanoidBench-style H1 tasks.
"""

import os

# MuJoCo chooses its GL backend at import: headless machines need EGL (or OSMesa) for
# offscreen rendering. Respect a user's explicit choice.
os.environ.setdefault("MUJOCO_GL", "egl")

__version__ = "0.1.0"
