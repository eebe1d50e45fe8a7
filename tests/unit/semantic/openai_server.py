"""A stand-alone OpenAI chat-completions server for tests, run as its own process.

    python openai_server.py SCRIPT.json LOG.jsonl

Listens on 127.0.0.1 at a free port and prints ``PORT <n>`` once it accepts connections.
Every POST to ``/v1/chat/completions`` must ask for structured output the way llama.cpp's
server, vLLM and hosted APIs take it (``response_format`` of type ``json_schema``, strict,
with a schema) and a ``max_tokens`` of at most ``MAX_TOKENS``; a request that does not gets
HTTP 400 naming what is missing. A valid request gets the next step of the script (the last
repeats): ``{"answer": <object>}`` (sent as the message content; it must match the request's
schema, else HTTP 500 says why), ``{"content": "<text>"}`` (sent as is, e.g. truncated JSON)
or ``{"status": <code>, "body": "<text>"}``. Each request and what was wrong with it is
appended to the log as one JSON line. `validate` checks the JSON-schema subset that
``metaworld_hwm.semantic.answer`` uses.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from loopback import JSONHandler, LoopbackServer

MAX_TOKENS = 2048
_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "null": type(None),
}


def validate(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema`` (type, enum, anyOf, required, additionalProperties,
    min/maxItems, minimum/maximum, maxLength), as messages; empty when it matches."""
    if "anyOf" in schema:
        if any(not validate(value, option, path) for option in schema["anyOf"]):
            return []
        return [f"{path}: matches no anyOf option"]
    kind = schema.get("type")
    if kind is not None and (
        not isinstance(value, _TYPES[kind]) or (kind != "null" and isinstance(value, bool))
    ):
        return [f"{path}: {value!r} is not of type {kind}"]
    problems = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and len(value) > schema.get("maxLength", len(value)):
        problems.append(f"{path}: longer than {schema['maxLength']} characters")
    if isinstance(value, int | float) and not (
        schema.get("minimum", value) <= value <= schema.get("maximum", value)
    ):
        problems.append(
            f"{path}: {value} outside [{schema.get('minimum')}, {schema.get('maximum')}]"
        )
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            problems.append(f"{path}: {len(value)} items")
        for i, item in enumerate(value):
            problems += validate(item, schema.get("items", {}), f"{path}[{i}]")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        problems += [f"{path}: missing {k!r}" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in properties:
                problems += validate(item, properties[key], f"{path}.{key}")
            elif schema.get("additionalProperties") is False:
                problems.append(f"{path}: unexpected {key!r}")
    return problems


def request_problems(path: str, body: dict[str, Any]) -> list[str]:
    """What a chat request lacks: the endpoint, a strict json_schema format, capped tokens."""
    problems = [] if path == "/v1/chat/completions" else [f"unknown path {path}"]
    fmt = body.get("response_format") or {}
    spec = fmt.get("json_schema") or {}
    if fmt.get("type") != "json_schema":
        problems.append(f"response_format type is {fmt.get('type')!r}, not 'json_schema'")
    if spec.get("strict") is not True or not spec.get("name") or not spec.get("schema"):
        problems.append("json_schema needs name, schema and strict: true")
    tokens = body.get("max_tokens")
    if not isinstance(tokens, int) or not 0 < tokens <= MAX_TOKENS:
        problems.append(f"max_tokens {tokens!r} is not capped (1-{MAX_TOKENS})")
    return problems


class _Handler(JSONHandler):
    server: _Server

    def respond(self, body: Any) -> tuple[int, str]:
        problems = request_problems(self.path, body)
        step = self.server.script[min(self.server.calls, len(self.server.script) - 1)]
        self.server.calls += 1
        status, payload = 200, ""
        if problems:
            status, payload = 400, json.dumps({"error": {"message": "; ".join(problems)}})
        elif "status" in step:
            status, payload = step["status"], step["body"]
        else:
            if "answer" in step:
                schema = body["response_format"]["json_schema"]["schema"]
                problems = validate(step["answer"], schema)
                content = json.dumps(step["answer"])
            else:
                content = step["content"]
            message = {"role": "assistant", "content": content}
            payload = json.dumps({"object": "chat.completion", "model": body.get("model"),
                                  "choices": [{"index": 0, "message": message}]})  # fmt: skip
            if problems:
                status, payload = 500, "scripted answer breaks the schema: " + "; ".join(problems)
        with self.server.log.open("a", encoding="utf-8") as log:
            log.write(json.dumps({"path": self.path, "body": body, "problems": problems}) + "\n")
        return status, payload


class _Server(LoopbackServer):
    def __init__(self, script: list[dict[str, Any]], log: Path) -> None:
        super().__init__(_Handler)
        self.script, self.log, self.calls = script, log, 0


def main(argv: list[str]) -> None:
    """Serve the script in ``argv[0]``, logging to ``argv[1]``, until killed."""
    script = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    server = _Server(script, Path(argv[1]))
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main(sys.argv[1:])
