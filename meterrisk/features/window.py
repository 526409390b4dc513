"""Household-window features: the 28 days up to ``as_of`` summarised, with 4-12 week trends.

Input is the long frame of daily features joined to the requests, with ``age`` = days
before as_of (0 = as_of itself, kept when 0 <= age < 84). Every family below is a function
returning named aggregation expressions; its docstring documents the family and
:func:`meterrisk.features.catalog.catalog` expands it to one entry per column.
"""

from __future__ import annotations

import polars as pl

RECENT_DAYS = 28
BASELINE_FIRST, BASELINE_LAST = 28, 83  # weeks 5-12 before as_of, in days of age
MIN_VALID_DAYS = 21
HISTORY_DAYS = 84

#: Daily features summarised by mean and SD over the last 28 days (name, unit).
SUMMARISED = {
    "daily_kwh": "kWh", "baseload_kwh": "kWh per half hour", "excess_kwh": "kWh",
    "peak_kwh": "kWh per half hour", "peak_time_h": "hours (local clock)",
    "active_share": "fraction", "night_activity_share": "fraction",
    "wake_time_h": "hours (local clock)", "bed_time_h": "hours (local clock, may exceed 24)",
    "inactive_night_h": "hours", "longest_inactive_run_h": "hours", "breakfast_kwh": "kWh",
    "lunch_kwh": "kWh", "dinner_kwh": "kWh", "meal_kwh": "kWh", "meal_windows_active": "count",
    "daytime_floor_h": "hours", "longest_daytime_floor_h": "hours", "stuck_on_h": "hours",
    "regularity_corr": "correlation",
}
#: Daily features with 4/8/12-week trends.
TRENDED = ["wake_time_h", "bed_time_h", "active_share", "daily_kwh", "excess_kwh", "meal_kwh",
           "regularity_corr", "daytime_floor_h", "night_activity_share", "longest_inactive_run_h"]
TREND_WEEKS = {4: 14, 8: 28, 12: 42}  # weeks -> minimum valid days for a slope
#: Weekend (Sat, Sun) minus weekday mean over the last 28 days.
WEEKEND = ["daily_kwh", "wake_time_h", "active_share", "daytime_floor_h"]

VALID = pl.col("dq_flag") == "ok"
RECENT = VALID & (pl.col("age") < RECENT_DAYS)


def _recent(name: str) -> pl.Expr:
    """Daily ``name`` on valid days of the last 28, null elsewhere (column added by prepare)."""
    return pl.col(f"_r_{name}")


def _baseline(name: str) -> pl.Expr:
    """Daily ``name`` on valid days of weeks 5-12, null elsewhere (column added by prepare)."""
    return pl.col(f"_b_{name}")


def means_28d() -> list[pl.Expr]:
    """{f}_mean_28d: mean of daily {f} over valid days in the 28 days up to as_of.

    Unit: as the daily feature
    """
    return [_recent(f).mean().alias(f"{f}_mean_28d") for f in SUMMARISED]


def sds_28d() -> list[pl.Expr]:
    """{f}_sd_28d: day-to-day standard deviation of daily {f} over valid days in the last 28 days
    (small in healthy older people; rising variability is a warning sign).

    Unit: as the daily feature
    """
    return [_recent(f).std().alias(f"{f}_sd_28d") for f in SUMMARISED]


