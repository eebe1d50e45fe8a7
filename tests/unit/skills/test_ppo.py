"""PPO for experts: it learns, a resumed run is the uninterrupted run, the run objective."""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from metaworld_hwm.envs.humanoid_env import HumanoidEnv
from metaworld_hwm.envs.vector import VectorStep
from metaworld_hwm.skills.locomotion import Cadence
from metaworld_hwm.skills.locomotion_ppo import (
    ForwardSpeedObjective,
    SpeedCurriculum,
    evaluation,
    forward_episode,
    locomotion_signals,
    trained_expert,
)
from metaworld_hwm.skills.ppo import GymObjective, PPOConfig, PPOTrainer
from metaworld_hwm.skills.walk import walk_policy

PENDULUM = functools.partial(gym.make, "InvertedPendulum-v5")


def _pendulum_return(policy: torch.nn.Module, seed: int) -> float:
    env = PENDULUM()
    obs, _ = env.reset(seed=seed)
    total = 0.0
    for _ in range(1000):
        with torch.no_grad():
            action = policy(torch.as_tensor(obs, dtype=torch.float32)[None])[0].numpy()
        obs, reward, terminated, truncated, _ = env.step(np.clip(action, -3, 3))
        total += reward
        if terminated or truncated:
            break
    return total


def test_ppo_learns_to_balance_the_inverted_pendulum(tmp_path: Path) -> None:
    cfg = PPOConfig(iterations=50, envs=8, workers=2, steps_per_env=64, init_std=1.0,
                    learning_rate=1e-3, schedule="fixed", hidden=(64, 64), seed=1)  # fmt: skip
    untrained = PPOTrainer(cfg, GymObjective(PENDULUM), tmp_path / "untrained")
    before = _pendulum_return(copy.deepcopy(untrained.policy).eval(), seed=0)
    untrained.envs.close()
    trainer = PPOTrainer(cfg, GymObjective(PENDULUM), tmp_path / "run")
    trainer.run()
    after = [_pendulum_return(trainer.policy.eval(), seed=s) for s in range(3)]
    assert before < 50
    assert np.mean(after) >= 500, after  # balanced for 10 s or more on average
    assert (tmp_path / "run" / "curve.png").stat().st_size > 0
    assert (tmp_path / "run" / "train.log").read_text().count("\n") == cfg.iterations


def _run_trainer(work_dir: Path, iterations: int, resume: bool = False,
                 workers: int = 2) -> PPOTrainer:  # fmt: skip
    cfg = PPOConfig(iterations=iterations, envs=4, workers=workers, steps_per_env=8,
                    critic_warmup=1, checkpoint_seconds=0.0, seed=3)  # fmt: skip
    objective = ForwardSpeedObjective(
        "run", SpeedCurriculum(curriculum_step=0.1, level_iterations=1, push_speed=0.5,
                               push_interval=(0.05, 0.1), hold_ratio=0.0),
        episode_steps=8,  # an episode per env ends each iteration: the curriculum may judge
    )  # fmt: skip
    torch.manual_seed(0)
    evaluate = evaluation("run", objective, (32, 32), steps=20)
    trainer = PPOTrainer(cfg, objective, work_dir, initial_policy=walk_policy((32, 32)),
                         evaluate=evaluate, eval_every=1, eval_episodes=2)  # fmt: skip
    if resume:
        trainer.resume()
    trainer.run()
    return trainer


def test_a_resumed_run_follows_the_uninterrupted_curve(tmp_path: Path) -> None:
    whole = _run_trainer(tmp_path / "whole", 4)
    _run_trainer(tmp_path / "split", 2)
    resumed = _run_trainer(tmp_path / "split", 4, resume=True, workers=1)  # on another machine
    for key, value in whole.policy.state_dict().items():
        torch.testing.assert_close(resumed.policy.state_dict()[key], value, rtol=0, atol=0)
    keys = ("env_steps", "train_return", "value_loss", "target_speed", "learning_rate",
            "eval_return", "eval_min", "eval_falls", "eval_score", "eval_speed")  # fmt: skip
    for a, b in zip(whole.curve, resumed.curve, strict=True):
        assert [a[k] for k in keys] == [b[k] for k in keys] or np.allclose(
            [a[k] for k in keys], [b[k] for k in keys], equal_nan=True, rtol=0, atol=0
        )
    assert whole.curve[-1]["target_speed"] > 1.0  # the curriculum and pushes were exercised
    best = ("iteration", *keys[5:])
    assert [resumed.best_row[k] for k in best] == [whole.best_row[k] for k in best]
    assert whole.best_row["eval_episodes"] == 2
    for key, value in whole.best_network.items():
        torch.testing.assert_close(resumed.best_network[key], value, rtol=0, atol=0)


