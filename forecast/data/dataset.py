"""The dataset the models see: observations on a time axis, presence, covariates, events.

Every observation is a span of days, a counting definition and an interval [lo, hi]
for the count (hi = inf for "at least"). Rows marked `use = fit` enter the likelihood;
rows marked `check` are kept for posterior predictive checks only. Each row also has a
`published` date (when the figure became public; by default the end of its span), for
real-time evaluation; it does not enter the model.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.errors import InputError
from forecast.timeaxis import TimeAxis

BOUNDS = ("exact", "at_least", "approx")
USES = ("fit", "check")
OBSERVATION_COLUMNS = (
    "id", "start", "end", "count", "bound", "lo", "hi", "definition", "region", "use",
)
# Widest interval an approximate figure may span (the likelihood sums its terms).
MAX_INTERVAL_WIDTH = 500

EVENT_KINDS = (
    "decapitation", "leadership_change", "us_strike", "militia_truce", "state_missile_strike",
    "mass_casualty_attack", "diplomatic", "troop_change", "election", "regional_war", "other",
)


@dataclass(frozen=True)
class Dataset:
    """Everything a model needs, already validated."""

    name: str
    axis: TimeAxis
    observations: pd.DataFrame
    events: pd.DataFrame
    reference: str
    presence: np.ndarray | None = None
    covariates: pd.DataFrame = field(default_factory=pd.DataFrame)
    presence_basis: list[str] | None = None
    files: tuple[Path, ...] = ()

    @property
    def fitted(self) -> pd.DataFrame:
        return self.observations[self.observations["use"] == "fit"]

    @property
    def definitions(self) -> list[str]:
        """Counting definitions of the fitted rows, the reference first."""
        others = sorted(set(self.fitted["definition"]) - {self.reference})
        return [self.reference, *others]

    def weights(self, rows: pd.DataFrame | None = None) -> np.ndarray:
        """(rows x bins) share of each bin's days covered by each observation's span."""
        rows = self.fitted if rows is None else rows
        if rows.empty:
            return np.zeros((0, self.axis.n))
        return np.vstack([self.axis.span_weights(s, e) for s, e in zip(rows["start"], rows["end"])])

    def content_hash(self) -> str:
        """Hash of the content the model sees (not of file names or row order on disk)."""
        digest = hashlib.sha256()
        digest.update(f"{self.axis.freq}|{self.axis.start.date()}|{self.axis.n}|{self.reference}".encode())
        cols = list(OBSERVATION_COLUMNS)
        digest.update(self.observations[cols].to_csv(index=False).encode())
        digest.update(self.events[["date", "end_date", "kind", "name"]].to_csv(index=False).encode())
        if self.presence is not None:
            digest.update(np.asarray(self.presence, dtype=float).round(9).tobytes())
        if not self.covariates.empty:
            digest.update(self.covariates.to_csv(index=False).encode())
        return digest.hexdigest()


def validate_observations(obs: pd.DataFrame, source: str) -> None:
    """Checks that span the rows: fitted rows of one definition must not share any day."""
    fitted = obs[obs["use"] == "fit"].sort_values(["definition", "start"])
    for definition, group in fitted.groupby("definition", sort=True):
        starts = group["start"].to_numpy()
        ends = group["end"].to_numpy()
        ids = group["id"].to_numpy()
        # sorted by start: an overlap exists iff a row starts before an earlier one ends
        running = np.maximum.accumulate(ends)
        for i in np.flatnonzero(starts[1:] <= running[:-1]) + 1:
            prior_end = running[i - 1]
            if starts[i] <= prior_end:
                j = int(np.argmax(ends[:i]))
                overlap_end = min(prior_end, ends[i])
                raise InputError(
                    source,
                    f"fitted rows {ids[j]} and {ids[i]} of definition '{definition}' both "
                    f"cover {pd.Timestamp(starts[i]).date()}..{pd.Timestamp(overlap_end).date()}; "
                    "the same attacks would be counted twice. Mark one of them use=check.",
                    where=f"rows {ids[j]}, {ids[i]}",
                )


def observations_from_bins(
    axis: TimeAxis, counts: np.ndarray, definition: str, source: str,
    published: list[pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """Exact per-bin counts (NaN = unknown, no term) as observation rows.

    `published` gives each bin's publication date (NaT or None: the bin's last day).
    """
    # column-wise: one pass over the bins, not a dict and formatted label per row
    counts = np.asarray(counts, dtype=float)
    keep = np.flatnonzero(~np.isnan(counts))
    labels = axis.labels
    ends = axis.ends[keep]
    given = pd.to_datetime(pd.Series([published[i] for i in keep] if published is not None else
                                     [pd.NaT] * len(keep), dtype=object))
    frame = pd.DataFrame({
        "id": [f"{definition}:{labels[i]}" for i in keep], "start": axis.starts[keep], "end": ends,
        "count": counts[keep].astype(int), "bound": "exact", "lo": counts[keep].astype(int),
        "hi": counts[keep], "definition": definition, "region": "", "use": "fit", "source": source,
        "published": given.where(given.notna(), pd.Series(ends)).to_numpy(),
    }, columns=[*OBSERVATION_COLUMNS, "source", "published"])
    frame["published"] = pd.to_datetime(frame["published"])
    return frame


def file_digest(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()
