"""Which machine a measurement ran on: a one-line label for the head of a bench file.

The door's figures differ between two 2-core machines with the same pins: MuJoCo's contacts
amplify last-bit differences in the walkers' arithmetic, which depend on the CPU's vector
instructions (``results/door/README.md``, sessions 24 and 25). Both machines' files said
"x86_64, 2 cores", so which figure came from which machine could not be read back. The label
names the CPU model, its widest vector instruction set and the numeric packages' versions.
"""

from __future__ import annotations

import os
import platform
import time
from importlib import metadata
from pathlib import Path

#: Vector instruction sets, widest first: /proc/cpuinfo's flag and the label's name.
VECTOR_ISAS = (("avx512f", "avx512"), ("avx2", "avx2"), ("avx", "avx"), ("sse4_2", "sse4.2"))
#: Packages whose versions change what the numbers are.
NUMERIC_PACKAGES = ("mujoco", "numpy", "torch")


def parse_cpuinfo(text: str) -> tuple[str, str]:
    """The first CPU's model (name, family and model numbers) and its widest vector
    instruction set (a name of :data:`VECTOR_ISAS`, or ``unknown``) from the text of Linux's
    ``/proc/cpuinfo``."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, colon, value = line.partition(":")
        if not colon:
            if fields:  # a blank line ends the first CPU's block
                break
            continue
        fields.setdefault(key.strip(), value.strip())
    name = fields.get("model name", "unknown CPU")
    if "cpu family" in fields and "model" in fields:
        name += f" (family {fields['cpu family']}, model {fields['model']})"
    flags = set(fields.get("flags", "").split())
    return name, next((isa for flag, isa in VECTOR_ISAS if flag in flags), "unknown")


def _package_versions() -> str:
    versions = []
    for package in NUMERIC_PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(versions)


def machine_label(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """``date, architecture, CPU model, vector ISA, N cores; package versions`` for this
    machine (the CPU from ``cpuinfo`` where it exists, else :func:`platform.processor`)."""
    if cpuinfo.is_file():
        name, isa = parse_cpuinfo(cpuinfo.read_text(errors="replace"))
    else:
        name, isa = platform.processor() or "unknown CPU", "unknown"
    return (f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {name}, {isa}, "
            f"{os.cpu_count()} cores; {_package_versions()}")  # fmt: skip
