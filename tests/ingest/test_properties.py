"""Property tests of the parsers: whatever the bytes, every row is accounted for."""

import shutil
import string
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

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


def _fresh(tmp_path_factory, zone: str = "Asia/Tokyo"):
    """A registered store per example, copied from one template per zone (migrating each time is slow)."""
    if zone not in _TEMPLATE:
        base = tmp_path_factory.mktemp("template")
        con = store.connect(base / "s.duckdb", timezone=zone)
        ingest.load_registry(con, write_registry(base / "h.csv"))
        con.close()
        _TEMPLATE[zone] = base / "s.duckdb"
    folder = tmp_path_factory.mktemp("prop")
    shutil.copy(_TEMPLATE[zone], folder / "s.duckdb")
    return folder, store.connect(folder / "s.duckdb", timezone=zone)


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


# --- the profile options: household id from the path, a clock offset, clock-change folds -------

_UTC = ZoneInfo("UTC")
_FOLD_DAYS = {"Europe/London": date(2025, 10, 26), "Australia/Sydney": date(2025, 4, 6)}
_CONSENTING = {"H1", "H2"}  # of the test registry; H3 never consented, H4 withdrew, H9 is unknown


def _day_instants(day: date, zone: str) -> list[datetime]:
    """Every half-hour start of a local day (and the evening before), as UTC instants."""
    tz = ZoneInfo(zone)
    t = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(_UTC) - timedelta(hours=3)
    end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(_UTC)
    out = []
    while t < end:
        out.append(t)
        t += timedelta(minutes=30)
    return out


def _wall(t: datetime, zone: str) -> datetime:
    return t.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _earlier_reading(wall: datetime, zone: str) -> datetime:
    """The instant the first occurrence of a (possibly repeated) wall-clock time is."""
    return wall.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(_UTC)


def _later_reading(wall: datetime, zone: str) -> datetime:
    """The instant the second occurrence of a repeated wall-clock time is (the same time otherwise)."""
    return wall.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(_UTC)


def _order_can_place(stamps: list[datetime], zone: str) -> bool:
    """Whether file order determines every stamp: a repeated time's later instant only comes
    after its earlier one. (A later instant alone reads as the earlier one; the data cannot tell.)"""
    kept = set(stamps)
    return all(_earlier_reading(_wall(s, zone), zone) in kept for s in stamps)


@st.composite
def _deliveries(draw):
    """Per-household folders of one fall-back day, as a meter with a clock offset writes them."""
    zone = draw(st.sampled_from(sorted(_FOLD_DAYS)))
    offset = draw(st.sampled_from([0, 5, -25, 30, -60]) | st.integers(-120, 120))
    households = [draw(st.sampled_from(sorted(_CONSENTING)))]
    households += draw(st.lists(st.sampled_from(["H2", "H3", "H4", "H9"]), max_size=2, unique=True).filter(
        lambda more: households[0] not in more))
    instants = _day_instants(_FOLD_DAYS[zone], zone)
    files = {}
    for hid in households:
        # Mostly whole days with a few half hours missing (so both occurrences of the repeated hour
        # are there), sometimes sparse ones.
        dropped = draw(st.sets(st.sampled_from(instants), max_size=4) | st.sets(st.sampled_from(instants), min_size=20))
        intended = [t for t in instants if t not in dropped] or instants[:1]
        rows = [(i, _wall(t - timedelta(minutes=offset), zone)) for i, t in enumerate(intended)]
        junk = draw(st.lists(st.sampled_from(["not a time", "2025-13-01 00:00", ""]), max_size=2))
        repeat = draw(st.none() | st.integers(0, len(rows) - 1))  # the same line written twice
        lines = [f"{w:%Y-%m-%d %H:%M},{w.hour + w.minute / 60:.1f},{10 * (i % 7)}" for i, w in rows]
        if repeat is not None:
            lines.insert(repeat, lines[repeat])
        lines += [f"{j},0.0,10" for j in junk]
        files[f"{hid}/{draw(st.sampled_from(['201706', 'export', '2025-10']))}.csv"] = (intended, lines, repeat is not None)
    return zone, offset, files, draw(st.booleans()), draw(st.sampled_from([256, 1 << 20]))