def test_the_kept_network_is_the_best_over_several_episodes_and_a_fall_scores_0(
    tmp_path: Path,
) -> None:
    # returns per iteration and episode; True: that episode fell
    script = {1: [(500.0, False), (500.0, False)],
              2: [(900.0, False), (300.0, True)],  # the best mean, the best single episode
              3: [(520.0, False), (510.0, False)],
              4: [(800.0, True), (700.0, False)]}  # fmt: skip
    calls: list[tuple[int, bool]] = []

    def evaluate(policy: torch.nn.Module, episode: int) -> dict[str, float]:
        calls.append((episode, policy.training))
        ret, fell = script[trainer.iteration][episode]
        return {"eval_return": ret, "eval_fell": int(fell), "eval_speed": ret / 100}

    cfg = PPOConfig(iterations=4, envs=2, workers=1, steps_per_env=4, checkpoint_seconds=1e9)
    trainer = PPOTrainer(cfg, GymObjective(PENDULUM), tmp_path, evaluate=evaluate,
                         eval_every=1, eval_episodes=2, log=lambda line: None)  # fmt: skip
    kept: dict[int, dict[str, torch.Tensor]] = {}
    original = trainer._one_iteration

    def iteration() -> None:
        original()
        kept[trainer.iteration] = copy.deepcopy(trainer.network.state_dict())

    trainer._one_iteration = iteration  # type: ignore[method-assign]
    trainer.run()
    assert calls == [(k, False) for _ in range(4) for k in (0, 1)]  # seeds 0, 1; mean action
    second = trainer.curve[1]
    assert (second["eval_return"], second["eval_min"], second["eval_falls"]) == (600, 300, 1)
    assert second["eval_score"] == 450 and second["eval_speed"] == 6.0
    assert "eval_fell" not in second and second["eval_episodes"] == 2
    assert trainer.best_row["iteration"] == 3 and trainer.best_row["eval_score"] == 515
    for key, value in kept[3].items():
        torch.testing.assert_close(trainer.best_network[key], value, rtol=0, atol=0)
    header = (tmp_path / "curve.csv").read_text().splitlines()[0].split(",")
    assert {"eval_return", "eval_min", "eval_falls", "eval_score"} <= set(header)
    with pytest.raises(ValueError, match="eval_episodes must be >= 1"):
        PPOTrainer(cfg, GymObjective(PENDULUM), tmp_path, evaluate=evaluate, eval_episodes=0)


def test_resume_refuses_other_settings_and_missing_checkpoints(tmp_path: Path) -> None:
    cfg = PPOConfig(iterations=1, envs=2, workers=1, steps_per_env=4, checkpoint_seconds=0.0)
    trainer = PPOTrainer(cfg, GymObjective(PENDULUM), tmp_path)
    with pytest.raises(ValueError, match=r"no checkpoint\.pt .* drop --resume"):
        trainer.resume()
    trainer.run()
    other = PPOTrainer(PPOConfig(iterations=2, envs=2, workers=1, steps_per_env=8),
                       GymObjective(PENDULUM), tmp_path)  # fmt: skip
    with pytest.raises(ValueError, match=r"other settings \(steps_per_env\)"):
        other.resume()
    other.envs.close()
    (tmp_path / "checkpoint.pt").write_bytes(b"truncated")
    corrupt = PPOTrainer(cfg, GymObjective(PENDULUM), tmp_path)
    with pytest.raises(ValueError, match="corrupt"):
        corrupt.resume()
    corrupt.envs.close()


def test_the_run_reward_is_h1_runs_own_at_a_5_m_s_command() -> None:
    objective = ForwardSpeedObjective("run", SpeedCurriculum(start_speed=5.0))
    objective.start(1, np.zeros((1, 51)), np.random.default_rng(0))
    env = HumanoidEnv("h1", "run")
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    for _ in range(30):
        env.data.qvel[0] += 0.2  # some forward speed, so the move term is not 0
        _, reward, terminated, truncated, info = env.step(rng.uniform(-0.3, 0.3, size=19))
        step = VectorStep(np.zeros((1, 51)), np.array([reward]), np.array([terminated]),
                          np.array([truncated]), locomotion_signals(env, info)[None])  # fmt: skip
        np.testing.assert_allclose(objective.reward(step), [reward], rtol=1e-12)


