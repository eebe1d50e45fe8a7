"""Human-readable views of a plan: a text table and a bar chart."""

from __future__ import annotations

from pathlib import Path

from metaworld_hwm.semantic.types import Plan, SkillParams


def format_params(params: SkillParams) -> str:
    """The stated parameters as ``name=value`` pairs ("-" when none)."""
    stated = params.stated()
    if not stated:
        return "-"
    return " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in stated.items())


def format_plan(plan: Plan) -> str:
    """Sub-goals as rows, experts as columns (weights), with the completion condition and,
    indented below, the skill parameters; a low-confidence plan is flagged on top."""
    width = max(6, *(len(n) for n in plan.experts))
    header = f"{'#':>2s} {'sub-goal':32s} " + " ".join(f"{n:>{width}s}" for n in plan.experts)
    lines = [
        f"instruction: {plan.instruction}",
        f"backend: {plan.backend}  model: {plan.model}  tau: {plan.tau:g}",
        header + "  done when",
    ]
    if plan.low_confidence:
        lines.insert(
            2, "LOW CONFIDENCE: this plan is a guess (see the notes); rephrase the instruction"
        )
    for i, goal in enumerate(plan.subgoals, start=1):
        text = goal.text if len(goal.text) <= 32 else goal.text[:29] + "..."
        cells = " ".join(f"{w:>{width}.2f}" for w in goal.weights)
        cond = goal.condition
        when = f"{cond.signal} {cond.op} {cond.threshold:g}"
        lines.append(f"{i:2d} {text:32s} {cells}  {when} (timeout {cond.timeout_s:g} s)")
        lines.append(f"   params: {format_params(goal.params)}")
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines)


def save_plan_png(plan: Plan, path: str | Path) -> Path:
    """Grouped bar chart of each sub-goal's expert weights (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    weights = plan.weight_matrix()
    n_goals, n_experts = weights.shape
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * n_experts + 2), 3.8))
    width = 0.8 / n_goals
    x = np.arange(n_experts)
    for i, goal in enumerate(plan.subgoals):
        ax.bar(
            x + (i - (n_goals - 1) / 2) * width, weights[i], width, label=f"{i + 1}. {goal.text}"
        )
    ax.set_xticks(x, plan.experts)
    ax.set_ylim(0, 1)
    ax.set_ylabel("weight w")
    ax.set_title(f'"{plan.instruction}" ({plan.backend}, tau={plan.tau:g})', fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
