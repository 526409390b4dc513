"""Load semantics: zeros, gaps, idempotence, new versions of a file, consent, accounting."""

from datetime import date

from meterrisk import ingest, store

from .helpers import counts, day_lines, write_long, write_registry


def test_zero_is_a_reading_and_gaps_stay_gaps(registered, default_profile, tmp_path):
    values = [0.0] * 48
    lines = day_lines("H1", "2025-04-01", values)
    del lines[10:14]  # four absent half-hours
    result = ingest.ingest_file(registered, write_long(tmp_path / "d.csv", lines), default_profile)
    assert result.rows_loaded == 44
    q = registered.execute(
        "SELECT expected_slots, present_slots, zero_slots, missing_slots, coverage "
        "FROM household_day_quality WHERE household_id = 'H1'").fetchall()
    assert q == [(48, 44, 44, 4, 44 / 48)]
    assert registered.execute("SELECT count(*) FROM readings WHERE slot BETWEEN 10 AND 13").fetchall() == [(0,)]


def test_same_file_twice_changes_nothing(registered, default_profile, tmp_path):
    path = write_long(tmp_path / "d.csv", day_lines("H1", "2025-04-01", [0.1] * 48))
    first = ingest.ingest_file(registered, path, default_profile)
    second = ingest.ingest_file(registered, path, default_profile)
    assert first.status == "loaded" and second.status == "already_ingested"
    assert "nothing changed" in second.message
    assert registered.execute("SELECT count(*) FROM readings").fetchall() == [(48,)]
    assert registered.execute("SELECT count(*) FROM ingest_files").fetchall() == [(1,)]


def test_same_name_new_content_keeps_stored_values_unless_replace(registered, default_profile, tmp_path):
    path = tmp_path / "export.csv"
    write_long(path, day_lines("H1", "2025-04-01", [0.1] * 48))
    ingest.ingest_file(registered, path, default_profile)
    corrected = [0.1] * 47 + [0.9]
    write_long(path, day_lines("H1", "2025-04-01", corrected) + day_lines("H1", "2025-04-02", [0.2] * 48))
    again = ingest.ingest_file(registered, path, default_profile)
    assert (again.rows_loaded, again.rows_duplicate, again.reasons) == (48, 47, {"conflicts_stored_value": 1})
    assert registered.execute("SELECT max(kwh) FROM readings WHERE local_date = '2025-04-01'").fetchall() == [(0.1,)]
    write_long(path, day_lines("H1", "2025-04-01", corrected))
    replaced = ingest.ingest_file(registered, path, default_profile, replace=True)
    assert replaced.rows_loaded == 48 and replaced.reasons == {}
    assert registered.execute("SELECT max(kwh), count(*) FROM readings WHERE local_date = '2025-04-01'").fetchall() == [(0.9, 48)]
    statuses = [r[0] for r in registered.execute("SELECT status FROM ingest_files ORDER BY file_id").fetchall()]
    assert statuses == ["replaced", "replaced", "loaded"]


def test_readings_without_consent_are_counted_but_stored_nowhere(registered, default_profile, tmp_path):
    lines = (day_lines("H3", "2025-04-01", [0.1] * 48)          # no consent at all
             + ["H9,2025-04-01T00:00:00+09:00,0.1"]             # not in the registry
             + ["H9,not-a-time,0.1"]                            # bad too, but still not ours to keep
             + day_lines("H4", "2025-04-01", [0.1] * 48)        # consent in force
             + day_lines("H4", "2025-04-02", [0.1] * 48))       # withdrawn from this day
    result = ingest.ingest_file(registered, write_long(tmp_path / "d.csv", lines), default_profile)
    c = counts(registered, result.file_id)
    assert (c["read"], c["loaded"], c["rejected"], c["quarantined"]) == (146, 48, 98, 0)
    assert registered.execute("SELECT DISTINCT household_id FROM readings").fetchall() == [("H4",)]
    assert registered.execute("SELECT count(*) FROM quarantine").fetchall() == [(0,)]


def test_withdrawal_in_a_registry_update_deletes_readings_from_that_day_then_everything(registered, default_profile,
                                                                                       tmp_path):
    lines = day_lines("H1", "2025-04-01", [0.1] * 48) + day_lines("H1", "2025-04-02", [0.1] * 48)
    ingest.ingest_file(registered, write_long(tmp_path / "d.csv", lines), default_profile)
    update = write_registry(tmp_path / "h2.csv", ["H1,1945,true,2025-01-01,2025-04-02,false,false,North"])
    announced = ingest.load_registry(registered, update, today=date(2025, 4, 1))
    assert announced.readings_purged == 48 and announced.updated == 1 and announced.withdrawn == []
    assert registered.execute("SELECT DISTINCT local_date FROM readings").fetchall() == [(date(2025, 4, 1),)]
    come = ingest.load_registry(registered, update, today=date(2025, 4, 2))  # withdrawal forgets
    # H1, and H4 (not in this file) whose withdrawal announced for 2 April has come as well.
    assert sorted(w.rows_deleted["readings"] for w in come.withdrawn) == [0, 48] and come.updated == 0
    assert registered.execute("SELECT household_id FROM households ORDER BY 1").fetchall() == [("H2",), ("H3",)]
    assert registered.execute("SELECT count(*) FROM readings").fetchall() == [(0,)]


def test_empty_registry_is_refused_with_a_hint(con, default_profile, tmp_path):
    import pytest

    from meterrisk.errors import MeterriskError

    with pytest.raises(MeterriskError, match="registry is empty") as info:
        ingest.ingest_file(con, write_long(tmp_path / "d.csv", ["H1,2025-04-01T00:00:00+09:00,0.1"]), default_profile)
    assert "meterrisk households" in info.value.hint


