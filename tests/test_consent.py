"""Consent at every stage, withdrawal that forgets, and a registry that says what it refused.

Small hand-built stores; the end-to-end purge of a whole synthetic town is in
``test_consent_town.py``.
"""

from __future__ import annotations

import re
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from ingest.helpers import REGISTRY_HEADER, day_lines, write_long, write_registry
from meterrisk import ingest, store
from meterrisk.errors import InputFileError, MeterriskError
from meterrisk.ingest import days as day_rows

README = Path(__file__).resolve().parents[1] / "README.md"

# Ids that occur nowhere else by accident, so a substring hit anywhere in the store is a leak.
GONE, STAYS = "HX-7731", "HX-5508"


def registry_row(hid: str, given: str = "2025-01-01", withdrawn: str = "", *, solar="false", district="North") -> str:
    return f"{hid},1944,true,{given},{withdrawn},false,{solar},{district}"


def text_hits(con, needle: str) -> list[tuple[str, str, int]]:
    """(table or view, column, rows) for every non-numeric column of the store containing ``needle``."""
    columns = con.execute("""
        SELECT c.table_name, c.column_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE c.table_catalog = current_database() AND c.table_schema = 'main'
          AND NOT regexp_matches(c.data_type, '^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UBIGINT|UINTEGER|'
                                 'USMALLINT|UTINYINT|FLOAT|DOUBLE|DECIMAL.*|DATE|TIME.*|INTERVAL)$')
        ORDER BY 1, 2""").fetchall()
    hits = []
    for table, column in columns:
        n = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains(CAST("{column}" AS VARCHAR), ?)',
                        [needle]).fetchall()[0][0]
        if n:
            hits.append((table, column, n))
    return hits


def household_tables(con) -> list[str]:
    return [r[0] for r in con.execute("""
        SELECT c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE c.column_name = 'household_id' AND t.table_type = 'BASE TABLE'
          AND c.table_catalog = current_database() AND c.table_schema = 'main' ORDER BY 1""").fetchall()]


def pseudonym_of(con, hid: str) -> str:
    return store.one(con, "SELECT pseudonym FROM households WHERE household_id = ?", [hid])[0]


# --------------------------------------------------------------------------------------------
# Registry: unknown columns, booleans
# --------------------------------------------------------------------------------------------

