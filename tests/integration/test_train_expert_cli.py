"""``metaworld-hwm experts train``: a tiny PPO run writes an expert; user mistakes are one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from metaworld_hwm.cli import main
from metaworld_hwm.skills import ExpertLibrary
from metaworld_hwm.skills.builtin import default_library_path
from metaworld_hwm.skills.ppo import CHECKPOINT
from metaworld_hwm.skills.ppo_results import evaluated_network
from metaworld_hwm.skills.walk import WalkExpert


def test_train_writes_a_run_expert_and_refuses_mistakes_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    shutil.copytree(default_library_path(), library)
    work = tmp_path / "work"
    tiny = ["--library", str(library), "--work-dir", str(work), "--envs", "2",
            "--workers", "2", "--eval-episodes", "1", "--steps-per-env", "8",
            "--critic-warmup", "1", "--eval-every", "2"]  # fmt: skip
    assert main(["experts", "train", "sprint", *tiny, "--iterations", "2",
                 "--eval-episodes", "2"]) == 0  # fmt: skip
    assert "(lowest " in capsys.readouterr().out
    expert = ExpertLibrary.load(library)["sprint"]
    assert isinstance(expert, WalkExpert) and expert.spec.skill == "run"
    provenance = expert.spec.config["provenance"]
    assert provenance["base"] == "walk" and provenance["iterations"] == 2
    assert provenance["kept"] == "best evaluation, iteration 2"
    assert (work / "curve.png").is_file() and (work / "curve.csv").is_file()
    header = (work / "curve.csv").read_text().splitlines()[0].split(",")
    assert {"eval_return", "eval_min", "eval_falls", "eval_episodes", "eval_score"} <= set(header)
    assert provenance["settings"]["eval_episodes"] == 2
    capsys.readouterr()

    def error(*extra: str) -> str:
        assert main(["experts", "train", *extra]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err
        return err

    assert "already in" in error("sprint", *tiny, "--iterations", "2")
    assert "--resume" in error("dash", *tiny, "--iterations", "2")
    assert "no such expert" in error("dash", *tiny, "--from", "nope", "--resume")
    assert "PPO fine-tunes command walkers" in error("dash", *tiny, "--from", "stand", "--resume")
    elsewhere = [*tiny[:2], "--work-dir", str(tmp_path / "w-load"), *tiny[4:]]
    assert "--episode-steps applies" in error("dash", *elsewhere, "--objective", "hand-load",
                                               "--episode-steps", "5")  # fmt: skip
    assert "--heading-sigma applies" in error("dash", *elsewhere, "--objective", "hand-load",
                                               "--heading-sigma", "0.5")  # fmt: skip
    assert "--effort-power applies" in error("dash", *elsewhere, "--objective", "hand-load",
                                              "--effort-power", "3")  # fmt: skip
    assert "--effort-power must be > 0" in error("dash", *elsewhere, "--effort-power", "0")
    assert "--move-target applies" in error("dash", *elsewhere, "--objective", "hand-load",
                                             "--move-target", "5")  # fmt: skip
    assert "--move-target must be > 0" in error("dash", *elsewhere, "--move-target", "0")
    changed = [*tiny[:-6], "--steps-per-env", "16", "--critic-warmup", "1", "--eval-every", "2"]
    assert "other settings (steps_per_env)" in error("dash", *changed, "--resume")
    assert "other objective settings (--heading-sigma)" in error(
        "dash", *tiny, "--heading-sigma", "0.5", "--resume"
    )
    # a checkpoint from before the objective's settings were kept resumes, with a warning
    state = torch.load(work / CHECKPOINT, weights_only=False)
    assert state.pop("objective_settings")["--from"] == "walk"
    torch.save(state, work / CHECKPOINT)
    assert "not best, last or an iteration number" in error("dash", *tiny, "--keep", "0")
    # more iterations continue the same run, and any evaluated network can be exported
    assert main(["experts", "train", "dash", *tiny, "--iterations", "3", "--resume",
                 "--keep", "2"]) == 0  # fmt: skip
    dash = ExpertLibrary.load(library)["dash"]
    assert dash.spec.config["provenance"]["iterations"] == 3
    assert dash.spec.config["provenance"]["kept"] == "evaluated network, iteration 2"
    network, row = evaluated_network(work, 2)
    assert row["iteration"] == 2
    for name, weights in dash.policy.state_dict().items():
        torch.testing.assert_close(weights, network[name])
    assert "(evaluated: 2, 3)" in error("dash2", *tiny, "--iterations", "3", "--resume",
                                        "--keep", "1")  # fmt: skip
    assert "predates kept objective settings" in (work / "train.log").read_text()


def test_train_hand_load_writes_a_slow_walker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    library = tmp_path / "library"
    shutil.copytree(default_library_path(), library)
    tiny = ["--library", str(library), "--work-dir", str(tmp_path / "work"), "--envs", "2",
            "--workers", "2", "--steps-per-env", "8", "--critic-warmup", "1",
            "--eval-every", "2", "--eval-episodes", "1", "--iterations", "2"]  # fmt: skip
    load = ["--objective", "hand-load", "--max-heading", "0.5", "--vx-range", "-0.4", "0.3"]
    assert main(["experts", "train", "hauler", *load, *tiny]) == 0
    expert = ExpertLibrary.load(library)["hauler"]
    assert isinstance(expert, WalkExpert) and expert.spec.skill == "walk"
    assert expert.command_ranges["vx"] == (-0.4, 0.3) and expert.command.vx == 0.0
    capsys.readouterr()
    backwards = [*load[:-2], "0.3", "-0.4"]
    assert main(["experts", "train", "other", *backwards, *tiny[:3], str(tmp_path / "w2"),
                 *tiny[4:]]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert "vx_range must be (low, high)" in err and "\n" not in err