def test_bad_registry_lists_every_bad_cell_and_changes_nothing(con, tmp_path):
    import pytest

    from meterrisk.errors import InputFileError

    path = write_registry(tmp_path / "h.csv", ["H1,19x5,true,2025-01-01,,false,false,N",
                                               "H2,1950,maybe,2025-13-01,,false,false,N"])
    with pytest.raises(InputFileError) as info:
        ingest.load_registry(con, path)
    text = str(info.value)
    assert "line 2, column birth_year: '19x5'" in text
    assert "line 3, column lives_alone" in text and "line 3, column consent_given_on" in text
    assert con.execute("SELECT count(*) FROM households").fetchall() == [(0,)]


def test_pseudonyms_are_stable_per_store_and_not_the_id(registered):
    rows = registered.execute("SELECT household_id, pseudonym FROM households ORDER BY 1").fetchall()
    assert all(p.startswith("P") and h not in p for h, p in rows)
    assert len({p for _, p in rows}) == len(rows)


def _per_household_folders(root, values=None):
    """``root/<household>/201706.csv``: the same file name in every household's folder."""
    values = values or {"H1": 0.1, "H2": 0.2}
    for hid, v in values.items():
        (root / hid).mkdir(parents=True, exist_ok=True)
        write_long(root / hid / "201706.csv", day_lines(hid, "2025-04-01", [v] * 48))
    return root


def test_replace_touches_only_that_deliverys_rows_not_every_file_of_that_name(registered, default_profile, tmp_path):
    root = _per_household_folders(tmp_path / "export")
    first = ingest.ingest_paths(registered, [root], default_profile)
    assert [r.rows_loaded for r in first] == [48, 48]
    write_long(root / "H2" / "201706.csv", day_lines("H2", "2025-04-01", [0.25] * 48))
    (fixed,) = ingest.ingest_paths(registered, [root / "H2" / "201706.csv"], default_profile, replace=True)
    assert fixed.rows_loaded == 48 and fixed.reasons == {}
    assert registered.execute("SELECT household_id, count(*), max(kwh) FROM readings GROUP BY 1 ORDER BY 1").fetchall() == [
        ("H1", 48, 0.1), ("H2", 48, 0.25)]
    statuses = registered.execute("SELECT delivery_path, status FROM ingest_files ORDER BY file_id").fetchall()
    assert statuses == [("H1/201706.csv", "loaded"), ("H2/201706.csv", "replaced"),
                        (f"{root}/H2/201706.csv", "loaded")]


def test_delivery_path_is_relative_to_the_folder_given_or_the_argument_as_given(registered, default_profile, tmp_path,
                                                                                   monkeypatch):
    root = _per_household_folders(tmp_path / "export")
    deliveries = ingest.expand_inputs([root])
    assert [(d.path, d.delivery_path) for d in deliveries] == [
        (root / "H1" / "201706.csv", "H1/201706.csv"), (root / "H2" / "201706.csv", "H2/201706.csv")]
    monkeypatch.chdir(tmp_path)
    (given,) = ingest.expand_inputs(["./export/H1/../H1/201706.csv"])
    assert given.delivery_path == "export/H1/201706.csv"
    ingest.ingest_paths(registered, deliveries, default_profile)
    rows = registered.execute("SELECT delivery_path, file_name, path FROM ingest_files ORDER BY file_id").fetchall()
    assert rows == [("H1/201706.csv", "201706.csv", str(root / "H1" / "201706.csv")),
                    ("H2/201706.csv", "201706.csv", str(root / "H2" / "201706.csv"))]


def test_replace_by_folder_matches_the_relative_path(registered, default_profile, tmp_path):
    """A corrected delivery of one household, sent as its own folder tree, replaces only that file."""
    root = _per_household_folders(tmp_path / "export")
    ingest.ingest_paths(registered, [root], default_profile)
    fix = _per_household_folders(tmp_path / "fix", {"H1": 0.3})
    (r,) = ingest.ingest_paths(registered, [fix], default_profile, replace=True)
    assert r.rows_loaded == 48 and r.reasons == {}
    assert registered.execute("SELECT household_id, max(kwh) FROM readings GROUP BY 1 ORDER BY 1").fetchall() == [
        ("H1", 0.3), ("H2", 0.2)]


def test_repeats_in_different_chunks_are_still_found(registered, default_profile, tmp_path, monkeypatch):
    # The search for repeated keys is skipped when the chunks' key hashes are all distinct:
    # a repeat split over two chunks must still make them differ.
    from meterrisk.ingest import readers
    monkeypatch.setattr(readers, "CHUNK_BYTES", 64)  # about two lines per chunk
    lines = day_lines("H1", "2025-04-01", [0.1] * 6)
    lines += [lines[0], lines[1].replace(",0.1", ",0.7")]  # same value again; another value
    result = ingest.ingest_file(registered, write_long(tmp_path / "d.csv", lines), default_profile)
    assert (result.rows_loaded, result.rows_duplicate, result.reasons) == (5, 1, {"conflicting_duplicate": 2})
    assert result.balanced


def test_equal_key_hashes_send_the_search_to_sql():
    import polars as pl

    from meterrisk.ingest.dedup import distinct_key_hashes
    assert distinct_key_hashes([pl.Series([1, 2], dtype=pl.UInt64), pl.Series([3], dtype=pl.UInt64)])
    assert not distinct_key_hashes([pl.Series([1, 2], dtype=pl.UInt64), pl.Series([2], dtype=pl.UInt64)])
    assert distinct_key_hashes([])
