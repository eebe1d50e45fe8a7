"""The door sweep's PPO env: snapshots of the opener, the walker's own inputs, exact resume."""

from __future__ import annotations

import copy
import itertools
import shutil
from pathlib import Path

import mujoco
import numpy as np
import pytest
import torch

from metaworld_hwm.cli import main
from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.robot import CONTROL_DT
from metaworld_hwm.envs.tasks.door import DOOR_OPEN_RAD
from metaworld_hwm.skills import door_ppo
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.door import DoorOpener
from metaworld_hwm.skills.door_config import DoorOpenerConfig
from metaworld_hwm.skills.door_ppo import (
    SNAPSHOT_SEEDS,
    DoorSweepEnv,
    DoorSweepObjective,
    make_sweep_env,
)
from metaworld_hwm.skills.library import ExpertLibrary
from metaworld_hwm.skills.locomotion import leg_action
from metaworld_hwm.skills.walk import WalkExpert

DOOR_LIBRARY = Path(__file__).resolve().parents[2] / "experts" / "door"


@pytest.fixture(scope="module")
def walkers() -> tuple[WalkExpert, WalkExpert]:
    walk = ExpertLibrary.load(default_library_path())["walk"]
    return walk, ExpertLibrary.load(DOOR_LIBRARY)["pull"]


@pytest.fixture(scope="module")
def sweep_env(walkers: tuple[WalkExpert, WalkExpert], sweep_seed: int) -> DoorSweepEnv:
    return DoorSweepEnv(*walkers, snapshot_seeds=(sweep_seed,), episode_steps=40,
                        velocity_noise=0.0)  # fmt: skip


