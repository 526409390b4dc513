"""Risk-list export: pseudonyms only, schema and metadata, atomic writes."""

from __future__ import annotations

from datetime import date

import polars as pl
import pyarrow.parquet as pq
import pytest

from meterrisk.export.parquet import COLUMNS, CSV_COLUMNS, export, read_metadata, write_export
from test_model import scored, trained_env  # noqa: F401  (module fixtures)


def test_export_parquet_schema_metadata_and_registry_ids(scored, tmp_path):  # noqa: F811
    con, summary, _, _ = scored
    out = tmp_path / "list.parquet"
    info = export(con, date(2025, 7, 1), out, model_version=summary["model_version"])  # not the promoted model
    t = pq.read_table(out)
    assert t.column_names == COLUMNS
    assert str(t.schema.field("reasons").type).startswith(("list<", "large_list<"))
    md = read_metadata(out)
    assert md["model_version"] == summary["model_version"] and md["as_of"] == "2025-07-01"
    assert "generated_at" in md and md["id_kind"] == "registry_id" and md["promoted"] == "false"
    df = pl.read_parquet(out)
    registry = dict(con.execute("SELECT household_id, district FROM households").fetchall())
    assert df.height == summary["scored"] == info["rows"]
    assert set(df["household_id"]) <= set(registry)
    assert df["district"].to_list() == [registry[h] for h in df["household_id"]]
    assert df["rank"].to_list() == list(range(1, df.height + 1))


def test_export_csv_has_a_column_per_reason(scored, tmp_path):  # noqa: F811
    con, summary, *_ = scored
    out = tmp_path / "list.csv"
    export(con, date(2025, 7, 1), out, fmt="csv", model_version=summary["model_version"])
    df = pl.read_csv(out, infer_schema=False)
    assert df.columns == CSV_COLUMNS
    listed = pl.read_parquet(export(con, date(2025, 7, 1), tmp_path / "l.parquet",
                                    model_version=summary["model_version"])["path"])
    assert [[r for r in (row["reason_1"], row["reason_2"], row["reason_3"]) if r] for row in df.to_dicts()] \
        == listed["reasons"].to_list()


def test_export_is_atomic_on_error(tmp_path, monkeypatch):
    import meterrisk.export.parquet as mod

    out = tmp_path / "list.parquet"
    out.write_bytes(b"previous complete file")

    def half_write(table, path):
        open(path, "wb").write(b"PAR1 partial")
        raise OSError("disk full")

    monkeypatch.setattr(mod.pq, "write_table", half_write)
    df = pl.DataFrame({"household_id": ["P1"], "model_version": ["v1"], "reasons": [["a"]]})
    with pytest.raises(OSError, match="disk full"):
        write_export(df, out, as_of=date(2025, 7, 1))
    assert out.read_bytes() == b"previous complete file"
    assert [p.name for p in tmp_path.iterdir()] == ["list.parquet"]
