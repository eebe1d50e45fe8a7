"""Real local LLM planners on the held-out sets: usable answers, seconds per plan, accuracy.

Not CI: it needs the ``llama`` extra (llama-cpp-python, built from source; see pyproject.toml)
and a GGUF model (``--model-path``, else ``$METAWORLD_HWM_GGUF``, else the packaged
gemma3-270m of the ``gemma`` extra). Two backends, each through the project's own planner
(`make_planner`: prompt, schema, retries, embedded fallback), on the same instructions:

- ``openai``: the OpenAI-compatible backend against a real llama.cpp server. With
  ``--start-server`` the bench starts ``python -m llama_cpp.server`` on 127.0.0.1 (a free
  port) with the GGUF and stops it at the end; otherwise it uses
  ``METAWORLD_HWM_OPENAI_BASE_URL`` / ``METAWORLD_HWM_OPENAI_MODEL``.
- ``llama``: the in-process llama backend (llama.cpp grammar from the plan's schema).

Per backend and set it reports the usable-answer rate (the plan came from the model: an
answer that parsed and fitted the schema, in any attempt, not the embedded fallback), the
first-attempt usable rate, seconds per plan (mean, p90, max; retries included), and top-1 per
sub-goal, number-and-order, motion-parameter and target accuracy, both end to end (fallback
plans included) and on the usable answers alone, next to the embedded planner on the same
instructions. A fresh response cache is used, so every plan is a real model call.

    python bench/llm_planner_bench.py --start-server --sets post-freeze-3 [--limit N]
        [--stride K] [--backends openai llama] [--timeout 30] [--threads 2] [--records out.jsonl]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metaworld_hwm.semantic.answer import AnswerFormat
from metaworld_hwm.semantic.embedded import EmbeddedPlanner
from metaworld_hwm.semantic.factory import make_planner
from metaworld_hwm.semantic.llm import ChatError, LLMPlanner
from metaworld_hwm.semantic.types import ExpertLike, Plan, Planner, catalog_cards
from metaworld_hwm.utils.machine import machine_label
from planner_accuracy import (
    HELDOUT_PATH,
    POSTFREEZE2_PATH,
    POSTFREEZE3_PATH,
    POSTFREEZE_PATH,
    HeldOut,
    _motion_right,
    _targets_right,
    load_heldout,
)

SETS = {
    "held-out": HELDOUT_PATH,
    "post-freeze": POSTFREEZE_PATH,
    "post-freeze-2": POSTFREEZE2_PATH,
    "post-freeze-3": POSTFREEZE3_PATH,
}


class TimedChat:
    """Wraps a `ChatModel`, recording each call's seconds and outcome."""

    def __init__(self, chat: Any) -> None:
        self.chat = chat
        self.backend = chat.backend
        self.model = chat.model
        self.supports_images = chat.supports_images
        self.calls: list[tuple[float, str]] = []

    def complete(
        self, messages: list[dict[str, Any]], timeout_s: float, answer: AnswerFormat | None = None
    ) -> str:
        start = time.perf_counter()
        try:
            text = self.chat.complete(messages, timeout_s, answer)
        except ChatError as err:
            self.calls.append((time.perf_counter() - start, f"error: {err}"))
            raise
        self.calls.append((time.perf_counter() - start, "ok"))
        return text


@dataclass
class Tally:
    """Accuracy counts over a set of cases."""

    correct: int = 0
    total: int = 0
    exact: int = 0
    cases: int = 0
    motion: list[int] = field(default_factory=lambda: [0, 0])
    target: list[int] = field(default_factory=lambda: [0, 0])

    def add(self, plan: Plan, expected: list[tuple[str, dict[str, Any]]]) -> None:
        got, want = plan.top_experts(), [s for s, _ in expected]
        self.correct += sum(a == b for a, b in zip(got, want, strict=False))
        self.total += max(len(got), len(want))
        self.exact += got == want
        self.cases += 1
        if any(k != "target" for _, p in expected for k in p):
            self.motion[0] += _motion_right(plan, expected)
            self.motion[1] += 1
        if any("target" in p for _, p in expected):
            self.target[0] += _targets_right(plan, expected)
            self.target[1] += 1

    def row(self) -> str:
        def pct(a: int, b: int) -> str:
            return f"{a / b:.1%} ({a}/{b})" if b else "n/a"

        return (
            f"top-1 {pct(self.correct, self.total)}  order {pct(self.exact, self.cases)}  "
            f"motion {pct(*self.motion)}  targets {pct(*self.target)}"
        )


