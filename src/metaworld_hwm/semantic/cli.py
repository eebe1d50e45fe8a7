"""``metaworld-hwm plan``: instruction -> sub-goals with expert weights.

Wire into the main parser with ``add_plan_parser(subparsers)``; the sub-command sets
``func`` to `run_plan`, which returns the exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys

from metaworld_hwm.semantic.factory import BACKENDS, make_planner
from metaworld_hwm.semantic.report import format_plan, save_plan_png
from metaworld_hwm.semantic.types import DEFAULT_TAU, catalog_cards


def add_plan_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``plan`` sub-command to ``subparsers``; returns its parser."""
    p = subparsers.add_parser(
        "plan",
        help="turn an instruction into sub-goals with expert weights",
        description="Tier 1: decompose an instruction into sub-goals in the order of events, "
        "each a weight vector over the expert skills (w = softmax(extract(R) / tau)) with the "
        "skill parameters its text states (pace, speed, direction, turn, distance, duration, "
        "target); a low-confidence plan is flagged.",
    )
    p.add_argument("instruction", help='e.g. "walk to the door and open it"')
    p.add_argument("--backend", choices=BACKENDS, default="embedded", help="planner backend")
    p.add_argument("--tau", type=float, default=DEFAULT_TAU, help="softmax temperature")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--png", metavar="FILE", help="save a bar chart of the weights")
    p.add_argument("--base-url", help="openai: endpoint (else $METAWORLD_HWM_OPENAI_BASE_URL)")
    p.add_argument("--model", help="openai: model name (else $METAWORLD_HWM_OPENAI_MODEL)")
    p.add_argument("--model-path", help="llama: GGUF file (else $METAWORLD_HWM_GGUF)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per model call")
    p.add_argument("--cache-dir", help="response cache (else $METAWORLD_HWM_CACHE_DIR)")
    p.set_defaults(func=run_plan)
    return p


def run_plan(args: argparse.Namespace) -> int:
    """Plan ``args.instruction`` and print it (table or JSON); 2 on a configuration error."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        planner = make_planner(
            args.backend,
            args.tau,
            base_url=args.base_url,
            model=args.model,
            model_path=args.model_path,
            cache_dir=args.cache_dir,
            timeout_s=args.timeout,
        )
        plan = planner.plan(args.instruction, catalog_cards())
    except (ValueError, ImportError, FileNotFoundError) as err:
        print(f"metaworld-hwm plan: {err}", file=sys.stderr)
        return 2
    print(plan.to_json() if args.json else format_plan(plan))
    if args.png:
        path = save_plan_png(plan, args.png)
        print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0