def test_registry_unknown_column_is_an_error_naming_it(con, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(REGISTRY_HEADER + ",phone\n" + registry_row("H1") + ",0123\n", encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        ingest.load_registry(con, path)
    text = str(info.value)
    assert str(path) in text and "'phone'" in text
    assert "household_id, birth_year, lives_alone" in text  # the expected columns, listed
    assert con.execute("SELECT count(*) FROM households").fetchall() == [(0,)]


def _readme_booleans() -> tuple[set[str], set[str]]:
    """The true and false spellings the README's registry paragraph documents."""
    text = README.read_text(encoding="utf-8")
    para = text[text.index("**Household registry**"):]
    para = para[:para.index("\n\n")]
    m = re.search(r"Booleans[^.]*?: true ([^;]+); false ([^;.]+)", para)
    assert m, "the README's registry paragraph must list the accepted booleans"
    words = lambda s: {w.strip().strip("`") for w in re.sub(r"\s+or\s+", ",", s).split(",")} - {""}  # noqa: E731
    return words(m.group(1)), words(m.group(2))


def test_registry_booleans_are_exactly_what_the_readme_says(con, tmp_path):
    true, false = _readme_booleans()
    assert {"true", "false"} <= true | false
    for word, expected in [*((w, True) for w in true), *((w, False) for w in false)]:
        for spelling in {word, word.upper(), word.capitalize()}:
            path = write_registry(tmp_path / "h.csv", [f"H1,1944,{spelling},2025-01-01,,false,false,N"])
            ingest.load_registry(con, path)
            assert store.one(con, "SELECT lives_alone FROM households")[0] is expected, spelling
    for undocumented in ("2", "si", "ja", "on", "x"):
        if undocumented in true | false:
            continue
        path = write_registry(tmp_path / "h.csv", [f"H1,1944,{undocumented},2025-01-01,,false,false,N"])
        with pytest.raises(InputFileError, match="column lives_alone") as info:
            ingest.load_registry(con, path)
        assert all(w in info.value.hint for w in true | false), info.value.hint


# --------------------------------------------------------------------------------------------
# Withdrawal is final unless re-consented
# --------------------------------------------------------------------------------------------

def _h1_day(tmp_path, name="d.csv", day="2025-04-01", hid="H1"):
    return write_long(tmp_path / name, day_lines(hid, day, [0.1] * 48))


def test_reloading_a_registry_without_the_withdrawal_keeps_it(con, tmp_path, capsys):
    ingest.load_registry(con, write_registry(tmp_path / "a.csv", [registry_row("H1"), registry_row("H2")]))
    profile = ingest.load_profile("default")
    ingest.ingest_file(con, _h1_day(tmp_path), profile)
    first = ingest.load_registry(con, write_registry(tmp_path / "b.csv", [
        registry_row("H1", withdrawn="2025-05-01"), registry_row("H2")]))
    assert [w.withdrawn_on for w in first.withdrawn] == [date(2025, 5, 1)]
    # The next month's registry export has lost the withdrawal date (the make-demo case).
    again = ingest.load_registry(con, write_registry(tmp_path / "c.csv", [registry_row("H1"), registry_row("H2")]))
    assert con.execute("SELECT household_id FROM households ORDER BY 1").fetchall() == [("H2",)]
    assert (again.inserted, again.updated) == (0, 1)
    assert [(k.pseudonym, k.withdrawn_on) for k in again.kept_withdrawn] == [(first.withdrawn[0].pseudonym,
                                                                             date(2025, 5, 1))]
    assert again.reconsented == []
    # ... and readings of H1 find no consent.
    late = ingest.ingest_file(con, _h1_day(tmp_path, "e.csv", "2025-04-02"), profile)
    assert (late.rows_loaded, late.rows_rejected_consent) == (0, 48)


def test_consent_given_after_the_withdrawal_is_a_new_record(con, tmp_path):
    ingest.load_registry(con, write_registry(tmp_path / "a.csv", [registry_row("H1", withdrawn="2025-05-01")]))
    assert con.execute("SELECT count(*) FROM households").fetchall() == [(0,)]
    back = ingest.load_registry(con, write_registry(tmp_path / "b.csv", [registry_row("H1", given="2025-06-01")]))
    assert back.inserted == 1 and len(back.reconsented) == 1
    row = con.execute("SELECT consent_given_on, consent_withdrawn_on, pseudonym FROM households").fetchall()
    assert row == [(date(2025, 6, 1), None, back.reconsented[0])]
    assert con.execute("SELECT withdrawn_on, superseded_by_consent_on FROM withdrawals").fetchall() == [
        (date(2025, 5, 1), date(2025, 6, 1))]
    # Consent from the day of the withdrawal is not later than it: not a re-consent.
    ingest.load_registry(con, write_registry(tmp_path / "c.csv", [registry_row("H1", given="2025-06-01",
                                                                               withdrawn="2025-07-01")]))
    same_day = ingest.load_registry(con, write_registry(tmp_path / "d.csv", [registry_row("H1", given="2025-07-01")]))
    assert same_day.inserted == 0 and len(same_day.kept_withdrawn) == 1
    assert con.execute("SELECT count(*) FROM households").fetchall() == [(0,)]


def test_a_withdrawal_date_ahead_stays_when_the_registry_loses_it(con, tmp_path):
    ahead = (datetime.now() + timedelta(days=60)).date().isoformat()
    ingest.load_registry(con, write_registry(tmp_path / "a.csv", [registry_row("H1", withdrawn=ahead)]))
    assert con.execute("SELECT consent_withdrawn_on FROM households").fetchall() == [(date.fromisoformat(ahead),)]
    result = ingest.load_registry(con, write_registry(tmp_path / "b.csv", [registry_row("H1")]))
    assert con.execute("SELECT consent_withdrawn_on FROM households").fetchall() == [(date.fromisoformat(ahead),)]
    assert len(result.withdrawal_date_kept) == 1


def test_a_withdrawal_announced_ahead_takes_effect_on_its_day_without_a_registry_load(con, tmp_path):
    from meterrisk.consent.purge import purge_due_withdrawals

    ahead = (datetime.now() + timedelta(days=60)).date()
    ingest.load_registry(con, write_registry(tmp_path / "a.csv", [registry_row("H1", withdrawn=ahead.isoformat()),
                                                                 registry_row("H2")]))
    with store.transaction(con):
        assert purge_due_withdrawals(con, today=ahead - timedelta(days=1), source="scheduled") == []
    with store.transaction(con):
        (report,) = purge_due_withdrawals(con, today=ahead, source="scheduled")
    assert report.withdrawn_on == ahead
    assert [h for (h,) in con.execute("SELECT household_id FROM households").fetchall()] == ["H2"]
    assert text_hits(con, "H1") == []


def test_registry_load_prints_what_it_kept_and_why(tmp_path):
    from meterrisk.cli import main

    db = tmp_path / "s.duckdb"
    run = lambda *a: CliRunner().invoke(main, [str(x) for x in a])  # noqa: E731
    r = run("households", "--db", db, write_registry(tmp_path / "a.csv", [registry_row(GONE, withdrawn="2025-05-01"),
                                                                         registry_row(STAYS)]))
    assert r.exit_code == 0, r.output
    assert "1 withdrawn and purged" in r.output
    r = run("households", "--db", db, write_registry(tmp_path / "b.csv", [registry_row(GONE), registry_row(STAYS)]))
    assert r.exit_code == 0, r.output
    assert "1 kept withdrawn" in r.output and "withdrew on 2025-05-01" in r.output
    assert GONE not in r.output and STAYS not in r.output  # pseudonyms and counts, not registry ids


# --------------------------------------------------------------------------------------------
# Withdraw: purge every table
# --------------------------------------------------------------------------------------------

@pytest.fixture
def two_homes(con, tmp_path):
    """GONE and STAYS with readings (one file each, one shared), quarantine rows, an assessment,
    an absence, an alert, an acknowledgement and a score; GONE's file lives in a folder named after it."""
    from meterrisk.alerts.service import add_absences
    from meterrisk.model.dataset import load_assessments

    ingest.load_registry(con, write_registry(tmp_path / "h.csv", [registry_row(GONE), registry_row(STAYS)]))
    profile = ingest.load_profile("default")
    folder = tmp_path / "inbox" / GONE
    folder.mkdir(parents=True)
    own = day_lines(GONE, "2025-04-01", [0.1] * 48)
    own[3] = own[3].rsplit(",", 1)[0] + ",oops"                      # non_numeric_value
    own.append(",2025-04-01T12:00:00+09:00,0.2")                      # missing_household_id
    ingest.ingest_file(con, write_long(folder / "201504.csv", own), profile)
    ingest.ingest_file(con, write_long(tmp_path / "theirs.csv", day_lines(STAYS, "2025-04-01", [0.2] * 48)), profile)
    shared = day_lines(GONE, "2025-04-02", [0.1] * 48) + day_lines(STAYS, "2025-04-02", [0.2] * 48)
    shared += [day_lines(GONE, "2025-04-02", [0.7])[0], day_lines(STAYS, "2025-04-02", [0.9])[0]]  # conflicting_duplicate
    ingest.ingest_file(con, write_long(tmp_path / "shared.csv", shared), profile)
    (tmp_path / "a.csv").write_text(f"household_id,assessed_on,checklist_score\n{GONE},2025-04-02,9\n"
                                    f"{STAYS},2025-04-02,3\n")
    assert load_assessments(con, tmp_path / "a.csv")["loaded"] == 2
    add_absences(con, pl.DataFrame({"household_id": [GONE, STAYS], "start_date": [date(2025, 4, 5)] * 2,
                                    "end_date": [date(2025, 4, 6)] * 2, "note": [f"{GONE} in hospital", None]}))
    for hid in (GONE, STAYS):
        con.execute("INSERT INTO alerts VALUES (?, '2025-04-02 10:00', '2025-04-02', 'stuck_on', 'medium', "
                    "'a load stuck on', ?)", [hid, f'{{"household": "{hid}"}}'])
        con.execute("INSERT INTO alert_acks (household_id, local_date, kind, acked_at, note) VALUES (?, '2025-04-02', 'stuck_on', now(), 'called')", [hid])
        con.execute("INSERT INTO risk_scores (household_id, as_of, model_version, risk_score, risk_tier, rank, "
                    "reasons, status, scored_at) VALUES (?, '2025-04-02', 'm1', 0.5, 'high', 1, [?], 'scored', now())",
                    [hid, f"like {hid}"])
    return con


def test_withdraw_purges_every_table_and_view(two_homes):
    from meterrisk.consent import withdraw

    con = two_homes
    gone_pseudonym, stays_pseudonym = pseudonym_of(con, GONE), pseudonym_of(con, STAYS)
    before = {t: con.execute(f'SELECT count(*) FROM "{t}" WHERE household_id = ?', [GONE]).fetchall()[0][0]
              for t in household_tables(con)}
    stays_before = {t: con.execute(f'SELECT count(*) FROM "{t}" WHERE household_id = ?', [STAYS]).fetchall()[0][0]
                    for t in household_tables(con)}
    q_stays = con.execute("SELECT count(*) FROM quarantine WHERE raw_line LIKE ?", [f"{STAYS},%"]).fetchall()[0][0]
    assert text_hits(con, GONE) and q_stays == 2

    report = withdraw(con, GONE, on=date(2025, 5, 1))

    assert text_hits(con, GONE) == []
    assert text_hits(con, gone_pseudonym) == [("withdrawals", "pseudonym", 1)]
    for table, n in before.items():
        assert report.rows_deleted.get(table, 0) == n, table
    # Its non-numeric value, the id-less line of its own file, its two conflicting values in the shared one.
    assert report.rows_deleted["quarantine"] == 4
    assert report.rows_deleted["households"] == 1 and report.pseudonym == gone_pseudonym
    # The other home is untouched.
    for table, n in stays_before.items():
        assert con.execute(f'SELECT count(*) FROM "{table}" WHERE household_id = ?', [STAYS]).fetchall()[0][0] == n
    assert con.execute("SELECT count(*) FROM quarantine WHERE raw_line LIKE ?", [f"{STAYS},%"]).fetchall()[0][0] == 2
    assert pseudonym_of(con, STAYS) == stays_pseudonym
    # Every file that held its rows is reported with the path as it was (for the file side).
    files = {f.file_id: f for f in report.files}
    paths = {Path(f.path).name: f for f in files.values()}
    assert set(paths) == {"201504.csv", "shared.csv"}
    assert paths["201504.csv"].only_this_household and not paths["shared.csv"].only_this_household
    assert GONE in paths["201504.csv"].path and paths["201504.csv"].archived_as is None
    assert (paths["shared.csv"].readings_deleted, paths["shared.csv"].quarantine_deleted) == (47, 2)
    # The accounting rows stay, redacted.
    assert con.execute("SELECT count(*) FROM ingest_files").fetchall() == [(3,)]
    assert con.execute("SELECT path FROM ingest_files WHERE file_id = ?",
                       [paths["201504.csv"].file_id]).fetchall()[0][0].endswith("<withdrawn>/201504.csv")
    audit = store.one(con, "SELECT pseudonym, withdrawn_on, rows_deleted, files_touched FROM withdrawals")
    import json
    assert audit[:2] == (gone_pseudonym, date(2025, 5, 1))
    assert json.loads(audit[2]) == {t: n for t, n in report.rows_deleted.items()}
    assert sorted(f["file_id"] for f in json.loads(audit[3])) == sorted(files)


def test_withdraw_keeps_incremental_feature_sync_trustworthy(two_homes):
    """Day rows are deleted with the household's features: the next feature run stays
    incremental and finds nothing to recompute for the households that stay."""
    from meterrisk import features
    from meterrisk.consent import withdraw

    con = two_homes
    features.compute(con)
    withdraw(con, GONE)
    summary = features.compute(con)
    assert summary["changes_found_by"] == "version" and summary["households_updated"] == 0


def test_withdraw_is_one_transaction(two_homes, monkeypatch):
    from meterrisk.consent import purge as module

    con = two_homes
    tables = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in household_tables(con)}

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(module, "_record", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        module.withdraw(con, GONE)
    assert {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables} == tables
    assert con.execute("SELECT count(*) FROM withdrawals").fetchall() == [(0,)]


def test_withdraw_refuses_an_unknown_or_already_withdrawn_household(two_homes):
    from meterrisk.consent import withdraw

    with pytest.raises(MeterriskError, match="not in the registry"):
        withdraw(two_homes, "HX-0000")
    withdraw(two_homes, GONE)
    with pytest.raises(MeterriskError, match="already withdrawn"):
        withdraw(two_homes, GONE)
    with pytest.raises(MeterriskError, match="in the future"):
        withdraw(two_homes, STAYS, on=date.today() + timedelta(days=3))


def test_a_withdrawal_in_the_registry_purges_like_withdraw(two_homes, tmp_path):
    con = two_homes
    gone_pseudonym = pseudonym_of(con, GONE)
    result = ingest.load_registry(con, write_registry(tmp_path / "h2.csv", [
        registry_row(GONE, withdrawn="2025-04-02"), registry_row(STAYS)]))
    assert [w.pseudonym for w in result.withdrawn] == [gone_pseudonym]
    assert result.withdrawn[0].rows_deleted["readings"] == 94  # all of them, not only from 2 April
    assert text_hits(con, GONE) == []
    assert text_hits(con, gone_pseudonym) == [("withdrawals", "pseudonym", 1)]


def test_withdraw_cli(two_homes, db_path):
    from meterrisk.cli import main

    two_homes.close()
    r = CliRunner().invoke(main, ["withdraw", "--db", str(db_path), GONE, "--on", "2025-05-01"])
    assert r.exit_code == 0, r.output
    assert "withdrawn on 2025-05-01" in r.output and "readings 94" in r.output and GONE not in r.output
    r = CliRunner().invoke(main, ["withdraw", "--db", str(db_path), "HX-0000"])
    assert r.exit_code == 2 and r.output.startswith("error: ") and "Traceback" not in r.output


# --------------------------------------------------------------------------------------------
# Consent in force at every stage
# --------------------------------------------------------------------------------------------

def _active_day(rng, flat=False):
    x = 0.03 + rng.uniform(0, 0.01, 48)
    if not flat:
        x[14:44] += rng.uniform(0.07, 0.3, 30)
    return x


def _insert_home(con, hid, given, withdrawn, start, days, district="d"):
    """A household row and readings, inserted directly (as a store with a scheduled withdrawal has)."""
    rng = np.random.default_rng(zlib.crc32(hid.encode()))
    rows = []
    for i in range(days):
        d = start + timedelta(days=i)
        x = _active_day(rng, flat=(i == days - 1))
        for s, v in enumerate(x):
            ts = datetime(d.year, d.month, d.day) + timedelta(minutes=30 * s)
            rows.append((hid, ts - timedelta(hours=9), ts, d, s, float(v), 1))
    df = pl.DataFrame(rows, schema=["household_id", "ts_utc", "local_ts", "local_date", "slot", "kwh", "file_id"],
                      orient="row")
    with store.transaction(con, _r=df.to_arrow()):
        con.execute("INSERT INTO readings SELECT * FROM _r")
        con.execute("INSERT INTO households VALUES (?, ?, 1940, true, ?, ?, false, false, ?, now())",
                    [hid, f"P-{hid}", given, withdrawn, district])
        con.execute("INSERT OR IGNORE INTO local_calendar SELECT DISTINCT local_date, 48 FROM _r")
        # as every writer of readings does (meterrisk/ingest/days.py): household_day_quality reads the day rows
        day_rows.note_changed(con, "SELECT DISTINCT household_id, local_date FROM _r")
        day_rows.rebuild_changed(con)


def test_alerts_only_for_households_with_consent_in_force_that_day(con):
    from meterrisk.alerts.service import run_alerts

    start = date(2025, 6, 1)
    day = start + timedelta(days=28)
    _insert_home(con, "in_force", date(2025, 1, 1), None, start, 29)
    _insert_home(con, "ends_today", date(2025, 1, 1), day, start, 29)
    s = run_alerts(con, day)
    assert s["households_checked"] == 1
    assert {r[0] for r in con.execute("SELECT DISTINCT household_id FROM alerts").fetchall()} == {"in_force"}


ANALYST_VIEWS = ("v_household_daily", "v_alerts_open", "v_data_quality")


def test_analyst_views_show_households_with_consent_in_force_today_by_pseudonym(con):
    from meterrisk.consent import local_today

    today = local_today(con)
    start = date(2025, 6, 1)
    _insert_home(con, "in_force", date(2025, 1, 1), None, start, 3)
    _insert_home(con, "ended", date(2025, 1, 1), today, start, 3)            # scheduled, now reached
    _insert_home(con, "not_yet", today + timedelta(days=5), None, start, 3)
    for hid in ("in_force", "ended", "not_yet"):
        con.execute("INSERT INTO daily_features (household_id, local_date, coverage) VALUES (?, ?, 1.0)", [hid, start])
        con.execute("INSERT INTO alerts VALUES (?, '2025-06-01 10:00', '2025-06-01', 'stuck_on', 'medium', 'm', NULL)",
                    [hid])
        con.execute("INSERT INTO alert_episodes VALUES (?, 'stuck_on', '2025-06-01', 'medium', '2025-06-01 10:00', "
                    "'2025-06-01', '2025-06-01 10:00', 1, 'open', 'm')", [hid])  # v_alerts_open is by episode
    for view in ANALYST_VIEWS:
        cols = [r[0] for r in con.execute(f"DESCRIBE {view}").fetchall()]
        assert cols[:2] == ["pseudonym", "district"], (view, cols)
        assert "household_id" not in cols, view
        shown = {r[0] for r in con.execute(f"SELECT DISTINCT pseudonym FROM {view}").fetchall()}
        assert shown == {"P-in_force"}, view


def test_scoring_requires_consent_in_force_on_the_as_of_date():
    from meterrisk.model.eligibility import eligibility

    as_of = date(2025, 7, 1)
    homes = pl.DataFrame({
        "household_id": ["ok", "ends_on_as_of", "ended_before", "starts_after", "starts_on_as_of", "never"],
        "consent_given_on": [date(2025, 1, 1), date(2025, 1, 1), date(2025, 1, 1), date(2025, 7, 2), as_of, None],
        "consent_withdrawn_on": [None, as_of, date(2025, 6, 30), None, None, None],
        "lives_alone": [True] * 6, "birth_year": [1940] * 6, "care_certified": [False] * 6, "has_solar": [False] * 6,
    })
    got = dict(eligibility(homes, as_of).select("household_id", "eligible").iter_rows())
    assert got == {"ok": True, "ends_on_as_of": False, "ended_before": False, "starts_after": False,
                   "starts_on_as_of": True, "never": False}


def test_assessments_need_consent_in_force_on_the_assessment_date(con, tmp_path):
    """Training examples: an assessment outside its household's consent never reaches the store."""
    from meterrisk.model.dataset import load_assessments

    _insert_home(con, "H1", date(2025, 3, 1), None, date(2025, 4, 1), 1)
    _insert_home(con, "H2", date(2025, 1, 1), date(2025, 5, 1), date(2025, 4, 1), 1)  # withdrawal not purged yet
    (tmp_path / "a.csv").write_text("household_id,assessed_on,checklist_score\n"
                                    "H1,2025-02-01,9\nH1,2025-04-01,9\nH2,2025-04-01,3\nH9,2025-04-01,3\n"
                                    "H2,2025-05-01,3\n")
    counts = load_assessments(con, tmp_path / "a.csv")
    assert (counts["loaded"], counts["rejected_no_consent"]) == (2, 3)
    assert con.execute("SELECT household_id, assessed_on FROM assessments ORDER BY 1").fetchall() == [
        ("H1", date(2025, 4, 1)), ("H2", date(2025, 4, 1))]


def test_absences_of_households_not_in_the_registry_are_not_stored(con, tmp_path):
    from meterrisk.alerts.service import load_absences

    ingest.load_registry(con, write_registry(tmp_path / "h.csv", [registry_row("H1"),
                                                                  registry_row(GONE, withdrawn="2025-05-01")]))
    csv = tmp_path / "absences.csv"
    csv.write_text("household_id,start_date,end_date,note\nH1,2025-06-01,2025-06-03,\n"
                   f"{GONE},2025-06-01,2025-06-03,hospital\n")
    assert tuple(load_absences(con, csv)) == (2, 1, 1)  # read, loaded, not registered
    assert con.execute("SELECT household_id FROM absences").fetchall() == [("H1",)]


def test_a_mention_is_the_whole_id_and_not_part_of_another_registered_id():
    from meterrisk.consent.purge import mentions, redact

    text = "/inbox/H1/201706.csv H10 H1-2 xH1 H1.csv"
    spans = mentions(text, "H1", others=["H1-2"])
    assert redact(text, spans) == "/inbox/<withdrawn>/201706.csv H10 H1-2 xH1 <withdrawn>.csv"


def test_withdraw_reports_and_redacts_the_archived_as_column(two_homes):
    """The ingest side records where a delivery was archived; the file side needs it as it was."""
    from meterrisk.consent import withdraw

    con = two_homes
    con.execute("UPDATE ingest_files SET archived_as = 'archive/2025-04-03/' || "
                "regexp_extract(path, '(inbox/)?([^/]+/)?[^/]+$', 0)")
    report = withdraw(con, GONE)
    (own,) = [f for f in report.files if f.only_this_household]
    assert own.archived_as == f"archive/2025-04-03/inbox/{GONE}/201504.csv"
    assert "archived_as" in own.redacted_columns
    assert store.one(con, "SELECT archived_as FROM ingest_files WHERE file_id = ?", [own.file_id])[0] == \
        "archive/2025-04-03/inbox/<withdrawn>/201504.csv"
    assert text_hits(con, GONE) == []
