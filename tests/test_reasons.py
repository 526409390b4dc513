"""Reasons: attribution per household, a reason for every listed row, units and comparisons."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from meterrisk.model.reasons import contributions, explain
from meterrisk.model.reasons_topics import clock, hours, per_week, percent_apart, topic_columns


class Additive:
    """Risk = base + sum of weight * (x - median), clipped: each feature's share is known."""

    def __init__(self, weights: dict[str, float], medians: dict[str, float], base: float = 0.05):
        self.weights, self.medians, self.base = weights, medians, base

    def predict_proba(self, X):
        p = np.full(len(X), self.base)
        for f, w in self.weights.items():
            p = p + w * (np.asarray(X[f], dtype=float) - self.medians[f])
        p = np.clip(p, 0, 1)
        return np.column_stack([1 - p, p])


MEDIANS = {"night_blips_mean_84d": 0.3, "longest_inactive_run_h_mean_28d": 3.0,
           "wake_time_h_mean_28d": 6.5, "meal_kwh_mean_28d": 1.3, "age": 78.0}


def _explain(model, rows: list[dict], **kw):
    feats = pl.DataFrame(rows)
    features = list(rows[0])
    prob = model.predict_proba(feats)[:, 1]
    return explain(model, feats, features, prob, medians=np.array([MEDIANS[f] for f in features]), **kw)


def _row(**over):
    return {**MEDIANS, **over}


# ---- attribution ---------------------------------------------------------------------------

def test_contributions_are_exact_for_an_additive_model_and_sum_to_the_score_above_typical():
    base = np.array([0.0, 0.0, 0.0])
    X = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 0.5]])

    def predict(M):
        return 0.1 + M @ np.array([0.1, 0.2, 0.3])

    phi = contributions(predict, X, base, [[0], [1, 2]])
    assert phi == pytest.approx(np.array([[0.1, 0.4 + 0.9], [0.0, -0.2 + 0.15]]))


def test_contributions_share_a_saturated_score_between_both_causes():
    # Either cause alone already gives the full risk: occluding one at a time credits neither.
    def predict(M):
        return np.where((M[:, 0] > 0) | (M[:, 1] > 0), 0.9, 0.1)

    phi = contributions(predict, np.array([[1.0, 1.0]]), np.zeros(2), [[0], [1]])
    assert phi[0] == pytest.approx([0.4, 0.4])


def test_the_top_reason_follows_what_drives_each_household():
    # Night blips weigh little, still spells a lot. A: many night blips, ordinary spells;
    # B: a few more night blips than most (the old rule's threshold) but long still spells.
    model = Additive({"night_blips_mean_84d": 0.5, "longest_inactive_run_h_mean_28d": 0.2}, MEDIANS)
    a = _row(night_blips_mean_84d=1.3)
    b = _row(night_blips_mean_84d=0.46, longest_inactive_run_h_mean_28d=4.2)
    got = _explain(model, [a, b])
    assert got[0][0].startswith("brief activity in the night")
    assert got[1][0] == ("longest break in electricity use while awake about 4.2 h, most residents about 3.0 h "
                         "(out, or not moving: electricity cannot tell)")
    assert got[1][1].startswith("brief activity in the night")  # 0.08 of risk (0.24 for the spells), shown second


def test_every_listed_row_gets_a_reason_even_below_the_threshold():
    model = Additive({"wake_time_h_mean_28d": 0.02}, MEDIANS)
    quiet = _row(wake_time_h_mean_28d=7.5)   # 0.02 of risk: does not stand out by itself
    assert _explain(model, [quiet]) == [[]]
    got = _explain(model, [quiet, quiet], at_least_one=np.array([True, False]))
    assert got == [["gets up about 07:30, most residents about 06:30"], []]


def test_a_listed_row_gets_no_reason_that_its_numbers_contradict():
    # The model (a tree artefact, say) raises risk for cooking MORE than most: not worded as a concern.
    model = Additive({"meal_kwh_mean_28d": 0.5}, MEDIANS)
    got = _explain(model, [_row(meal_kwh_mean_28d=1.6)], at_least_one=np.array([True]))
    assert got == [[]]


def test_reasons_are_ranked_by_contribution_and_at_most_three():
    model = Additive({"night_blips_mean_84d": 0.1, "longest_inactive_run_h_mean_28d": 0.1,
                      "wake_time_h_mean_28d": 0.1, "meal_kwh_mean_28d": -0.5}, MEDIANS)
    row = _row(night_blips_mean_84d=0.8, longest_inactive_run_h_mean_28d=4.0, wake_time_h_mean_28d=8.0,
               meal_kwh_mean_28d=0.5)
    got = _explain(model, [row])[0]
    # contributions: cooking 0.4, wake 0.15, still 0.1, night 0.05
    assert [g.split(" ")[0] for g in got] == ["cooking", "gets", "longest"]


