"""``meterrisk run-sharded`` refuses what it cannot do, in one line, before starting anything."""

from __future__ import annotations

from click.testing import CliRunner

from meterrisk.cli import main


def test_a_remote_cluster_without_a_shared_prefect_server_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = CliRunner().invoke(main, ["run-sharded", "--db", str(tmp_path / "s.duckdb"),
                                       "--dask-address", "tcp://10.0.0.5:8786"])
    assert result.exit_code != 0
    assert "error: --dask-address needs a Prefect server the Dask workers can reach" in result.output
    assert "hint:" in result.output and not (tmp_path / "s.duckdb").exists()


def test_a_shard_count_below_one_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["run-sharded", "--db", str(tmp_path / "s.duckdb"), "--shards", "0"])
    assert result.exit_code != 0 and "error: --shards must be at least 1, not 0" in result.output


def test_a_missing_store_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["run-sharded", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code != 0 and "error: no store at" in result.output