def prepare(days: pl.DataFrame) -> pl.DataFrame:
    """Add the row-level helper columns the aggregations use: each daily feature masked to
    the recent and baseline windows, and masked x and y per trended feature and span. The
    group-by then runs plain means and sums (Polars' fast path) instead of per-group filters."""
    base = VALID & (pl.col("age") >= BASELINE_FIRST)
    cols = [base.alias("_base")]
    for f in SUMMARISED:
        cols += [pl.when(RECENT).then(pl.col(f)).alias(f"_r_{f}"),
                 pl.when(base).then(pl.col(f)).alias(f"_b_{f}")]
    # Row-level products and weekend/weekday splits too: arithmetic or conditions inside an
    # aggregation leave the fast path, and the slopes alone would dominate the group-by.
    for f in TRENDED:
        for w in TREND_WEEKS:
            y = pl.when(VALID & (pl.col("age") < 7 * w)).then(pl.col(f))
            x = pl.when(y.is_not_null()).then(-pl.col("age") / 7.0)
            cols += [y.alias(f"_y_{f}_{w}"), x.alias(f"_x_{f}_{w}"),
                     (x * x).alias(f"_xx_{f}_{w}"), (x * y).alias(f"_xy_{f}_{w}")]
    weekend = pl.col("local_date").dt.weekday() >= 6
    for f in WEEKEND:
        recent = pl.when(RECENT).then(pl.col(f))
        cols += [pl.when(weekend).then(recent).alias(f"_we_{f}"),
                 pl.when(~weekend).then(recent).alias(f"_wd_{f}")]
    return days.with_columns(cols)


def _slope(y: str, weeks: int, min_days: int) -> pl.Expr:
    x, v = pl.col(f"_x_{y}_{weeks}"), pl.col(f"_y_{y}_{weeks}")
    xx, xv = pl.col(f"_xx_{y}_{weeks}"), pl.col(f"_xy_{y}_{weeks}")  # x * x, x * v by row
    var = xx.mean() - x.mean() ** 2
    slope = (xv.mean() - x.mean() * v.mean()) / var
    return pl.when(v.count() >= min_days).then(slope)


def trends() -> list[pl.Expr]:
    """{f}_slope_{w}w: least-squares slope of daily {f} per week over the last 4, 8 or 12 weeks
    (valid days only; positive = rising towards as_of).

    Unit: daily feature unit per week
    Edge cases: null with fewer than 14 / 28 / 42 valid days in the 4 / 8 / 12 weeks.
    """
    return [_slope(f, w, m).alias(f"{f}_slope_{w}w") for f in TRENDED for w, m in TREND_WEEKS.items()]


def weekend_differences() -> list[pl.Expr]:
    """{f}_weekend_diff_28d: mean daily {f} on Saturdays and Sundays minus weekdays (last 28 days).

    Unit: as the daily feature
    """
    # _we_/_wd_: _recent(f) on weekend / weekday rows (local_date's weekday), added by prepare.
    return [(pl.col(f"_we_{f}").mean() - pl.col(f"_wd_{f}").mean()).alias(f"{f}_weekend_diff_28d")
            for f in WEEKEND]


def valid_days_28d() -> pl.Expr:
    """Days in the 28 up to as_of with coverage >= 0.8 and a baseload (dq_flag 'ok').

    Unit: days
    """
    return RECENT.sum().cast(pl.Int32).alias("valid_days_28d")


def days_with_readings_28d() -> pl.Expr:
    """Days in the 28 up to as_of with at least one reading.

    Unit: days
    """
    return (pl.col("age") < RECENT_DAYS).sum().cast(pl.Int32).alias("days_with_readings_28d")


def valid_days_baseline() -> pl.Expr:
    """Valid days in weeks 5-12 before as_of (the household's own baseline for deviations).

    Unit: days
    """
    return (VALID & (pl.col("age") >= BASELINE_FIRST)).sum().cast(pl.Int32).alias("valid_days_baseline")


def days_since_last_reading() -> pl.Expr:
    """Days from the last day with readings to as_of (0 = readings on as_of), within 12 weeks.

    Unit: days
    """
    return pl.col("age").min().cast(pl.Int32).alias("days_since_last_reading")


def floor_days_28d() -> pl.Expr:
    """Valid days in the last 28 with active_share below 0.05: whole days at the floor
    (away, in hospital, or not moving; electricity alone cannot tell which).

    Unit: days
    """
    return (RECENT & (pl.col("active_share") < 0.05)).sum().cast(pl.Int32).alias("floor_days_28d")


def no_meal_days_28d() -> pl.Expr:
    """Valid days in the last 28 with no active cooking window (meal_windows_active = 0).

    Unit: days
    """
    return (RECENT & (pl.col("meal_windows_active") == 0)).sum().cast(pl.Int32).alias("no_meal_days_28d")


