"""The delivery hook (issue 14): a script gets the run's new episodes; its failure loses nothing."""

from __future__ import annotations

import json
import logging
import os
import stat

from test_alert_workflow import db  # noqa: F401  (fixture)

from meterrisk import store


def _script(tmp_path, body):
    p = tmp_path / "hook.sh"
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(p.stat().st_mode | stat.S_IXUSR)
    return str(p)


def _new(con):
    rows = con.execute("SELECT household_id, kind, start_date, severity, started_at, days, message "
                       "FROM alert_episodes").fetchall()
    return [dict(zip(["household_id", "kind", "start_date", "severity", "started_at", "days", "message"], r))
            for r in rows]


def test_hook_script_receives_the_new_episodes(db, tmp_path):  # noqa: F811
    from meterrisk.alerts.hook import run_hook
    from meterrisk.alerts.workflow import list_episodes

    got = tmp_path / "got.json"
    con = store.connect(db, create=False)
    try:
        new = _new(con)
        assert run_hook(con, new, _script(tmp_path, f'cp "$1" {got}')) == "ok"
        ids = sorted(list_episodes(con)["episode_id"].to_list())
    finally:
        con.close()
    eps = json.loads(got.read_text())["episodes"]
    assert sorted(e["episode_id"] for e in eps) == ids and {e["registry_id"] for e in eps} == {"a"}


def test_failing_or_missing_hook_is_logged_without_personal_data(db, tmp_path, caplog):  # noqa: F811
    from meterrisk.alerts.hook import run_hook

    con = store.connect(db, create=False)
    try:
        new = _new(con)
        with caplog.at_level(logging.WARNING):
            assert run_hook(con, new, _script(tmp_path, "exit 3")) == "failed"
            assert run_hook(con, new, str(tmp_path / "absent")) == "failed"
            assert run_hook(con, new, _script(tmp_path, "sleep 5"), timeout=0.5) == "failed"
        assert run_hook(con, [], _script(tmp_path, "exit 3")) == "none"
        os.environ.pop("METERRISK_ALERT_HOOK", None)
        assert run_hook(con, new) == "none"
        (n,) = con.execute("SELECT count(*) FROM alert_episodes").fetchall()[0]
    finally:
        con.close()
    assert n == len(new)
    assert "exited 3" in caplog.text and " a " not in caplog.text and "P-a" not in caplog.text
