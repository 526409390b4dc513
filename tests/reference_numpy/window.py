"""Household-window features: the 28 days up to ``as_of`` summarised, with 4-12 week trends.

Input is :class:`Days`: each request's daily features on a dense grid, axis 0 = request,
axis 1 = ``age`` (days before as_of, 0 = as_of itself, 0..83); the as_of day's
next-morning features (``daily.NEXT_MORNING``) are left out, so a window reads no readings
after its as_of. Every family below is a function of that grid returning named numpy arrays
(one value per request, NaN = undefined, which the window stage turns into null); its
docstring documents the family and :func:`meterrisk.features.catalog.catalog` expands it to
one entry per column.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import polars as pl

from meterrisk.features.daily import NEXT_MORNING

RECENT_DAYS = 28
BASELINE_FIRST, BASELINE_LAST = 28, 83  # weeks 5-12 before as_of, in days of age
MIN_VALID_DAYS = 21
HISTORY_DAYS = 84

# Which features each family covers is the package's: the reference checks the implementation.
from meterrisk.features.windows.spans import SUMMARISED, TREND_WEEKS, TRENDED, WEEKEND  # noqa: E402,F401

_AGE = np.arange(HISTORY_DAYS)
_F = {f: i for i, f in enumerate(SUMMARISED)}
_NEXT_MORNING = [_F[f] for f in NEXT_MORNING]


class Days:
    """Daily features of each request on a dense (request, age) grid.

    ``values[r, a, i]``: daily feature ``SUMMARISED[i]`` of request r on the day ``a`` days
    before its as_of, NaN unless that day is valid (dq_flag 'ok') and the value not null;
    ``temp_c`` likewise (valid days only). ``valid``: the day is valid; ``has_row``: the day has
    a daily row at all; ``weekend``: the day is a Saturday or Sunday.
    """

    def __init__(self, values: np.ndarray, temp_c: np.ndarray, valid: np.ndarray,
                 has_row: np.ndarray, weekend: np.ndarray):
        self.values, self.temp_c, self.valid = values, temp_c, valid
        self.has_row, self.weekend = has_row, weekend
        self.recent = valid & (_AGE < RECENT_DAYS)
        self.base = valid & (_AGE >= BASELINE_FIRST)

    @classmethod
    def from_rows(cls, n_req: int, ri: np.ndarray, age: np.ndarray, features: np.ndarray,
                  temp_c: np.ndarray, valid: np.ndarray, as_of_day: np.ndarray) -> Days:
        """Scatter long rows (request index ``ri``, ``age``, (rows, features) matrix in
        SUMMARISED order, temperature, validity) onto the grid; ``as_of_day``: each request's
        as_of in days since 1970-01-01."""
        shape = (n_req, HISTORY_DAYS)
        keep = (age >= 0) & (age < HISTORY_DAYS)
        cell = ri[keep] * HISTORY_DAYS + age[keep]  # flat (request, age) index
        valid = valid[keep]
        has_row = np.zeros(n_req * HISTORY_DAYS, dtype=bool)
        has_row[cell] = True
        ok = np.zeros(n_req * HISTORY_DAYS, dtype=bool)
        ok[cell[valid]] = True
        values = np.full((n_req * HISTORY_DAYS, len(SUMMARISED)), np.nan)
        values[cell[valid]] = features[keep][valid]
        values = values.reshape(*shape, len(SUMMARISED))
        values[:, 0, _NEXT_MORNING] = np.nan  # see daily.NEXT_MORNING
        temp = np.full(n_req * HISTORY_DAYS, np.nan)
        temp[cell[valid]] = temp_c[keep][valid]
        has_row, ok, temp = has_row.reshape(shape), ok.reshape(shape), temp.reshape(shape)
        weekend = (as_of_day[:, None] - _AGE[None, :] + 3) % 7 >= 5  # 1970-01-01 was a Thursday
        return cls(values, temp, ok, has_row, weekend)

    @classmethod
    def empty(cls) -> Days:
        return cls.from_rows(0, *(np.zeros(0, dtype=np.int64),) * 2, np.zeros((0, len(SUMMARISED))),
                             np.zeros(0), np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64))

    def feature(self, name: str) -> np.ndarray:
        return self.values[:, :, _F[name]]

    @cached_property
    def seen(self) -> np.ndarray:
        """(requests, ages, features): the value is known (valid day, not null)."""
        return ~np.isnan(self.values)

    @cached_property
    def filled(self) -> np.ndarray:
        """values with 0 where unknown, so sums over any span need no mask."""
        return np.where(self.seen, self.values, 0.0)

    @cached_property
    def recent_mean(self) -> np.ndarray:
        """(requests, features): mean over the valid days of the last 28."""
        return _block_mean(self, 0, RECENT_DAYS)

    @cached_property
    def baseline_mean(self) -> np.ndarray:
        """(requests, features): mean over the valid days of weeks 5-12."""
        return _block_mean(self, BASELINE_FIRST, HISTORY_DAYS)

    @cached_property
    def recent_sd(self) -> np.ndarray:
        return _block_sd(self, 0, RECENT_DAYS, self.recent_mean)

    @cached_property
    def baseline_sd(self) -> np.ndarray:
        return _block_sd(self, BASELINE_FIRST, HISTORY_DAYS, self.baseline_mean)


def _divide(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """total / n, NaN where n = 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.nan)