def test_effort_power_weighs_the_effort_term_in_the_training_reward() -> None:
    """Power 1 is the task's reward; a higher power pays a lower-torque gait more."""
    signals = np.array([[1.0, 0.0, 0.9, 1.0, 0.0], [1.0, 0.0, 0.8, 1.0, 0.0]])
    step = VectorStep(np.zeros((2, 51)), np.zeros(2), np.zeros(2, bool), np.zeros(2, bool),
                      signals)  # fmt: skip
    rewards = {}
    for power in (1.0, 3.0):
        objective = ForwardSpeedObjective("walk", SpeedCurriculum(), effort_power=power)
        objective.start(2, np.zeros((2, 51)), np.random.default_rng(0))
        objective.speed[:] = 1.0
        rewards[power] = objective.reward(step)
    np.testing.assert_allclose(rewards[1.0], [0.9, 0.8])  # at speed: small_control x stand
    np.testing.assert_allclose(rewards[3.0], [0.9**3, 0.8**3])
    with pytest.raises(ValueError, match="effort_power"):
        ForwardSpeedObjective("walk", SpeedCurriculum(), effort_power=0.0)


def test_move_target_pays_the_top_speed_envs_against_another_speed() -> None:
    """The envs at the top speed are paid against the move target, the others against their
    command; the curriculum's hold still reads the command."""
    objective = ForwardSpeedObjective("run", SpeedCurriculum(start_speed=3.3, max_speed=3.3,
                                                             min_speed=1.9),
                                      move_target=5.0)  # fmt: skip
    objective.start(2, np.zeros((2, 51)), np.random.default_rng(0))
    objective.top[:], objective.speed[:] = [True, False], [3.3, 2.0]
    signals = np.array([[3.3, 0.0, 1.0, 1.0, 0.0], [2.0, 0.0, 1.0, 1.0, 0.0]])
    reward = objective.reward(VectorStep(np.zeros((2, 51)), np.zeros(2), np.zeros(2, bool),
                                         np.zeros(2, bool), signals))  # fmt: skip
    np.testing.assert_allclose(reward, [(1.0 + 5.0 * 3.3 / 5.0) / 6.0, 1.0])
    assert objective.window.score_sum == pytest.approx(1.0)  # the hold: 3.3 of 3.3
    with pytest.raises(ValueError, match="move_target"):
        ForwardSpeedObjective("run", SpeedCurriculum(), move_target=0.0)


def test_the_curriculum_rises_only_after_a_held_window_without_falls() -> None:
    curriculum = SpeedCurriculum(start_speed=1.0, curriculum_step=0.1, level_iterations=2)
    objective = ForwardSpeedObjective("run", curriculum)
    objective.start(4, np.zeros((4, 51)), np.random.default_rng(0))

    def iteration(vx: float, falls: int, episodes: int = 2) -> float:
        signals = np.tile([vx, 0.0, 1.0, 1.0, 0.0], (4, 1))
        objective.reward(VectorStep(np.zeros((4, 51)), np.zeros(4), np.zeros(4, bool),
                                    np.zeros(4, bool), signals))  # fmt: skip
        return objective.end_iteration({"falls": falls, "episodes": episodes})["target_speed"]

    assert iteration(1.0, 0) == 1.0  # one iteration is not a window yet
    assert iteration(1.0, 0) == pytest.approx(1.1)
    assert iteration(1.1, 1) == pytest.approx(1.1)
    assert iteration(1.1, 1) == pytest.approx(1.1)  # 2 falls in 4 ended episodes
    assert iteration(0.5, 0) == pytest.approx(1.1)
    assert iteration(0.5, 0) == pytest.approx(1.1)  # not held


def test_the_curriculum_waits_for_episodes_to_end_before_judging() -> None:
    """Long episodes: a window in which no episode ended says nothing about falls, so the
    speed holds until one episode per env has ended, and the falls among them decide."""
    curriculum = SpeedCurriculum(start_speed=1.0, curriculum_step=0.1, level_iterations=2)
    objective = ForwardSpeedObjective("run", curriculum)
    objective.start(4, np.zeros((4, 51)), np.random.default_rng(0))
    signals = np.tile([1.0, 0.0, 1.0, 1.0, 0.0], (4, 1))

    def iteration(falls: int, episodes: int) -> float:
        objective.reward(VectorStep(np.zeros((4, 51)), np.zeros(4), np.zeros(4, bool),
                                    np.zeros(4, bool), signals))  # fmt: skip
        return objective.end_iteration({"falls": falls, "episodes": episodes})["target_speed"]

    assert [iteration(0, 0) for _ in range(5)] == [1.0] * 5
    assert iteration(1, 4) == 1.0  # 4 episodes ended, 1 fell: 0.25 of them
    state = objective.state_dict()["window"]
    assert state["episodes"] == 0 and state["iterations_seen"] == 0  # judged, a new window
    assert iteration(0, 2) == 1.0 and iteration(0, 2) == pytest.approx(1.1)


