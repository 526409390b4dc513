"""Risk model: metrics with known answers, training to a model folder, safe loading."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import polars as pl
import pytest

from meterrisk.errors import MeterriskError
from meterrisk.model import metrics, registry
from meterrisk.model.dataset import load_assessments
from meterrisk.model.evaluation import first_flags, lead_time_summary, split_household_time
from meterrisk.model.training import train


# ---- metrics -----------------------------------------------------------------------------

def test_precision_and_recall_at_capacity_known_answer():
    y = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    s = [.9, .8, .7, .6, .5, .4, .3, .2, .1, .05]
    assert metrics.precision_at_capacity(y, s, 0.2) == 0.5       # top 2: 1, 0
    assert metrics.precision_at_capacity(y, s, 0.3) == pytest.approx(2 / 3)
    assert metrics.recall_at_capacity(y, s, 0.3) == pytest.approx(2 / 3)
    assert metrics.top_k(1000, 0.10) == 100 and metrics.top_k(3, 0.1) == 1


def test_ece_hand_example():
    # bin [0.1,0.2): p=.1,.1 y=0,1 -> |0.1-0.5| * 2/4; bin [0.9,1]: p=.9,1.0 y=1,1 -> |0.95-1| * 2/4
    assert metrics.expected_calibration_error([0, 1, 1, 1], [0.1, 0.1, 0.9, 1.0]) == pytest.approx(0.2 + 0.025)
    assert metrics.expected_calibration_error([0, 1], [0.0, 1.0]) == 0.0


def test_lead_time_positive_when_flagged_before():
    assert metrics.lead_time_weeks(date(2025, 1, 1), date(2025, 3, 1)) == pytest.approx(59 / 7)
    assert math.isnan(metrics.lead_time_weeks(None, date(2025, 3, 1)))
    scores = pl.DataFrame({
        "household_id": ["a", "b", "a", "b"],
        "as_of": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 15), date(2025, 1, 15)],
        "risk_score": [0.1, 0.9, 0.8, 0.2],
    })
    first = first_flags(scores, 0.5)
    assert dict(zip(first["household_id"], first["first_flagged"])) == {"a": date(2025, 1, 15), "b": date(2025, 1, 1)}
    onsets = pl.DataFrame({"household_id": ["a", "b"], "kind": ["declining", "stable"],
                           "frail_from_date": [date(2025, 3, 12), None]})
    out = lead_time_summary(first, onsets)
    assert out["lead_time_weeks_median"] == pytest.approx(8.0) and out["declining_households"] == 1


# ---- a small synthetic store -------------------------------------------------------------

N = 240


def _households(con, n=N):
    rows = [(f"h{i:03d}", f"p{i:03d}", 1940 + i % 20, True, date(2024, 1, 1), None, False, False, "d1")
            for i in range(n)]
    con.executemany("INSERT INTO households VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, now())", rows)


def _fake_features(frailty: dict[str, float]):
    """Window features where active_share falls and wake time rises with latent frailty."""
    def fn(con, req: pl.DataFrame) -> pl.DataFrame:
        rng = np.random.default_rng(len(req))
        f = np.array([frailty.get(h, 0.0) + 0.0 * d.toordinal() for h, d in zip(req["household_id"], req["as_of"])])
        n = len(f)
        return req.with_columns(
            pl.Series("active_share", 0.5 - 0.2 * f + rng.normal(0, 0.05, n)),
            pl.Series("wake_time_h", 7 + 2 * f + rng.normal(0, 0.5, n)),
            pl.Series("wake_time_h_delta", 1.5 * f + rng.normal(0, 0.3, n)),
            pl.Series("wake_time_h_z", 3 * f + rng.normal(0, 0.5, n)),
            pl.Series("meal_kwh_ratio_8w", 1 - 0.4 * f + rng.normal(0, 0.05, n)),
            pl.Series("valid_days_28d", np.full(n, 28.0)),
            pl.Series("dq_flag", [None] * n, dtype=pl.String),
        )
    return fn


@pytest.fixture(scope="module")
def trained_env(tmp_path_factory):
    """One store and one trained model for the whole module (training is the slow part)."""
    from meterrisk import store

    tmp_path = tmp_path_factory.mktemp("trained")
    con = store.connect(tmp_path / "store.duckdb")
    _households(con)
    rng = np.random.default_rng(1)
    frailty = {f"h{i:03d}": float(rng.random() < 0.3) for i in range(N)}
    csv = tmp_path / "assessments.csv"
    lines = ["household_id,assessed_on,checklist_score"]
    for i in range(N):
        h = f"h{i:03d}"
        for d in ("2024-06-01", "2025-06-01"):
            lines.append(f"{h},{d},{10 if frailty[h] else 2}")
    lines.append("stranger,2024-06-01,9")
    csv.write_text("\n".join(lines) + "\n")
    counts = load_assessments(con, csv)
    assert {k: counts[k] for k in ("read", "loaded", "duplicate", "rejected_no_consent", "rejected_invalid")} == \
        {"read": 2 * N + 1, "loaded": 2 * N, "duplicate": 0, "rejected_no_consent": 1, "rejected_invalid": 0}
    assert load_assessments(con, csv)["loaded"] == 2 * N  # idempotent
    assert con.execute("SELECT count(*) FROM assessments").fetchall()[0][0] == 2 * N
    path, manifest = train(con, models_dir=tmp_path / "models", feature_fn=_fake_features(frailty), cv=2,
                           max_iter=60, trend=True)
    yield con, path, manifest
    con.close()


@pytest.fixture
def trained(trained_env, tmp_path):
    """A private copy of the model folder that a test may tamper with."""
    import shutil

    _, path, manifest = trained_env
    copy = tmp_path / path.name
    shutil.copytree(path, copy)
    return copy, manifest


def test_split_never_puts_a_household_on_both_sides():
    ex = pl.DataFrame({
        "household_id": [f"h{i}" for i in range(100) for _ in range(2)],
        "as_of": [d for _ in range(100) for d in (date(2024, 1, 1), date(2025, 1, 1))],
        "label": [(i // 2) % 2 for i in range(200)],
    })
    tr, te, info = split_household_time(ex)
    assert set(tr["household_id"]).isdisjoint(set(te["household_id"]))
    assert tr["as_of"].max() < te["as_of"].min() and info["split"] == "household_and_time"


def test_train_writes_model_folder_with_manifest(trained):
    path, manifest = trained
    assert (path / "model.skops").exists() and (path / "MODEL_CARD.md").exists()
    m = json.loads((path / "manifest.json").read_text())
    for k in ("version", "trained_at", "training_window", "data_fingerprint", "feature_names",
              "library_versions", "metrics", "baselines"):
        assert k in m
    for k in ("roc_auc", "pr_auc", "brier", "ece", "precision_at_capacity", "recall_at_capacity",
              "capacity", "lead_time_weeks_median"):
        assert k in m["metrics"]
    assert {"age_logistic", "activity_rule"} <= set(m["baselines"])
    assert "age" in m["feature_names"] and "dq_flag" not in m["feature_names"]
    assert m["metrics"]["roc_auc"] > 0.9
    loaded = registry.load(path, available_features=m["feature_names"])
    assert loaded.version == m["version"]


def _tamper(path, fn):
    mp = path / "manifest.json"
    m = json.loads(mp.read_text())
    fn(m)
    mp.write_text(json.dumps(m))


def test_load_refuses_other_sklearn_version(trained):
    path, _ = trained
    _tamper(path, lambda m: m["library_versions"].update({"scikit-learn": "1.2.0"}))
    with pytest.raises(MeterriskError, match="scikit-learn 1.2.0"):
        registry.load(path)


def test_load_refuses_other_features(trained):
    path, manifest = trained
    with pytest.raises(MeterriskError, match="does not produce"):
        registry.load(path, available_features=["age"])
    _tamper(path, lambda m: m.update({"feature_names": m["feature_names"][:-1] + ["something_else"]}))
    with pytest.raises(MeterriskError, match="different ones"):
        registry.load(path)


from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from meterrisk.model.pipeline import NonFiniteToNaN  # noqa: E402


@parametrize_with_checks([NonFiniteToNaN()])
def test_own_transformer_follows_sklearn_contract(estimator, check):
    check(estimator)


def test_cli_score_without_a_model_says_what_to_do(tmp_path):
    from click.testing import CliRunner

    from meterrisk import store
    from meterrisk.cli import main

    store.connect(tmp_path / "s.duckdb").close()  # an empty store: the model is what is missing
    r = CliRunner().invoke(main, ["score", "--db", str(tmp_path / "s.duckdb"), "--as-of", "2025-07-01",
                                  "--models-dir", str(tmp_path / "none")])
    assert r.exit_code == 2 and "no trained model" in r.output and "meterrisk train" in r.output


# ---- scoring -----------------------------------------------------------------------------

def _add(con, hid, *, birth_year=1940, alone=True, consent=date(2024, 1, 1), withdrawn=None, care=False, solar=False):
    con.execute("INSERT INTO households VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'd1', now())",
                [hid, f"P-{hid}", birth_year, alone, consent, withdrawn, care, solar])


@pytest.fixture(scope="module")
def scored(trained_env):
    from meterrisk.model.scoring import score

    con, path, _ = trained_env
    _add(con, "x_shared", alone=False)
    _add(con, "x_young", birth_year=1970)
    _add(con, "x_care", care=True)
    _add(con, "x_solar", solar=True)
    _add(con, "x_withdrawn", withdrawn=date(2025, 5, 1))
    _add(con, "x_sparse")
    frailty = {f"h{i:03d}": float(i % 4 == 0) for i in range(N)}
    base = _fake_features(frailty)

    def fn(c, req):
        out = base(c, req)
        return out.with_columns(
            pl.when(pl.col("household_id") == "x_sparse").then(pl.lit("insufficient_data")).otherwise(pl.col("dq_flag")).alias("dq_flag"),
            pl.when(pl.col("household_id") == "x_sparse").then(pl.lit(9)).otherwise(pl.col("valid_days_28d")).alias("valid_days_28d"),
        ).filter(pl.col("household_id") != "h001")  # h001: no readings at all

    summary = score(con, date(2025, 7, 1), model=path, feature_fn=fn)
    return con, summary, path, fn


def test_score_eligibility_reasons_and_insufficient_data(scored):
    con, summary, _, _ = scored
    rows = {r["household_id"]: r for r in con.execute(
        "SELECT household_id, status, not_scored_reason, risk_score FROM risk_scores").fetchall()
        for r in [dict(zip(["household_id", "status", "not_scored_reason", "risk_score"], r))]}
    assert rows["x_shared"]["not_scored_reason"] == "not living alone"
    assert rows["x_young"]["not_scored_reason"] == "under 65"
    assert rows["x_care"]["not_scored_reason"] == "certified for long-term care"
    assert rows["x_solar"]["not_scored_reason"] == "rooftop solar"
    assert rows["x_withdrawn"]["not_scored_reason"] == "no consent in force"
    for h in ("x_sparse", "h001"):
        assert rows[h]["status"] == "not_scored" and rows[h]["not_scored_reason"] == "insufficient data"
        assert rows[h]["risk_score"] is None
    assert summary["scored"] == N - 1 and summary["high"] == round((N - 1) * 0.1)


def test_score_tiers_ranks_reasons_and_rerun_replaces(scored):
    from meterrisk.model.scoring import NO_SINGLE_REASON, score

    con, summary, path, fn = scored
    top = con.execute("SELECT risk_tier, rank, reasons FROM risk_scores WHERE status = 'scored' ORDER BY rank").fetchall()
    assert [r[1] for r in top] == list(range(1, len(top) + 1))
    assert [r[0] for r in top].count("high") == summary["high"]
    # The fitted trees lean on cooking (the fake wake columns add nothing once it is known).
    assert all(any("cooking activity down" in s for s in r[2]) for r in top[:10])
    assert all(r[2] and NO_SINGLE_REASON not in r[2] for r in top if r[0] in ("high", "medium"))
    assert all(len(r[2]) <= 3 for r in top)
    n = con.execute("SELECT count(*) FROM risk_scores").fetchall()[0][0]
    score(con, date(2025, 7, 1), model=path, feature_fn=fn)
    assert con.execute("SELECT count(*) FROM risk_scores").fetchall()[0][0] == n


def test_score_asks_a_reason_for_exactly_the_high_and_medium_rows(scored, monkeypatch):
    # Many fake rows tie at the same score: the mask must break ties as the ranking does.
    from meterrisk.model import scoring

    con, _, path, fn = scored
    seen = {}
    real = scoring.explain

    def spy(pipeline, feats, features, prob, medians=None, *, at_least_one=None):
        seen.update(ids=feats["household_id"].to_list(), mask=at_least_one)
        return real(pipeline, feats, features, prob, medians, at_least_one=at_least_one)

    monkeypatch.setattr(scoring, "explain", spy)
    scoring.score(con, date(2025, 7, 1), model=path, feature_fn=fn)
    listed = {h for h, m in zip(seen["ids"], seen["mask"]) if m}
    tiers = con.execute("SELECT household_id FROM risk_scores WHERE as_of = '2025-07-01' "
                        "AND risk_tier IN ('high', 'medium')").fetchall()
    assert listed == {r[0] for r in tiers} and len(listed) > 0


def test_up_at_night_reason_names_the_weekly_count_against_most_residents():
    from meterrisk.model.reasons import explain

    class Model:  # risk rises with night blips, so resetting them to the median lowers it
        def predict_proba(self, X):
            p = np.clip(np.asarray(X["night_blips_mean_84d"], dtype=float), 0, 1)
            return np.column_stack([1 - p, p])

    feats = pl.DataFrame({"night_blips_mean_84d": [0.6, 0.32]})
    prob = Model().predict_proba(feats)[:, 1]
    got = explain(Model(), feats, ["night_blips_mean_84d"], prob, medians=np.array([0.3]))
    assert got[0] == ["brief activity in the night (00:00-04:30) about 4 times a week over 12 weeks, "
                      "most residents about 2 a week"]
    assert got[1] == []  # 0.02 of risk above the typical resident's: nothing stands out
