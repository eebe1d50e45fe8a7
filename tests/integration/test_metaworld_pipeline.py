"""Train every method and ablation a few steps, resume, evaluate, report: the whole harness."""

import json
from pathlib import Path

import pytest

from metaworld_hwm.cli import main

COMMON = [
    "--task", "h1-stand", "--preset", "tiny", "--seed", "1", "--max-episode-steps", "30",
    "--seed-steps", "30", "--eval-every", "60", "--eval-episodes", "1",
    "--checkpoint-every", "30", "--no-tensorboard", "--set", "num_samples=32",
    "--set", "batch_size=16",
]  # fmt: skip
VARIANTS = {
    "tdmpc2": ["--method", "tdmpc2"],
    "metaworld": ["--method", "metaworld"],
    "metaworld-no-vlm": ["--method", "metaworld", "--ablation", "no-vlm"],
    "metaworld-no-dynamic-selection": ["--method", "metaworld", "--ablation",
                                       "no-dynamic-selection"],
    "metaworld-no-guidance": ["--method", "metaworld", "--ablation", "no-guidance"],
}
LAMBDA = {"tdmpc2": 0.0, "metaworld-no-guidance": 0.0}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    for label, args in VARIANTS.items():
        assert main(["train", *COMMON, *args, "--steps", "60",
                     "--run-dir", str(root / label)]) == 0  # fmt: skip
    return root


@pytest.mark.parametrize("label", list(VARIANTS))
def test_every_method_writes_a_full_run(runs: Path, label: str) -> None:
    run = runs / label
    config = json.loads((run / "config.json").read_text())
    assert config["world_model"]["guidance_lambda"] == LAMBDA.get(label, 100.0)
    assert json.loads((run / "final.json").read_text())["step"] == 60
    header = (run / "train.csv").read_text().splitlines()[0]
    if label.startswith("metaworld"):
        events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
        assert events[0]["name"] == "semantic/plan"
        skills = (run / "skills.csv").read_text().splitlines()[0]
        assert {"fusion_loss", "q", "entropy"} <= set(skills.split(","))
        assert "pi_guidance" in header or label == "metaworld-no-guidance"
    else:
        assert not (run / "events.jsonl").exists()


def test_resume_eval_and_report(runs: Path, tmp_path: Path, capsys) -> None:
    run = runs / "metaworld"
    assert main(["train", *COMMON, *VARIANTS["metaworld"], "--steps", "90",
                 "--run-dir", str(run), "--resume"]) == 0  # fmt: skip
    assert "resumed" in capsys.readouterr().out
    assert main(["eval", str(run), "--trials", "1"]) == 0
    protocol = json.loads((run / "eval_protocol.json").read_text())
    assert protocol["trials"] == 1 and protocol["experts"] == ["stand", "reach", "walk", "run"]
    trial = protocol["per_trial"][0]
    assert trial["success"] == (not trial["fell"]) and len(trial["weights"]) == trial["steps"]
    assert trial["subgoals"][0][0] == 0 and trial["subgoals"][0][1]  # where each sub-goal began

    assert main(["report", str(runs), "--out", str(tmp_path)]) == 0
    report = (tmp_path / "report.md").read_text()
    for label in VARIANTS:
        assert f"| h1-stand | {label} |" in report
    successes = int(trial["success"])
    assert f"| h1-stand | metaworld | {successes} | 1 |" in report
    for png in ("curves_h1-stand.png", "ablations.png", "weight_timeline.png"):
        assert (tmp_path / png).stat().st_size > 1000
