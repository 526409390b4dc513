"""``meterrisk alerts`` from the command line calls the delivery hook as the flows do."""

from __future__ import annotations

import json
import stat

import numpy as np
import pytest
from click.testing import CliRunner
from test_alert_workflow import DAY, START
from test_alerts import _day, _history, _load

from meterrisk import store
from meterrisk.cli import main


@pytest.fixture
def db(tmp_path):
    """Two homes with four weeks of history; on DAY home "a" goes still from 10:00."""
    path = tmp_path / "m.duckdb"
    con = store.connect(path)
    rng = np.random.default_rng(6)
    _load(con, "a", [*_history(rng), _day(rng, flat_from=20)], START)
    _load(con, "b", [*_history(rng), _day(rng)], START)
    con.close()
    return path


def _hook(tmp_path, body: str) -> str:
    p = tmp_path / "hook.sh"
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def _alerts(db, *args, env=None):
    return CliRunner(env=env or {}).invoke(main, ["alerts", "--db", str(db), *map(str, args)])


def test_the_cli_run_hands_new_episodes_to_the_hook(db, tmp_path):
    got = tmp_path / "got.json"
    result = _alerts(db, "--date", DAY, env={"METERRISK_ALERT_HOOK": _hook(tmp_path, f'cp "$1" {got}')})
    assert result.exit_code == 0, result.output
    episodes = json.loads(got.read_text())["episodes"]
    assert episodes and {e["registry_id"] for e in episodes} == {"a"}
    assert f"delivery hook: ok ({len(episodes)} new episodes)" in result.stdout

    got.unlink()  # the same date again: nothing new, so the hook is not called
    again = _alerts(db, "--date", DAY, env={"METERRISK_ALERT_HOOK": _hook(tmp_path, f'cp "$1" {got}')})
    assert again.exit_code == 0 and not got.exists() and "delivery hook" not in again.output


def test_no_hook_skips_it(db, tmp_path):
    got = tmp_path / "got.json"
    skipped = _alerts(db, "--date", DAY, "--no-hook", env={"METERRISK_ALERT_HOOK": _hook(tmp_path, f'cp "$1" {got}')})
    assert skipped.exit_code == 0 and "new episodes" in skipped.output and not got.exists(), skipped.output


def test_a_backfill_never_calls_the_hook(db, tmp_path):
    """A backfill's episodes are history, not news for the duty worker."""
    got = tmp_path / "got.json"
    backfill = _alerts(db, "--from", DAY, "--to", DAY, env={"METERRISK_ALERT_HOOK": _hook(tmp_path, f'cp "$1" {got}')})
    assert backfill.exit_code == 0, backfill.output
    assert "0 new episodes" not in backfill.output.splitlines()[0]  # the day did bring new episodes
    assert not got.exists()


def test_hook_option_names_the_command(db, tmp_path):
    got = tmp_path / "got.json"
    result = _alerts(db, "--date", DAY, "--hook", _hook(tmp_path, f'cp "$1" {got}'))
    assert result.exit_code == 0 and got.exists(), result.output


def test_a_failing_hook_warns_and_the_run_still_succeeds(db, tmp_path):
    result = _alerts(db, "--date", DAY, "--hook", _hook(tmp_path, "exit 3"))
    assert result.exit_code == 0, result.output  # the episodes are committed: as in the flow
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning: delivery hook failed")]
    assert warning and "alerts list --open" in warning[0], result.stderr
    assert " a " not in result.stderr  # no registry id in the warning
    con = store.read_only(db)
    try:
        assert con.execute("SELECT count(*) FROM alert_episodes").fetchall()[0][0] > 0
    finally:
        con.close()
