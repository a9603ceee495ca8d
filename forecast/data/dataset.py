"""The dataset the models see: observations on a time axis, presence, covariates, events.

Every observation is a span of days, a counting definition and an interval [lo, hi]
for the count (hi = inf for "at least"). Rows marked `use = fit` enter the likelihood;
rows marked `check` are kept for posterior predictive checks only. Each row also has a
`published` date (when the figure became public; by default the end of its span), for
real-time evaluation; it does not enter the model.

Regions (forecast/data/regions.py): `regions` are the places the data name, each with its
own troop presence (`presence_by_region`, bins x regions); `presence` stays the total the
current model uses (bundled: Iraq + Syria, the regions the reference count covers). Data
that name no region have the one region 'all', whose presence is the total.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.regions import ALL, cover_matrix, sets_overlap
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
# Acts whose modelled effect starts on their date and does not end with them (the kinds whose
# EffectKind has ends_with_event=False in forecast.core.effects; a test keeps the two in step)
ACT_KINDS = ("decapitation", "us_strike")


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
    # counting definition -> what it counts, where the data describe it (the report quotes it)
    definition_notes: dict[str, str] = field(default_factory=dict)
    regions: list[str] = field(default_factory=lambda: [ALL])
    # (bins x regions), thousands of troops; low/high bound them where sources disagree
    # (NaN where they agree or give no range)
    presence_by_region: np.ndarray | None = None
    presence_low_by_region: np.ndarray | None = None
    presence_high_by_region: np.ndarray | None = None

    def __post_init__(self) -> None:
        if not self.regions or len(set(self.regions)) != len(self.regions):
            raise ValueError(f"regions must be distinct names, got {self.regions}")
        if list(self.regions) == [ALL]:
            # one region: its presence is the total, derived so that replace() keeps them equal
            by_region = None if self.presence is None else np.asarray(self.presence, float)[:, None]
            object.__setattr__(self, "presence_by_region", by_region)
        shape = (self.axis.n, len(self.regions))
        for name in ("presence_by_region", "presence_low_by_region", "presence_high_by_region"):
            value = getattr(self, name)
            if value is not None and np.shape(value) != shape:
                raise ValueError(f"{name} has shape {np.shape(value)}; expected {shape} (bins x regions)")

    @property
    def regional(self) -> bool:
        """Do the data name regions (more than the one region 'all')?"""
        return list(self.regions) != [ALL]

    def region_cover(self, rows: pd.DataFrame | None = None) -> np.ndarray:
        """(rows x regions) 0/1: the regions each observation counts (default: the fitted rows)."""
        rows = self.fitted if rows is None else rows
        return cover_matrix(rows["region"].fillna(""), self.regions)

    def reference_regions(self) -> np.ndarray:
        """(regions,) 1 for the regions of the total a model of the total forecasts: those the
        reference definition's fitted rows count over at least half as many days as the region
        they count longest (bundled: Iraq + Syria, the Pentagon's monthly series, about 2,800
        days each; Jordan's one row, a breakdown of a 106-day tally, does not make it part of
        the series). Data in the long layout (a row per region and month) count every region."""
        reference = self.fitted[self.fitted["definition"] == self.reference]
        if reference.empty:
            return np.ones(len(self.regions))
        days = (pd.to_datetime(reference["end"]) - pd.to_datetime(reference["start"])).dt.days + 1
        covered = days.to_numpy(float) @ self.region_cover(reference)
        return (covered >= 0.5 * covered.max()).astype(float)

    def for_total(self) -> tuple[Dataset, list[str]]:
        """The data as a model of the total sees them, and the ids of the fitted rows it leaves
        out: those that count only regions outside the total (a count in Jordan alone says
        nothing about the Iraq + Syria total), and the parts of a breakdown (rows of one
        definition and span that count different regions, e.g. a tally's parts by country: to
        a model of the total they would be one span counted several times; the reference
        definition's rows are kept). Data without regions are returned as they are."""
        if not self.regional:
            return self, []
        fitted = self.fitted
        inside = self.region_cover(fitted) @ self.reference_regions() > 0
        sets = fitted["region"].fillna("").astype(str)
        parts = sets.groupby([fitted["definition"], fitted["start"], fitted["end"]]).transform("nunique") > 1
        # the reference's own rows per region (the long layout) are the series, not a breakdown
        parts &= fitted["definition"] != self.reference
        outside = fitted["id"][~inside | parts].astype(str).tolist()
        if not outside:
            return self, []
        kept = self.observations[~self.observations["id"].isin(outside)].reset_index(drop=True)
        return replace(self, observations=kept), outside

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
        if self.regional:
            # only when regions exist, so that data without regions hash as before
            digest.update(("regions|" + "+".join(self.regions)).encode())
            for array in (self.presence_by_region, self.presence_low_by_region,
                          self.presence_high_by_region):
                if array is not None:
                    digest.update(np.nan_to_num(np.asarray(array, float), nan=-1.0).round(9).tobytes())
        return digest.hexdigest()


def validate_observations(obs: pd.DataFrame, source: str) -> None:
    """Checks that span the rows: fitted rows of one definition must not count the same attack
    twice, i.e. must not share a day in a region both count (an empty region is every region)."""
    fitted = obs[obs["use"] == "fit"]
    for definition, group in fitted.groupby("definition", sort=True):
        sets = [tuple(n.strip() for n in str(r).split("+") if n.strip())
                for r in group["region"].fillna("")]
        kinds = list(dict.fromkeys(sets))
        conflicts = {a: [b for b in kinds if sets_overlap(a, b)] for a in kinds}
        found = _first_overlap(group["start"].to_numpy(), group["end"].to_numpy(),
                               group["id"].to_numpy(), sets, conflicts)
        if found is None:
            continue
        first, second, start, end = found
        regions = " in a region both count" if any(sets) else ""
        raise InputError(
            source,
            f"fitted rows {first} and {second} of definition '{definition}' both "
            f"cover {pd.Timestamp(start).date()}..{pd.Timestamp(end).date()}{regions}; "
            "the same attacks would be counted twice. Mark one of them use=check.",
            where=f"rows {first}, {second}",
        )


def check_counts_where_present(dataset: Dataset, source: str) -> None:
    """A fitted row that counts attacks must count some region with troops during its span:
    a region with presence 0 has no US forces to attack (its rate is 0)."""
    if not dataset.regional or dataset.presence_by_region is None or dataset.fitted.empty:
        return
    fitted = dataset.fitted
    present = (np.asarray(dataset.presence_by_region) > 0).astype(float)       # bins x regions
    exposure = np.einsum("it,ir,tr->i", dataset.weights(fitted), dataset.region_cover(fitted), present)
    bad = np.flatnonzero((exposure == 0) & (fitted["lo"].to_numpy() > 0))
    if bad.size:
        row = fitted.iloc[int(bad[0])]
        raise InputError(source, f"row {row['id']} counts at least {row['lo']} attack(s) in "
                         f"{row['region'] or 'every region'} from {row['start'].date()} to "
                         f"{row['end'].date()}, when the presence data have no troops there; "
                         "give those regions' presence, or mark the row use=check",
                         where=f"row {row['id']}")


def _first_overlap(starts: np.ndarray, ends: np.ndarray, ids: np.ndarray, sets: list[tuple],
                   conflicts: dict[tuple, list[tuple]]) -> tuple | None:
    """(earlier id, later id, first shared day, last shared day) of the first clash, or None.

    A sweep by start: a row clashes with an earlier one of an overlapping region set iff it
    starts on or before the latest end among those rows.
    """
    latest: dict[tuple, tuple] = {}     # region set -> (latest end, its row id)
    for k in np.argsort(starts, kind="stable"):
        for other in conflicts[sets[k]]:
            if other in latest and starts[k] <= latest[other][0]:
                return latest[other][1], ids[k], starts[k], min(latest[other][0], ends[k])
        if sets[k] not in latest or ends[k] > latest[sets[k]][0]:
            latest[sets[k]] = (ends[k], ids[k])
    return None


def observations_from_bins(
    axis: TimeAxis, counts: np.ndarray, definition: str, source: str,
    published: list[pd.Timestamp] | None = None, region: str = "",
) -> pd.DataFrame:
    """Exact per-bin counts (NaN = unknown, no term) as observation rows.

    `published` gives each bin's publication date (NaT or None: the bin's last day);
    `region` the regions the counts cover ('' = every region; it also enters the row ids).
    """
    # column-wise: one pass over the bins, not a dict and formatted label per row
    counts = np.asarray(counts, dtype=float)
    keep = np.flatnonzero(~np.isnan(counts))
    labels = axis.labels
    ends = axis.ends[keep]
    given = pd.to_datetime(pd.Series([published[i] for i in keep] if published is not None else
                                     [pd.NaT] * len(keep), dtype=object))
    frame = pd.DataFrame({
        "id": [f"{definition}:{region + ':' if region else ''}{labels[i]}" for i in keep],
        "start": axis.starts[keep], "end": ends,
        "count": counts[keep].astype(int), "bound": "exact", "lo": counts[keep].astype(int),
        "hi": counts[keep], "definition": definition, "region": region, "use": "fit", "source": source,
        "published": given.where(given.notna(), pd.Series(ends)).to_numpy(),
    }, columns=[*OBSERVATION_COLUMNS, "source", "published"])
    frame["published"] = pd.to_datetime(frame["published"])
    return frame


def file_digest(paths: tuple[Path, ...]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()
