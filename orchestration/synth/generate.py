"""Write every feed of a plan into a landing folder (`<feed>/<YYYY-MM>/<file as published>`), with
its `_manifest.json` (every planted gap) and `_receipts.csv` (when each file arrived): manifest.py.

generate() makes the plan's shared decisions (plan.py), calls each writer of the registry in turn
with one context (registry.py, context.py), and writes the two records from what the writers
returned and logged. Deterministic: the same plan gives byte-identical files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from orchestration.synth import activity_base, population
from orchestration.synth.context import WriteContext, Writer
from orchestration.synth.manifest import PlantedGap, write_manifest
from orchestration.synth.plan import Plan, decide
from orchestration.synth.registry import WRITERS


def generate(plan: Plan, out: Path, progress: bool = True, writers: tuple[Writer, ...] = WRITERS) -> dict:
    """Write the landing files, the receipt log and the manifest; return the manifest."""
    rng = np.random.default_rng(plan.seed)
    ctx = WriteContext(out, decide(plan, rng), rng)
    shares = [writer.steps(ctx) for writer in writers]
    gaps: list[PlantedGap] = []
    # One bar over the whole run, each writer's share about its share of the time.
    with tqdm(total=sum(shares), unit="step", disable=not progress) as bar:
        for writer, steps in zip(writers, shares, strict=True):
            bar.set_description(f"{plan.scale}: {writer.label}")
            share = _Share(bar, steps)
            ctx.advance = share
            gaps += writer.write(ctx)
            share.finish()
    out.mkdir(parents=True, exist_ok=True)
    ctx.receipts.write(out)
    return write_manifest(out, _facts(ctx), _in_decision_order(ctx.shared.gaps, gaps))


class _Share:
    """A writer's share of the bar: the steps it reports as it goes, the rest when it returns."""

    def __init__(self, bar: tqdm, steps: int) -> None:
        self.bar, self.left = bar, steps

    def __call__(self, steps: int) -> None:
        steps = min(steps, self.left)
        self.left -= steps
        self.bar.update(steps)

    def finish(self) -> None:
        self(self.left)


def _in_decision_order(planned: list[PlantedGap], planted: list[PlantedGap]) -> list[PlantedGap]:
    """The plan's gaps first, in the plan's order, then the writers' own, in registry order. Each
    gap the plan decided must have been planted by its feed's writer."""
    unplanted = [g for g in planned if g not in planted]
    if unplanted:
        raise RuntimeError(f"the plan decided gaps no writer planted: {unplanted}")
    return planned + [g for g in planted if g not in planned]


def _facts(ctx: WriteContext) -> dict[str, Any]:
    """What the manifest says of the run besides its gaps."""
    p, scale = ctx.geo.practices, ctx.scale
    return {
        "scale": scale,
        "seed": ctx.seed,
        "months": [f"{ctx.months[0]:%Y-%m}", f"{ctx.months[-1]:%Y-%m}"],
        "sub_icb_locations": [s.code for s in ctx.geo.sub_icbs],
        "practices": int(ctx.geo.n),
        "activity_sample_fraction": activity_base.SAMPLE_FRACTION if scale == "sample" else None,
        "registered_patients_first_month": int(
            population.list_sizes(p["list_size"], p["growth"], 0, np.random.default_rng(0)).sum()
        ),
    }
