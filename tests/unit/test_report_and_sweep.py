"""Report statistics and the sweep's bookkeeping (retries, failures reported)."""

import os
import re
from pathlib import Path

import numpy as np
import pytest

from metaworld_hwm.cli import main
from metaworld_hwm.evaluation.report import RunRecord, bootstrap_ci, iqm, table_returns
from metaworld_hwm.evaluation.sweep import SweepJob, plan_jobs, run_sweep


def test_iqm_is_the_mean_of_the_middle_half() -> None:
    assert iqm(np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0])) == pytest.approx(3.5)
    assert iqm(np.array([1.0, 2.0, 9.0])) == pytest.approx(4.0)  # < 4 seeds: the mean
    low, high = bootstrap_ci(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert 1.0 <= low <= 3.0 <= high <= 5.0


def test_bootstrap_interval_is_reproducible_and_leaves_the_global_generator_alone() -> None:
    values = np.array([1.3, -1.3, 6.4, 1.0, -5.4, 3.6, 13.0, 9.5, -7.0, -12.7, -6.2, 0.4])
    before = np.random.get_state()[1].copy()
    first, second = bootstrap_ci(values, seed=1), bootstrap_ci(values, seed=1)
    assert first == second and first[0] < iqm(values) < first[1]
    assert bootstrap_ci(values, seed=2) != first
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_convergence_step_is_the_first_eval_at_90_percent_of_best() -> None:
    run = RunRecord(Path("."), "h1-stand", "tdmpc2", 1, [1000, 2000, 3000, 4000], [10, 85, 95, 100])
    assert run.convergence_step == 3000 and run.final_return == 100


def test_runs_without_an_evaluation_yet_are_left_out_of_the_returns_table() -> None:
    done = [RunRecord(Path("."), "h1-walk", "metaworld", s, [2500, 5000], [900.0, 906.0])
            for s in (1, 2)]  # fmt: skip
    running = RunRecord(Path("."), "h1-walk", "metaworld", 3)
    table = table_returns([*done, running])
    assert "| h1-walk | metaworld | 2 | 906.0 ± 0.0 |" in table and "nan" not in table


def test_plan_jobs_adds_ablations_to_metaworld_only() -> None:
    jobs = plan_jobs(["h1-stand"], ["metaworld", "tdmpc2"], [1, 2], ["no-vlm"])
    labels = {j.label for j in jobs}
    assert len(jobs) == 6
    assert "h1-stand/metaworld-no-vlm/2" in labels and "h1-stand/tdmpc2/1" in labels


@pytest.mark.parametrize(
    ("grid", "refused"),
    [((["h1-fly"], ["tdmpc2"], []), "unknown task 'fly' in env name 'h1-fly'; accepted tasks"),
     ((["h1-walk"], ["tdmpc"], []), "unknown method(s) tdmpc; choose from tdmpc2"),
     ((["h1-walk"], ["metaworld"], ["no-vl"]), "unknown ablation(s) no-vl; choose from no-vlm")],
)  # fmt: skip
def test_a_grid_naming_what_does_not_exist_is_refused_before_any_run(grid, refused) -> None:
    tasks, methods, ablations = grid
    with pytest.raises(ValueError, match=re.escape(refused)):
        plan_jobs(tasks, methods, [1], ablations)


def test_a_grid_takes_every_env_name_train_takes() -> None:
    tasks = ["metaworld_hwm/h1-walk-v0", "gym:InvertedPendulum-v5", "hb:h1hand-walk-v0"]
    assert [j.task for j in plan_jobs(tasks, ["tdmpc2"], [1], [])] == tasks


def test_what_is_not_there_is_said_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "config.json").write_text("{}")
    assert main(["report", str(tmp_path / "none")]) == 2
    assert main(["report", str(tmp_path / "other")]) == 2
    assert main(["sweep", "--tasks", "h1-wlk", "--out", str(tmp_path / "sweep")]) == 2
    no_run, not_a_run, sweep = capsys.readouterr().err.splitlines()
    assert no_run.startswith("metaworld-hwm report: error: no run directories (config.json)")
    assert not_a_run.endswith("config.json is not a run's config (no task under 'train' or "
                              "'arguments'); give the directories that `metaworld-hwm train` "
                              "or `sweep` wrote")  # fmt: skip
    assert sweep.startswith("metaworld-hwm sweep: error: unknown task 'wlk' in env name 'h1-wlk'")
    assert not (tmp_path / "sweep").exists()
    for command in ("demo", "pose-hold"):
        assert main([command, "--out", str(tmp_path / "other" / "config.json")]) == 2
        assert capsys.readouterr().err.endswith(
            "config.json is not a directory; give a directory to write into\n")


def test_counts_below_one_are_refused_at_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (["demo", "--steps", "0"], ["eval", ".", "--trials", "0"],
                    ["sweep", "--workers", "-1"], ["experts", "show", "stand", "--steps", "0"],
                    ["experts", "train", "x", "--workers", "0"]):  # fmt: skip
        with pytest.raises(SystemExit) as exit_:
            main(command)
        assert exit_.value.code == 2
        last = capsys.readouterr().err.splitlines()[-1]
        assert last.endswith(f"expected a whole number >= 1, got {command[-1]!r}")


def test_failed_jobs_are_retried_and_reported(tmp_path: Path) -> None:
    jobs = [SweepJob("h1-fly", "tdmpc2", 1)]  # unknown task: train exits non-zero
    summary = run_sweep(jobs, tmp_path, ["--preset", "tiny", "--steps", "10"], retries=1)
    assert summary["failed"] == ["h1-fly/tdmpc2/1"]
    assert summary["trials"][0]["attempts"] == 2 and summary["trials"][0]["exit_code"] != 0
    log = (tmp_path / "h1-fly/tdmpc2/1/sweep.log").read_text()
    assert log.count("$ ") == 2 and "unknown task 'fly'" in log


@pytest.mark.parametrize(("threads", "workers", "expected"), [(1, 1, 1), (None, 1, None)])
def test_runs_get_the_threads_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads, workers, expected
) -> None:
    import metaworld_hwm.evaluation.sweep as sweep

    seen: list[int] = []
    monkeypatch.setattr(sweep, "run_commands", lambda cmds, log, n: seen.append(n) or 0)
    jobs = plan_jobs(["h1-stand"], ["tdmpc2"], [1], [])
    run_sweep(jobs, tmp_path, [], workers=workers, threads=threads)
    assert seen == [expected or max(1, (os.cpu_count() or 1) // workers)]
    with pytest.raises(ValueError, match="threads must be >= 1"):
        run_sweep(jobs, tmp_path, [], threads=0)
