"""A kill -9 in the middle of a file leaves nothing behind, and a rerun converges."""

import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from meterrisk import ingest, store

from .helpers import write_registry

ROWS = 400_000
HOUSEHOLDS = 10  # 40 000 half hours each: 2020-2022, well in the past (future readings are quarantined)


def _big_file(path):
    t0 = datetime(2020, 4, 1)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("household_id,ts,kwh\n")
        for i in range(ROWS):
            hh = f"H{1 + i % HOUSEHOLDS}"  # all consent
            fh.write(f"{hh},{(t0 + timedelta(minutes=30 * (i // HOUSEHOLDS))).isoformat()}+09:00,0.{i % 10}\n")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_kill_minus_9_mid_file_then_rerun(tmp_path):
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    ingest.load_registry(con, write_registry(tmp_path / "h.csv", [
        f"H{i},1945,true,2020-01-01,,false,false,North" for i in range(1, HOUSEHOLDS + 1)]))
    con.close()
    data = tmp_path / "big.csv"
    _big_file(data)
    env = {**os.environ, "METERRISK_CHUNK_BYTES": str(256 * 1024)}  # many chunks: a kill lands mid-file
    proc = subprocess.Popen([sys.executable, "-m", "meterrisk.cli", "ingest", "--progress", "--db", str(db), str(data)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # --progress reports each staged chunk: after the second, the transaction is open and
    # holds rows, and the file is far from done. That is where the kill lands.
    progress = [proc.stderr.readline() for _ in range(2)]
    assert all(b"rows read (uncommitted)" in line for line in progress), progress
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    con = store.connect(db)
    n_rows = con.execute("SELECT count(*) FROM readings").fetchall()[0][0]
    files = con.execute("SELECT count(*) FROM ingest_files").fetchall()[0][0]
    n_days = con.execute("SELECT count(*) FROM reading_days").fetchall()[0][0]
    assert (n_rows, files, n_days) == (0, 0, 0), "a killed ingest left partial data"
    assert b"loaded" not in proc.stdout.read()
    result = ingest.ingest_file(con, data, ingest.load_profile("default"))
    assert result.status in ("loaded", "already_ingested")
    assert con.execute("SELECT count(*), count(DISTINCT (household_id, ts_utc)) FROM readings").fetchall() == [(ROWS, ROWS)]
    assert con.execute("SELECT count(*) FROM ingest_files WHERE status = 'loaded'").fetchall() == [(1,)]
    # Every household-day once, holding exactly the readings of that day.
    assert con.execute("""
        SELECT count(*), sum(n_readings), count(DISTINCT (household_id, local_date)) FROM reading_days""").fetchall() == [
        con.execute("SELECT count(DISTINCT (household_id, local_date)), count(*), count(DISTINCT (household_id, local_date)) "
                    "FROM readings").fetchall()[0]]
