"""Property tests of the parsers: whatever the bytes, every row is accounted for."""

import shutil
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterrisk import ingest, store

from .helpers import write_registry

_SETTINGS = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

_household = st.sampled_from(["H1", "H2", "H3", "H9", "", " H1 "])
_ts = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2025-04-01T00:00:00+09:00", "2025-04-01 00:30", "2025/04/01 1:00", "2025-04-01T00:17:00Z", "x"]),
    st.text(string.printable, max_size=12),
)
_kwh = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(str),
                 st.sampled_from(["0", " 0.219 ", "-1", "1e3", "", "abc", "0,5"]))
_row = st.tuples(_household, _ts, _kwh)


_TEMPLATE = {}


def _fresh(tmp_path_factory):
    """A registered store per example, copied from one template (migrating each time is slow)."""
    if "path" not in _TEMPLATE:
        base = tmp_path_factory.mktemp("template")
        con = store.connect(base / "s.duckdb")
        ingest.load_registry(con, write_registry(base / "h.csv"))
        con.close()
        _TEMPLATE["path"] = base / "s.duckdb"
    folder = tmp_path_factory.mktemp("prop")
    shutil.copy(_TEMPLATE["path"], folder / "s.duckdb")
    return folder, store.connect(folder / "s.duckdb")


def _check_accounting(con, result, expected_rows=None):
    assert result.status in ("loaded", "loaded_with_quarantine", "failed")
    if result.status == "failed":
        assert result.message and con.execute("SELECT count(*) FROM readings").fetchall() == [(0,)]
        return
    assert result.balanced
    if expected_rows is not None:
        assert result.rows_read == expected_rows
    stored = con.execute("SELECT count(*) FROM readings").fetchall()[0][0]
    quarantined = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    assert (stored, quarantined) == (result.rows_loaded, result.rows_quarantined)


@_SETTINGS
@given(rows=st.lists(_row, max_size=30), order=st.permutations(["household_id", "ts", "kwh"]))
def test_any_long_csv_rows_are_accounted_for_whatever_the_column_order(tmp_path_factory, rows, order):
    folder, con = _fresh(tmp_path_factory)
    index = {"household_id": 0, "ts": 1, "kwh": 2}
    lines = [",".join(order)] + [",".join(r[index[c]].replace("\n", " ").replace("\r", " ") for c in order) for r in rows]
    path = folder / "in.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest.ingest_file(con, path, ingest.load_profile("default"))
    nonblank = sum(1 for line in lines[1:] if line.strip())
    _check_accounting(con, result, nonblank)


@_SETTINGS
@given(data=st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_and_never_half_load(tmp_path_factory, data):
    folder, con = _fresh(tmp_path_factory)
    path = folder / "junk.csv"
    path.write_bytes(b"household_id,ts,kwh\n" + data)
    _check_accounting(con, ingest.ingest_file(con, path, ingest.load_profile("default")))


@_SETTINGS
@given(cut=st.integers(min_value=0, max_value=2000))
def test_truncated_files_keep_the_accounting(tmp_path_factory, cut):
    folder, con = _fresh(tmp_path_factory)
    body = "".join(f"H1,2025-04-01T{i // 2:02d}:{30 * (i % 2):02d}:00+09:00,0.{i}\n" for i in range(48))
    text = ("household_id,ts,kwh\n" + body)[:cut]
    path = folder / "cut.csv"
    path.write_text(text, encoding="utf-8")
    result = ingest.ingest_file(con, path, ingest.load_profile("default"))
    if cut < len("household_id,ts,kwh"):
        assert result.status == "failed"  # no usable header
    _check_accounting(con, result)


@pytest.mark.parametrize("layout", ["wide", "register"])
@_SETTINGS
@given(data=st.binary(max_size=300))
def test_other_layouts_survive_junk(tmp_path_factory, layout, data):
    folder, con = _fresh(tmp_path_factory)
    header = (b"household_id,date," + b",".join(b"hh%02d" % i for i in range(1, 49)) if layout == "wide"
              else b"household_id,ts,register_kwh")
    path = folder / "junk.csv"
    path.write_bytes(header + b"\n" + data)
    _check_accounting(con, ingest.ingest_file(con, path, ingest.load_profile(layout)))
