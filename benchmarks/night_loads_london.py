"""Winter and summer checks of the night-based daily features on the 100 real London homes.

Not a test. Computes the daily features of ../shared/data/real/lcl_london_100hh_2013 (UTC
readings, Europe/London) with the meterrisk on PYTHONPATH and prints, for winter (Dec-Feb) and
summer (Jun-Aug) valid days: the share with night_unreadable, the share of ordinary days
(readable night, excess >= 1 kWh) with a wake time in 4-12 h and without one, restless nights
per 28 days per household (median, p95) and the baseload distribution (docs/features.md,
"Night loads"). Run it on two checkouts to compare.

    PYTHONPATH=. .venv/bin/python benchmarks/night_loads_london.py
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from meterrisk.features import daily, dayframe, layouts

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "lcl_london_100hh_2013" / "halfhourly"
ZONE = "Europe/London"
SEASONS = {"winter Dec-Feb": [12, 1, 2], "summer Jun-Aug": [6, 7, 8]}


def london_daily(months: list[int] | None = None) -> pl.DataFrame:
    """Valid daily feature rows of the London homes (of ``months`` only, if given)."""
    raw = pl.concat([pl.read_csv(f, infer_schema_length=0) for f in sorted(REAL.glob("*.csv.gz"))])
    utc = pl.col("tstp").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f")
    r = raw.select(
        household_id="LCLid", ts_utc=utc,
        local_ts=utc.dt.replace_time_zone("UTC").dt.convert_time_zone(ZONE).dt.replace_time_zone(None),
        kwh=pl.col("energy(kWh/hh)").str.strip_chars().cast(pl.Float64, strict=False),
    ).drop_nulls().unique(["household_id", "ts_utc"]).with_columns(local_date=pl.col("local_ts").dt.date())
    if months:
        r = r.filter(pl.col("local_date").dt.month().is_in(months))
    dates = r["local_date"].unique().to_list()
    calendar = pl.DataFrame({"local_date": dates, "expected_slots": [len(layouts.slot_clocks(d, ZONE)) for d in dates]})
    days, _ = daily.compute_daily(dayframe.from_readings(r, ZONE), calendar, ZONE)
    return days.filter(pl.col("dq_flag") == "ok")


def checks(f: pl.DataFrame) -> pl.DataFrame:
    if "night_unreadable" not in f.columns:  # code from before the night loads
        f = f.with_columns(night_unreadable=pl.lit(0))
    rows = []
    for season, months in SEASONS.items():
        g = f.filter(pl.col("local_date").dt.month().is_in(months))
        ordinary = g.filter((pl.col("night_unreadable") == 0) & (pl.col("excess_kwh") >= 1))
        wake = ordinary["wake_time_h"].drop_nulls()
        restless = g.group_by("household_id").agg(
            r=(pl.col("night_activity_share") > 0.2).fill_null(False).mean() * 28)["r"]
        rows.append({
            "season": season, "valid_days": g.height, "night_unreadable": g["night_unreadable"].mean(),
            "ordinary_wake_4_12h": ((wake >= 4) & (wake <= 12)).mean(),
            "ordinary_no_wake": ordinary["wake_time_h"].is_null().mean(),
            "restless_per_28_median": restless.median(), "restless_per_28_p95": restless.quantile(0.95),
            **{f"baseload_p{int(q * 100)}": g["baseload_kwh"].quantile(q) for q in (0.5, 0.9, 0.99)},
            "baseload_max": g["baseload_kwh"].max(),
        })
    return pl.DataFrame(rows)


if __name__ == "__main__":
    with pl.Config(tbl_cols=-1, tbl_width_chars=250, float_precision=4):
        print(checks(london_daily()))