def test_age_is_attributed_but_never_worded():
    model = Additive({"age": 0.05, "wake_time_h_mean_28d": 0.01}, MEDIANS)
    got = _explain(model, [_row(age=92.0, wake_time_h_mean_28d=7.0)], at_least_one=np.array([True]))
    assert got == [["gets up about 07:00, most residents about 06:30"]]
    assert not any("92" in r or "age" in r or "old" in r for r in got[0])


def test_missing_values_contribute_nothing():
    model = Additive({"night_blips_mean_84d": 1.0}, MEDIANS)
    got = _explain(model, [_row(night_blips_mean_84d=None)], at_least_one=np.array([True]))
    assert got == [[]]


def test_same_rows_same_reasons():
    model = Additive({"night_blips_mean_84d": 0.3, "longest_inactive_run_h_mean_28d": 0.1}, MEDIANS)
    rows = [_row(night_blips_mean_84d=0.3 + i / 10, longest_inactive_run_h_mean_28d=3 + i / 3) for i in range(6)]
    assert _explain(model, rows) == _explain(model, rows)


def test_every_model_column_is_in_one_topic():
    features = ["night_blips_mean_84d", "restless_nights_28d", "wake_time_h_z", "late_wake_days_28d",
                "meal_kwh_ratio_8w", "no_meal_days_28d", "age", "valid_days_28d", "something_new"]
    topics = {t.name: [features[i] for i in cols] for t, cols in topic_columns(features)}
    assert topics == {"night_blips": ["night_blips_mean_84d"], "night_unrest": ["restless_nights_28d"],
                      "wake": ["wake_time_h_z", "late_wake_days_28d"],
                      "cooking": ["meal_kwh_ratio_8w", "no_meal_days_28d"], "age": ["age"],
                      "context": ["valid_days_28d"], "other": ["something_new"]}


# ---- wording: units and a comparison with most residents ----------------------------------

@pytest.mark.parametrize("h, text", [(8.16, "08:10"), (6.5, "06:30"), (23.99, "00:00"), (24.5, "00:30"),
                                     (7.0 + 58 / 60, "08:00")])
def test_clock_times(h, text):
    assert clock(h) == text


def test_hours_weekly_counts_and_percentages():
    assert hours(5.46) == "5.5 h" and hours(12.3) == "12 h"
    assert per_week(0.6, 0.3) == ("4", "2")
    assert per_week(0.31, 0.29) == ("2.2", "2.0")   # whole numbers would hide the difference
    assert percent_apart(0.845, 1.3) == "35% less" and percent_apart(1.56, 1.3) == "20% more"


def test_wordings_carry_the_household_number_unit_and_most_residents():
    def words(row, weights):
        return _explain(Additive(weights, MEDIANS), [_row(**row)])[0]

    assert words({"night_blips_mean_84d": 0.6}, {"night_blips_mean_84d": 1.0}) == [
        "brief activity in the night (00:00-04:30) about 4 times a week over 12 weeks, most residents about 2 a week"]
    assert words({"wake_time_h_mean_28d": 8.17}, {"wake_time_h_mean_28d": 0.1}) == [
        "gets up about 08:10, most residents about 06:30"]
    assert words({"meal_kwh_mean_28d": 0.845}, {"meal_kwh_mean_28d": -0.5}) == [
        "cooking energy at meal times about 0.8 kWh a day, most residents about 1.3 kWh (35% less)"]
    assert words({"longest_inactive_run_h_mean_28d": 5.5}, {"longest_inactive_run_h_mean_28d": 0.1}) == [
        "longest break in electricity use while awake about 5.5 h, most residents about 3.0 h "
        "(out, or not moving: electricity cannot tell)"]


def test_own_change_and_day_counts_are_added_to_the_level():
    medians = {**MEDIANS, "wake_time_h_delta": 0.0, "wake_time_h_z": 0.0, "late_wake_days_28d": 0.0}
    model = Additive({"wake_time_h_mean_28d": 0.1}, medians)
    feats = [{**_row(wake_time_h_mean_28d=8.0), "wake_time_h_delta": 1.2, "wake_time_h_z": 2.5,
              "late_wake_days_28d": 6.0},
             {**_row(wake_time_h_mean_28d=8.0), "wake_time_h_delta": 0.1, "wake_time_h_z": 0.2,
              "late_wake_days_28d": 6.0}]
    df = pl.DataFrame(feats)
    got = explain(model, df, list(feats[0]), model.predict_proba(df)[:, 1],
                  medians=np.array([medians[f] for f in feats[0]]))
    assert got == [["gets up about 08:00, most residents about 06:30 (1.2 h later than in their usual weeks)"],
                   ["gets up about 08:00, most residents about 06:30 (no activity before 10:00 on 6 of the last 28 days)"]]