def test_a_checkpoint_from_before_episode_counts_resumes() -> None:
    objective = ForwardSpeedObjective("run", SpeedCurriculum(curriculum_step=0.1))
    objective.start(4, np.zeros((4, 51)), np.random.default_rng(0))
    state = objective.state_dict()
    state.pop("window")
    state["tallies"] = (3.0, 4, 1, 7)  # (held sum, top steps, falls, iterations)
    objective.load_state_dict(state)
    window = objective.window
    assert (window.score, window.falls, window.iterations_seen, window.episodes) == (
        0.75, 1, 7, 0)
    assert window.min_episodes == 4 and not window.closed


def test_a_run_expert_steps_faster_when_asked_to_go_faster() -> None:
    cadence = Cadence(reference_speed=1.1, max_rate=1.8)
    np.testing.assert_allclose(cadence.rate([0.5, 1.1, 1.65, 3.0]), [1.0, 1.0, 1.5, 1.8])
    with pytest.raises(ValueError, match="max_rate >= 1"):
        Cadence(max_rate=0.5)
    ctrlrange = HumanoidEnv("h1", "run").model.actuator_ctrlrange
    runner = trained_expert("run", "run", "run", walk_policy((32, 32)), ctrlrange, (0.5, 1.65),
                            {}, (32, 32), cadence)  # fmt: skip
    assert runner.command.vx == 1.65 and runner.command_ranges["vx"] == (-0.5, 1.65)
    runner.reset(1)
    runner.act(np.zeros(51))
    assert runner.clock[0] == pytest.approx(1.5 * 0.02)
    with pytest.raises(ValueError, match="outside the trained range"):
        runner.set_command(vx=2.0)
    fast_only = trained_expert("run", "run", "run", walk_policy((32, 32)), ctrlrange, (1.9, 3.3),
                               {}, (32, 32), cadence)  # fmt: skip
    assert fast_only.command_ranges["vx"] == (1.9, 3.3)  # trained on no slower command


def test_speed_runs_can_train_and_judge_over_the_30_s_hold() -> None:
    objective = ForwardSpeedObjective("run", SpeedCurriculum(), episode_steps=7)
    env = objective.env_factory()()
    env.reset(seed=0)
    assert [env.step(np.zeros(19))[3] for _ in range(7)] == [False] * 6 + [True]
    with pytest.raises(ValueError, match="episode_steps"):
        ForwardSpeedObjective("run", SpeedCurriculum(), episode_steps=0)
    torch.manual_seed(0)
    untrained = trained_expert("run", "run", "run", walk_policy((32, 32)), objective.ctrlrange,
                               (0.5, 1.0), {}, (32, 32), Cadence())  # fmt: skip
    short = forward_episode(untrained, "run", 1.0, seed=0, steps=5)
    held = forward_episode(untrained, "run", 1.0, seed=0, steps=5, hold_steps=300)
    assert not short[2] and held[2]  # the untrained legs fall after the return's 5 steps
    assert held[0] == short[0]  # the return is the first 5 steps' alone


def test_the_heading_term_scales_the_run_reward_by_the_yaw_alone() -> None:
    plain = ForwardSpeedObjective("run", SpeedCurriculum(start_speed=2.0))
    shaped = ForwardSpeedObjective("run", SpeedCurriculum(start_speed=2.0), heading_sigma=0.5)
    rewards = []
    for objective in (plain, shaped):
        objective.start(3, np.zeros((3, 51)), np.random.default_rng(0))
        signals = np.array([[1.5, 0.0, 0.9, 1.0, yaw] for yaw in (0.0, 0.5, -1.0)])
        rewards.append(objective.reward(VectorStep(np.zeros((3, 51)), np.zeros(3),
                                                   np.zeros(3, bool), np.zeros(3, bool),
                                                   signals)))  # fmt: skip
    np.testing.assert_allclose(rewards[1], rewards[0] * np.exp([0.0, -0.5, -2.0]))
    with pytest.raises(ValueError, match="heading_sigma"):
        ForwardSpeedObjective("run", SpeedCurriculum(), heading_sigma=-1.0)