def _outputs(walker: WalkExpert, features: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return walker.policy(torch.as_tensor(features[None], dtype=torch.float32)).numpy()[0]


def test_opener_episode_state_resumes_the_same_actions(walkers: tuple[WalkExpert, WalkExpert]
                                                       ) -> None:  # fmt: skip
    env = HumanoidEnv("h1grip", "door", max_episode_steps=1000)
    opener = DoorOpener(*walkers)
    obs, _ = env.reset(seed=3)
    opener.reset()
    for _ in range(230):  # into the grasp: arm reference, gripper and stage all in play
        obs, *_ = env.step(opener.act(obs))
    physics, state, start = env.get_state(), opener.episode_state(), obs.copy()

    def run() -> list[np.ndarray]:
        o, actions = start.copy(), []
        for _ in range(25):
            actions.append(opener.act(o))
            o, *_ = env.step(actions[-1])
        return actions

    first = run()
    env.set_state(physics)
    opener.load_episode_state(state)
    np.testing.assert_array_equal(np.array(run()), np.array(first))


def test_walker_features_are_its_policy_inputs(walkers: tuple[WalkExpert, WalkExpert]) -> None:
    walker = copy.copy(walkers[1])
    env = HumanoidEnv("h1", "walk")
    obs, _ = env.reset(seed=0)
    walker.reset(1)
    walker.set_command(vx=-0.2)
    features = walker.features(obs[None])
    clock = walker.clock.copy()
    action = walker.act(obs[None])[0]
    assert not np.array_equal(walker.clock, clock)  # act advances the clock, features do not
    np.testing.assert_array_equal(walker.features(obs[None], clock), features)
    np.testing.assert_allclose(action, leg_action(_outputs(walker, features[0])[None],
                                                  walker.ctrlrange)[0])  # fmt: skip


def test_sweep_env_with_the_pull_network_is_the_opener(
    sweep_env: DoorSweepEnv, walkers: tuple[WalkExpert, WalkExpert]
) -> None:
    """The policy's inputs are the pull walker's: its own network in the env replays the
    opener's sweep exactly."""
    features, _ = sweep_env.reset(seed=0)
    assert sweep_env.opener.stage == "pull" and sweep_env.opener.unlocked
    start = sweep_env.door_angle()
    assert features.shape == (35,) and 0.27 < start < 0.3
    snapshot = sweep_env.snapshots[0]
    env = HumanoidEnv("h1grip", "door", max_episode_steps=1000)
    env.set_state(snapshot["env"])
    opener = DoorOpener(*walkers)
    opener.load_episode_state(snapshot["opener"])
    obs, task_rewards, rewards, holds = snapshot["obs"], [], [], [1.0]
    for _ in range(30):
        features, reward, terminated, truncated, info = sweep_env.step(
            _outputs(walkers[1], features))  # fmt: skip
        obs, expected, *_ = env.step(opener.act(obs))
        task_rewards.append((info["task_reward"], expected))
        rewards.append(reward)
        holds.append(info["hold"])
        assert not terminated and not truncated and 0.0 < info["hold"] <= 1.0
    assert info["door"] == pytest.approx(opener.door_angle(obs), abs=1e-6)
    np.testing.assert_allclose(*np.array(task_rewards).T, atol=1e-6)
    assert opener.door_angle(obs) > 0.3  # the sweep is under way
    # 10 per radian of new opening, and the hold term's shaping
    shaping = sum(0.99 * after - before for before, after in itertools.pairwise(holds))
    progress = 10.0 * (sweep_env._best_door - start)
    assert sum(rewards) == pytest.approx(progress + sweep_env.hold_weight * shaping)


def test_sweep_env_keeps_its_pull_walker_before_the_lock(
    sweep_env: DoorSweepEnv, walkers: tuple[WalkExpert, WalkExpert], sweep_seed: int
) -> None:
    """Sweep legs of their own (``--from`` one walker, ``--pull-legs`` another): the snapshots
    are the opener's with the pull walker, the policy steps the sweep legs' clock."""
    walk, pull = walkers
    env = DoorSweepEnv(walk, pull, snapshot_seeds=(sweep_seed,), episode_steps=40,
                       velocity_noise=0.0, sweep_legs=copy.copy(pull))  # fmt: skip
    opener = env.opener
    assert len({id(w) for w in (opener.legs, opener.pull_legs, opener.sweep_legs)}) == 3
    assert env.snapshots is sweep_env.snapshots  # taken before the sweep: the same states
    features, _ = env.reset(seed=0)
    clocks = opener.pull_legs.clock.copy(), opener.sweep_legs.clock.copy()
    env.step(_outputs(pull, features))
    assert np.array_equal(opener.pull_legs.clock, clocks[0])
    assert not np.array_equal(opener.sweep_legs.clock, clocks[1])


def test_made_sweep_env_has_sweep_legs_only_when_named_apart(
    sweep_env: DoorSweepEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--from pull`` alone: one walker pulls and sweeps (as before ``--pull-legs``);
    ``--from walk --pull-legs pull``: the sweep's legs are their own."""
    key = ("walk", "pull", SNAPSHOT_SEEDS, DoorOpenerConfig())
    monkeypatch.setitem(door_ppo._SNAPSHOTS, key, sweep_env.snapshots)  # skip 16 episodes
    default, door = str(default_library_path()), str(DOOR_LIBRARY)
    one = make_sweep_env((default, "walk", door, "pull", door, "pull"), 10).opener
    assert one.sweep_legs.policy is one.pull_legs.policy  # the policy's legs: pull's network
    apart = make_sweep_env((default, "walk", door, "pull", door, "walk"), 10).opener
    assert apart.sweep_legs.name == "walk" and apart.pull_legs.name == "pull"
    slow = DoorOpenerConfig(turn_rate=0.4)  # --opener-set turn_rate=0.4
    monkeypatch.setitem(door_ppo._SNAPSHOTS, (*key[:3], slow), sweep_env.snapshots)
    objective = DoorSweepObjective((default, "walk", door, "pull", door, "pull"), 10, slow)
    assert objective.env_factory()().opener.config == slow


def test_snapshot_seeds_choose_the_opener_episodes_the_sweep_starts_from(
    sweep_env: DoorSweepEnv, sweep_seed: int
) -> None:
    """``--snapshot-seeds N``: the episodes begin from the sweep starts of opener seeds
    0..N-1; here the fixture's seed alone, whose starts it already took (shared, not retaken)."""
    default, door = str(default_library_path()), str(DOOR_LIBRARY)
    objective = DoorSweepObjective((default, "walk", door, "pull", door, "pull"), 10,
                                   snapshot_seeds=(sweep_seed,))  # fmt: skip
    assert objective.env_factory()().snapshots is sweep_env.snapshots


def test_sweep_env_resumes_exactly_and_truncates(sweep_env: DoorSweepEnv,
                                                 walkers: tuple[WalkExpert, WalkExpert]
                                                 ) -> None:  # fmt: skip
    features, _ = sweep_env.reset(seed=5)
    for _ in range(10):
        features, *_ = sweep_env.step(_outputs(walkers[1], features))
    state, resumed_from = sweep_env.get_state(), features.copy()

    def run(f: np.ndarray) -> tuple[list[float], bool]:
        rewards, truncated = [], False
        for _ in range(30):
            f, r, terminated, truncated, _ = sweep_env.step(_outputs(walkers[1], f) + 0.1)
            rewards.append(r)
            if terminated or truncated:
                break
        return rewards, truncated

    first, truncated = run(resumed_from)
    assert truncated and len(first) == 30  # 40 steps an episode
    sweep_env.set_state(state)
    assert run(resumed_from) == (first, True)


def test_train_door_sweep_writes_door_legs(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    library = tmp_path / "door"
    shutil.copytree(DOOR_LIBRARY, library)
    assert main(["experts", "train", "door-legs", "--library", str(library), "--from", "pull",
                 "--pull-legs", "pull", "--objective", "door-sweep", "--episode-steps", "20",
                 "--envs", "2", "--workers", "1", "--steps-per-env", "8", "--critic-warmup", "1",
                 "--iterations", "1", "--eval-every", "1", "--eval-episodes", "1",
                 "--work-dir", str(tmp_path / "work")]) == 0  # fmt: skip
    assert "on the door: return" in capsys.readouterr().out
    expert = ExpertLibrary.load(library)["door-legs"]
    assert isinstance(expert, WalkExpert)
    assert expert.command_ranges == ExpertLibrary.load(DOOR_LIBRARY)["pull"].command_ranges
    assert expert.spec.config["provenance"]["settings"]["objective"] == "door-sweep"
    header = (tmp_path / "work" / "curve.csv").read_text().splitlines()[0].split(",")
    assert {"door_mean", "door_max", "eval_door"} <= set(header)
    assert "falls or bars lost)" in (tmp_path / "work" / "train.log").read_text()


@pytest.mark.parametrize(("options", "error"), [
    (["--objective", "hand-load", "--opener-set", "turn_rate=0.4"],
     "--opener-set applies to --objective door-sweep"),
    (["--objective", "hand-load", "--open-reward", "0.05"],
     "--open-reward applies to --objective door-sweep"),
    (["--objective", "door-sweep", "--open-reward", "-1"],
     "--open-reward and --stance-reward must be >= 0"),
    (["--objective", "hand-load", "--stance-reward", "0.1"],
     "--stance-reward applies to --objective door-sweep"),
    (["--objective", "hand-load", "--snapshot-variant", "pregrasp_steps=80"],
     "--snapshot-variant applies to --objective door-sweep"),
    (["--objective", "hand-load", "--snapshot-seeds", "4"],
     "--snapshot-seeds applies to --objective door-sweep"),
    (["--objective", "door-sweep", "--snapshot-seeds", "0"],
     "--snapshot-seeds must be >= 1"),
    (["--objective", "hand-load", "--start-door", "0.9"],
     "--start-door applies to --objective door-sweep"),
    (["--objective", "door-sweep", "--start-door", "1.5"],
     "--start-door must lie between 0 and the door's 1.4-rad stop"),
])  # fmt: skip
def test_door_sweep_options_are_checked(options: list[str], error: str, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    assert main(["experts", "train", "x", "--library", str(DOOR_LIBRARY), "--from", "pull",
                 *options, "--work-dir", str(tmp_path / "work")]) == 2  # fmt: skip
    assert error in capsys.readouterr().err
    assert not (tmp_path / "work").exists()


def test_sweep_legs_walk_only_the_pull_past_the_lock(
    sweep_env: DoorSweepEnv, walkers: tuple[WalkExpert, WalkExpert]
) -> None:
    walk, pull = walkers
    sweeper = copy.copy(pull)
    opener = DoorOpener(walk, pull, sweep_legs=sweeper)
    assert len({id(w) for w in copy.copy(opener)._walkers()}) == 3
    snapshot = sweep_env.snapshots[0]
    state = dict(snapshot["opener"], sweep_legs=snapshot["opener"]["pull_legs"])
    opener.load_episode_state(state)
    clocks = pull.clock.copy(), sweeper.clock.copy()
    opener.act(snapshot["obs"])  # the sweep: the sweep legs step, the pull legs do not
    assert np.array_equal(pull.clock, clocks[0]) and not np.array_equal(sweeper.clock, clocks[1])
    opener.load_episode_state(dict(state, unlocked=False))  # a pull before the lock
    opener.act(snapshot["obs"])
    assert not np.array_equal(pull.clock, clocks[0])


def test_the_hold_caps_the_pull_near_its_angle(
    sweep_env: DoorSweepEnv, walkers: tuple[WalkExpert, WalkExpert]
) -> None:
    """``hold_door``: the sweep's pull is the door's spring torque at the grasp's reach plus
    a spring-damper toward the angle, when that is less than the sweep's own pull."""
    snapshot = sweep_env.snapshots[0]

    def arm_action(**settings: float) -> np.ndarray:
        opener = DoorOpener(*walkers, DoorOpenerConfig(**settings))
        opener.load_episode_state(snapshot["opener"])
        return opener.act(snapshot["obs"])[opener.arm.actuators]

    free = arm_action()
    np.testing.assert_array_equal(arm_action(hold_door=1.4), free)  # at the stop: the sweep's pull
    assert np.abs(arm_action(hold_door=0.2) - free).max() > 0.01  # past it: no pull
    opener = DoorOpener(*walkers, DoorOpenerConfig(hold_door=1.0, hold_gain=300.0,
                                                   hold_damping=100.0))  # fmt: skip
    spring = 50.0 / 0.9  # h1grip-door's hinge stiffness (N m/rad) at 0.9 m
    assert opener.holding_pull(1.0, 0.0, 0.9) == pytest.approx(spring)
    assert opener.holding_pull(0.9, 0.0, 0.9) == pytest.approx(0.9 * spring + 30.0)
    assert opener.holding_pull(1.0, 0.2, 0.9) == pytest.approx(spring - 20.0)
    assert opener.holding_pull(1.4, 0.5, 0.9) == 0.0


def test_the_hold_integral_pulls_harder_while_the_opened_door_sags(
    walkers: tuple[WalkExpert, WalkExpert],
) -> None:
    """``hold_integral_gain``: once the door has opened, the holding pull grows with the time
    integral of the angle short of ``hold_door``, up to the sweep's largest pull, and unwinds
    when the door is past it."""
    config = DoorOpenerConfig(hold_door=1.0, hold_integral_gain=1000.0)
    opener = DoorOpener(*walkers, config)

    def step_pull(door: float) -> float:
        opener._integrate_hold(door)
        return opener.holding_pull(door, 0.0, 0.9)

    before = opener.holding_pull(0.9, 0.0, 0.9)
    assert step_pull(0.9) == before  # not opened yet: no integral
    opener.holding = True
    pulls = [step_pull(0.9) for _ in range(200)]
    assert pulls[0] == pytest.approx(before + 1000.0 * 0.1 * CONTROL_DT)
    assert pulls[-1] == pytest.approx(before + config.pull_force + config.sweep_extra_force)
    for _ in range(200):
        step_pull(1.1)
    assert opener.hold_integral == 0.0


def test_sweep_env_pays_each_step_the_door_is_open(
    sweep_env: DoorSweepEnv, walkers: tuple[WalkExpert, WalkExpert]
) -> None:
    features, _ = sweep_env.reset(seed=0)
    state, rewards, holds = sweep_env.get_state(), [], []
    try:
        for open_reward, stance_reward in ((0.0, 0.0), (0.5, 0.0), (0.5, 0.2)):
            sweep_env.set_state(state)
            sweep_env.open_reward, sweep_env.stance_reward = open_reward, stance_reward
            data = sweep_env.env.data
            data.qpos[sweep_env.opener._door_qpos] = 1.0  # swung open
            mujoco.mj_forward(sweep_env.env.model, data)
            _, reward, *_, info = sweep_env.step(_outputs(walkers[1], features))
            rewards.append(reward)
            holds.append(info["hold"])
    finally:
        sweep_env.open_reward, sweep_env.stance_reward = 0.0, 0.0
    assert info["door"] >= DOOR_OPEN_RAD
    assert rewards[1] - rewards[0] == pytest.approx(0.5)
    assert 0.0 < holds[2] <= 1.0
    assert rewards[2] - rewards[1] == pytest.approx(0.2 * holds[2])


def test_snapshot_variants_add_their_own_sweep_starts(
    walkers: tuple[WalkExpert, WalkExpert],
) -> None:
    """Held-on pipelines, whose sweep starts at the unlock (no regrasp to stall on a seed)."""
    held_on = DoorOpenerConfig(release_at_unlock=False)
    faster = DoorOpenerConfig(release_at_unlock=False, turn_rate=0.6)
    settings = {"snapshot_seeds": (1,), "episode_steps": 40, "velocity_noise": 0.0,
                "config": held_on}  # fmt: skip
    env = DoorSweepEnv(*walkers, **settings, snapshot_variants=(faster,))
    assert env.opener.config == held_on  # the sweep runs on the env's own settings
    assert len(env.snapshots) == 2
    own, variant = env.snapshots
    assert np.array_equal(own["obs"], DoorSweepEnv(*walkers, **settings).snapshots[0]["obs"])
    assert not np.array_equal(own["obs"], variant["obs"])  # reached by another pipeline
    with pytest.raises(ValueError, match="IK joints"):
        DoorSweepEnv(*walkers, snapshot_seeds=(1,),
                     snapshot_variants=(DoorOpenerConfig(use_torso=False),))  # fmt: skip


def test_without_the_release_the_sweep_starts_at_the_unlock(
    walkers: tuple[WalkExpert, WalkExpert],
) -> None:
    held_on = DoorOpenerConfig(release_at_unlock=False)
    env = DoorSweepEnv(*walkers, snapshot_seeds=(1,), episode_steps=40, velocity_noise=0.0,
                       config=held_on)  # fmt: skip
    (start,) = env.snapshots
    opener = start["opener"]
    assert opener["stage"] == "pull" and opener["unlocked"] and opener["grip"] > 0.0
    assert held_on.unlocked_door <= env.opener.door_angle(start["obs"]) < 0.4  # just past it


def test_a_start_door_begins_the_episodes_later_in_the_sweep(
    walkers: tuple[WalkExpert, WalkExpert],
) -> None:
    held_on = DoorOpenerConfig(release_at_unlock=False)
    settings = {"snapshot_seeds": (1,), "episode_steps": 40, "velocity_noise": 0.0,
                "config": held_on}  # fmt: skip
    (unlock,) = DoorSweepEnv(*walkers, **settings).snapshots
    env = DoorSweepEnv(*walkers, **settings, start_door=0.4)
    (later,) = env.snapshots
    assert later["opener"]["stage"] == "pull" and later["opener"]["grip"] > 0.0
    assert 0.4 <= env.opener.door_angle(later["obs"]) < 0.45  # its first step there
    assert later["env"]["steps"] > unlock["env"]["steps"]
    features, _ = env.reset(seed=0)
    assert env.door_angle() >= 0.4 and features.shape == env.observation_space.shape


def test_a_regrasp_takes_its_own_steps(walkers: tuple[WalkExpert, WalkExpert]) -> None:
    opener = DoorOpener(*walkers, config=DoorOpenerConfig(pregrasp_steps=170, regrasp_steps=90))
    assert opener._pregrasp_steps() == 170
    opener.unlocked = True
    assert opener._pregrasp_steps() == 90
    assert DoorOpener(*walkers)._pregrasp_steps() == 170  # None: the pregrasp's own


def test_a_held_heading_is_the_yaw_when_the_door_first_reached_its_bar(
    walkers: tuple[WalkExpert, WalkExpert],
) -> None:
    def pose(yaw: float) -> np.ndarray:  # a pelvis yawed by ``yaw``
        return np.r_[0.0, 0.0, 1.0, np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]

    opener = DoorOpener(*walkers, config=DoorOpenerConfig(hold_heading_door=1.0))
    opener.stage, opener.unlocked = "pull", True
    assert opener._sweep_heading(0.95, qpos=pose(-0.6), heading=0.35) == 0.35  # not there yet
    held = pytest.approx(-0.62, abs=1e-12)
    assert opener._sweep_heading(1.01, qpos=pose(-0.62), heading=0.35) == held
    assert opener._sweep_heading(0.7, qpos=pose(-0.1), heading=0.31) == held  # kept as it shuts
    state = opener.episode_state()
    assert state["held_heading"] == held  # sweep snapshots carry it
    del state["held_heading"]  # a state saved before the setting (a PPO run's checkpoint)
    opener.load_episode_state(state)
    assert opener.held_heading is None
    opener.held_heading, opener.stage = -0.62, "pregrasp"  # the bar was lost: forgotten
    opener._next_stage(np.zeros(opener.model.nq + opener.model.nv), 0.0, 1.0)
    assert opener.held_heading is None
    plain = DoorOpener(*walkers)
    plain.stage, plain.unlocked = "pull", True
    assert plain._sweep_heading(1.01, qpos=pose(-0.62), heading=0.35) == 0.35  # None: the stance's
