"""The machine label at the head of bench files."""

from __future__ import annotations

import os
from pathlib import Path

from metaworld_hwm.utils.machine import machine_label, parse_cpuinfo

CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 25
model\t\t: 17
model name\t: AMD EPYC
flags\t\t: fpu sse sse2 sse4_2 avx avx2 avx512f avx512dq

processor\t: 1
model name\t: another CPU
"""


def test_the_first_cpu_is_named_with_its_widest_vector_instructions() -> None:
    assert parse_cpuinfo(CPUINFO) == ("AMD EPYC (family 25, model 17)", "avx512")
    without_avx512 = CPUINFO.replace(" avx512f avx512dq", "")
    assert parse_cpuinfo(without_avx512)[1] == "avx2"
    assert parse_cpuinfo("model name\t: X\n") == ("X", "unknown")


def test_the_label_names_cores_cpu_and_packages(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(CPUINFO)
    label = machine_label(cpuinfo)
    assert "AMD EPYC (family 25, model 17), avx512" in label
    assert f"{os.cpu_count()} cores" in label
    assert "mujoco " in label and "numpy " in label
    assert "unknown" in machine_label(tmp_path / "missing")
