"""New-concern list: the replay rule, the truth metrics, the own-change score and its reasons.

Known answers on tiny hand-made tables: the metric code is checked independently of cohorts.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest

from meterrisk.model import concern, concern_lists
from meterrisk.model.concern_reasons import concern_reasons, earlier_period

D = [date(2025, 1, 1) + timedelta(days=14 * i) for i in range(3)]


def _scores(risk, conc):
    """Five residents a-e on three dates; risk and concern scores per date, row-major."""
    ids = list("abcde")
    return pl.DataFrame({"household_id": ids * 3, "as_of": [d for d in D for _ in ids],
                         "risk_score": [x for r in risk for x in r], "concern_score": [x for r in conc for x in r]})


def test_pick_skips_high_earlier_high_and_unranked():
    s = pl.DataFrame({"household_id": [f"h{i}" for i in range(10)],
                      "high": [True, True] + [False] * 8,
                      "concern_score": [9.0, 8.0, 7.0, 6.0, 5.0, None, float("nan"), 4.0, 3.0, 2.0]})
    # capacity 0.2 of 10 scored -> 2; h0/h1 high, h2 high earlier, h5/h6 not ranked
    assert s.filter(concern_lists.pick(s, 0.2, {"h2"}))["household_id"].to_list() == ["h3", "h4"]
    assert s.filter(concern_lists.pick(s, 0.2))["household_id"].to_list() == ["h2", "h3"]
    assert concern_lists.pick(s.head(0), 0.2).len() == 0


def test_replay_keeps_a_stable_list_and_excludes_earlier_high():
    # capacity 0.2 of 5 -> 1 high and 1 new concern per date
    s = _scores(risk=[[.9, .1, .2, .3, .4], [.1, .9, .2, .3, .4], [.1, .2, .9, .3, .4]],
                conc=[[5, 4, 3, 2, 1], [5, 4, 3, 2, 1], [5, 4, 3, 2, 1]])
    got = concern_lists.replay(s, high_capacity=0.2, capacity=0.2)
    nc = {d: got.filter((pl.col("as_of") == d) & pl.col("new_concern"))["household_id"].to_list() for d in D}
    # d0: a high -> b; d1: b high, a high earlier -> c; d2: c high, a and b earlier -> d
    assert nc == {D[0]: ["b"], D[1]: ["c"], D[2]: ["d"]}
    assert got.filter("high")["household_id"].to_list() == ["a", "b", "c"]


def _onsets():
    return pl.DataFrame({
        "household_id": list("abcde"),
        "kind": ["declining", "declining", "stable", "frail_throughout", "declining"],
        "frail_from_date": [D[2] + timedelta(days=28), D[0] + timedelta(days=7), None, date(2024, 4, 1),
                            D[0] + timedelta(days=400)],
    })


def test_judge_lead_precision_and_exclusions_known_answer():
    lists = pl.DataFrame({
        "household_id": list("abcde") * 3, "as_of": [d for d in D for _ in range(5)],
        "new_concern": [True, False, False, True, False,     # d0: a (frail d2+28), d (frail throughout)
                        True, True, False, False, False,     # d1: a again, b (frail since d0+7: already frail)
                        False, False, True, False, True],    # d2: c (never frail), e (frail after the horizon)
    })
    truth_end = D[2] + timedelta(days=182)  # every list date has its 26 weeks of follow-up
    got = concern_lists.judge(lists, _onsets(), truth_end=truth_end)
    # declining: a (listed d0, frail d2+28 = d0+56 -> lead 8 weeks), b (listed d1 = d0+14, frail
    # d0+7 -> -1 week), e (listed d2 = d0+28, frail d0+400 -> +53.14 weeks)
    assert got["declining"] == 3 and got["flagged_ever"] == 3 and got["flagged_before_onset"] == 2
    assert got["lead_weeks_median"] == pytest.approx(8.0)
    assert got["share_flagged_before_onset"] == pytest.approx(2 / 3)
    # entries: a@d0 hit, d@d0 already frail, a@d1 hit, b@d1 already frail, c@d2 miss, e@d2 miss
    assert got["entries_already_frail"] == 2
    assert (got["precision_hits"], got["precision_entries"]) == (2, 4)
    assert got["precision_within_horizon"] == 0.5
    # churn: d1 list {a, b}: b new (1/2); d2 {c, e}: both new (2/2) -> mean 0.75
    assert got["churn_mean"] == pytest.approx(0.75)
    assert got["residents_ever_listed"] == 5 and got["list_size_median"] == 2


def test_judge_leaves_out_list_dates_without_the_whole_horizon():
    lists = pl.DataFrame({"household_id": ["a", "a"], "as_of": [D[0], D[2]], "new_concern": [True, True]})
    got = concern_lists.judge(lists, _onsets(), truth_end=D[0] + timedelta(days=190))
    # only d0 has 182 days of follow-up; a becomes frail d0+56: a hit
    assert (got["precision_hits"], got["precision_entries"], got["precision_dates"]) == (1, 1, 1)
    none = concern_lists.judge(lists, _onsets(), truth_end=D[0] + timedelta(days=100))
    assert none["precision_entries"] == 0 and math.isnan(none["precision_within_horizon"])


def test_compare_controls_have_the_same_size_and_rule():
    s = _scores(risk=[[.9, .1, .2, .3, .4]] * 3, conc=[[5, 4, 3, 2, 1]] * 3)
    got = concern_lists.compare(s, _onsets(), high_capacity=0.2, capacity=0.2, truth_end=D[2] + timedelta(days=200))
    for name in ("new_concern", "random", "current_risk_non_high"):
        assert got[name]["list_size_median"] == 1
    # current risk among the non-high: a is high (0.9), so e (0.4) every date
    assert got["current_risk_non_high"]["residents_ever_listed"] == 1
    assert got["new_concern"]["residents_ever_listed"] == 1 and got["new_concern"]["churn_mean"] == 0.0


# ---- the own-change score ---------------------------------------------------------------------

AS_OF = date(2025, 9, 30)


def _daily(con, hid: str, wake_earlier: float, wake_recent: float, blips_recent: int = 0):
    """140 days of daily rows: wake alternates +-0.25 h around a level; the last 28 at another."""
    rows = []
    for k in range(140):
        d = AS_OF - timedelta(days=k)
        level = wake_recent if k < concern.RECENT_DAYS else wake_earlier
        rows.append((hid, d, level + (0.25 if k % 2 else -0.25), blips_recent if k < 28 else 0, 0.5))
    con.executemany("INSERT INTO daily_features (household_id, local_date, wake_time_h, night_blips, active_share) "
                    "VALUES (?, ?, ?, ?, ?)", rows)


@pytest.fixture
def con(tmp_path):
    from meterrisk import store

    c = store.connect(tmp_path / "s.duckdb")
    yield c
    c.close()


def test_channel_statistic_known_answer(con):
    _daily(con, "later", 6.0, 7.0)
    _daily(con, "same", 6.0, 6.0)
    stats = concern.window_stats(con, AS_OF, ["later", "same"])
    t = concern.channel_t(stats).sort("household_id")
    # recent 28 days (14 at 6.75, 14 at 7.25), earlier 112 days (days 28-139) at 5.75/6.25:
    # both SDs are 0.25 * sqrt(n / (n - 1)); pooled the same; difference 1.0 h
    sd = lambda n: 0.25 * math.sqrt(n / (n - 1))  # noqa: E731
    pooled = math.sqrt((27 * sd(28) ** 2 + 111 * sd(112) ** 2) / 138)
    want = 1.0 / (pooled * math.sqrt(1 / 28 + 1 / 112))
    assert t.filter(pl.col("household_id") == "later")["wake_time"].item() == pytest.approx(want)
    assert t.filter(pl.col("household_id") == "same")["wake_time"].item() == pytest.approx(0.0, abs=1e-9)
    # too few days for the other channels: no statistic, not zero
    assert t["meal_energy"].null_count() == 2


def test_score_is_net_of_the_towns_shift_and_follows_the_weights(con):
    # everyone wakes 0.5 h later (the season); "later" 1.5 h later: only it has an own change
    for h in ("a", "b", "c"):
        _daily(con, h, 6.0, 6.5)
    _daily(con, "later", 6.0, 7.5)
    got = concern.concern_scores(con, AS_OF, ["a", "b", "c", "later"], {"wake_time": 1.0})
    by = dict(zip(got["household_id"], got["concern_score"]))
    assert by["a"] == pytest.approx(0.0, abs=1e-9) and by["later"] > 10
    flipped = concern.concern_scores(con, AS_OF, ["a", "b", "c", "later"], {"wake_time": -1.0})
    assert dict(zip(flipped["household_id"], flipped["concern_score"]))["later"] < -10


def test_reasons_phrase_change_with_units_and_the_period(con):
    _daily(con, "later", 6.0, 7.0, blips_recent=1)
    _daily(con, "same", 6.0, 6.0)
    row = concern.concern_scores(con, AS_OF, ["later", "same"], concern.DEFAULT_WEIGHTS).filter(
        pl.col("household_id") == "later").to_dicts()[0]
    assert earlier_period(AS_OF) == "in May to September"  # 2025-05-14 .. 2025-09-02
    got = concern_reasons(row, concern.DEFAULT_WEIGHTS, AS_OF)
    assert got[0] == "gets up about 1 h later than in May to September (07:00 against 06:00, last 4 weeks)"
    assert got[1] == ("up in the night more often than in May to September: brief activity about 7 times a week "
                      "against 0 (00:00-04:30)")


def test_reasons_never_say_later_for_earlier():
    # de-seasoned statistic says "later than the town", the resident's own numbers say earlier
    row = {"wake_time": 3.0, "wake_time_h__mean_r": 6.0, "wake_time_h__mean_b": 6.5,
           "wake_time_h__sd_r": 0.3, "wake_time_h__sd_b": 0.3}
    got = concern_reasons(row, {"wake_time": 1.0}, AS_OF)
    assert len(got) == 1 and got[0].startswith("several small changes since May to September")


def test_learned_weights_follow_the_labels(con):
    _daily(con, "frail", 7.0, 7.0, blips_recent=2)
    _daily(con, "robust", 6.0, 6.0)
    ex = pl.DataFrame({"household_id": ["frail", "robust"], "as_of": [AS_OF, AS_OF], "label": [True, False]})
    got = concern.learn_weights(con, ex)
    assert got["learned"] and got["weights"]["wake_time"] > 0 and got["weights"]["night_blips"] > 0
    assert concern.weights_of({"concern": got}) == got["weights"]
    assert concern.weights_of({}) == concern.DEFAULT_WEIGHTS
    assert concern.learn_weights(con, ex.with_columns(pl.lit("nobody").alias("household_id")))["learned"] is False


# ---- the ceiling (truth only) -----------------------------------------------------------------

def test_information_per_day_wake_term_known_answer():
    from meterrisk.model.concern_ceiling import information_per_day

    got = information_per_day(0.3)
    assert got["wake_time"] == pytest.approx((0.6 / (0.35 * (1 + 0.8 * 0.3))) ** 2)
    assert got["night_activity"] == pytest.approx(0.6 ** 2 / (10 * 0.038 * 0.962))
    assert all(v > 0 for v in got.values())


def test_latent_oracle_flags_the_decliner_when_the_ramp_reaches_the_recent_window(tmp_path):
    from meterrisk.model.concern_ceiling import ceiling

    start, days = date(2025, 1, 1), 200
    # levels exactly representable in binary, so "no change" is exactly 0 (the list needs > 0)
    ramp = [0.25 if d < 100 else min(0.75, 0.25 + 0.25 * (d - 100) / 60) for d in range(days)]
    level = {"a": ramp, "b": [0.25] * days, "c": [0.125] * days, "d": [0.375] * days, "e": [0.875] * days}
    (tmp_path / "truth").mkdir()
    pl.DataFrame({"household_id": [h for h in level for _ in range(days)],
                  "date": [start + timedelta(days=d) for _ in level for d in range(days)],
                  "frailty": [x for v in level.values() for x in v]}).write_parquet(
        tmp_path / "truth" / "frailty_daily.parquet")
    pl.DataFrame({"household_id": list("abcde"), "trajectory": ["declining", "stable", "stable", "stable",
                                                                 "frail_throughout"],
                  "onset_date": ["2025-04-11", "", "", "", ""],
                  "frail_from_date": [str(start + timedelta(days=160)), "", "", "", "2025-01-01"]}).write_csv(
        tmp_path / "truth" / "onsets.csv")
    hh = pl.DataFrame({"household_id": list("abcde"), "birth_year": [1940] * 5, "lives_alone": [True] * 5,
                       "consent_given_on": [date(2024, 1, 1)] * 5, "consent_withdrawn_on": [None] * 5,
                       "care_certified": [False] * 5, "has_solar": [False] * 5},
                      schema_overrides={"consent_withdrawn_on": pl.Date})
    got = ceiling(tmp_path / "truth", hh, high_capacity=0.2, capacity=0.2, first_day=56, every_days=14,
                  recent_days=28, baseline_days=(28, 139))
    oracle = got["latent_oracle"]
    # list dates 56, 70, ..., 196: e is high; the first date whose recent 28 days reach past day
    # 100 is day 112 -> a listed 48 days = 6.86 weeks before day 160
    assert oracle["flagged_before_onset"] == 1 and oracle["lead_weeks_median"] == pytest.approx(48 / 7)
    assert set(got["information_per_day"]) == {"observable_ceiling", "observable_ceiling_without_slot_variability"}


def test_days_away_count_in_neither_window(con):
    # 10 days away in the recent weeks (home at its floor: active share 0, no meal cooked) are an
    # absence, not fewer meals: without the home-day rule they moved meals_cooked by -1 a day
    rows = []
    for k in range(140):
        away = 3 <= k < 13
        rows.append(("away", AS_OF - timedelta(days=k), 0.0 if away else 0.5, 0 if away else (2 + k % 2)))
    con.executemany("INSERT INTO daily_features (household_id, local_date, active_share, meal_windows_active) "
                    "VALUES (?, ?, ?, ?)", rows)
    stats = concern.window_stats(con, AS_OF, ["away"])
    assert stats["meal_windows_active__n_r"].item() == 18
    assert stats["meal_windows_active__mean_r"].item() == pytest.approx(2.5)


def test_daytime_floor_reason_follows_the_direction_of_the_change():
    row = {"daytime_floor": 2.0, "daytime_floor_h__mean_r": 6.6, "daytime_floor_h__mean_b": 1.9,
           "daytime_floor_h__sd_r": 1.0, "daytime_floor_h__sd_b": 1.0}
    got = concern_reasons(row, {"daytime_floor": 1.0}, AS_OF)
    assert got[0].startswith("more quiet daytime hours than in May to September (out, or inactive at home): 6.6 h")
