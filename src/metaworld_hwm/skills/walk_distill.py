"""Distil the walk expert from a teacher by DAgger, with commands, pushes and reset noise.

Each round rolls ``envs`` h1-walk envs for ``steps`` control steps. Round 0 is driven by the
teacher; later rounds by the student, with the teacher labelling every visited state (its LSTM
runs along the student's trajectory, seeing the student's outputs as its previous action).
The labelled states join one aggregate dataset and the student is refitted on all of it
(DAgger). Commands change within episodes (vx, vy, yaw rate uniform in the trained ranges, or
forward walking with heading hold), random pushes change the pelvis velocity, executed leg
outputs get Gaussian noise (the labels stay clean, as in DART), resets carry extra noise, and
a fallen robot is reset, so the student sees the states where its own errors and disturbances
take it.

Resumable: after each round the student, optimiser, dataset, RNG states and learning curve are
written atomically to ``work_dir/checkpoint.pt``; a run resumed from it follows the same curve
as an uninterrupted one (rounds restart their episodes from fresh resets).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from metaworld_hwm.envs.humanoid_env import CONTROL_DT, HumanoidEnv
from metaworld_hwm.skills.expert import ExpertSpec, MLPPolicy
from metaworld_hwm.skills.library import sha256
from metaworld_hwm.skills.locomotion import COMMAND_RANGES, WalkCommand, leg_action, yaw_of
from metaworld_hwm.skills.teacher import H1WalkTeacher
from metaworld_hwm.skills.walk import NUM_FEATURES, WalkExpert, walk_features, walk_policy
from metaworld_hwm.utils.atomic import atomic_write_bytes, atomic_write_text
from metaworld_hwm.utils.run_state import load_for_resume, save_png

CHECKPOINT = "checkpoint.pt"
CURVE_FIELDS = ("round", "samples", "loss", "collect_falls", "eval_return", "eval_speed",
                "eval_fell", "seconds")  # fmt: skip
#: A robot whose pelvis drops below this height (m) has fallen and is reset.
FALL_HEIGHT = 0.6


@dataclass(frozen=True)
class WalkDistillConfig:
    """Settings of a walk distillation run (times in seconds, speeds in m/s)."""

    rounds: int = 20
    envs: int = 8
    steps: int = 1000
    """Control steps per env and round."""
    epochs: int = 15
    """Passes over the aggregate dataset after each round."""
    batch_size: int = 512
    lr: float = 1e-3
    hidden: tuple[int, ...] = (256, 256)
    reset_noise: float = 0.02
    push_speed: float = 1.2
    """Largest random change of the pelvis's horizontal velocity at a push."""
    push_interval: tuple[float, float] = (2.0, 4.0)
    action_noise: float = 0.2
    """Std of the Gaussian noise on executed leg outputs (raw units: x 0.25 rad)."""
    command_interval: tuple[float, float] = (2.0, 6.0)
    heading_share: float = 0.4
    """Share of commands that walk forward (0.8-1.2 m/s) holding a heading."""
    seed: int = 0

    def __post_init__(self) -> None:
        positive = {"rounds": self.rounds, "envs": self.envs, "steps": self.steps,
                    "epochs": self.epochs, "batch_size": self.batch_size}  # fmt: skip
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"WalkDistillConfig.{name} must be >= 1, got {value}")
        if not 0.0 <= self.heading_share <= 1.0:
            raise ValueError(f"heading_share must lie in [0, 1], got {self.heading_share}")


def sample_command(rng: np.random.Generator, yaw: float, heading_share: float) -> WalkCommand:
    """A training command: forward with heading hold, or uniform velocities (1 in 10 zero)."""
    if rng.random() < heading_share:
        return WalkCommand(vx=rng.uniform(0.8, 1.2), heading=yaw + rng.uniform(-0.5, 0.5))
    if rng.random() < 0.1:
        return WalkCommand(vx=0.0, heading=None)
    draws = {name: rng.uniform(low, high) for name, (low, high) in COMMAND_RANGES.items()}
    return WalkCommand(**draws, heading=None)


