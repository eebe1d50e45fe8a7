"""``metaworld-hwm plan``: table, --json, --png and configuration errors."""

from __future__ import annotations

import argparse

import pytest

from metaworld_hwm.semantic.cli import add_plan_parser
from metaworld_hwm.semantic.types import Plan


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="metaworld-hwm")
    add_plan_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.mark.usefixtures("encoder")
def test_table_json_and_png(capsys, tmp_path):
    assert _run(["plan", "walk to the door and open it"]) == 0
    table = capsys.readouterr().out
    assert "walk to the door" in table and "open it" in table and "door_openness_reward" in table
    png = tmp_path / "plan.png"
    assert _run(["plan", "walk to the door and open it", "--json", "--png", str(png)]) == 0
    plan = Plan.from_json(capsys.readouterr().out)
    assert plan.top_experts() == ["walk", "reach"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tau_must_be_positive(capsys):
    assert _run(["plan", "walk", "--tau", "0"]) == 2
    assert "tau must be > 0" in capsys.readouterr().err


def test_openai_without_endpoint_is_a_configuration_error(capsys, monkeypatch):
    for name in ("METAWORLD_HWM_OPENAI_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert _run(["plan", "walk", "--backend", "openai"]) == 2
    err = capsys.readouterr().err
    assert "METAWORLD_HWM_OPENAI_BASE_URL" in err


@pytest.mark.usefixtures("encoder")
def test_table_shows_parameters_and_low_confidence(capsys):
    assert _run(["plan", "walk slowly backward, then turn around"]) == 0
    table = capsys.readouterr().out
    assert "params: pace=slow direction=backward" in table and "params: turn=around" in table
    assert "LOW CONFIDENCE" not in table
    assert _run(["plan", "xqzv blorp"]) == 0
    out = capsys.readouterr()
    assert "LOW CONFIDENCE" in out.out and "note: low confidence" in out.out
    assert _run(["plan", "sprint 2 metres", "--json"]) == 0
    plan = Plan.from_json(capsys.readouterr().out)
    assert plan.subgoals[0].params.pace == "fast" and plan.subgoals[0].params.distance_m == 2.0
