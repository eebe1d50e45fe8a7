"""Legs that also steer the arm: the door sweep's walker with a residual on the arm's targets.

The door opener (:class:`~metaworld_hwm.skills.door.DoorOpener`) sweeps the door with a
scripted arm (grasp IK, servo targets with J^T F) while a walker holds the pelvis. PPO on the
sweep's legs alone (:mod:`~metaworld_hwm.skills.door_ppo`) has saturated: the arm's IK and
the legs were fitted apart. :class:`ArmSweepWalker` is a command walker whose network also
reads the arm's state and the door's, and also outputs one offset (rad) per arm joint (the
torso and the left arm), added to the opener's servo targets: a residual policy on the
scripted arm, so the body and the arm can adapt to each other.

Inputs: the walker's 35 features (:func:`~metaworld_hwm.skills.walk.walk_features`), then
:func:`arm_context_dim` more that the opener sets before each step (:attr:`ArmSweepWalker.
context`): the arm joints' offsets from the opener's reference, their velocities, the door's
angle and its angular velocity. Outputs: 10 leg values, then one residual per arm joint,
clipped to :data:`RESIDUAL_LIMIT`.

:func:`widened_policy` starts it from a trained walker: the new inputs' first-layer weights and
the new outputs' last-layer weights are zero, so it acts exactly as the walker did, with no
residual, until PPO moves them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from metaworld_hwm.skills.expert import ExpertSpec, MLPPolicy, register_controller
from metaworld_hwm.skills.locomotion import NUM_LEG_JOINTS, leg_action
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert

#: Largest arm residual (rad) per joint.
RESIDUAL_LIMIT = 0.3
#: Scales of the context's inputs for the network's fixed normaliser: joint offset (rad),
#: joint velocity (rad/s), door angle (mean, spread; rad) and door velocity (rad/s).
_OFFSET_SCALE, _VELOCITY_SCALE, _DOOR_ANGLE, _DOOR_VELOCITY_SCALE = 0.1, 1.0, (0.6, 0.2), 0.5


def arm_context_dim(arm_joints: int) -> int:
    """Context features for ``arm_joints`` arm joints: offsets, velocities, door angle and
    door velocity."""
    return 2 * arm_joints + 2


def widened_policy(walker: MLPPolicy, arm_joints: int) -> MLPPolicy:
    """A copy of the walker's network (35 -> 10) taking the arm context too and giving the
    arm's residuals, which act as the walker does (the new weights are zero)."""
    first, last = walker.net[0], walker.net[-1]
    hidden = tuple(layer.out_features for layer in walker.net[:-1]
                   if isinstance(layer, torch.nn.Linear))  # fmt: skip
    extra_in = arm_context_dim(arm_joints)
    wide = MLPPolicy(first.in_features + extra_in, last.out_features + arm_joints, hidden,
                     squash=walker.squash)  # fmt: skip
    state = {k: v.clone() for k, v in walker.state_dict().items()}
    mean, std = _context_normaliser(arm_joints)
    state["obs_mean"] = torch.cat([state["obs_mean"], mean])
    state["obs_std"] = torch.cat([state["obs_std"], std])
    first_key, last_key = "net.0", f"net.{len(walker.net) - 1}"
    state[f"{first_key}.weight"] = torch.cat(
        [state[f"{first_key}.weight"], torch.zeros(first.out_features, extra_in)], dim=1)
    state[f"{last_key}.weight"] = torch.cat(
        [state[f"{last_key}.weight"], torch.zeros(arm_joints, last.in_features)], dim=0)
    state[f"{last_key}.bias"] = torch.cat([state[f"{last_key}.bias"], torch.zeros(arm_joints)])
    wide.load_state_dict(state)
    return wide


def _context_normaliser(arm_joints: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed mean and spread of the context inputs."""
    mean = torch.zeros(arm_context_dim(arm_joints))
    mean[-2] = _DOOR_ANGLE[0]
    std = torch.tensor([_OFFSET_SCALE] * arm_joints + [_VELOCITY_SCALE] * arm_joints
                       + [_DOOR_ANGLE[1], _DOOR_VELOCITY_SCALE])  # fmt: skip
    return mean, std


@register_controller
class ArmSweepWalker(WalkExpert):
    """A command walker whose network also gives residuals on the arm (module docstring).

    Args:
        spec: the expert's spec; ``config["arm_joints"]`` is the number of arm joints.
        policy: the network (35 + context -> 10 + arm joints).
        ctrlrange: the servos' (19, 2) ranges.
    """

    controller_name = "door_sweep_walker"

    def __init__(self, spec: ExpertSpec, policy: MLPPolicy, ctrlrange: np.ndarray) -> None:
        super().__init__(spec, policy, ctrlrange)
        self.arm_joints = int(spec.config["arm_joints"])
        #: The arm context (B, :func:`arm_context_dim`) the opener sets before each step.
        self.context = np.zeros((1, arm_context_dim(self.arm_joints)))
        #: The last step's arm residuals (B, arm joints), rad.
        self.arm_residual = np.zeros((1, self.arm_joints))

    @classmethod
    def network(cls, spec: ExpertSpec) -> MLPPolicy:
        hidden = tuple(spec.config.get("hidden", (256, 256)))
        arm = int(spec.config["arm_joints"])
        return MLPPolicy(NUM_FEATURES + arm_context_dim(arm), NUM_LEG_JOINTS + arm, hidden,
                         squash=False)  # fmt: skip

    @classmethod
    def from_walker(cls, walker: WalkExpert, arm_joints: int, name: str | None = None,
                    policy: MLPPolicy | None = None) -> ArmSweepWalker:  # fmt: skip
        """``walker`` as an arm sweep walker: its network widened (:func:`widened_policy`)
        unless ``policy`` (already wide) is given."""
        config = dict(walker.spec.config, arm_joints=arm_joints)
        spec = dataclasses.replace(walker.spec, name=name or walker.spec.name,
                                   controller=cls.controller_name, config=config)  # fmt: skip
        return cls(spec, policy or widened_policy(walker.policy, arm_joints), walker.ctrlrange)

    def features(self, obs: np.ndarray, clock: np.ndarray | None = None) -> np.ndarray:
        """The walker's features followed by the arm context."""
        walk = super().features(obs, clock)
        if self.context.shape != (len(walk), arm_context_dim(self.arm_joints)):
            raise ValueError(
                f"sweep walker {self.name!r}: arm context of shape {self.context.shape} for "
                f"{len(walk)} robot(s) with {self.arm_joints} arm joints"
            )
        return np.concatenate([walk, self.context], axis=1)

    @torch.no_grad()
    def _act(self, obs: np.ndarray) -> np.ndarray:
        outputs = self.policy(torch.as_tensor(self.features(obs), dtype=torch.float32)).numpy()
        residual = outputs[:, NUM_LEG_JOINTS:].astype(np.float64)
        self.arm_residual = np.clip(residual, -RESIDUAL_LIMIT, RESIDUAL_LIMIT)
        self.advance_clock()
        return leg_action(outputs[:, :NUM_LEG_JOINTS], self.ctrlrange)