class WalkRollouts:
    """``envs`` h1-walk envs with commands, pushes and fall resets, stepped in lockstep."""

    def __init__(self, cfg: WalkDistillConfig, teacher: H1WalkTeacher, rng: np.random.Generator):
        self.cfg = cfg
        self.teacher = teacher
        self.rng = rng
        self.envs = [HumanoidEnv("h1", "walk", reset_noise=cfg.reset_noise)
                     for _ in range(cfg.envs)]  # fmt: skip
        self.ctrlrange = self.envs[0].model.actuator_ctrlrange.copy()
        n = cfg.envs
        self.obs = np.zeros((n, 51))
        self.clock = np.zeros(n)
        self.commands: list[WalkCommand] = [WalkCommand()] * n
        self.next_command = np.zeros(n)
        self.next_push = np.zeros(n)
        self.falls = 0
        teacher.reset(n)
        for i in range(n):
            self._reset(i)

    def _reset(self, i: int) -> None:
        obs, _ = self.envs[i].reset(seed=int(self.rng.integers(2**31)))
        self.obs[i] = obs
        self.clock[i] = 0.0
        self.teacher.reset(self.cfg.envs, rows=np.array([i]))
        self._new_command(i)
        self.next_push[i] = self.rng.uniform(*self.cfg.push_interval)

    def _new_command(self, i: int) -> None:
        yaw = float(yaw_of(self.obs[i : i + 1, 3:7])[0])
        self.commands[i] = sample_command(self.rng, yaw, self.cfg.heading_share)
        self.next_command[i] = self.clock[i] + self.rng.uniform(*self.cfg.command_interval)

    def velocities(self) -> np.ndarray:
        """Every row's command as (vx, vy, yaw rate) (B, 3) at the current headings."""
        yaws = yaw_of(self.obs[:, 3:7])
        return np.concatenate(
            [c.velocities(yaws[i : i + 1]) for i, c in enumerate(self.commands)]
        )

    def step(self, student: MLPPolicy | None) -> tuple[np.ndarray, np.ndarray]:
        """One control step of every env: (student features (B, 35), teacher labels (B, 10)).

        The teacher acts when ``student`` is None; otherwise the student does.
        """
        qpos, qvel = self.obs[:, :26], self.obs[:, 26:51]
        commands = self.velocities()
        labels = self.teacher.act(qpos, qvel, commands, self.clock)
        features = walk_features(qpos, qvel, commands, self.clock)
        if student is None:
            outputs = labels
        else:
            with torch.no_grad():
                outputs = student(torch.as_tensor(features, dtype=torch.float32)).double().numpy()
        outputs = outputs + self.cfg.action_noise * self.rng.standard_normal(outputs.shape)
        self.teacher.previous = outputs.copy()
        actions = leg_action(outputs, self.ctrlrange)
        self.clock += CONTROL_DT
        for i, env in enumerate(self.envs):
            self.obs[i], _, _, truncated, _ = env.step(actions[i])
            if env.data.qpos[2] < FALL_HEIGHT or truncated:
                self.falls += int(env.data.qpos[2] < FALL_HEIGHT)
                self._reset(i)
                continue
            if self.clock[i] >= self.next_command[i]:
                self._new_command(i)
            if self.clock[i] >= self.next_push[i]:
                angle = self.rng.uniform(-np.pi, np.pi)
                speed = self.rng.uniform(0.0, self.cfg.push_speed)
                env.data.qvel[:2] += speed * np.array([np.cos(angle), np.sin(angle)])
                self.obs[i, 26:28] = env.data.qvel[:2]
                self.next_push[i] = self.clock[i] + self.rng.uniform(*self.cfg.push_interval)
        return features, labels


