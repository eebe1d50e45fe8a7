"""Report statistics and the sweep's bookkeeping (retries, failures reported)."""

import os
from pathlib import Path

import numpy as np
import pytest

from metaworld_hwm.evaluation.report import RunRecord, bootstrap_ci, iqm, table_returns
from metaworld_hwm.evaluation.sweep import plan_jobs, run_sweep


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


def test_failed_jobs_are_retried_and_reported(tmp_path: Path) -> None:
    jobs = plan_jobs(["h1-fly"], ["tdmpc2"], [1], [])  # unknown task: train exits non-zero
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
