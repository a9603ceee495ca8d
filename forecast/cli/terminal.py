"""What the commands print: result tables (rich) and the unconverged-fit warning."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table


def print_run_results(run_dir: Path) -> None:
    """Horizon totals and contrasts of a scenario run, as tables on stdout."""
    console = Console(file=sys.stdout, highlight=False)
    totals = pd.read_csv(run_dir / "totals.csv")
    table = Table(title="Attacks over the horizon (posterior median, 80% interval)")
    for column in ("scenario", "median", "80% interval"):
        table.add_column(column, justify="left" if column == "scenario" else "right")
    for row in totals.itertuples(index=False):
        if isinstance(getattr(row, "region", None), str) and row.region != "total" and row.q97_5 == 0:
            continue            # a region without forces (no attacks in any draw): totals.csv has it
        table.add_row(_labelled(row), f"{row.median:,.0f}", f"{row.q10:,.0f} to {row.q90:,.0f}")
    console.print(table)
    try:
        contrasts = pd.read_csv(run_dir / "contrasts.csv")
    except pd.errors.EmptyDataError:       # no scenario of the run has a baseline
        contrasts = pd.DataFrame()
    if len(contrasts):
        table = Table(title="Against the baseline (paired draws)")
        for column in ("scenario", "baseline", "median difference", "80% interval", "P(fewer)"):
            table.add_column(column, justify="left" if column in ("scenario", "baseline") else "right")
        for row in contrasts.itertuples(index=False):
            if isinstance(getattr(row, "region", None), str) and row.region != "total" \
                    and row.p_same_as_baseline == 1.0:
                continue        # a region without attacks in either (no forces there): contrasts.csv has it
            table.add_row(_labelled(row), str(row.baseline), f"{row.diff_median:+,.0f}",
                          f"{row.diff_q10:+,.0f} to {row.diff_q90:+,.0f}", f"{row.p_fewer_than_baseline:.2f}")
        console.print(table)


def _labelled(row: Any) -> str:
    """The scenario, and its region when the tables have one (a regional model's)."""
    region = getattr(row, "region", None)
    return str(row.scenario) if not isinstance(region, str) else f"{row.scenario} ({region})"


def warn_unconverged(verdict: str) -> None:
    if verdict != "passed":
        Console(file=sys.stderr).print("[bold red]WARNING: this run uses a fit that FAILED its diagnostics "
                                       "gate (--allow-unconverged); do not cite its numbers.[/bold red]")