def fit(
    policy: MLPPolicy,
    optimiser: torch.optim.Optimizer,
    x: torch.Tensor,
    y: torch.Tensor,
    cfg: WalkDistillConfig,
    generator: torch.Generator,
) -> float:
    """``cfg.epochs`` passes of minibatch MSE regression; returns the last epoch's mean loss."""
    total = 0.0
    for _ in range(cfg.epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            loss = (policy(x[idx]) - y[idx]).pow(2).mean()
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
    return total / len(x)


def walk_episode(expert: WalkExpert, seed: int, steps: int) -> tuple[float, float, bool]:
    """(h1-walk return, mean forward COM speed, fell) of the expert alone, default command."""
    env = HumanoidEnv("h1", "walk", max_episode_steps=steps)
    obs, _ = env.reset(seed=seed)
    expert.reset(1)
    ret, speeds = 0.0, []
    for _ in range(steps):
        obs, reward, terminated, truncated, _ = env.step(expert.act(obs))
        ret += reward
        speeds.append(float(env.physics.center_of_mass_velocity()[0]))
        if terminated or truncated:
            break
    return ret, float(np.mean(speeds)), bool(terminated)


def walk_spec(name: str, cfg: WalkDistillConfig, provenance: dict[str, Any]) -> ExpertSpec:
    """The manifest spec of a distilled walk expert."""
    return ExpertSpec(
        name=name, skill="walk", kind="learned", controller=WalkExpert.controller_name,
        robot="h1", task="h1-walk", obs_layout="qpos_qvel", obs_dim=51, action_dim=19,
        config={"hidden": list(cfg.hidden), "design": "DAgger from a teacher, command-"
                "conditioned MLP with a 0.8 s gait clock", "provenance": provenance},
    )  # fmt: skip


class WalkDistillation:
    """One resumable distillation run in ``work_dir`` (see the module docstring).

    Args:
        cfg: the run's settings.
        teacher_path: the teacher's TorchScript file.
        work_dir: where the checkpoint, ``curve.csv``, ``curve.png`` and ``distill.log`` go.
        log: where progress lines go (besides ``distill.log``).
        command: the command line that made the run, kept in the expert's provenance.
    """

    def __init__(
        self,
        cfg: WalkDistillConfig,
        teacher_path: str | Path,
        work_dir: str | Path,
        log: Callable[[str], None] = print,
        command: str = "",
    ) -> None:
        self.cfg = cfg
        self.command = command
        self.teacher_path = Path(teacher_path)
        self.teacher = H1WalkTeacher(self.teacher_path)
        self.work_dir = Path(work_dir)
        self._log = log
        self.rng = np.random.default_rng(cfg.seed)
        self.generator = torch.Generator().manual_seed(cfg.seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            self.policy = walk_policy(cfg.hidden)
        self.optimiser = torch.optim.Adam(self.policy.parameters(), lr=cfg.lr)
        self.x = torch.zeros(0, NUM_FEATURES)
        self.y = torch.zeros(0, 10)
        self.curve: list[dict[str, float]] = []
        self.seconds = 0.0
        self.ctrlrange = HumanoidEnv("h1", "walk").model.actuator_ctrlrange.copy()

    @property
    def round(self) -> int:
        """Rounds completed."""
        return len(self.curve)

    def log(self, line: str) -> None:
        """Print a progress line and append it to ``distill.log``."""
        self._log(line)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with (self.work_dir / "distill.log").open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def run(
        self, progress: Callable[[int], None] | None = None, name: str = "walk"
    ) -> WalkExpert:
        """Run the remaining rounds; returns the student as a :class:`WalkExpert` ``name``.

        progress: called with the number of control steps just collected (for a bar).
        """
        while self.round < self.cfg.rounds:
            self._one_round(progress)
            self.save()
        return self.expert(name)

    def _one_round(self, progress: Callable[[int], None] | None) -> None:
        start = time.perf_counter()
        rollouts = WalkRollouts(self.cfg, self.teacher, self.rng)
        student = None if self.round == 0 else self.policy
        xs, ys = [], []
        for _ in range(self.cfg.steps):
            features, labels = rollouts.step(student)
            xs.append(features)
            ys.append(labels)
            if progress is not None:
                progress(self.cfg.envs)
        x = torch.as_tensor(np.concatenate(xs), dtype=torch.float32)
        if self.round == 0:  # the normaliser comes from the teacher's own states
            self.policy.obs_mean.copy_(x.mean(0))
            self.policy.obs_std.copy_(x.std(0).clamp_min(1e-2))
        self.x = torch.cat([self.x, x])
        self.y = torch.cat([self.y, torch.as_tensor(np.concatenate(ys), dtype=torch.float32)])
        loss = fit(self.policy, self.optimiser, self.x, self.y, self.cfg, self.generator)
        ret, speed, fell = walk_episode(self.expert("walk"), seed=10_000, steps=1000)
        self.seconds += time.perf_counter() - start
        row = {"round": self.round + 1, "samples": len(self.x), "loss": loss,
               "collect_falls": rollouts.falls, "eval_return": ret, "eval_speed": speed,
               "eval_fell": int(fell), "seconds": self.seconds}  # fmt: skip
        self.curve.append(row)
        driver = "teacher" if student is None else "student"
        self.log(
            f"round {row['round']}/{self.cfg.rounds} | {driver} drove, {rollouts.falls} falls | "
            f"{len(self.x)} samples | loss {loss:.4f} | "
            f"student alone: return {ret:.1f}, {speed:.2f} m/s{', fell' if fell else ''} | "
            f"{self.seconds:.0f} s"
        )

    def expert(self, name: str) -> WalkExpert:
        """The current student as a walk expert (provenance in its spec)."""
        provenance = {
            "teacher": self.teacher_path.name,
            "teacher_sha256": sha256(self.teacher_path),
            "method": "DAgger",
            "command": self.command,
            "rounds": self.round,
            "samples": len(self.x),
            "seconds": round(self.seconds, 1),
            "date": time.strftime("%Y-%m-%d"),
            "settings": {k: list(v) if isinstance(v, tuple) else v
                         for k, v in asdict(self.cfg).items()},
        }  # fmt: skip
        return WalkExpert(walk_spec(name, self.cfg, provenance), self.policy, self.ctrlrange)

    # ------------------------------------------------------------------ persistence
    def save(self) -> None:
        """Write the checkpoint, ``curve.csv`` and ``curve.png`` atomically."""
        state = {
            "config": asdict(self.cfg),
            "policy": self.policy.state_dict(),
            "optimiser": self.optimiser.state_dict(),
            "x": self.x, "y": self.y,
            "rng": self.rng.bit_generator.state,
            "generator": self.generator.get_state(),
            "curve": self.curve,
            "seconds": self.seconds,
        }  # fmt: skip
        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write_bytes(self.work_dir / CHECKPOINT, buffer.getvalue())
        self._save_curve()

    def resume(self) -> None:
        """Continue from ``work_dir``'s checkpoint; refuses one made with other settings."""
        state = load_for_resume(self.work_dir / CHECKPOINT, asdict(self.cfg), ("rounds",),
                                "--rounds")  # fmt: skip
        self.policy.load_state_dict(state["policy"])
        self.optimiser.load_state_dict(state["optimiser"])
        self.x, self.y = state["x"], state["y"]
        self.rng.bit_generator.state = state["rng"]
        self.generator.set_state(state["generator"])
        self.curve, self.seconds = state["curve"], state["seconds"]

    def _save_curve(self) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=CURVE_FIELDS)
        writer.writeheader()
        writer.writerows(self.curve)
        atomic_write_text(self.work_dir / "curve.csv", text.getvalue())
        plot_distill_curve(self.curve, self.work_dir / "curve.png")


def plot_distill_curve(curve: list[dict[str, float]], out_png: Path) -> Path:
    """Student-alone return and imitation loss per DAgger round, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = [row["round"] for row in curve]
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax.plot(rounds, [row["eval_return"] for row in curve], "o-", label="student alone (h1-walk)")
    ax.set_xlabel("DAgger round")
    ax.set_ylabel("return over 1000 steps")
    ax.set_ylim(0, 1000)
    ax.grid(alpha=0.3)
    loss_ax = ax.twinx()
    loss_ax.semilogy(rounds, [row["loss"] for row in curve], "s--", color="tab:orange",
                     label="imitation loss")  # fmt: skip
    loss_ax.set_ylabel("MSE to the teacher")
    handles = ax.get_legend_handles_labels()[0] + loss_ax.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="center right", fontsize=8)
    fig.tight_layout()
    return save_png(fig, out_png)