def p90(values: Sequence[float]) -> float:
    """The 90th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(model_path: Path, threads: int, n_ctx: int, log: Path) -> Iterator[str]:
    """``python -m llama_cpp.server`` on 127.0.0.1 (a free port); yields its /v1 base URL."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model_path),
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx),
        "--n_threads", str(threads), "--model_alias", model_path.stem,
    ]  # fmt: skip
    print("$ " + " ".join(shlex.quote(c) for c in cmd) + f"  > {log} 2>&1")
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=5) as r:
                    r.read()
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"llama_cpp.server not up in 180 s; see {log}") from None
                time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def probe_speed(url: str, model: str) -> str:
    """One unconstrained 64-token text completion: the server's decode speed, for reference."""
    body = {"model": model, "max_tokens": 64, "temperature": 0.0, "prompt": "One, two, three,"}
    request = urllib.request.Request(
        f"{url}/completions", json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as r:
        usage = json.loads(r.read())["usage"]
    seconds = time.perf_counter() - start
    return (
        f"{usage['completion_tokens']} tokens in {seconds:.1f} s "
        f"({usage['completion_tokens'] / seconds:.1f} tokens/s, no grammar)"
    )


def run_backend(
    name: str,
    planner: LLMPlanner,
    embedded: Planner,
    experts: Sequence[ExpertLike],
    sets: dict[str, HeldOut],
    records: Any,
) -> None:
    """Plan every case with ``planner``; print the usable rate, timing and accuracy per set."""
    chat = TimedChat(planner.chat)
    planner.chat = chat
    for set_name, cases in sets.items():
        seconds: list[float] = []
        usable = first = calls = 0
        ends, own, base = Tally(), Tally(), Tally()
        for text, expected in cases:
            before = len(chat.calls)
            start = time.perf_counter()
            plan = planner.plan(text, experts)
            seconds.append(time.perf_counter() - start)
            mine = chat.calls[before:]
            calls += len(mine)
            ok = plan.backend == chat.backend
            usable += ok
            first += ok and len(mine) == 1
            ends.add(plan, expected)
            if ok:
                own.add(plan, expected)
            ref = embedded.plan(text, experts)
            base.add(ref, expected)
            if records is not None:
                records.write(json.dumps({
                    "backend": name, "set": set_name, "text": text, "usable": ok,
                    "seconds": round(seconds[-1], 3), "calls": [(round(s, 3), o) for s, o in mine],
                    "got": plan.top_experts(), "want": [s for s, _ in expected],
                    "params": [g.params.stated() for g in plan.subgoals],
                    "subgoals": [g.text for g in plan.subgoals], "notes": list(plan.notes),
                }) + "\n")  # fmt: skip
                records.flush()
            print(
                f"  {'ok ' if ok else 'FB '} {seconds[-1]:5.1f} s {len(mine)} call(s) "
                f"{plan.top_experts()} want {[s for s, _ in expected]}  {text!r}",
                flush=True,
            )
        n = len(cases)
        mean = sum(seconds) / n
        print(
            f"{name} {set_name} ({n} instructions): usable answers {usable / n:.1%} ({usable}/{n}),"
            f" first attempt {first / n:.1%}; {calls} model calls; s/plan mean {mean:.1f} "
            f"p90 {p90(seconds):.1f} max {max(seconds):.1f}"
        )
        print(f"  {name} end to end (fallback included): {ends.row()}")
        print(f"  {name} usable answers only:         {own.row()}")
        print(f"  embedded, same instructions:        {base.row()}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["post-freeze-3"], choices=list(SETS))
    parser.add_argument("--backends", nargs="+", default=["openai"], choices=["openai", "llama"])
    parser.add_argument("--stride", type=int, default=1, help="every K-th case of each set")
    parser.add_argument("--limit", type=int, default=None, help="at most N cases of each set")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per model call")
    parser.add_argument("--attempts", type=int, default=3, help="model calls per plan")
    parser.add_argument("--model-path", default=None, help="GGUF (else $METAWORLD_HWM_GGUF)")
    parser.add_argument("--start-server", action="store_true", help="run llama_cpp.server")
    parser.add_argument("--threads", type=int, default=1, help="server threads (see below)")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--records", default=None, help="write per-plan JSONL records here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # a SIGTERM must still stop the server this bench started (the finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print("$ python " + " ".join(shlex.quote(a) for a in sys.argv))
    print(f"# {machine_label()}; at {time.strftime('%H:%M')}, "
          f"timeout {args.timeout:g} s, {args.attempts} attempts")  # fmt: skip

    from metaworld_hwm.semantic.llama_backend import resolve_gguf_path

    model_path = resolve_gguf_path(args.model_path)
    experts = catalog_cards()
    sets = {s: load_heldout(SETS[s])[:: args.stride][: args.limit] for s in args.sets}
    embedded = EmbeddedPlanner()
    embedded.plan("stand still", experts)
    records = open(args.records, "w", encoding="utf-8") if args.records else None  # noqa: SIM115

    def planner(backend: str, **kw: Any) -> LLMPlanner:
        p = make_planner(backend, cache_dir=tempfile.mkdtemp(prefix="llm_bench_"),
                         timeout_s=args.timeout, max_attempts=args.attempts, **kw)  # fmt: skip
        assert isinstance(p, LLMPlanner)
        return p

    try:
        if "openai" in args.backends:
            with endpoint(args, model_path) as (url, model):
                print(f"server speed probe: {probe_speed(url, model)}", flush=True)
                run_backend("openai", planner("openai", base_url=url, model=model),
                            embedded, experts, sets, records)  # fmt: skip
        if "llama" in args.backends:
            start = time.perf_counter()
            llama = planner("llama", model_path=model_path)
            llama.chat._llm = llama.chat._load()
            print(f"llama model load: {time.perf_counter() - start:.1f} s", flush=True)
            run_backend("llama", llama, embedded, experts, sets, records)
    finally:
        if records is not None:
            records.close()
    return 0


@contextmanager
def endpoint(args: argparse.Namespace, model_path: Path) -> Iterator[tuple[str, str]]:
    """The server to bench: started here (``--start-server``) or from the environment."""
    if args.start_server:
        log = Path(tempfile.gettempdir()) / "llama_server_bench.log"
        with llama_server(model_path, args.threads, args.n_ctx, log) as url:
            yield url, model_path.stem
        return
    url = os.environ.get("METAWORLD_HWM_OPENAI_BASE_URL", "")
    model = os.environ.get("METAWORLD_HWM_OPENAI_MODEL", "")
    if not url or not model:
        raise SystemExit(
            "openai backend: pass --start-server, or set METAWORLD_HWM_OPENAI_BASE_URL and "
            "METAWORLD_HWM_OPENAI_MODEL"
        )
    yield url, model


if __name__ == "__main__":
    sys.exit(main())
