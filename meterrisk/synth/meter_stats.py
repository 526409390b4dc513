"""How zeros, flat lines and gaps come in a year of readings: London LCL or a synth cohort.

The table "Measured on London LCL 2013" in docs/synth.md comes from this, and so do the
generator's own rates beside it:

    python -m meterrisk.synth.meter_stats                # the 100 London homes (or a folder
    python -m meterrisk.synth.meter_stats COHORT_DIR     # of LCL MAC*.csv.gz files)

Runs are counted inside each home's span from its first to its last reading; "stops early"
is a last reading more than a day before the end of the year (or of consent, for synth).
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from meterrisk.synth.report import LONDON, read_london

YEAR_SLOTS = 365 * 48
#: (label, lowest, highest) run length in half hours.
ZERO_BANDS = (("1 slot", 1, 1), ("2-5 slots", 2, 5), ("3-23.5 h", 6, 47), ("1-7 days", 48, 335),
              (">= 7 days", 336, 10**9))
FLAT_BANDS = (("2-4 h", 4, 8), ("4-24 h", 9, 47), (">= 1 day", 48, 10**9))
GAP_BANDS = (("1 slot", 1, 1), ("1-23.5 h", 2, 47), ("1-3 days", 48, 143),
             (">= 3 days", 144, 10**9))


def _london(folder: Path) -> tuple[pl.DataFrame, datetime, dict]:
    # Rounded to the meter's 1 Wh: the text holds float32 artefacts such as 1.0779999.
    df = read_london(folder).rename({"household_id": "id"}).with_columns(pl.col("kwh").round(3))
    return df, datetime(2013, 1, 1), {}


def _synth(cohort: Path) -> tuple[pl.DataFrame, datetime, dict]:
    manifest = json.loads((cohort / "manifest.json").read_text())
    manifest_start = date.fromisoformat(manifest["arguments"]["start"])
    df = pl.read_parquet(cohort / "readings").rename({"household_id": "id"}).with_columns(
        pl.col("ts").dt.replace_time_zone(None))
    reg = pl.read_csv(cohort / "households.csv", try_parse_dates=True)
    t0 = datetime.combine(manifest_start, datetime.min.time())
    end = {h: min(YEAR_SLOTS, (w - manifest_start).days * 48)
           for h, w in reg.select("household_id", "consent_withdrawn_on").iter_rows() if w}
    return df, t0, end


def _runs(mask: np.ndarray) -> np.ndarray:
    m = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(m == -1) - np.flatnonzero(m == 1)


def measure(df: pl.DataFrame, t0: datetime, window_end: dict) -> dict:
    """Rates over one year of ``id, ts (naive), kwh`` readings starting at ``t0``."""
    df = df.sort("id", "ts").with_columns(
        slot=((pl.col("ts") - t0).dt.total_minutes() // 30).cast(pl.Int64))
    zero_runs, flat_runs, gaps, homes = [], [], [], []
    for (hid,), g in df.group_by("id", maintain_order=True):
        v = np.full(YEAR_SLOTS, np.nan)
        idx = g["slot"].to_numpy()
        ok = (idx >= 0) & (idx < YEAR_SLOTS)
        v[idx[ok]] = g["kwh"].to_numpy()[ok]
        have = ~np.isnan(v)
        first, last = np.flatnonzero(have)[[0, -1]]
        vv, hh = v[first:last + 1], have[first:last + 1]
        zero_runs.append(_runs(hh & (vv == 0)))
        same = np.zeros(len(vv), dtype=bool)
        same[1:] = hh[1:] & hh[:-1] & (vv[1:] == vv[:-1]) & (vv[1:] != 0)
        flat_runs.append(_runs(same) + 1)
        gaps.append(_runs(~hh))
        homes.append((int(hh.sum()), int((hh & (vv == 0)).sum()),
                      window_end.get(hid, YEAR_SLOTS) - 1 - last))
    z, f, g = (np.concatenate(x) for x in (zero_runs, flat_runs, gaps))
    n, zeros, tail = (np.array(x) for x in zip(*homes))
    share = zeros / n
    per_1000 = 1000 / (n.sum() / 48)

    def bands(runs, spec):
        return {label: round(float(((runs >= lo) & (runs <= hi)).sum() * per_1000), 3)
                for label, lo, hi in spec}

    return {
        "homes": len(n), "readings": int(n.sum()), "household_days": int(round(n.sum() / 48)),
        "zero_share": round(float(zeros.sum() / n.sum()), 4),
        "zero_share_outside_day_runs": round(float(z[z < 48].sum() / n.sum()), 4),
        "homes_any_zero": round(float((share > 0).mean()), 3),
        "homes_zero_over_1pct": round(float((share > 0.01).mean()), 3),
        "homes_zero_over_10pct": round(float((share > 0.1).mean()), 3),
        "homes_zero_over_50pct": round(float((share > 0.5).mean()), 3),
        "max_home_zero_share": round(float(share.max()), 3),
        "zero_runs_per_1000_days": bands(z, ZERO_BANDS),
        "flat_runs_per_1000_days": bands(f, FLAT_BANDS),
        "longest_flat_run_slots": int(f.max()) if len(f) else 0,
        "gaps_per_1000_days": bands(g, GAP_BANDS),
        "homes_stopping_early": round(float((tail > 48).mean()), 3),
    }


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else LONDON
    df, t0, end = _synth(folder) if (folder / "manifest.json").exists() else _london(folder)
    for k, v in measure(df, t0, end).items():
        print(f"{k:30s} {v}")


if __name__ == "__main__":
    main(sys.argv[1:])
