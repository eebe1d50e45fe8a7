"""The main job of ``make demo``: an instruction to whole-body control, end to end, on a CPU.

1. Tier 1 plans "walk to the door and open it": over the paper's eight skills (what a full
   library would get) and over the door library's experts (``experts/door``: stand, walk, the
   hand-load walker pull, and the door opener), which the agent uses: [walk to the door ->
   walk, open it -> door], and "open it" runs as the door expert's stages (grasp the hatch,
   turn it, pull the door open), each done on the task's signals.
2. The MetaWorld agent trains online on ``h1grip-door`` (the H1 with two-finger grippers; the
   handless ``h1-door`` cannot turn the hatch that locks the door) for a short budget (tiny
   world model): every step the active sub-goal's weights and the state-aware selection fuse
   the experts into a_ref, which guides MPPI and the policy prior; phi and psi keep learning.
3. The paper's protocol evaluates it, records a video (the robot walks up, grasps and turns
   the hatch and pulls the door) and the expert-weight timeline (walk hands over to door; a
   dashed line where each sub-goal began), and the report writes the tables and figures.

Torch runs on one thread: two intra-op threads collapse when another process shares the cores.
"""

from __future__ import annotations

import time
from pathlib import Path

INSTRUCTION = "walk to the door and open it"
#: The gripper robot's door: the H1 without hands (``h1-door``) cannot turn the hatch.
TASK = "h1grip-door"
#: The library of the door's experts, inside the default one (``experts/door``).
DOOR_LIBRARY = "door"


def run_demo(out: Path, steps: int = 1500, seed: int = 0, trials: int = 1,
             video: bool = True, library: Path | None = None) -> Path:  # fmt: skip
    """Run the whole demo into ``out``; returns the report's path.

    ``library``: the expert library (default: the door library, ``experts/door``, found where
    :func:`~metaworld_hwm.hierarchy.resolve_library` finds ``experts/``).
    """
    import torch

    # two intra-op threads collapse when another process shares the cores (README, "Speed"):
    # on a shared 2-core machine the demo took 27 min with two, 3 with one
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run(out, steps, seed, trials, video, library)
    finally:
        torch.set_num_threads(threads)


def _run(out: Path, steps: int, seed: int, trials: int, video: bool,
         library: Path | None) -> Path:  # fmt: skip
    from metaworld_hwm.agent import RunConfig
    from metaworld_hwm.evaluation.protocol import evaluate_run
    from metaworld_hwm.evaluation.report import find_runs, write_report
    from metaworld_hwm.hierarchy import resolve_library
    from metaworld_hwm.semantic import catalog_cards, make_planner
    from metaworld_hwm.semantic.report import format_plan
    from metaworld_hwm.semantic.stages import expand_stages
    from metaworld_hwm.training import OnlineTrainer
    from metaworld_hwm.training.checkpoint import CheckpointError

    start = time.perf_counter()
    # absolute: the run's config.json names it, and evaluation rebuilds the guide from there
    library = (library or resolve_library(None, within=DOOR_LIBRARY)).resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f'== 1. tier 1: planning "{INSTRUCTION}"', flush=True)
    planner = make_planner("embedded")
    full = planner.plan(INSTRUCTION, catalog_cards())
    print("over the paper's eight skills:")
    print(format_plan(full))
    (out / "plan_eight_skills.json").write_text(full.to_json())

    cfg = RunConfig(
        task=TASK, method="metaworld", preset="tiny", steps=steps, seed=seed,
        seed_steps=min(500, steps // 3), eval_every=steps, eval_episodes=1,
        checkpoint_every=steps, instruction=INSTRUCTION, library=str(library),
        run_dir=str(out / "run"), tensorboard=False,
    )  # fmt: skip
    trainer = OnlineTrainer.from_config(cfg)
    assert trainer.guide is not None
    cards = trainer.guide.cards
    library_plan = expand_stages(trainer.guide.planner.plan(INSTRUCTION, cards), cards)
    print(f"over this library ({', '.join(c.name for c in cards)}; 'open it' runs as the door "
          "expert's stages):")
    print(format_plan(library_plan))
    print(f"\n== 2. tiers 2+3: MetaWorld agent on {TASK}, {steps} env steps (tiny preset)",
          flush=True)  # fmt: skip
    try:
        trainer.train(resume=True)  # a killed demo goes on where it stopped
    except CheckpointError as exc:  # e.g. an earlier demo's run on h1-door
        raise CheckpointError(f"{exc} (demo: remove {out / 'run'} or pass another --out)") from exc
    del trainer

    print(f"\n== 3. evaluation: {trials} trial(s), video and expert-weight timeline", flush=True)
    video_path = out / "door_episode.mp4" if video else None
    try:
        evaluate_run(out / "run", trials=trials, video=video_path)
    except RuntimeError as exc:  # no GL backend: evaluate without the video
        print(f"rendering unavailable ({exc}); evaluating without video")
        video_path = None
        evaluate_run(out / "run", trials=trials)
    report = write_report(find_runs([out / "run"]), out, command="metaworld-hwm demo")
    minutes = (time.perf_counter() - start) / 60
    print(f"\n== done in {minutes:.1f} min. Outputs in {out}/:")
    print(f"  plan (8 skills)     {out / 'plan_eight_skills.json'}")
    print(f"  run directory       {out / 'run'} (config, metrics, checkpoint, events.jsonl)")
    if video_path is not None:
        print(f"  video               {video_path}")
    print(f"  weight timeline     {out / 'weight_timeline.png'}")
    print(f"  learning curve      {out / f'curves_{TASK}.png'}")
    print(f"  evaluation          {out / 'run' / 'eval_protocol.json'}")
    print(f"  report              {report}")
    return report
