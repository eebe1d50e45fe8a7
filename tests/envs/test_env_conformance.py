"""Every task: spaces, no NaN, determinism, termination, action mapping, bad input."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from metaworld_hwm.envs import ENV_NAMES, HumanoidEnv, make_env

EXPECTED_DIMS = {
    "h1-stand": (51, 19),
    "h1-walk": (51, 19),
    "h1-run": (51, 19),
    "h1-reach": (57, 19),
    "h1-door": (55, 19),
    "h1grip-door": (63, 21),
}
TERMINATION_HEIGHT = {"stand": 0.2, "walk": 0.2, "run": 0.2, "door": 0.58}


@pytest.fixture(scope="module", params=ENV_NAMES)
def env(request: pytest.FixtureRequest) -> HumanoidEnv:
    return make_env(request.param, seed=0)


def test_every_env_has_expected_dims() -> None:
    assert set(ENV_NAMES) == set(EXPECTED_DIMS)


def test_spaces(env: HumanoidEnv) -> None:
    name = f"{env.robot}-{env.task_name}"
    obs_dim, act_dim = EXPECTED_DIMS[name]
    assert env.observation_space.shape == (obs_dim,)
    assert env.action_space.shape == (act_dim,)
    assert env.action_space.low.min() == -1.0 and env.action_space.high.max() == 1.0
    obs, _ = env.reset(seed=1)
    assert obs.shape == (obs_dim,) and obs.dtype == np.float64
    assert env.dt == pytest.approx(0.02)


def test_random_rollout_has_no_nan_and_reports_terms(env: HumanoidEnv) -> None:
    env.reset(seed=2)
    env.action_space.seed(2)
    for _ in range(60):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert np.isfinite(obs).all() and np.isfinite(reward)
        assert info and all(np.isfinite(v) for v in info.values())
        assert isinstance(terminated, bool) and isinstance(truncated, bool)
        if terminated:
            env.reset()


def _rollout(name: str, seed: int, steps: int = 40) -> tuple[np.ndarray, np.ndarray]:
    env = make_env(name, seed=seed)
    obs = [env.reset(seed=seed)[0]]
    rewards = []
    for _ in range(steps):
        o, r, *_ = env.step(env.action_space.sample())
        obs.append(o)
        rewards.append(r)
    return np.array(obs), np.array(rewards)


@pytest.mark.parametrize("name", ENV_NAMES)
def test_same_seed_same_trajectory(name: str) -> None:
    a_obs, a_rew = _rollout(name, seed=7)
    b_obs, b_rew = _rollout(name, seed=7)
    np.testing.assert_array_equal(a_obs, b_obs)
    np.testing.assert_array_equal(a_rew, b_rew)
    c_obs, _ = _rollout(name, seed=8, steps=1)
    assert not np.array_equal(a_obs[0], c_obs[0])


def test_reset_noise_is_uniform_001_on_every_qpos(env: HumanoidEnv) -> None:
    env.reset(seed=3)
    delta = env.data.qpos - env.model.key_qpos[0]
    assert np.abs(delta).max() <= 0.01 and np.abs(delta).min() > 0.0
    assert not env.data.qvel.any()


def test_termination_below_fall_height(env: HumanoidEnv) -> None:
    env.reset(seed=4)
    height = TERMINATION_HEIGHT.get(env.task_name)
    root = env.physics._root_qpos
    for pelvis_z, fallen in [(0.98, False), ((height or 0.2) + 0.01, False),
                             ((height or 0.2) - 0.01, height is not None)]:  # fmt: skip
        env.data.qpos[root + 2] = pelvis_z
        assert env.task.terminated(env.physics) is fallen


@pytest.mark.parametrize("name", ["h1-stand", "h1-door"])
def test_step_reports_the_fall(name: str) -> None:
    env = make_env(name, seed=0)
    env.action_space.seed(0)
    for _ in range(300):
        *_, terminated, _, _ = env.step(env.action_space.sample())
        assert terminated is env.task.terminated(env.physics)
        if terminated:
            break
    assert terminated, "random actions should make the robot fall within 300 steps"


def test_truncation_after_max_steps() -> None:
    env = make_env("h1-reach", seed=0, max_episode_steps=5)
    flags = [env.step(np.zeros(19))[3] for _ in range(5)]
    assert flags == [False, False, False, False, True]


def test_action_mapping(env: HumanoidEnv) -> None:
    low, high = env.model.actuator_ctrlrange.T
    nu = env.action_space.shape[0]
    np.testing.assert_allclose(env.action_to_ctrl(-np.ones(nu)), low)
    np.testing.assert_allclose(env.action_to_ctrl(np.zeros(nu)), (low + high) / 2)
    np.testing.assert_allclose(env.action_to_ctrl(np.ones(nu)), high)
    env.reset(seed=0)
    env.step(np.ones(nu))
    np.testing.assert_allclose(env.data.ctrl, high)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(18), "shape"),
        (np.zeros((19, 1)), "shape"),
        (np.r_[np.zeros(18), np.nan], "NaN or inf at indices \\[18\\]"),
        (np.r_[np.inf, np.zeros(18)], "NaN or inf at indices \\[0\\]"),
    ],
)
def test_bad_action_is_a_clear_error(action: np.ndarray, message: str) -> None:
    env = make_env("h1-walk", seed=0)
    qpos = env.data.qpos.copy()
    with pytest.raises(ValueError, match=message):
        env.step(action)
    np.testing.assert_array_equal(env.data.qpos, qpos)  # nothing reached MuJoCo


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("h1-fly", "unknown task 'fly'.*accepted tasks: stand, walk, run, reach, door"),
        ("g1-walk", "unknown robot 'g1'.*accepted robots: h1, h1grip"),
        ("h1grip-walk", "not available for robot 'h1grip'"),
    ],
)
def test_unknown_names_are_clear_errors(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_env(name)


def test_constructor_arguments_are_validated() -> None:
    with pytest.raises(ValueError, match="render_mode"):
        HumanoidEnv(task="walk", render_mode="human")
    with pytest.raises(ValueError, match="accepted robots"):
        HumanoidEnv(robot="h2")


def test_gymnasium_registration() -> None:
    env = gym.make("metaworld_hwm/h1-walk-v0")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (51,)
    assert make_env("metaworld_hwm/h1-door-v0").observation_space.shape == (55,)


def test_humanoidbench_passthrough() -> None:
    try:
        import humanoid_bench  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="HumanoidBench package"):
            make_env("hb:h1hand-walk-v0")
        pytest.skip("humanoid_bench is not installed: only the error path was checked")
    env = make_env("hb:h1hand-walk-v0", seed=0)
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape
    assert len(env.step(env.action_space.sample())) == 5


def test_model_is_built_in_code_from_menagerie() -> None:
    env = make_env("h1-stand")
    model = env.model
    assert model.opt.timestep == 0.002 and model.opt.iterations == 100
    assert model.opt.ls_iterations == 50 and model.opt.solver == mujoco.mjtSolver.mjSOL_NEWTON
    assert model.opt.integrator == mujoco.mjtIntegrator.mjINT_EULER
    assert sum(model.body_mass) == pytest.approx(51.65, abs=1e-3)
    knee = model.actuator("left_knee")
    assert knee.gainprm[0] == 300 and knee.biasprm[1] == -300 and knee.biasprm[2] == -6
    np.testing.assert_allclose(knee.forcerange, [-300, 300])
    np.testing.assert_allclose(model.joint("left_hip_pitch").range, [-3.14, 2.53])
    np.testing.assert_allclose(model.actuator("left_hip_pitch").ctrlrange, [-3.14, 2.53])
    assert model.joint("left_elbow").damping[0] == 1 and model.joint("torso").armature[0] == 0.1