def test_a_level_barely_apart_from_most_residents_is_not_a_reason():
    # Big contributions (from columns the wording does not name) but the named level is
    # within the margin of most residents': 5 min later, 5% less cooking, +0.3 blips a week.
    model = Additive({"wake_time_h_mean_28d": 3.0, "meal_kwh_mean_28d": -3.0, "night_blips_mean_84d": 3.0}, MEDIANS)
    row = _row(wake_time_h_mean_28d=6.58, meal_kwh_mean_28d=1.235, night_blips_mean_84d=0.34)
    assert _explain(model, [row], at_least_one=np.array([True])) == [[]]


def test_shorter_breaks_in_use_while_awake_read_as_fewer_outings():
    # The fitted demo model raises risk for SHORTER breaks (fewer outings): worded both ways.
    medians = {**MEDIANS, "daytime_floor_h_mean_28d": 1.5}
    model = Additive({"daytime_floor_h_mean_28d": -0.2, "longest_inactive_run_h_mean_28d": -0.2}, medians)
    df = pl.DataFrame([{**MEDIANS, "daytime_floor_h_mean_28d": 0.8, "longest_inactive_run_h_mean_28d": 2.0}])
    got = explain(model, df, df.columns, model.predict_proba(df)[:, 1], medians=np.array(list(medians.values())))
    assert got == [["longest break in electricity use while awake about 2.0 h, most residents about 3.0 h, and "
                    "about 0.8 h without electricity use between 09:00 and 17:00, most residents about 1.5 h "
                    "(fewer or shorter outings, or something on all day: electricity cannot tell)"]]


LEVELS = {  # (most residents, a concerning household) for each worded topic's level column
    "night_blips_mean_84d": (0.3, 0.9), "night_activity_share_mean_28d": (0.08, 0.3), "restless_nights_28d": (0, 12),
    "wake_time_h_mean_28d": (6.5, 9.0), "late_wake_days_28d": (0, 9), "bed_time_h_mean_28d": (22.0, 19.5),
    "meal_kwh_mean_28d": (1.3, 0.5), "no_meal_days_28d": (0, 8), "active_share_mean_28d": (0.6, 0.3),
    "floor_days_28d": (0, 4), "longest_inactive_run_h_mean_28d": (1.3, 4.0), "daytime_floor_h_mean_28d": (1.5, 4.0),
    "regularity_corr_mean_28d": (0.7, 0.4), "excess_kwh_mean_28d": (4.8, 2.0), "stuck_on_days_28d": (0, 6),
}


def test_no_reason_carries_a_semicolon_or_anything_but_behaviour_numbers():
    from meterrisk.model.reasons_topics import TOPICS

    row = {"household_id": "T-0042", "pseudonym": "p-77", "district": "Kita", "age": 91.0,
           **{k: v for k, (_, v) in LEVELS.items()}, **{f"{k}__median": m for k, (m, _) in LEVELS.items()}}
    texts = [t.text(row) for t in TOPICS if t.text is not None]
    assert all(texts), [t.name for t in TOPICS if t.text is not None and not t.text(row)]
    for text in texts:
        assert ";" not in text  # the CSV export joins a row's reasons with "; "
        for private in ("T-0042", "p-77", "Kita", "91", "age", "born"):
            assert private not in text, (private, text)


def test_smaller_pushes_follow_a_strong_one_but_never_stand_alone():
    model = Additive({"night_blips_mean_84d": 0.5, "wake_time_h_mean_28d": 0.02}, MEDIANS)
    strong = _row(night_blips_mean_84d=0.5, wake_time_h_mean_28d=7.5)   # 0.10 and 0.02
    weak = _row(night_blips_mean_84d=0.38, wake_time_h_mean_28d=7.5)    # 0.04 and 0.02
    got = _explain(model, [strong, weak])
    assert [r.split(" ")[0] for r in got[0]] == ["brief", "gets"]
    assert got[1] == []


def test_a_row_is_attributed_the_same_whatever_chunk_it_falls_in(monkeypatch):
    from meterrisk.model import reasons

    def predict(M):
        return 1 / (1 + np.exp(-(M[:, 0] * M[:, 1] + M[:, 2])))

    X = np.random.default_rng(3).normal(size=(7, 3))
    whole = contributions(predict, X, np.zeros(3), [[0], [1], [2]])
    monkeypatch.setattr(reasons, "CHUNK_ROWS", 3)
    assert contributions(predict, X, np.zeros(3), [[0], [1], [2]]) == pytest.approx(whole)
    assert whole.sum(1) == pytest.approx(predict(X) - predict(np.zeros((1, 3))))


def test_kwh_show_two_decimals_only_when_one_hides_the_difference():
    from meterrisk.model.reasons_topics import kwh

    assert kwh(0.845, 1.3) == ("0.8", "1.3") and kwh(1.21, 1.24) == ("1.21", "1.24")
