"""`metaworld-hwm train` end to end on a tiny budget, then resumed."""

import json
from pathlib import Path

from metaworld_hwm.cli import main


def test_train_then_resume(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    common = [
        "train", "--task", "h1-stand", "--method", "tdmpc2", "--preset", "tiny", "--seed", "1",
        "--run-dir", str(run), "--max-episode-steps", "30", "--seed-steps", "40",
        "--eval-every", "60", "--eval-episodes", "1", "--checkpoint-every", "30",
        "--no-tensorboard", "--set", "num_samples=32", "--set", "batch_size=16",
    ]  # fmt: skip
    assert main([*common, "--steps", "60"]) == 0
    for name in ("config.json", "checkpoint.pt", "metrics.jsonl", "train.csv", "eval.csv"):
        assert (run / name).exists(), name
    config = json.loads((run / "config.json").read_text())
    assert config["world_model"]["num_samples"] == 32 and config["train"]["preset"] == "tiny"
    assert main([*common, "--steps", "90", "--resume"]) == 0
    out = capsys.readouterr().out
    assert "resumed" in out and "step 90/90" in out
    final = json.loads((run / "final.json").read_text())
    assert final["step"] == 90 and len(final["eval_returns"]) == 1
    train_rows = (run / "train.csv").read_text().splitlines()
    assert "consistency_loss" in train_rows[0] and len(train_rows) >= 4


def test_async_updates_train_and_log(tmp_path: Path) -> None:
    for method in ("tdmpc2", "metaworld"):
        run = tmp_path / method
        args = [
            "train", "--task", "h1-stand", "--method", method, "--preset", "tiny",
            "--steps", "80", "--seed", "2", "--run-dir", str(run), "--max-episode-steps", "40",
            "--seed-steps", "30", "--eval-every", "80", "--eval-episodes", "1",
            "--no-tensorboard", "--set", "num_samples=32", "--set", "batch_size=16",
            "--async-updates",
        ]  # fmt: skip
        assert main(args) == 0
        header, *rows = (run / "train.csv").read_text().splitlines()
        assert "world_model_loss" in header
        losses = [r.split(",")[header.split(",").index("world_model_loss")] for r in rows]
        assert any(v not in ("", "nan") for v in losses)
        assert json.loads((run / "config.json").read_text())["train"]["async_updates"] is True
        assert (run / "checkpoint.pt").exists()


def test_a_run_on_an_older_default_lambda_evaluates_and_resumes_with_it(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    """A run trained on the default guidance lambda records the lambda it used; after the
    default changed, `eval` rebuilds its agent with that lambda, a resume on the new default
    is refused in one line naming both values, and one with the old lambda continues. A
    checkpoint of the older layout (a default lambda recorded as None) reads the same."""
    import torch

    from metaworld_hwm.agent import config as agent_config
    from metaworld_hwm.evaluation.policy import load_agent_policy

    run = tmp_path / "run"
    common = [
        "train", "--task", "h1-stand", "--method", "metaworld", "--preset", "tiny",
        "--seed", "1", "--run-dir", str(run), "--max-episode-steps", "30",
        "--seed-steps", "20", "--eval-every", "40", "--eval-episodes", "1",
        "--no-tensorboard", "--set", "num_samples=32", "--set", "batch_size=16",
    ]  # fmt: skip
    monkeypatch.setattr(agent_config, "METAWORLD_GUIDANCE_LAMBDA", 20.0)  # the old default
    assert main([*common, "--steps", "40"]) == 0
    monkeypatch.undo()
    config = json.loads((run / "config.json").read_text())
    assert config["train"]["guidance_lambda"] is None
    assert config["world_model"]["guidance_lambda"] == 20.0
    checkpoint = run / "checkpoint.pt"
    payload = torch.load(checkpoint, weights_only=False)
    assert payload["config"]["guidance_lambda"] == 20.0
    payload["config"]["guidance_lambda"] = None  # as written before 2026-12-07
    torch.save(payload, checkpoint)
    policy = load_agent_policy(run)
    assert policy.agent.run.world_model.guidance_lambda == 20.0
    capsys.readouterr()
    assert main([*common, "--steps", "60", "--resume"]) == 2
    err = capsys.readouterr().err.strip()
    assert "guidance_lambda: saved 20.0, now 100.0" in err and "Traceback" not in err
    assert err.count("\n") == 0
    assert main([*common, "--steps", "60", "--resume", "--guidance-lambda", "20"]) == 0
    assert "resumed" in capsys.readouterr().out
