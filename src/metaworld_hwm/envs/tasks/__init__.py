"""HumanoidBench tasks by name."""

from metaworld_hwm.envs.tasks.base import Task
from metaworld_hwm.envs.tasks.door import Door
from metaworld_hwm.envs.tasks.locomotion import Run, Stand, Walk
from metaworld_hwm.envs.tasks.reach import Reach

TASKS: dict[str, type[Task]] = {cls.name: cls for cls in (Stand, Walk, Run, Reach, Door)}

__all__ = ["TASKS", "Door", "Reach", "Run", "Stand", "Task", "Walk"]