def stuck_on_days_28d() -> pl.Expr:
    """Valid days in the last 28 with load held 0.25 kWh above baseload for 6 h or more
    (stuck_on_h >= 6: something left on, or long continuous heating).

    Unit: days
    """
    return (RECENT & (pl.col("stuck_on_h") >= 6)).sum().cast(pl.Int32).alias("stuck_on_days_28d")


def restless_nights_28d() -> pl.Expr:
    """Valid days in the last 28 with night_activity_share above 0.2 (day/night reversal sign).

    Unit: days
    """
    return (RECENT & (pl.col("night_activity_share") > 0.2)).sum().cast(pl.Int32).alias("restless_nights_28d")


def late_wake_days_28d() -> pl.Expr:
    """Valid days in the last 28 with no sustained activity before 10:00 (late or no wake-up).

    Unit: days
    """
    late = pl.col("wake_time_h").is_null() | (pl.col("wake_time_h") >= 10)
    return (RECENT & late).sum().cast(pl.Int32).alias("late_wake_days_28d")


COUNTS = [valid_days_28d, days_with_readings_28d, valid_days_baseline, days_since_last_reading,
          floor_days_28d, no_meal_days_28d, stuck_on_days_28d, restless_nights_28d, late_wake_days_28d]

HDD_BASE_C, CDD_BASE_C = 15.5, 22.0


def _regress(y: pl.Expr, x: pl.Expr, mask: pl.Expr) -> pl.Expr:
    xx, yy = x.filter(mask), y.filter(mask)
    var = (xx * xx).mean() - xx.mean() ** 2
    return pl.when((yy.count() >= 14) & (var >= 1.0)).then(((xx * yy).mean() - xx.mean() * yy.mean()) / var)


def kwh_per_hdd_28d() -> pl.Expr:
    """Heating sensitivity: slope of daily_kwh on heating degree-days (base 15.5 C) over the last
    28 valid days.

    Unit: kWh per degree-day
    Edge cases: null without a `temperature` table, with fewer than 14 days, or when the
    degree-days barely vary (variance < 1).
    """
    hdd = (HDD_BASE_C - pl.col("temp_c")).clip(lower_bound=0)
    return _regress(pl.col("daily_kwh"), hdd, RECENT & pl.col("temp_c").is_not_null()).alias("kwh_per_hdd_28d")


def kwh_per_cdd_28d() -> pl.Expr:
    """Cooling sensitivity: slope of daily_kwh on cooling degree-days (base 22 C), last 28 days.

    Unit: kWh per degree-day
    Edge cases: as kwh_per_hdd_28d.
    """
    cdd = (pl.col("temp_c") - CDD_BASE_C).clip(lower_bound=0)
    return _regress(pl.col("daily_kwh"), cdd, RECENT & pl.col("temp_c").is_not_null()).alias("kwh_per_cdd_28d")


def mean_temp_c_28d() -> pl.Expr:
    """Mean outdoor temperature over the valid days of the last 28 (context for heating use).

    Unit: degrees C
    """
    return pl.col("temp_c").filter(RECENT).mean().alias("mean_temp_c_28d")


def heating_degree_days_28d() -> pl.Expr:
    """Mean heating degree-days (base 15.5 C) over the valid days of the last 28.

    Unit: degree-days per day
    """
    return (HDD_BASE_C - pl.col("temp_c")).clip(lower_bound=0).filter(RECENT).mean().alias("heating_degree_days_28d")


TEMPERATURE = [kwh_per_hdd_28d, kwh_per_cdd_28d, mean_temp_c_28d, heating_degree_days_28d]


def aggregations() -> list[pl.Expr]:
    """All window aggregations over the long daily frame, grouped by household_id, as_of."""
    from meterrisk.features import deviation

    return [
        *means_28d(), *sds_28d(), *trends(), *weekend_differences(),
        *(f() for f in COUNTS), *(f() for f in TEMPERATURE), *deviation.deviations(),
    ]
