"""The Polars implementation of activity.py replaced by the numpy timeline (2026-11-26), kept
unchanged as the reference the new one is tested against (tests/test_features_grid.py)."""

from __future__ import annotations

import polars as pl

# The thresholds are shared with the package: the reference differs in algorithm only.
from meterrisk.features.activity import (  # noqa: F401
    ACTIVE_MARGIN_KWH, ACTIVE_MARGIN_REL, BASELOAD_DAYS, BASELOAD_MIN_SLOTS, BASELOAD_QUANTILE,
    BDAY_SHIFT_H, DEPENDS_FORWARD, LOOKAHEAD_DAYS, MIN_COVERAGE, NIGHT_END_H, NIGHT_START_H,
    READ_BEFORE, REGULARITY_DAYS, REGULARITY_MIN_DAYS,
)



def with_clock(readings: pl.DataFrame) -> pl.DataFrame:
    """Slot rows with integer day keys, clock hours and the consecutive-slot flags.

    ``readings`` must be sorted by household_id, ts_utc (compute_daily sees to it); call
    :func:`household_codes` on the same frame to map ``hh`` back to household_id.
    ``prev_adjacent``/``next_adjacent`` say the neighbouring row is the same household exactly
    one half hour away, so later steps can use plain shifts: a gap or a household boundary
    breaks every run.
    """
    # Integer arithmetic on the physical microseconds gives the same values as the dt.*
    # accessors (hour + minute / 60; floor to dates) several times faster.
    minutes = pl.col("local_ts").cast(pl.Datetime("us")).to_physical() // 60_000_000
    bday_days = (minutes - BDAY_SHIFT_H * 60) // 1440
    utc = pl.col("ts_utc").cast(pl.Datetime("us")).to_physical()
    half_hour = 30 * 60_000_000
    # Codes change exactly where household_id does (rows are sorted by household).
    hh_code = pl.col("household_id").rle_id().cast(pl.Int32)
    hh, mod, t = pl.col("hh"), pl.col("_mod"), pl.col("_utc")
    hour, minute = mod // 60, mod % 60
    # Only the columns later steps use, with integer keys instead of the VARCHAR id: memory per
    # batch scales with these rows. dkey/bkey = household code * KEY_SPAN + days since 1970.
    return readings.select(
        hh=hh_code, local_date="local_date", kwh="kwh",
        _min=minutes, _mod=minutes % 1440, _bday=bday_days, _utc=utc,
    ).select(
        "hh", "local_date", "kwh",
        dkey=day_key(hh, pl.col("local_date")),
        bkey=hh.cast(pl.Int64) * KEY_SPAN + pl.col("_bday"),
        clock_h=(hour + minute / 60.0).cast(pl.Float64),
        bday_h=(pl.col("_min") - pl.col("_bday") * 1440) / 60.0,
        hour=hour.cast(pl.Int8),
        half_hour_bin=(hour * 2 + minute // 30).cast(pl.Int8),
        prev_adjacent=((hh == hh.shift(1)) & (t - t.shift(1) == half_hour)).fill_null(False),
        next_adjacent=((hh == hh.shift(-1)) & (t.shift(-1) - t == half_hour)).fill_null(False),
    )


def household_codes(readings: pl.DataFrame) -> pl.DataFrame:
    """household_id -> hh code used by :func:`with_clock` (order of first appearance).

    ``readings`` is sorted by household, so the distinct ids are the values of its runs.
    """
    ids = readings["household_id"].rle().struct.field("value")
    return pl.DataFrame({"household_id": ids}).with_row_index("hh").with_columns(pl.col("hh").cast(pl.Int32))


KEY_SPAN = 1_000_000  # days since 1970 stay below this until the year 4707


def day_key(hh: pl.Expr, day: pl.Expr) -> pl.Expr:
    """One Int64 per (household code, local date) within a batch."""
    return hh.cast(pl.Int64) * KEY_SPAN + day.cast(pl.Int32).cast(pl.Int64)


def baseload(slots: pl.DataFrame) -> pl.DataFrame:
    """Per household-day baseload: the 10th percentile of night slots over the last 7 days.

    Returns dkey, baseload_kwh (null when fewer than BASELOAD_MIN_SLOTS night readings fall
    in the window). Rows arrive in (household, time) order, so night rows are date-sorted
    within each household as the rolling window needs.
    """
    night = slots.filter(pl.col("clock_h") < NIGHT_END_H)
    window = f"{BASELOAD_DAYS}d"
    per_slot = night.select(
        "dkey",
        q=pl.col("kwh")
        .rolling_quantile_by("local_date", window, quantile=BASELOAD_QUANTILE,
                             interpolation="linear", closed="right")
        .over("hh"),
        n=pl.col("kwh").is_not_null().cast(pl.Int32)
        .rolling_sum_by("local_date", window, closed="right").over("hh"),
    )
    # Days without a single night reading have coverage < 0.8 anyway: their baseload is null.
    return sorted_by(per_slot, "dkey").group_by("dkey").agg(
        baseload_kwh=pl.when(pl.col("n").first() >= BASELOAD_MIN_SLOTS).then(pl.col("q").first())
    )


def sorted_by(df: pl.DataFrame, key: str) -> pl.DataFrame:
    """``df`` with ``key`` flagged sorted when it is (checked, not assumed), so a group-by on it
    takes contiguous slices instead of hashing: about twice as fast. Sums may then differ from
    a hash group-by in the last bits (another summation order), never more."""
    if df[key].is_sorted():
        return df.with_columns(pl.col(key).set_sorted())
    return df


def active_threshold(baseload_kwh: pl.Expr) -> pl.Expr:
    """kWh a half hour must exceed to count as active: baseload plus a noise margin."""
    return baseload_kwh + pl.max_horizontal(pl.lit(ACTIVE_MARGIN_KWH), ACTIVE_MARGIN_REL * baseload_kwh)


def with_activity(slots: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """Join the baseload and add threshold_kwh, active, excess_kwh and sustained flags."""
    df = slots.join(base, on="dkey", how="left", maintain_order="left").with_columns(
        threshold_kwh=active_threshold(pl.col("baseload_kwh"))
    ).with_columns(
        active=pl.col("kwh") > pl.col("threshold_kwh"),
        excess_kwh=(pl.col("kwh") - pl.col("baseload_kwh")).clip(lower_bound=0.0),
    )
    act = pl.col("active").fill_null(False)
    nxt, prv = pl.col("next_adjacent"), pl.col("prev_adjacent")
    # Plain shifts are safe: the adjacency flags are False across gaps and households.
    nxt1 = act.shift(-1).fill_null(False) & nxt
    nxt2 = act.shift(-2).fill_null(False) & nxt & nxt.shift(-1).fill_null(False)
    prv1 = act.shift(1).fill_null(False) & prv
    prv2 = act.shift(2).fill_null(False) & prv & prv.shift(1).fill_null(False)
    return df.with_columns(
        # "Sustained": at least 2 of 3 consecutive half hours active, anchored on this one.
        # Starts must be onsets (the half hour before is not active) and ends offsets, so load
        # that runs on from the night (an all-electric home's water heater until 05:00) is not
        # read as waking at 04:00 or going to bed at 03:00.
        sustained_start=act & (nxt1 | nxt2) & ~prv1,
        sustained_end=act & (prv1 | prv2) & ~nxt1,
    )