@_SETTINGS
@given(case=_deliveries())
def test_id_from_path_offset_and_fold_load_what_the_generator_intended(tmp_path_factory, case):
    from meterrisk.ingest import readers

    zone, offset, files, crlf, chunk = case
    folder, con = _fresh(tmp_path_factory, zone)
    root = folder / "export"
    for rel, (_, lines, _) in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(("\r\n" if crlf else "\n").join(lines).encode() + b"\n")
    profile = ingest.load_profile("default").with_overrides(
        timezone=zone, header=False, unit="Wh", columns={"ts": 1, "kwh": 3},
        id_from_path="{household_id}/{_}.csv", ts_offset_minutes=offset, fold="order")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "CHUNK_BYTES", chunk)
        results = ingest.ingest_paths(con, [root], profile)
    assert len(results) == len(files) and all(r.status != "failed" for r in results), results
    for r in results:
        _, lines, _ = files[r.delivery_path]
        assert r.balanced and r.rows_read == sum(1 for line in lines if line.strip())
    stored = con.execute("SELECT household_id, ts_utc FROM readings").fetchall()
    assert len(stored) == len(set(stored))  # every half hour once
    by_household: dict[str, set] = {}
    for hid, ts in stored:
        by_household.setdefault(hid, set()).add(ts.replace(tzinfo=_UTC))
    assert set(by_household) <= _CONSENTING  # ids come from the folders; consent still rules
    for rel, (intended, _, repeated) in files.items():
        hid = rel.split("/")[0]
        loaded = by_household.get(hid, set())
        if hid not in _CONSENTING:
            continue
        stamps = [t - timedelta(minutes=offset) for t in intended]
        alternatives = {_earlier_reading(_wall(s, zone), zone) + timedelta(minutes=offset) for s in stamps}
        if repeated:  # a line written twice inside the repeated hour is, by file order, its second occurrence
            alternatives |= {_later_reading(_wall(s, zone), zone) + timedelta(minutes=offset) for s in stamps}
        assert loaded <= set(intended) | alternatives
        if not repeated and _order_can_place(stamps, zone):
            assert loaded == set(intended)


@_SETTINGS
@given(offset=st.integers(-1439, 1439), n=st.integers(1, 60), start=st.integers(0, 500),
       form=st.sampled_from(["offset", "zulu", "naive", "parquet"]))
def test_ts_offset_loads_exactly_the_intended_half_hours(tmp_path_factory, offset, n, start, form):
    folder, con = _fresh(tmp_path_factory)
    tokyo = ZoneInfo("Asia/Tokyo")
    t0 = datetime(2025, 4, 1, tzinfo=tokyo).astimezone(_UTC) + timedelta(minutes=30 * start)
    intended = [t0 + timedelta(minutes=30 * i) for i in range(n)]
    stamps = [t - timedelta(minutes=offset) for t in intended]
    profile = ingest.load_profile("default").with_overrides(ts_offset_minutes=offset)
    if form == "parquet":
        path = folder / "r.parquet"
        pl.DataFrame({"household_id": ["H1"] * n, "ts": stamps, "kwh": [0.1] * n}).write_parquet(path)
    else:
        text = {"offset": lambda s: s.astimezone(tokyo).isoformat(),
                "zulu": lambda s: s.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "naive": lambda s: s.astimezone(tokyo).strftime("%Y-%m-%d %H:%M")}[form]
        path = folder / "r.csv"
        path.write_text("household_id,ts,kwh\n" + "".join(f"H1,{text(s)},0.1\n" for s in stamps))
    result = ingest.ingest_file(con, path, profile)
    assert (result.rows_loaded, result.reasons) == (n, {}) and result.balanced
    loaded = [r[0].replace(tzinfo=_UTC) for r in con.execute("SELECT ts_utc FROM readings ORDER BY 1").fetchall()]
    assert loaded == intended
