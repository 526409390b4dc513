"""Fast implementations against their straightforward reference versions on random frames."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

import test_features_reference as reference

from reference_numpy import daily  # the numpy engine, as the source of daily rows


def _profile_rows(rng, n_req: int) -> pl.DataFrame:
    """Random window profile rows: some requests sparse or empty in a window, some flat."""
    rows = []
    for r in range(n_req):
        kind = r % 5
        ages = rng.choice(84, size=rng.integers(0 if kind == 4 else 1, 84), replace=False)
        for age in ages:
            if kind == 3:  # constant activity: IS/IV undefined
                x = [0.1] * 24
            else:
                x = [None if rng.random() < 0.1 else float(v)
                     for v in np.round(rng.gamma(1.0, 0.1, 24) * (rng.random(24) < 0.7), 3)]
            act = [None if v is None else int(rng.integers(0, 3)) for v in x]
            if kind == 2:
                act = [0 if v is not None else None for v in act]  # no activity: entropy null
            rows.append((f"H{r % 7}", date(2025, 3, 1) + timedelta(days=r // 7), int(age), x, act))
    return pl.DataFrame(rows, schema={"household_id": pl.String, "as_of": pl.Date, "age": pl.Int32,
                                      "hourly_excess_kwh": pl.List(pl.Float64),
                                      "hourly_active_slots": pl.List(pl.Int32)}, orient="row")


@pytest.mark.parametrize("seed", range(4))
def test_circadian_metrics_match_the_polars_version(seed):
    from reference_numpy import circadian

    rng = np.random.default_rng(seed)
    days = _profile_rows(rng, 30)
    got = circadian.window_metrics(days).sort("household_id", "as_of")
    want = reference.window_metrics(days).sort("household_id", "as_of")
    assert got.columns == want.columns
    for c in got.columns[2:]:
        g, w = got[c].to_numpy(), want[c].cast(pl.Float64).to_numpy()
        assert np.array_equal(np.isnan(g), np.isnan(w)), c
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-15, err_msg=c)
    assert got.select(KEYS := ["household_id", "as_of"]).equals(want.select(KEYS))


def _old_style_aggregations() -> list[pl.Expr]:
    """Slopes, weekend differences and the baseline-day check written inside the aggregation,
    as they were before prepare() added row-level helper columns for them."""
    from reference_numpy import deviation, window

    R = reference  # the Polars window stage lives there now

    def slope(f, w, m):
        x, v = pl.col(f"_x_{f}_{w}"), pl.col(f"_y_{f}_{w}")
        var = (x * x).mean() - x.mean() ** 2
        return pl.when(v.count() >= m).then(((x * v).mean() - x.mean() * v.mean()) / var).alias(f"{f}_slope_{w}w")

    weekend = pl.col("local_date").dt.weekday() >= 6
    enough = R.BASE.sum() >= deviation.MIN_BASELINE_DAYS
    dev = []
    for f, floor in deviation.DEVIATING.items():
        delta = R._recent(f).mean() - R._baseline(f).mean()
        dev += [pl.when(enough).then(delta).alias(f"{f}_delta"),
                pl.when(enough).then(delta / pl.max_horizontal(R._baseline(f).std(), pl.lit(floor))).alias(f"{f}_z")]
    for f in deviation.RATIOS:
        base = R._baseline(f).mean()
        dev.append(pl.when(enough & (base > 1e-3)).then(R._recent(f).mean() / base).alias(f"{f}_ratio_8w"))
    return [
        *(slope(f, w, m) for f in window.TRENDED for w, m in window.TREND_WEEKS.items()),
        *((pl.when(weekend).then(R._recent(f)).mean() - pl.when(~weekend).then(R._recent(f)).mean())
          .alias(f"{f}_weekend_diff_28d") for f in window.WEEKEND),
        *dev,
    ]


@pytest.mark.parametrize("seed", range(2))
def test_window_aggregations_match_the_in_aggregation_versions(seed):
    from benchmarks.bench_features import readings_chunk

    from reference_numpy import window

    readings = readings_chunk([f"H{i}" for i in range(8)], 0, 100, seed=seed)
    readings = readings.filter(pl.Series(np.random.default_rng(seed).random(readings.height) > 0.03))
    cal = pl.DataFrame({"local_date": readings["local_date"].unique(), "expected_slots": 48})
    days, _ = daily.compute_daily(readings, cal)
    as_of = pl.DataFrame({"as_of": [date(2025, 3, 1), date(2025, 4, 5), date(2025, 4, 10)]})
    rows = (days.join(as_of, how="cross").with_columns(age=(pl.col("as_of") - pl.col("local_date")).dt.total_days())
            .filter((pl.col("age") >= 0) & (pl.col("age") < window.HISTORY_DAYS)).with_columns(temp_c=None))
    key = ["household_id", "as_of"]
    prepared = reference.prepare(rows)
    old = _old_style_aggregations()
    got = prepared.group_by(key).agg(reference.aggregations()).sort(key)
    want = prepared.group_by(key).agg(old).sort(key)
    names = [e.meta.output_name() for e in old]
    assert len(names) == 30 + 4 + 35
    for c in names:
        g, w = got[c].to_numpy().astype(float), want[c].to_numpy().astype(float)
        assert np.array_equal(np.isnan(g), np.isnan(w)), c
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=c)
    assert got[names].null_count().sum_horizontal().item() < got.height * len(names)