def _block_mean(d: Days, lo: int, hi: int) -> np.ndarray:
    """Mean of each feature over ages lo..hi-1 (values are NaN off valid days already)."""
    return _divide(d.filled[:, lo:hi].sum(axis=1), np.count_nonzero(d.seen[:, lo:hi], axis=1))


def _block_sd(d: Days, lo: int, hi: int, mean: np.ndarray) -> np.ndarray:
    """Sample SD (ddof 1, as Polars' std) over ages lo..hi-1; NaN with fewer than 2 values."""
    seen = d.seen[:, lo:hi]
    dev = np.where(seen, d.values[:, lo:hi] - mean[:, None, :], 0.0)
    n = np.count_nonzero(seen, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 1, np.sqrt((dev * dev).sum(axis=1) / np.maximum(n - 1, 1)), np.nan)


def mean_where(values: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Mean over the day axis of (requests, ages[, features]) ``values`` where ``days`` and the
    value is not NaN; NaN when there is none."""
    days = days[..., None] if values.ndim == 3 else days
    seen = days & ~np.isnan(values)
    return _divide(np.where(seen, values, 0.0).sum(axis=1), np.count_nonzero(seen, axis=1))


def _count(days: np.ndarray) -> np.ndarray:
    return np.count_nonzero(days, axis=1).astype(np.int32)


def means_28d(d: Days) -> dict[str, np.ndarray]:
    """{f}_mean_28d: mean of daily {f} over valid days in the 28 days up to as_of.

    Unit: as the daily feature
    """
    return {f"{f}_mean_28d": d.recent_mean[:, i] for f, i in _F.items()}


def sds_28d(d: Days) -> dict[str, np.ndarray]:
    """{f}_sd_28d: day-to-day standard deviation of daily {f} over valid days in the last 28 days
    (small in healthy older people; rising variability is a warning sign).

    Unit: as the daily feature
    """
    return {f"{f}_sd_28d": d.recent_sd[:, i] for f, i in _F.items()}


def trends(d: Days) -> dict[str, np.ndarray]:
    """{f}_slope_{w}w: least-squares slope of daily {f} per week over the last 4, 8 or 12 weeks
    (valid days only; positive = rising towards as_of).

    Unit: daily feature unit per week
    Edge cases: null with fewer than 14 / 28 / 42 valid days in the 4 / 8 / 12 weeks.
    """
    cols = [_F[f] for f in TRENDED]
    y, seen = d.filled[:, :, cols], d.seen[:, :, cols]
    x = (-_AGE / 7.0)[None, :, None]
    # Sums per 4-week block of age, accumulated: 4 weeks = block 1, 8 = 1-2, 12 = 1-3.
    edges = [0, *(7 * w for w in TREND_WEEKS)]
    parts = [(seen[:, lo:hi], y[:, lo:hi], x[:, lo:hi]) for lo, hi in zip(edges, edges[1:])]
    sums = [np.stack([np.count_nonzero(s, axis=1), (s * xb).sum(axis=1), (s * xb * xb).sum(axis=1),
                      yb.sum(axis=1), (yb * xb).sum(axis=1)]) for s, yb, xb in parts]
    out = {}
    acc = 0
    for (w, min_days), part in zip(TREND_WEEKS.items(), sums):
        acc = acc + part
        n, sx, sxx, sy, sxy = acc
        with np.errstate(invalid="ignore", divide="ignore"):
            mx, mxx, my, mxy = sx / n, sxx / n, sy / n, sxy / n
            slope = np.where(n >= min_days, (mxy - mx * my) / (mxx - mx**2), np.nan)
        out.update({f"{f}_slope_{w}w": slope[:, i] for i, f in enumerate(TRENDED)})
    return {f"{f}_slope_{w}w": out[f"{f}_slope_{w}w"] for f in TRENDED for w in TREND_WEEKS}


def weekend_differences(d: Days) -> dict[str, np.ndarray]:
    """{f}_weekend_diff_28d: mean daily {f} on Saturdays and Sundays minus weekdays (last 28 days).

    Unit: as the daily feature
    """
    cols = [_F[f] for f in WEEKEND]
    y, seen = d.filled[:, :RECENT_DAYS, cols], d.seen[:, :RECENT_DAYS, cols]
    weekend = d.weekend[:, :RECENT_DAYS, None]
    diff = (_divide((y * weekend).sum(axis=1), np.count_nonzero(seen & weekend, axis=1))
            - _divide((y * ~weekend).sum(axis=1), np.count_nonzero(seen & ~weekend, axis=1)))
    return {f"{f}_weekend_diff_28d": diff[:, i] for i, f in enumerate(WEEKEND)}


def valid_days_28d(d: Days) -> np.ndarray:
    """Days in the 28 up to as_of with coverage >= 0.8 and a baseload (dq_flag 'ok').

    Unit: days
    """
    return _count(d.recent)


def days_with_readings_28d(d: Days) -> np.ndarray:
    """Days in the 28 up to as_of with at least one reading.

    Unit: days
    """
    return _count(d.has_row & (_AGE < RECENT_DAYS))


def valid_days_baseline(d: Days) -> np.ndarray:
    """Valid days in weeks 5-12 before as_of (the household's own baseline for deviations).

    Unit: days
    """
    return _count(d.base)


def days_since_last_reading(d: Days) -> np.ndarray:
    """Days from the last day with readings to as_of (0 = readings on as_of), within 12 weeks.

    Unit: days
    """
    return np.where(d.has_row.any(axis=1), d.has_row.argmax(axis=1), np.nan)


def floor_days_28d(d: Days) -> np.ndarray:
    """Valid days in the last 28 with active_share below 0.05: whole days at the floor
    (away, in hospital, or not moving; electricity alone cannot tell which).

    Unit: days
    """
    return _count(d.recent & (d.feature("active_share") < 0.05))


def no_meal_days_28d(d: Days) -> np.ndarray:
    """Valid days in the last 28 with no active cooking window (meal_windows_active = 0).

    Unit: days
    """
    return _count(d.recent & (d.feature("meal_windows_active") == 0))


def stuck_on_days_28d(d: Days) -> np.ndarray:
    """Valid days in the last 28 with load held 0.25 kWh above baseload for 6 h or more
    (stuck_on_h >= 6: something left on, or long continuous heating).

    Unit: days
    """
    return _count(d.recent & (d.feature("stuck_on_h") >= 6))


def restless_nights_28d(d: Days) -> np.ndarray:
    """Valid days in the last 28 with night_activity_share above 0.2 (day/night reversal sign).

    Unit: days
    """
    return _count(d.recent & (d.feature("night_activity_share") > 0.2))


def late_wake_days_28d(d: Days) -> np.ndarray:
    """Valid days in the last 28 with no sustained activity before 10:00 (late or no wake-up).

    Unit: days
    """
    wake, unread = d.feature("wake_time_h"), d.feature("night_unreadable") == 1
    return _count(d.recent & ((np.isnan(wake) & ~unread) | (wake >= 10)))


COUNTS = [valid_days_28d, days_with_readings_28d, valid_days_baseline, days_since_last_reading,
          floor_days_28d, no_meal_days_28d, stuck_on_days_28d, restless_nights_28d, late_wake_days_28d]

HDD_BASE_C, CDD_BASE_C = 15.5, 22.0


def _regress(y: np.ndarray, x: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Slope of y on x over ``days`` where x is known (the x moments use every such day, the
    y moments the days where y is known too); needs 14 y values and var(x) >= 1."""
    seen = days & ~np.isnan(x)
    both = seen & ~np.isnan(y)
    n = both.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = mean_where(x, seen)
        var = mean_where(x * x, seen) - mx**2
        slope = (mean_where(x * y, both) - mx * mean_where(y, both)) / var
    return np.where((n >= 14) & (var >= 1.0), slope, np.nan)


def _hdd(d: Days) -> np.ndarray:
    return np.clip(HDD_BASE_C - d.temp_c, 0, None)


def kwh_per_hdd_28d(d: Days) -> np.ndarray:
    """Heating sensitivity: slope of daily_kwh on heating degree-days (base 15.5 C) over the last
    28 valid days.

    Unit: kWh per degree-day
    Edge cases: null without a `temperature` table, with fewer than 14 days, or when the
    degree-days barely vary (variance < 1).
    """
    return _regress(d.feature("daily_kwh"), _hdd(d), d.recent)


def kwh_per_cdd_28d(d: Days) -> np.ndarray:
    """Cooling sensitivity: slope of daily_kwh on cooling degree-days (base 22 C), last 28 days.

    Unit: kWh per degree-day
    Edge cases: as kwh_per_hdd_28d.
    """
    return _regress(d.feature("daily_kwh"), np.clip(d.temp_c - CDD_BASE_C, 0, None), d.recent)


def mean_temp_c_28d(d: Days) -> np.ndarray:
    """Mean outdoor temperature over the valid days of the last 28 (context for heating use).

    Unit: degrees C
    """
    return mean_where(d.temp_c, d.recent)


def heating_degree_days_28d(d: Days) -> np.ndarray:
    """Mean heating degree-days (base 15.5 C) over the valid days of the last 28.

    Unit: degree-days per day
    """
    return mean_where(_hdd(d), d.recent)


TEMPERATURE = [kwh_per_hdd_28d, kwh_per_cdd_28d, mean_temp_c_28d, heating_degree_days_28d]
FAMILIES = [means_28d, sds_28d, trends, weekend_differences]


def features(d: Days) -> dict[str, np.ndarray]:
    """Every window family and deviation column for the requests of ``d`` (NaN = undefined)."""
    from reference_numpy import deviation, routine

    out = {}
    for fam in (*FAMILIES, *deviation.FAMILIES):
        out.update(fam(d))
    for fn in (*COUNTS, *TEMPERATURE, *routine.FEATURES):
        out[fn.__name__] = fn(d)
    return out


def days_grid(requests: pl.DataFrame, days: pl.DataFrame) -> Days:
    """:class:`Days` for ``requests`` (one grid row per request row) from the long daily frame
    (request key, age, dq_flag, the SUMMARISED features, optional temp_c)."""
    rows = with_request_index(requests, days)
    features = rows.select(pl.col(list(SUMMARISED)).cast(pl.Float64)).to_numpy()
    temp = (rows["temp_c"].cast(pl.Float64).to_numpy() if "temp_c" in rows.columns
            else np.full(rows.height, np.nan))
    return Days.from_rows(
        requests.height, rows["_ri"].to_numpy().astype(np.int64), rows["age"].to_numpy().astype(np.int64),
        features, temp, (rows["dq_flag"] == "ok").fill_null(False).to_numpy(),
        requests["as_of"].cast(pl.Int32).to_numpy().astype(np.int64))


def with_request_index(requests: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """``rows`` with ``_ri``, the row number in ``requests`` of their (household_id, as_of).

    Rows from store_io.load_window_inputs already carry it (numbered on the same requests),
    which spares a join on string keys; other frames are joined on household_id, as_of.
    """
    if "_ri" in rows.columns:
        return rows
    index = requests.select("household_id", "as_of").with_row_index("_ri")
    return rows.join(index, on=["household_id", "as_of"], how="inner")
