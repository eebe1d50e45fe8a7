"""Chat prompts for LLM/VLM planners and the PNG encoding of camera frames.

The prompt lists every expert with its description and asks for the ordered sub-goals of
the instruction (in the order of events) with a 0-10 score per expert and the skill
parameters the text states (the fields of `SkillParams`), as JSON shaped like
``answer.plan_schema`` (which the backends also enforce where the model allows). A retry uses
a stricter prompt that names what was wrong with the previous answer. A camera frame travels
as a base64 PNG data URL in an OpenAI-style ``image_url`` content part.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from metaworld_hwm.semantic.types import STATED_PARAMS, ExpertLike

SYSTEM_PROMPT = (
    "You are the planner of a humanoid robot. You never output motor commands: you choose "
    "how much each expert skill should be used for each step of a task."
)


PARAMS_HELP = (
    'params: what the sub-goal\'s words state, null otherwise: pace ("slow" or "fast"), '
    'speed_mps (metres per second), direction ("forward", "backward", "left", '
    '"right"), turn ("left", "right", "around"), turn_deg (degrees), distance_m '
    '(metres), duration_s (seconds), target (the object, without "the").'
)


def _example(names: Sequence[str]) -> str:
    scores = ", ".join(f'"{n}": 0' for n in names)
    params = ", ".join(f'"{name}": null' for name in STATED_PARAMS)
    return (
        f'{{"subgoals": [{{"text": "<sub-goal>", "scores": {{{scores}}}, '
        f'"params": {{{params}}}}}]}}'
    )


def user_prompt(instruction: str, experts: Sequence[ExpertLike], with_image: bool) -> str:
    """The planning request: experts, instruction, and the JSON answer format."""
    lines = ["Expert skills of the robot:"]
    lines += [f"- {e.name}: {e.description}" for e in experts]
    if with_image:
        lines.append("The image is the robot's current camera view.")
    lines += [
        f'Instruction: "{instruction}"',
        "Split the instruction into the sub-goals the robot must achieve, one per action, in "
        'the order they happen ("before X, do Y" means Y first; a single sub-goal if it is '
        "one action). For each sub-goal, score every expert from 0 (no use) to 10 (exactly "
        "this skill).",
        PARAMS_HELP,
        f"Answer with JSON only, in this format: {_example([e.name for e in experts])}",
    ]
    return "\n".join(lines)


def strict_suffix(reason: str, names: Sequence[str]) -> str:
    """Added to the prompt on a retry: what went wrong and the exact format wanted."""
    return (
        f"\nYour previous answer could not be used ({reason[:200]}). Reply with one JSON "
        f"object and nothing else: no prose, no code fences. Use exactly these expert names: "
        f"{', '.join(names)}. Example: {_example(names)}"
    )


def build_messages(
    instruction: str,
    experts: Sequence[ExpertLike],
    frame_png: bytes | None = None,
    retry_reason: str | None = None,
) -> list[dict[str, Any]]:
    """OpenAI chat ``messages``; the frame, when given, as a PNG data-URL image part."""
    text = user_prompt(instruction, experts, frame_png is not None)
    if retry_reason is not None:
        text += strict_suffix(retry_reason, [e.name for e in experts])
    content: str | list[dict[str, Any]] = text
    if frame_png is not None:
        url = "data:image/png;base64," + base64.b64encode(frame_png).decode("ascii")
        content = [
            {"type": "text", "text": text},
            {"type": "image_url", "image_url": {"url": url}},
        ]
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]


def prompt_key_text(messages: list[dict[str, Any]]) -> str:
    """The messages as canonical text for cache keys, images replaced by their SHA-256."""

    def strip(part: Any) -> Any:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = part["image_url"]["url"].encode("ascii")
            return {"type": "image_url", "sha256": hashlib.sha256(url).hexdigest()}
        return part

    canonical = [
        {**m, "content": [strip(p) for p in m["content"]]} if isinstance(m["content"], list) else m
        for m in messages
    ]
    return json.dumps(canonical, sort_keys=True)


def encode_png(frame: np.ndarray) -> bytes:
    """An RGB(A) frame (H, W, 3|4; uint8, or float in [0, 1]) as PNG bytes (alpha dropped)."""
    a = np.asarray(frame)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(
            f"camera frame must be an RGB array of shape (H, W, 3), got {a.shape}; "
            "pass env.render() output"
        )
    if a.dtype != np.uint8:
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(f"camera frame must be uint8 or float in [0, 1], got {a.dtype}")
        a = (np.clip(np.nan_to_num(a), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    a = np.ascontiguousarray(a[:, :, :3])
    h, w = a.shape[:2]
    raw = b"".join(b"\x00" + a[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = binascii.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
