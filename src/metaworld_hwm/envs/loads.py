"""External loads on a robot: a sustained force applied at a site (e.g. a door pulling a hand).

MuJoCo's ``xfrc_applied`` acts at a body's centre of mass; :class:`SiteLoad` turns a world force
at a site into that body's force and the torque of its lever arm, before every step, so the
load stays at the site while the robot moves. A reset clears it (``mj_resetData`` zeroes
``xfrc_applied``; the wrapper zeroes its own force too).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class SiteLoad(gym.Wrapper):
    """Apply a world-frame force (N) at ``site`` of an H1 env; set it with :meth:`set_load`.

    A load is a force that starts ``onset`` steps after the episode's start and rises linearly
    to its full value over ``ramp`` steps (a hand closing on a spring-loaded door).

    Args:
        env: a :class:`~metaworld_hwm.envs.humanoid_env.HumanoidEnv` (or a wrapper of one).
        site: the site the force acts at (default ``left_hand``).
    """

    def __init__(self, env: gym.Env, site: str = "left_hand") -> None:
        super().__init__(env)
        model = env.unwrapped.model
        self._site = model.site(site).id
        self._body = int(model.site_bodyid[self._site])
        self.load, self.onset, self.ramp, self.steps = np.zeros(3), 0, 1, 0

    def set_load(self, load: tuple[Any, int, int] | None) -> None:
        """Set this episode's load: (force (3,) N world frame, onset steps, ramp steps);
        None keeps the current one."""
        if load is None:
            return
        force, onset, ramp = load
        force = np.asarray(force, dtype=np.float64)
        if force.shape != (3,) or not np.all(np.isfinite(force)):
            raise ValueError(f"a site force is 3 finite numbers (N), got {force!r}")
        if onset < 0 or ramp < 1:
            raise ValueError(f"a load needs onset >= 0 and ramp >= 1 steps, got {onset}, {ramp}")
        self.load, self.onset, self.ramp = force, int(onset), int(ramp)

    def force(self) -> np.ndarray:
        """The force (3,) N acting at the next step."""
        return self.load * float(np.clip((self.steps - self.onset) / self.ramp, 0.0, 1.0))

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        self.load, self.steps = np.zeros(3), 0
        return self.env.reset(**kwargs)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        data = self.env.unwrapped.data
        force = self.force()
        lever = data.site_xpos[self._site] - data.xipos[self._body]
        data.xfrc_applied[self._body, :3] = force
        data.xfrc_applied[self._body, 3:] = np.cross(lever, force)
        self.steps += 1
        return self.env.step(action)

    def get_state(self) -> dict[str, Any]:
        """The env's state and the load's (for checkpoints)."""
        return {"env": self.env.unwrapped.get_state(),
                "load": (self.load.copy(), self.onset, self.ramp, self.steps)}  # fmt: skip

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`'s state."""
        self.env.unwrapped.set_state(state["env"])
        load, self.onset, self.ramp, self.steps = state["load"]
        self.load = np.asarray(load, dtype=np.float64).copy()
